package ingest

import (
	"encoding/csv"
	"errors"
	"io"

	"firebreak"
)

// recordSource feeds one CSV record at a time to a long-lived csv.Reader,
// then reports io.EOF until it is given the next record.
type recordSource struct {
	b []byte
}

func (s *recordSource) Read(p []byte) (int, error) {
	if len(s.b) == 0 {
		return 0, io.EOF
	}
	n := copy(p, s.b)
	s.b = s.b[n:]
	return n, nil
}

// readRecord gathers the physical lines of the next CSV record: a newline
// inside a quoted field continues the record. It returns the record and the
// line it starts on, skipping blank lines between records.
func (d *Decoder) readRecord() (rec []byte, long bool, err error) {
	d.rec = d.rec[:0]
	start, inQuote := 0, false
	for {
		line, err := d.lr.next()
		if err == io.EOF && start > 0 {
			return d.rec, long, nil // csv reports the open quote
		}
		if err != nil {
			return nil, false, err
		}
		if start == 0 {
			if isBlank(line) && !d.lr.long {
				continue
			}
			start = d.lr.n
			d.line = start
		} else {
			d.rec = append(d.rec, '\n')
		}
		long = long || d.lr.long || len(d.rec)+len(line) > d.opt.MaxLineBytes
		if !long {
			d.rec = append(d.rec, line...)
		}
		if inQuote = quoteOpen(line, inQuote); !inQuote {
			return d.rec, long, nil
		}
	}
}

// quoteOpen follows encoding/csv's quoting rules over one physical line and
// reports whether a quoted field is still open at its end.
func quoteOpen(line []byte, inQuote bool) bool {
	fieldStart := !inQuote
	for i := 0; i < len(line); i++ {
		c := line[i]
		if inQuote {
			if c == '"' {
				if i+1 < len(line) && line[i+1] == '"' {
					i++
				} else {
					inQuote = false
				}
			}
			continue
		}
		if c == '"' && fieldStart {
			inQuote = true
		}
		fieldStart = c == ','
	}
	return inQuote
}

// splitRecord parses one record with encoding/csv. Field values are data:
// nothing (a leading =, +, - or @ included) is ever interpreted.
func (d *Decoder) splitRecord(rec []byte) ([]string, error) {
	if d.csv == nil {
		d.csv = csv.NewReader(&d.csvSrc)
		d.csv.FieldsPerRecord = -1
	}
	d.csvSrc.b = append(rec, '\n')
	fields, err := d.csv.Read()
	// A malformed record can stop early; drop whatever is left of it.
	for {
		if _, err := d.csv.Read(); err == io.EOF {
			break
		}
	}
	if err != nil {
		var pe *csv.ParseError
		if errors.As(err, &pe) {
			return nil, &firebreak.FieldError{Reason: "malformed CSV: " + pe.Err.Error()}
		}
		return nil, &firebreak.FieldError{Reason: "malformed CSV"}
	}
	return fields, nil
}
