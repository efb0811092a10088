package http

import (
	"bytes"
	"compress/flate"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"mime"
	nethttp "net/http"
	"strings"

	"firebreak"
)

// Media types accepted in request bodies.
const (
	mediaJSON   = "application/json"
	mediaNDJSON = "application/x-ndjson"
)

// bom is the UTF-8 byte order mark, which some tools put before JSON.
var bom = []byte{0xEF, 0xBB, 0xBF}

// openBody checks the request's Content-Type against accepted and its
// Content-Encoding, and returns the decoded body, bounded to maxRaw bytes as
// sent and s.cfg.MaxDecodedBytes after decompression. Read errors from it are
// *firebreak.Error values (ETOOLARGE, EINVALID).
func (s *Server) openBody(w nethttp.ResponseWriter, r *nethttp.Request, maxRaw int64, accepted ...string) (media string, body io.Reader, err error) {
	media, err = checkMediaType(r.Header.Get("Content-Type"), accepted)
	if err != nil {
		return "", nil, err
	}
	raw := &bodyReader{r: nethttp.MaxBytesReader(w, r.Body, maxRaw), left: maxRaw, limit: maxRaw}
	switch enc := strings.ToLower(strings.TrimSpace(r.Header.Get("Content-Encoding"))); enc {
	case "", "identity":
		return media, raw, nil
	case "gzip", "x-gzip":
		zr, err := gzip.NewReader(raw)
		if errors.Is(err, io.EOF) {
			return media, bytes.NewReader(nil), nil // empty body, reported as such later
		} else if err != nil {
			return "", nil, readError(err, maxRaw)
		}
		max := s.cfg.MaxDecodedBytes
		return media, &bodyReader{r: zr, left: max, limit: max, decoded: true}, nil
	default:
		return "", nil, firebreak.Errorf(firebreak.EUNSUPPORTED, "Content-Encoding %q is not supported: send gzip or no encoding.", enc)
	}
}

// checkMediaType parses a Content-Type header and accepts it if its media
// type is one of accepted and its charset, if any, is UTF-8.
func checkMediaType(header string, accepted []string) (string, error) {
	media, params, err := mime.ParseMediaType(header)
	if err == nil {
		for _, a := range accepted {
			cs, hasCharset := params["charset"]
			if media == a && (!hasCharset || strings.EqualFold(cs, "utf-8")) {
				return media, nil
			}
		}
	}
	return "", firebreak.Errorf(firebreak.EUNSUPPORTED, "Content-Type %q is not accepted: send %s (UTF-8).", header, strings.Join(accepted, " or "))
}

// bodyReader bounds a body and turns read errors into *firebreak.Error
// values. Unlike io.LimitReader it fails, instead of ending quietly, when
// there is more than limit: a body cut short must not look complete.
type bodyReader struct {
	r       io.Reader
	left    int64
	limit   int64
	decoded bool // counts bytes after decompression
	err     error
}

func (b *bodyReader) Read(p []byte) (int, error) {
	if b.err != nil {
		return 0, b.err
	}
	if int64(len(p)) > b.left+1 {
		p = p[:b.left+1] // one byte past the limit tells "exactly full" from "too much"
	}
	n, err := b.r.Read(p)
	if int64(n) > b.left {
		n, b.err = int(b.left), b.tooLarge()
		b.left = 0
		return n, b.err
	}
	b.left -= int64(n)
	if err != nil && err != io.EOF {
		b.err = readError(err, b.limit)
		return n, b.err
	}
	return n, err
}

func (b *bodyReader) tooLarge() error {
	if b.decoded {
		return firebreak.Errorf(firebreak.ETOOLARGE, "Request body is larger than %d bytes after decompression.", b.limit)
	}
	return firebreak.Errorf(firebreak.ETOOLARGE, "Request body is larger than %d bytes.", b.limit)
}

// readError maps an error from reading a (possibly compressed) body.
func readError(err error, limit int64) error {
	var tooBig *nethttp.MaxBytesError
	var fe *firebreak.Error
	var corrupt flate.CorruptInputError
	switch {
	case errors.As(err, &fe):
		return fe
	case errors.As(err, &tooBig):
		return firebreak.Errorf(firebreak.ETOOLARGE, "Request body is larger than %d bytes.", limit)
	case errors.Is(err, gzip.ErrHeader), errors.Is(err, gzip.ErrChecksum), errors.As(err, &corrupt):
		return firebreak.Errorf(firebreak.EINVALID, "Request body is not valid gzip: %v.", err)
	case errors.Is(err, io.ErrUnexpectedEOF):
		return firebreak.Errorf(firebreak.EINVALID, "Request body ended unexpectedly.")
	}
	// Anything else is a connection that broke while we read: the client's
	// side of the story, so it is not logged as an internal error.
	return &firebreak.Error{Code: firebreak.EINVALID, Message: fmt.Sprintf("Could not read the request body: %v.", err)}
}
