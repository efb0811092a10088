// Package audit is Firebreak's tamper-evident audit trail: an append-only
// log of firebreak.AuditRecord values in a Merkle tree (golang.org/x/mod's
// tlog, the go.sum database's design), with every state signed by an
// ed25519 key as a note. Verify and VerifyExport recompute everything and
// check it against the signatures, so that editing, deleting, reordering,
// inserting or truncating records is detected; see docs/audit.md.
//
// A log directory holds:
//
//	records.jsonl  one record per line, canonical JSON (encoding/json, Time in UTC)
//	hashes         the tlog stored hashes, 32 bytes each, in StoredHashIndex order
//	checkpoints    signed notes of tlog.FormatTree, one per commit, back to back
//	signer.key     the note signer key (mode 0600)
//	verifier.key   the note verifier key: public; pin a copy elsewhere
//	lock           held (flock) by the one process that appends
package audit

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"

	"firebreak"
)

// DefaultName names the log and its key when Options.Name is empty.
const DefaultName = "firebreak-audit"

// Options configure a Log. The zero value is ready to use.
type Options struct {
	// Now stamps records whose Time is zero; nil means time.Now.
	Now func() time.Time
	// Name is the key name written in every signature; "firebreak-audit"
	// when empty. An existing log must be opened with the name it has.
	Name string
	// Logger receives warnings such as a repaired torn tail; nil means slog.Default().
	Logger *slog.Logger
}

// Log is an open audit log directory. Its methods are safe for concurrent use.
type Log struct {
	dir      string
	now      func() time.Time
	log      *slog.Logger
	signer   note.Signer
	verifier note.Verifier
	vkey     string
	lock     *os.File

	// commitMu is held by the one goroutine writing a batch: it owns the
	// files' write side and the fields below it.
	commitMu    sync.Mutex
	records     *os.File
	hashes      *os.File
	checkpoints *os.File
	sync        func(*os.File) error
	nhash       int64 // stored hashes in the hashes file

	mu         sync.Mutex // guards everything below
	queue      []*pending
	failed     error // sticky: set once a write or fsync fails
	closed     bool
	offsets    []int64 // offsets[i] is where record i starts; one more than the size
	checkpoint []byte  // latest signed note
	ckEnd      int64   // where it ends in the checkpoints file
	tree       tlog.Tree
}

var errLocked = errors.New("locked by another process")

// Open opens the log in dir, creating the directory, the key pair and an
// empty signed log on first use. It checks the latest checkpoint against the
// hashes and records, and repairs a torn tail left by a crash: records past
// the latest checkpoint were never acknowledged, so they are dropped (and
// saved to a torn-*.jsonl file for inspection). It refuses a log that lost
// signed records or whose latest checkpoint does not verify.
func Open(dir string, opts Options) (*Log, error) {
	if opts.Name == "" {
		opts.Name = DefaultName
	}
	if !validName(opts.Name) {
		return nil, &firebreak.FieldError{Field: "name", Reason: fmt.Sprintf("%q: want a non-empty name without spaces or '+'", opts.Name)}
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("open audit log: %w", err)
	}
	lock, err := lockDir(filepath.Join(dir, lockFile))
	if errors.Is(err, errLocked) {
		return nil, firebreak.Errorf(firebreak.EUNAVAILABLE, "audit log %s is open in another process", dir)
	} else if err != nil {
		return nil, fmt.Errorf("open audit log: %w", err)
	}
	l := &Log{dir: dir, now: opts.Now, log: opts.Logger, lock: lock, sync: (*os.File).Sync}
	if err := l.open(opts.Name); err != nil {
		l.closeFiles()
		return nil, fmt.Errorf("open audit log %s: %w", dir, err)
	}
	return l, nil
}

// validName is note's rule for key names.
func validName(name string) bool {
	return name != "" && utf8.ValidString(name) && strings.IndexFunc(name, unicode.IsSpace) < 0 && !strings.Contains(name, "+")
}

func (l *Log) open(name string) error {
	var err error
	if l.signer, l.verifier, l.vkey, err = loadKeys(l.dir, name); err != nil {
		return err
	}
	for _, f := range []struct {
		name string
		f    **os.File
	}{{recordsFile, &l.records}, {hashesFile, &l.hashes}, {checkpointsFile, &l.checkpoints}} {
		if *f.f, err = os.OpenFile(filepath.Join(l.dir, f.name), os.O_RDWR|os.O_CREATE, 0o600); err != nil {
			return err
		}
	}
	if err := syncDir(l.dir); err != nil {
		return err
	}
	return l.recover()
}

// Size returns the number of records in the log, all covered by the latest checkpoint.
func (l *Log) Size() int64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	return int64(len(l.offsets) - 1)
}

// Checkpoint returns the latest signed checkpoint: a note whose text is
// tlog.FormatTree of the log's size and root hash. Keep copies of it outside
// the machine to detect a rollback later (see docs/audit.md).
func (l *Log) Checkpoint() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return string(l.checkpoint)
}

// VerifierKey returns the public key that verifies the checkpoints, in the
// form of verifier.key and note.NewVerifier.
func (l *Log) VerifierKey() string { return l.vkey }

// Records returns up to limit records from seq from on, in order. It returns
// fewer (possibly none) at the end of the log.
func (l *Log) Records(ctx context.Context, from int64, limit int) ([]firebreak.AuditRecord, error) {
	switch {
	case from < 0:
		return nil, &firebreak.FieldError{Field: "from", Reason: "must not be negative"}
	case limit <= 0:
		return nil, &firebreak.FieldError{Field: "limit", Reason: "must be positive"}
	}
	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		return nil, errClosed
	}
	size := int64(len(l.offsets) - 1)
	from = min(from, size)
	to := min(size, from+int64(limit))
	start, end := l.offsets[from], l.offsets[to]
	f := l.records
	l.mu.Unlock()

	recs := make([]firebreak.AuditRecord, 0, to-from)
	br := bufio.NewReaderSize(io.NewSectionReader(f, start, end-start), 64<<10)
	for seq := from; seq < to; seq++ {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		line, err := readLine(br, MaxRecordSize)
		if err != nil {
			return nil, fmt.Errorf("read audit record %d: %w", seq, err)
		}
		rec, err := decodeRecord(line[:len(line)-1], seq)
		if err != nil {
			return nil, fmt.Errorf("read audit record %d: record %w", seq, err)
		}
		recs = append(recs, rec)
	}
	return recs, nil
}

var errClosed = firebreak.Errorf(firebreak.EUNAVAILABLE, "audit log is closed")

// Close waits for the commit in progress, then closes the files and
// releases the directory lock. Appends after Close fail.
func (l *Log) Close() error {
	l.commitMu.Lock()
	defer l.commitMu.Unlock()
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return nil
	}
	l.closed = true
	return l.closeFiles()
}

func (l *Log) closeFiles() error {
	var errs []error
	for _, f := range []*os.File{l.records, l.hashes, l.checkpoints, l.lock} {
		if f != nil {
			errs = append(errs, f.Close())
		}
	}
	return errors.Join(errs...)
}
