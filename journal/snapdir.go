package journal

import "io"

// SnapshotDir is a directory of snapshots; it adapts WriteSnapshot and
// OpenLatestSnapshot to the engine's Snapshots interface.
type SnapshotDir string

// Write stores a snapshot covering the journal up to seq.
func (d SnapshotDir) Write(seq uint64, write func(w io.Writer) error) error {
	return WriteSnapshot(string(d), seq, write)
}

// OpenLatest opens the newest valid snapshot; r is nil when there is none.
func (d SnapshotDir) OpenLatest() (uint64, io.ReadCloser, error) {
	return OpenLatestSnapshot(string(d))
}
