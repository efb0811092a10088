package sqlite

import "database/sql"

// Internals exposed to the external tests.

// WritePool returns the writer connection pool.
func WritePool(db *DB) *sql.DB { return db.write }

// ReadPool returns the read-only connection pool.
func ReadPool(db *DB) *sql.DB { return db.read }
