package audit

import "os"

// Internals exposed to the external tests.

// SetSyncFunc replaces the fsync of commits.
func SetSyncFunc(l *Log, fn func(*os.File) error) {
	l.commitMu.Lock()
	defer l.commitMu.Unlock()
	l.sync = fn
}

// CloseRecordsFile closes the file descriptor under the log's records, so
// that the next write fails as a dead disk or a revoked descriptor would.
func CloseRecordsFile(l *Log) error {
	l.commitMu.Lock()
	defer l.commitMu.Unlock()
	return l.records.Close()
}
