package ingest

import (
	"strconv"
	"time"
	"unicode/utf8"

	"firebreak"
)

// AppendNative appends e to dst as one native JSON object without a trailing
// newline and returns the extended buffer. Empty optional fields (the parsed
// agent's included), a zero asn or browser_major, lat/lon when HasGeo is
// false, a nil label and the type of a login ("" or "login") are omitted, so
// that a login is written the same however its type was spelled. The time is
// written in UTC with milliseconds, or with micro- or nanoseconds when the
// time has sub-millisecond precision, so that ParseNative(AppendNative(e))
// reproduces every valid e exactly (a Type of "login" comes back as "", which
// means the same). It allocates only to grow dst.
func AppendNative(dst []byte, e *firebreak.Event) []byte {
	dst = append(dst, `{"time":"`...)
	dst = appendTime(dst, e.Time)
	dst = append(dst, `","account":`...)
	dst = appendString(dst, e.Account)
	dst = append(dst, `,"outcome":"`...)
	dst = append(dst, e.Outcome.String()...)
	dst = append(dst, `","ip":"`...)
	dst = e.IP.AppendTo(dst)
	dst = append(dst, '"')
	dst = appendField(dst, `,"user_agent":`, e.UserAgent)
	dst = appendField(dst, `,"device_type":`, e.Agent.DeviceType)
	dst = appendField(dst, `,"os":`, e.Agent.OS)
	dst = appendField(dst, `,"browser":`, e.Agent.Browser)
	if e.Agent.Major != 0 {
		dst = append(dst, `,"browser_major":`...)
		dst = strconv.AppendInt(dst, int64(e.Agent.Major), 10)
	}
	dst = appendField(dst, `,"device_id":`, e.DeviceID)
	dst = appendField(dst, `,"country":`, e.Country)
	dst = appendField(dst, `,"region":`, e.Region)
	dst = appendField(dst, `,"city":`, e.City)
	if e.ASN != 0 {
		dst = append(dst, `,"asn":`...)
		dst = strconv.AppendUint(dst, uint64(e.ASN), 10)
	}
	if e.HasGeo {
		dst = append(dst, `,"lat":`...)
		dst = strconv.AppendFloat(dst, e.Lat, 'g', -1, 64)
		dst = append(dst, `,"lon":`...)
		dst = strconv.AppendFloat(dst, e.Lon, 'g', -1, 64)
	}
	dst = appendField(dst, `,"method":`, e.Method)
	dst = appendField(dst, `,"app":`, e.App)
	dst = appendField(dst, `,"failure_reason":`, e.FailureReason)
	if !e.IsLogin() {
		dst = appendField(dst, `,"type":`, e.Type)
	}
	if l := e.Label; l != nil {
		dst = append(dst, `,"label":{"ato":`...)
		dst = strconv.AppendBool(dst, l.ATO)
		dst = append(dst, `,"attack":`...)
		dst = strconv.AppendBool(dst, l.Attack)
		dst = appendField(dst, `,"cohort":`, l.Cohort)
		dst = append(dst, '}')
	}
	return append(dst, '}')
}

func appendField(dst []byte, key, v string) []byte {
	if v == "" {
		return dst
	}
	return appendString(append(dst, key...), v)
}

// appendTime writes 2006-01-02T15:04:05.000Z, with 6 or 9 fractional digits
// when they are needed.
func appendTime(dst []byte, t time.Time) []byte {
	t = t.UTC()
	year, month, day := t.Date()
	if year < 0 || year > 9999 {
		return t.AppendFormat(dst, time.RFC3339Nano)
	}
	hour, minute, sec := t.Clock()
	dst = appendInt(dst, year, 4)
	dst = appendInt(append(dst, '-'), int(month), 2)
	dst = appendInt(append(dst, '-'), day, 2)
	dst = appendInt(append(dst, 'T'), hour, 2)
	dst = appendInt(append(dst, ':'), minute, 2)
	dst = appendInt(append(dst, ':'), sec, 2)
	ns := t.Nanosecond()
	switch {
	case ns%1e6 == 0:
		dst = appendInt(append(dst, '.'), ns/1e6, 3)
	case ns%1e3 == 0:
		dst = appendInt(append(dst, '.'), ns/1e3, 6)
	default:
		dst = appendInt(append(dst, '.'), ns, 9)
	}
	return append(dst, 'Z')
}

// appendInt writes v zero-padded to width digits.
func appendInt(dst []byte, v, width int) []byte {
	var b [9]byte
	for i := width - 1; i >= 0; i-- {
		b[i] = byte('0' + v%10)
		v /= 10
	}
	return append(dst, b[:width]...)
}

const hexDigits = "0123456789abcdef"

// appendString writes s as a JSON string. Invalid UTF-8 becomes U+FFFD, as
// with encoding/json.
func appendString(dst []byte, s string) []byte {
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c >= 0x20 && c != '"' && c != '\\' && c < utf8.RuneSelf {
			i++
			continue
		}
		if c >= utf8.RuneSelf {
			r, size := utf8.DecodeRuneInString(s[i:])
			if r != utf8.RuneError || size != 1 {
				i += size
				continue
			}
			dst = append(append(dst, s[start:i]...), `\ufffd`...)
			i++
			start = i
			continue
		}
		dst = append(dst, s[start:i]...)
		switch c {
		case '"', '\\':
			dst = append(dst, '\\', c)
		case '\n':
			dst = append(dst, '\\', 'n')
		case '\t':
			dst = append(dst, '\\', 't')
		default:
			dst = append(dst, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
		}
		i++
		start = i
	}
	return append(append(dst, s[start:]...), '"')
}
