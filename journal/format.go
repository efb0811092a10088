package journal

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
)

// MaxRecordSize is the largest record Append accepts, in bytes.
const MaxRecordSize = 1 << 20

// ErrRecordTooLarge is wrapped by Append when a record exceeds MaxRecordSize.
var ErrRecordTooLarge = errors.New("record too large")

// ErrClosed is returned by operations on a closed journal.
var ErrClosed = errors.New("journal closed")

// On-disk layout of a segment:
//
//	header  magic "FBJRNL01" (8 bytes) | first seq (uint64 LE)
//	record  length (uint32 LE) | CRC-32C of length bytes and payload (uint32 LE) | payload
const (
	segMagic      = "FBJRNL01"
	segHeaderSize = 16
	recHeaderSize = 8
	segExt        = ".seg"
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// appendSegmentHeader appends the header of a segment starting at first.
func appendSegmentHeader(b []byte, first uint64) []byte {
	b = append(b, segMagic...)
	return binary.LittleEndian.AppendUint64(b, first)
}

// parseSegmentHeader returns the first seq recorded in a segment header.
func parseSegmentHeader(b []byte) (uint64, error) {
	if len(b) < segHeaderSize {
		return 0, fmt.Errorf("segment header is %d bytes, want %d", len(b), segHeaderSize)
	}
	if string(b[:8]) != segMagic {
		return 0, fmt.Errorf("bad segment magic %q", b[:8])
	}
	return binary.LittleEndian.Uint64(b[8:16]), nil
}

// appendRecord appends one framed record to b. The header is built in b
// itself: a local array would escape to the heap through the CRC call.
func appendRecord(b, rec []byte) []byte {
	start := len(b)
	b = binary.LittleEndian.AppendUint32(b, uint32(len(rec)))
	b = append(b, 0, 0, 0, 0)
	b = append(b, rec...)
	crc := crc32.Update(crc32.Checksum(b[start:start+4], castagnoli), castagnoli, rec)
	binary.LittleEndian.PutUint32(b[start+4:start+8], crc)
	return b
}

// errDamaged means the bytes at a reader's offset are not a whole, intact
// record: a torn write, garbage or corruption.
var errDamaged = errors.New("damaged record")

// recordReader decodes framed records from a segment body (after the header).
type recordReader struct {
	r   *bufio.Reader
	h   [recHeaderSize]byte
	buf []byte
	off int64 // offset in the body of the next record
}

func newRecordReader(r io.Reader) *recordReader {
	return &recordReader{r: bufio.NewReaderSize(r, 1<<16)}
}

// next returns the next record, valid until the following call. It returns
// io.EOF at a clean end and errDamaged when the record at rr.off is truncated,
// oversized or fails its CRC; rr.off then still points at the damage.
func (rr *recordReader) next() ([]byte, error) {
	h := rr.h[:]
	n, err := io.ReadFull(rr.r, h)
	if err == io.EOF {
		return nil, io.EOF
	} else if err == io.ErrUnexpectedEOF {
		return nil, errDamaged
	} else if err != nil {
		return nil, err
	}
	size := binary.LittleEndian.Uint32(h[0:4])
	if size > MaxRecordSize {
		return nil, errDamaged
	}
	if cap(rr.buf) < int(size) {
		rr.buf = make([]byte, size)
	}
	rec := rr.buf[:size]
	if _, err := io.ReadFull(rr.r, rec); err == io.EOF || err == io.ErrUnexpectedEOF {
		return nil, errDamaged
	} else if err != nil {
		return nil, err
	}
	crc := crc32.Update(crc32.Checksum(h[0:4], castagnoli), castagnoli, rec)
	if crc != binary.LittleEndian.Uint32(h[4:8]) {
		return nil, errDamaged
	}
	rr.off += int64(n) + int64(size)
	return rec, nil
}

// scanRecords calls fn for each record of a segment body read from r and
// returns the number of bytes that form whole, intact records. A damaged
// record ends the scan without an error: valid then says where it starts.
// Errors from r or fn are returned.
func scanRecords(r io.Reader, fn func(rec []byte) error) (valid int64, err error) {
	rr := newRecordReader(r)
	for {
		rec, err := rr.next()
		if err == io.EOF || err == errDamaged {
			return rr.off, nil
		} else if err != nil {
			return rr.off, err
		}
		if err := fn(rec); err != nil {
			return rr.off, err
		}
	}
}

// segmentName returns the file name of the segment whose first seq is first.
func segmentName(first uint64) string {
	return fmt.Sprintf("%020d%s", first, segExt)
}
