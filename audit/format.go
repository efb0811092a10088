package audit

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"

	"firebreak"
)

// MaxRecordSize is the largest record accepted, measured as its canonical
// JSON line without the newline.
const MaxRecordSize = 64 << 10

// maxNoteSize bounds one signed checkpoint; ours are about 180 bytes.
const maxNoteSize = 4 << 10

// seqPrefix is how every canonical record line starts; encodeRecord
// marshals with Seq 0 and the committer splices in the real seq.
const seqPrefix = `{"seq":`

var sigPrefix = []byte("— ")

// validate rejects records the log will not store.
func validate(rec *firebreak.AuditRecord) error {
	switch {
	case rec.Actor == "":
		return &firebreak.FieldError{Field: "actor", Reason: "required"}
	case rec.Action == "":
		return &firebreak.FieldError{Field: "action", Reason: "required"}
	case len(rec.Data) > 0 && !json.Valid(rec.Data):
		return &firebreak.FieldError{Field: "data", Reason: "not valid JSON"}
	case rec.Time.Year() < 1 || rec.Time.Year() > 9999:
		return &firebreak.FieldError{Field: "time", Reason: "year outside 1-9999"}
	}
	return nil
}

// encodeRecord returns rec's canonical line with Seq 0 and Time in UTC.
// json.Marshal compacts Data and escapes control characters, so the line
// never holds a newline.
func encodeRecord(rec firebreak.AuditRecord) ([]byte, error) {
	rec.Seq = 0
	rec.Time = rec.Time.UTC()
	b, err := json.Marshal(rec)
	if err != nil {
		return nil, &firebreak.FieldError{Field: "data", Reason: err.Error()}
	}
	// The seq splice adds at most 19 digits.
	if len(b)+19 > MaxRecordSize {
		return nil, firebreak.Errorf(firebreak.ETOOLARGE,
			"audit record is %d bytes as JSON, over the %d-byte limit", len(b), MaxRecordSize)
	}
	return b, nil
}

// withSeq returns the line of an encodeRecord result with the given seq.
func withSeq(body []byte, seq int64) []byte {
	rest := body[len(seqPrefix)+1:] // drop `{"seq":0`
	line := make([]byte, 0, len(body)+20)
	line = append(line, seqPrefix...)
	line = strconv.AppendInt(line, seq, 10)
	return append(line, rest...)
}

// decodeRecord parses a stored line and checks that it is the canonical
// encoding of record seq: any other spelling of the same record is tampering.
func decodeRecord(line []byte, seq int64) (firebreak.AuditRecord, error) {
	var rec firebreak.AuditRecord
	if err := json.Unmarshal(line, &rec); err != nil {
		return rec, fmt.Errorf("not a JSON record: %v", err)
	}
	if rec.Seq != seq {
		return rec, fmt.Errorf("holds seq %d at position %d (a record was deleted, inserted or moved)", rec.Seq, seq)
	}
	body, err := encodeRecord(rec)
	if err != nil {
		return rec, fmt.Errorf("cannot re-encode: %v", err)
	}
	if !bytes.Equal(withSeq(body, seq), line) {
		return rec, errors.New("is not in canonical form (edited by hand?)")
	}
	return rec, nil
}

// signTree returns the signed checkpoint of tree.
func signTree(s note.Signer, tree tlog.Tree) ([]byte, error) {
	return note.Sign(&note.Note{Text: string(tlog.FormatTree(tree))}, s)
}

// openCheckpoint checks msg is exactly one tree note signed once by v, in
// the canonical form note.Sign writes, and returns the tree.
func openCheckpoint(msg []byte, v note.Verifier) (tlog.Tree, error) {
	n, err := note.Open(msg, note.VerifierList(v))
	if err != nil {
		var unverified *note.UnverifiedNoteError
		if errors.As(err, &unverified) {
			return tlog.Tree{}, fmt.Errorf("not signed by the verifier key %s", keyID(v))
		}
		return tlog.Tree{}, err
	}
	if len(n.Sigs) != 1 || len(n.UnverifiedSigs) != 0 {
		return tlog.Tree{}, errors.New("has extra signatures")
	}
	tree, err := tlog.ParseTree([]byte(n.Text))
	if err != nil {
		return tlog.Tree{}, err
	}
	// Reject every other spelling (extra lines, non-canonical base64) so
	// that any changed byte is reported, even one the parsers tolerate.
	sig, err := base64.StdEncoding.DecodeString(n.Sigs[0].Base64)
	if err != nil {
		return tlog.Tree{}, err
	}
	want := string(tlog.FormatTree(tree)) + "\n" + string(sigPrefix) + v.Name() + " " +
		base64.StdEncoding.EncodeToString(sig) + "\n"
	if string(msg) != want {
		return tlog.Tree{}, errors.New("is not in canonical form")
	}
	return tree, nil
}

// keyID names a key the way notes do: name+hash.
func keyID(v note.Verifier) string { return fmt.Sprintf("%s+%08x", v.Name(), v.KeyHash()) }

// errPartial marks input that ends in the middle of a line or note: a torn
// write at the end of a file.
var errPartial = errors.New("ends in the middle of an entry")

// readLine returns the next line including its newline. It returns io.EOF at
// a clean end, errPartial for a last line without a newline, and an error
// for a line longer than max.
func readLine(br *bufio.Reader, max int) ([]byte, error) {
	var line []byte
	for {
		chunk, err := br.ReadSlice('\n')
		line = append(line, chunk...)
		if len(line) > max+1 {
			return nil, fmt.Errorf("line longer than %d bytes", max)
		}
		switch {
		case err == nil:
			return line, nil
		case errors.Is(err, bufio.ErrBufferFull):
			continue
		case errors.Is(err, io.EOF) && len(line) == 0:
			return nil, io.EOF
		case errors.Is(err, io.EOF):
			return line, errPartial
		default:
			return nil, err
		}
	}
}

// readNote returns the next signed note: text lines, a blank line, then one
// or more signature lines starting with "— ". It returns io.EOF at a clean
// end and errPartial (with what it read) for a note cut short.
func readNote(br *bufio.Reader) ([]byte, error) {
	var msg []byte
	for {
		line, err := readLine(br, maxNoteSize)
		if err == io.EOF && msg != nil {
			return msg, errPartial
		}
		msg = append(msg, line...)
		if err != nil {
			return msg, err
		}
		if len(msg) > maxNoteSize {
			return nil, fmt.Errorf("checkpoint longer than %d bytes", maxNoteSize)
		}
		if len(line) == 1 {
			break
		}
	}
	sigs := 0
	for {
		if p, err := br.Peek(len(sigPrefix)); err != nil || !bytes.Equal(p, sigPrefix) {
			break
		}
		line, err := readLine(br, maxNoteSize)
		msg = append(msg, line...)
		if err != nil {
			return msg, err
		}
		if len(msg) > maxNoteSize {
			return nil, fmt.Errorf("checkpoint longer than %d bytes", maxNoteSize)
		}
		sigs++
	}
	if sigs == 0 {
		if _, err := br.Peek(1); err == io.EOF {
			return msg, errPartial
		}
		return nil, errors.New("checkpoint has no signature line")
	}
	return msg, nil
}
