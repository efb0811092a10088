package ingest

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"firebreak"
)

// RBA data set column names.
const (
	rbaTime     = "Login Timestamp"
	rbaUser     = "User ID"
	rbaIP       = "IP Address"
	rbaCountry  = "Country"
	rbaRegion   = "Region"
	rbaCity     = "City"
	rbaASN      = "ASN"
	rbaUA       = "User Agent String"
	rbaBrowser  = "Browser Name and Version"
	rbaOS       = "OS Name and Version"
	rbaDevice   = "Device Type"
	rbaSuccess  = "Login Successful"
	rbaAttackIP = "Is Attack IP"
	rbaATO      = "Is Account Takeover"
)

// rbaColumnNames lists the mapped columns; the first four are required.
var rbaColumnNames = []string{rbaTime, rbaUser, rbaIP, rbaSuccess, rbaCountry, rbaRegion,
	rbaCity, rbaASN, rbaUA, rbaBrowser, rbaOS, rbaDevice, rbaAttackIP, rbaATO}

const rbaRequired = 4

// rbaColumns maps column names to their position in the header; -1 when the
// column is absent.
type rbaColumns struct {
	idx    map[string]int
	fields int
}

func (c *rbaColumns) get(rec []string, name string) string {
	if i := c.idx[name]; i >= 0 {
		return rec[i]
	}
	return ""
}

func (c *rbaColumns) has(name string) bool { return c.idx[name] >= 0 }

// header reads the CSV header, mapping columns by name.
func (d *Decoder) header(rec []byte) error {
	fields, err := d.splitRecord(rec)
	if err != nil {
		return fmt.Errorf("line %d: RBA header: %s", d.line, err.(*firebreak.FieldError).Reason)
	}
	c := &rbaColumns{idx: make(map[string]int, len(rbaColumnNames)), fields: len(fields)}
	for _, n := range rbaColumnNames {
		c.idx[n] = -1
	}
	for i, f := range fields {
		if _, ok := c.idx[strings.TrimSpace(f)]; ok {
			c.idx[strings.TrimSpace(f)] = i
		}
	}
	for _, n := range rbaColumnNames[:rbaRequired] {
		if c.idx[n] < 0 {
			return fmt.Errorf("line %d: RBA header: column %q missing", d.line, n)
		}
	}
	d.rba = c
	return nil
}

func (d *Decoder) nextRBA(e *firebreak.Event) error {
	for {
		rec, long, err := d.readRecord()
		if err != nil {
			return d.fail(err)
		}
		if long {
			return d.lineError(&firebreak.FieldError{Reason: "record longer than " + strconv.Itoa(d.opt.MaxLineBytes) + " bytes"})
		}
		if d.rba == nil {
			if err := d.header(rec); err != nil {
				d.err = err
				return err
			}
			continue
		}
		fields, err := d.splitRecord(rec)
		if err == nil {
			err = d.rba.event(fields, e, d.opt.Now, d.in)
		}
		if err != nil {
			return d.lineError(err)
		}
		if !d.rba.has(rbaBrowser) {
			d.fillAgent(e)
		}
		return nil
	}
}

// event maps one RBA record onto e and validates it.
func (c *rbaColumns) event(rec []string, e *firebreak.Event, now time.Time, in *interner) error {
	if len(rec) != c.fields {
		return &firebreak.FieldError{Reason: fmt.Sprintf("record has %d fields, header has %d", len(rec), c.fields)}
	}
	*e = firebreak.Event{}
	t, err := parseRBATime(c.get(rec, rbaTime))
	if err != nil {
		return &firebreak.FieldError{Field: rbaTime, Reason: `not a time like "2020-02-03 12:43:30.772"`}
	}
	e.Time = t
	e.Account = c.get(rec, rbaUser)
	ok, err := strconv.ParseBool(c.get(rec, rbaSuccess))
	if err != nil {
		return &firebreak.FieldError{Field: rbaSuccess, Reason: "must be True or False"}
	}
	e.Outcome = firebreak.OutcomeFailure
	if ok {
		e.Outcome = firebreak.OutcomeSuccess
	}
	ip, err := parseIP([]byte(c.get(rec, rbaIP)), false)
	if err != nil {
		return &firebreak.FieldError{Field: rbaIP, Reason: "not an IP address"}
	}
	e.IP = ip
	if err := c.optional(rec, e, in); err != nil {
		return err
	}
	if err := e.Validate(now); err != nil {
		return err
	}
	return checkAgent(&e.Agent)
}

