package ingest

import (
	"bufio"
	"bytes"
	"errors"
	"io"
)

// lineReader yields physical lines without their terminator ("\n" or
// "\r\n"), strips a UTF-8 byte order mark at the start of the input, and
// bounds line length: a longer line is returned as its first max bytes with
// long set, and the rest of it is skipped.
type lineReader struct {
	r    *bufio.Reader
	max  int
	n    int // lines read so far
	long bool
	buf  []byte
	eof  bool
}

var bom = []byte("\xEF\xBB\xBF")

func (l *lineReader) next() ([]byte, error) {
	if l.eof {
		return nil, io.EOF
	}
	l.long = false
	l.buf = l.buf[:0]
	line, err := l.r.ReadSlice('\n')
	for errors.Is(err, bufio.ErrBufferFull) {
		l.keep(line)
		line, err = l.r.ReadSlice('\n')
	}
	if err != nil && err != io.EOF {
		return nil, err
	}
	if err == io.EOF {
		l.eof = true
		if len(line) == 0 && len(l.buf) == 0 && !l.long {
			return nil, io.EOF
		}
	}
	if len(l.buf) > 0 || l.long {
		l.keep(line)
		line = l.buf
	}
	l.n++
	line = bytes.TrimSuffix(line, []byte("\n"))
	line = bytes.TrimSuffix(line, []byte("\r"))
	if l.n == 1 {
		line = bytes.TrimPrefix(line, bom)
	}
	if len(line) > l.max {
		l.long = true
		line = line[:l.max]
	}
	return line, nil
}

// keep appends part of a line longer than the read buffer, up to one byte
// over the limit so that the length check still fires.
func (l *lineReader) keep(part []byte) {
	room := l.max + 2 - len(l.buf) // +2 leaves space for "\r\n"
	if room <= 0 {
		l.long = true
		return
	}
	if len(part) > room {
		part = part[:room]
	}
	l.buf = append(l.buf, part...)
}
