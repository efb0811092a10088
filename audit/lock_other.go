//go:build !unix

package audit

import "os"

// lockDir opens the lock file; without flock there is no protection against
// a second writing process on this platform.
func lockDir(path string) (*os.File, error) {
	return os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
}

// writerActive cannot tell on this platform and says no.
func writerActive(path string) bool { return false }
