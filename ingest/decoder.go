package ingest

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"fmt"
	"io"
	"strconv"
	"time"

	"firebreak"
)

// Format names an input format.
type Format string

// Input formats. FormatAuto detects the format from the first non-blank line:
// a CSV header starting with "index," or containing "Login Timestamp" is RBA,
// a JSON object with a "class_uid" key is OCSF, anything else is native NDJSON.
const (
	FormatAuto   Format = "auto"
	FormatNDJSON Format = "ndjson"
	FormatOCSF   Format = "ocsf"
	FormatRBA    Format = "rba"
)

// DefaultMaxLineBytes is the line limit when Options.MaxLineBytes is 0.
const DefaultMaxLineBytes = 64 << 10

// internEntries bounds a Decoder's table of shared strings.
const internEntries = 1 << 14

// AgentParser turns a user agent string into its parsed hierarchy. It must be
// safe for concurrent use; uap.Parser implements it.
type AgentParser interface {
	Parse(ua string) firebreak.Agent
}

// Options configure a Decoder.
type Options struct {
	// Format is the input format; "" means FormatAuto.
	Format Format
	// Now bounds future timestamps; zero skips that check (historical replay).
	Now time.Time
	// Agents, when set, fills Event.Agent from Event.UserAgent unless the
	// line already provides the agent (RBA's browser, OS and device columns;
	// the native format's device_type, os, browser and browser_major).
	Agents AgentParser
	// MaxLineBytes is the longest accepted line (or CSV record); 0 means
	// DefaultMaxLineBytes. Longer lines are rejected and skipped.
	MaxLineBytes int
}

// Decoder reads login events one by one from a stream.
type Decoder struct {
	lr     lineReader
	opt    Options
	format Format
	line   int
	in     *interner
	rba    *rbaColumns
	csv    *csv.Reader
	csvSrc recordSource
	rec    []byte
	err    error
}

// NewDecoder returns a Decoder reading from r.
func NewDecoder(r io.Reader, opt Options) *Decoder {
	if opt.MaxLineBytes <= 0 {
		opt.MaxLineBytes = DefaultMaxLineBytes
	}
	if opt.Format == "" {
		opt.Format = FormatAuto
	}
	d := &Decoder{opt: opt, format: opt.Format, in: newInterner(internEntries)}
	d.lr = lineReader{r: bufio.NewReaderSize(r, 16<<10), max: opt.MaxLineBytes}
	return d
}

// Format returns the format being decoded; FormatAuto until the first
// non-blank line has been read.
func (d *Decoder) Format() Format { return d.format }

// Line returns the 1-based line of the event or error last returned by Next:
// the physical line for NDJSON and OCSF, the line a record starts on for CSV.
func (d *Decoder) Line() int { return d.line }

// Next decodes the next event into e. It returns io.EOF at the end of the
// input; a *firebreak.FieldError with Line set for a bad line, after which
// the caller may call Next again for the following lines; and any other error
// (reading the input, an unusable CSV header) as fatal, again on every call.
func (d *Decoder) Next(e *firebreak.Event) error {
	if d.err != nil {
		return d.err
	}
	if d.format == FormatRBA {
		return d.nextRBA(e)
	}
	for {
		line, err := d.lr.next()
		if err != nil {
			return d.fail(err)
		}
		d.line = d.lr.n
		if d.lr.long {
			return d.lineError(&firebreak.FieldError{Reason: d.tooLong()})
		}
		if isBlank(line) {
			continue
		}
		if d.format == FormatAuto {
			d.format = detect(line)
			if d.format == FormatRBA {
				if err := d.header(line); err != nil {
					d.err = err
					return err
				}
				return d.nextRBA(e)
			}
		}
		return d.decodeJSON(line, e)
	}
}

func (d *Decoder) decodeJSON(line []byte, e *firebreak.Event) error {
	var err error
	if d.format == FormatOCSF {
		err = parseOCSF(line, e, d.opt.Now, d.in)
	} else {
		err = parseNative(line, e, d.opt.Now, d.in)
	}
	if err != nil {
		return d.lineError(err)
	}
	d.fillAgent(e)
	return nil
}

// fillAgent parses the user agent unless the line already carried the
// parsed agent (native enrichment written by the journal, or RBA columns).
func (d *Decoder) fillAgent(e *firebreak.Event) {
	if d.opt.Agents != nil && e.UserAgent != "" && e.Agent == (firebreak.Agent{}) {
		e.Agent = d.opt.Agents.Parse(e.UserAgent)
	}
}

// lineError sets the current line on a field error.
func (d *Decoder) lineError(err error) error {
	if fe, ok := err.(*firebreak.FieldError); ok {
		fe.Line = d.line
		return fe
	}
	return &firebreak.FieldError{Line: d.line, Reason: err.Error()}
}

func (d *Decoder) fail(err error) error {
	if err != io.EOF {
		err = fmt.Errorf("read input: %w", err)
	}
	d.err = err
	return err
}

func (d *Decoder) tooLong() string {
	return "line longer than " + strconv.Itoa(d.opt.MaxLineBytes) + " bytes"
}

// detect picks the format from the first non-blank line.
func detect(line []byte) Format {
	t := bytes.TrimLeft(line, " \t")
	switch {
	case bytes.HasPrefix(t, []byte("index,")), bytes.Contains(t, []byte("Login Timestamp")):
		return FormatRBA
	case len(t) > 0 && t[0] == '{' && bytes.Contains(t, []byte(`"class_uid"`)):
		return FormatOCSF
	}
	return FormatNDJSON
}

func isBlank(b []byte) bool {
	for _, c := range b {
		if c != ' ' && c != '\t' && c != '\r' {
			return false
		}
	}
	return true
}
