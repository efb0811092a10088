package ingest

import (
	"net/netip"
	"time"
)

// fastTime parses the common RFC 3339 form
// YYYY-MM-DDTHH:MM:SS[.fraction of 1-9 digits](Z|±HH:MM) into UTC time. It
// accepts a subset of what time.Parse(time.RFC3339Nano) accepts, with the
// same result; false means "ask time.Parse".
func fastTime(b []byte) (time.Time, bool) {
	if len(b) < 20 || b[4] != '-' || b[7] != '-' || b[10] != 'T' || b[13] != ':' || b[16] != ':' {
		return time.Time{}, false
	}
	year, ok1 := num2(b[0:2])
	y2, ok2 := num2(b[2:4])
	month, ok3 := num2(b[5:7])
	day, ok4 := num2(b[8:10])
	hour, ok5 := num2(b[11:13])
	minute, ok6 := num2(b[14:16])
	sec, ok7 := num2(b[17:19])
	year = year*100 + y2
	if !(ok1 && ok2 && ok3 && ok4 && ok5 && ok6 && ok7) || month < 1 || month > 12 ||
		day < 1 || day > daysIn(month, year) || hour > 23 || minute > 59 || sec > 59 {
		return time.Time{}, false
	}
	rest := b[19:]
	nsec := 0
	if rest[0] == '.' {
		n := 1
		for n < len(rest) && rest[n] >= '0' && rest[n] <= '9' {
			nsec = nsec*10 + int(rest[n]-'0')
			n++
		}
		if n == 1 || n > 10 {
			return time.Time{}, false
		}
		for i := n; i < 10; i++ {
			nsec *= 10
		}
		rest = rest[n:]
	}
	off, ok := zoneOffset(rest)
	if !ok {
		return time.Time{}, false
	}
	t := time.Date(year, time.Month(month), day, hour, minute, sec, nsec, time.UTC)
	return t.Add(-time.Duration(off) * time.Second), true
}

// zoneOffset parses "Z" or "±HH:MM" into seconds east of UTC.
func zoneOffset(b []byte) (int, bool) {
	if len(b) == 1 && b[0] == 'Z' {
		return 0, true
	}
	if len(b) != 6 || (b[0] != '+' && b[0] != '-') || b[3] != ':' {
		return 0, false
	}
	h, ok1 := num2(b[1:3])
	m, ok2 := num2(b[4:6])
	if !ok1 || !ok2 || h > 23 || m > 59 {
		return 0, false
	}
	off := (h*60 + m) * 60
	if b[0] == '-' {
		off = -off
	}
	return off, true
}

func num2(b []byte) (int, bool) {
	d0, d1 := b[0]-'0', b[1]-'0'
	return int(d0)*10 + int(d1), d0 <= 9 && d1 <= 9
}

func daysIn(month, year int) int {
	switch month {
	case 2:
		if year%4 == 0 && (year%100 != 0 || year%400 == 0) {
			return 29
		}
		return 28
	case 4, 6, 9, 11:
		return 30
	}
	return 31
}

// fastIPv4 parses a dotted-quad IPv4 address exactly as netip.ParseAddr does
// (no leading zeros, each part at most 255); false means "ask netip".
func fastIPv4(b []byte) (netip.Addr, bool) {
	var ip [4]byte
	part, digits := 0, 0
	val := 0
	for i := 0; i <= len(b); i++ {
		if i == len(b) || b[i] == '.' {
			if digits == 0 || part > 3 {
				return netip.Addr{}, false
			}
			ip[part] = byte(val)
			part, digits, val = part+1, 0, 0
			continue
		}
		c := b[i] - '0'
		if c > 9 || (digits == 1 && val == 0) {
			return netip.Addr{}, false
		}
		val = val*10 + int(c)
		digits++
		if val > 255 {
			return netip.Addr{}, false
		}
	}
	return netip.AddrFrom4(ip), part == 4
}

// pow10 holds the powers of ten that float64 represents exactly.
var pow10 = [...]float64{1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10,
	1e11, 1e12, 1e13, 1e14, 1e15}

// fastFloat converts a plain decimal -?\d+(\.\d+)? of at most 15 significant
// digits. Both the mantissa and the power of ten are exact in float64, so one
// correctly rounded division gives the same result as strconv.ParseFloat.
func fastFloat(b []byte) (float64, bool) {
	neg := len(b) > 0 && b[0] == '-'
	if neg {
		b = b[1:]
	}
	var mant uint64
	digits, frac, dot := 0, 0, false
	for _, c := range b {
		switch {
		case c >= '0' && c <= '9':
			mant = mant*10 + uint64(c-'0')
			digits++
			if dot {
				frac++
			}
		case c == '.' && !dot:
			dot = true
		default:
			return 0, false
		}
	}
	if digits == 0 || digits > 15 {
		return 0, false
	}
	f := float64(mant) / pow10[frac]
	if neg {
		f = -f
	}
	return f, true
}