func (c *rbaColumns) optional(rec []string, e *firebreak.Event, in *interner) error {
	e.UserAgent = internString(c.get(rec, rbaUA), in)
	e.Country = country([]byte(dash(c.get(rec, rbaCountry))), in)
	e.Region = internString(dash(c.get(rec, rbaRegion)), in)
	e.City = internString(dash(c.get(rec, rbaCity)), in)
	if v := dash(c.get(rec, rbaASN)); v != "" {
		asn, ok := parseASN([]byte(v))
		if !ok {
			return &firebreak.FieldError{Field: rbaASN, Reason: "must be an integer in [0, 4294967295]"}
		}
		e.ASN = asn
	}
	if c.has(rbaBrowser) {
		e.Agent = rbaAgent(c.get(rec, rbaBrowser), c.get(rec, rbaOS), c.get(rec, rbaDevice), in)
	}
	if c.has(rbaATO) || c.has(rbaAttackIP) {
		l := &firebreak.Label{}
		for _, f := range []struct {
			name string
			v    *bool
		}{{rbaATO, &l.ATO}, {rbaAttackIP, &l.Attack}} {
			if s := c.get(rec, f.name); s != "" {
				b, err := strconv.ParseBool(s)
				if err != nil {
					return &firebreak.FieldError{Field: f.name, Reason: "must be True or False"}
				}
				*f.v = b
			}
		}
		e.Label = l
	}
	return nil
}

// dash maps the data set's "-" (unknown) to "".
func dash(s string) string {
	if s == "-" {
		return ""
	}
	return s
}

// parseRBATime parses "2020-02-03 12:43:30.772" (UTC), with or without the
// fraction.
func parseRBATime(s string) (time.Time, error) {
	if len(s) >= 19 && len(s) <= 29 && s[10] == ' ' {
		var b [30]byte
		n := copy(b[:], s)
		b[10] = 'T'
		b[n] = 'Z'
		if t, ok := fastTime(b[:n+1]); ok {
			return t, nil
		}
	}
	return time.ParseInLocation("2006-01-02 15:04:05.999999999", s, time.UTC)
}

// rbaAgent builds the agent from the data set's parsed columns, e.g.
// "Chrome Mobile 81.0.4044", "iOS 13.4", "mobile".
func rbaAgent(browser, os, device string, in *interner) firebreak.Agent {
	bf, major := splitVersion(browser)
	if major > maxBrowserMajor {
		major = 0 // a build number or date, not a major version: unknown
	}
	of, _ := splitVersion(os)
	return firebreak.Agent{
		DeviceType: deviceType(device),
		OS:         internString(of, in),
		Browser:    internString(bf, in),
		Major:      major,
	}
}

// splitVersion splits "Chrome Mobile 81.0.4044" into "Chrome Mobile" and 81:
// the version is the last space-separated word when it starts with a digit.
func splitVersion(s string) (family string, major int) {
	i := strings.LastIndexByte(s, ' ')
	if i < 0 || i+1 >= len(s) || s[i+1] < '0' || s[i+1] > '9' {
		return s, 0
	}
	for _, c := range []byte(s[i+1:]) {
		if c < '0' || c > '9' || major > 1e6 {
			break
		}
		major = major*10 + int(c-'0')
	}
	return s[:i], major
}

func deviceType(s string) string {
	switch strings.ToLower(s) {
	case "desktop":
		return "desktop"
	case "mobile":
		return "mobile"
	case "tablet":
		return "tablet"
	case "bot":
		return "bot"
	}
	return "other"
}
