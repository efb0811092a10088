package auth

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"strings"
)

// TokenPrefix starts every API token, so that a leaked one is easy to spot
// (secret scanners look for such prefixes) and never mistaken for a session.
const TokenPrefix = "fbt_"

// randomBytes is how much randomness every secret carries: 256 bits.
const randomBytes = 32

// RandomString returns 32 random bytes as unpadded base64url (43
// characters): a session id or a CSRF token.
func RandomString() (string, error) {
	b := make([]byte, randomBytes)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("read random bytes: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

// NewToken returns a new API token: TokenPrefix followed by 32 random bytes
// as unpadded base64url.
func NewToken() (string, error) {
	s, err := RandomString()
	if err != nil {
		return "", err
	}
	return TokenPrefix + s, nil
}

// IsToken reports whether s has the shape of an API token.
func IsToken(s string) bool {
	rest, ok := strings.CutPrefix(s, TokenPrefix)
	if !ok || len(rest) != base64.RawURLEncoding.EncodedLen(randomBytes) {
		return false
	}
	_, err := base64.RawURLEncoding.Strict().DecodeString(rest)
	return err == nil
}

// HashSecret returns the hex SHA-256 of a session id or API token, which is
// all the store keeps. The secrets carry 256 random bits, so a fast hash is
// enough: there is nothing to guess.
func HashSecret(secret string) string {
	sum := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(sum[:])
}

// NewPassword returns a random password of 24 characters (144 bits) from
// the base64url alphabet, for operators created without one.
func NewPassword() (string, error) {
	b := make([]byte, 18)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("read random bytes: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}
