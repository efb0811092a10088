package journal

import (
	"io"
	"os"
)

// Internals exposed to the external tests.

// ScanRecords is scanRecords.
func ScanRecords(r io.Reader, fn func(rec []byte) error) (int64, error) { return scanRecords(r, fn) }

// EncodeRecord frames one record as it is stored on disk.
func EncodeRecord(rec []byte) []byte { return appendRecord(nil, rec) }

// SegmentHeader returns the header of a segment starting at first.
func SegmentHeader(first uint64) []byte { return appendSegmentHeader(nil, first) }

// SetSyncFunc replaces the fsync of segment writes; call it before the first Append.
func SetSyncFunc(j *Journal, fn func(*os.File) error) { j.sync = fn }
