// Package sqlite is Firebreak's embedded store: one SQLite file in the data
// directory, opened through the pure-Go modernc.org/sqlite driver, with
// embedded, numbered, append-only goose migrations.
package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"github.com/pressly/goose/v3"
	_ "modernc.org/sqlite" // registers the "sqlite" driver
)

//go:embed migrations/*.sql
var migrationFS embed.FS

// busyTimeout is how long a connection waits for a lock before SQLITE_BUSY.
const busyTimeout = 5 * time.Second

// DB is the SQLite database. Writes go through a single connection (SQLite
// allows one writer at a time, and queueing in Go is cheaper than busy
// retries); reads use a separate pool of query-only connections, which WAL
// lets run alongside the writer.
type DB struct {
	write *sql.DB
	read  *sql.DB

	// Path is the database file, e.g. DATA/firebreak.db.
	Path string
	// Now returns the current time; tests replace it. Defaults to time.Now.
	Now func() time.Time
	// Logger receives migration progress. Defaults to slog.Default().
	Logger *slog.Logger
}

// NewDB returns a DB for the file at path. Call Open before use.
func NewDB(path string) *DB {
	return &DB{Path: path, Now: time.Now}
}

// Open creates the file if needed, applies pending migrations and opens the
// read pool.
func (db *DB) Open(ctx context.Context) error {
	if err := db.open(ctx); err != nil {
		db.Close()
		return fmt.Errorf("open sqlite %s: %w", db.Path, err)
	}
	return nil
}

func (db *DB) open(ctx context.Context) error {
	if db.Path == "" {
		return errors.New("path required")
	} else if strings.ContainsRune(db.Path, '?') {
		return errors.New(`path must not contain "?"`)
	}
	if db.Now == nil {
		db.Now = time.Now
	}
	if db.Logger == nil {
		db.Logger = slog.Default()
	}
	if err := os.MkdirAll(filepath.Dir(db.Path), 0o755); err != nil {
		return err
	}
	var err error
	// Durability: WAL with synchronous=FULL syncs the WAL on every commit,
	// so a committed transaction survives power loss, not only kill -9.
	db.write, err = openPool(ctx, db.Path, 1, "_txlock=immediate",
		"_pragma=journal_mode(WAL)", "_pragma=synchronous(FULL)")
	if err != nil {
		return fmt.Errorf("writer: %w", err)
	}
	if err := db.migrate(ctx); err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	db.read, err = openPool(ctx, db.Path, max(4, runtime.NumCPU()), "_pragma=query_only(1)")
	if err != nil {
		return fmt.Errorf("readers: %w", err)
	}
	return nil
}

// openPool opens a connection pool with the pragmas every connection needs
// plus extra DSN parameters.
func openPool(ctx context.Context, path string, conns int, extra ...string) (*sql.DB, error) {
	dsn := path + "?_pragma=busy_timeout(" + fmt.Sprint(busyTimeout.Milliseconds()) +
		")&_pragma=foreign_keys(1)"
	for _, p := range extra {
		dsn += "&" + p
	}
	pool, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, err
	}
	pool.SetMaxOpenConns(conns)
	pool.SetMaxIdleConns(conns)
	pool.SetConnMaxLifetime(0)
	if err := pool.PingContext(ctx); err != nil {
		pool.Close()
		return nil, err
	}
	return pool, nil
}

// migrate applies the embedded migrations that have not run yet, each in its
// own transaction, recording them in goose_db_version.
func (db *DB) migrate(ctx context.Context) error {
	fsys, err := fs.Sub(migrationFS, "migrations")
	if err != nil {
		return err
	}
	p, err := goose.NewProvider(goose.DialectSQLite3, db.write, fsys,
		goose.WithDisableGlobalRegistry(true), goose.WithSlog(db.Logger))
	if err != nil {
		return err
	}
	// p.Close would close db.write, so it is not called.
	_, err = p.Up(ctx)
	return err
}

// Close closes both connection pools.
func (db *DB) Close() error {
	var errs []error
	for _, pool := range []*sql.DB{db.read, db.write} {
		if pool != nil {
			errs = append(errs, pool.Close())
		}
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("close sqlite: %w", err)
	}
	return nil
}

// Tx wraps a transaction with the time it started, read once from DB.Now so
// that every row it writes carries the same timestamp.
type Tx struct {
	*sql.Tx
	db  *DB
	now time.Time
}

// BeginTx starts a transaction: on the read pool when opts.ReadOnly is set,
// otherwise on the writer connection (as BEGIN IMMEDIATE, so it holds the
// write lock from the start and never fails to upgrade later).
func (db *DB) BeginTx(ctx context.Context, opts *sql.TxOptions) (*Tx, error) {
	pool := db.write
	if opts != nil && opts.ReadOnly {
		pool = db.read
	}
	if pool == nil {
		return nil, errors.New("begin transaction: database not open")
	}
	tx, err := pool.BeginTx(ctx, opts)
	if err != nil {
		return nil, fmt.Errorf("begin transaction: %w", err)
	}
	return &Tx{Tx: tx, db: db, now: db.Now().UTC()}, nil
}

// Now returns the transaction's start time, in UTC.
func (tx *Tx) Now() time.Time { return tx.now }
