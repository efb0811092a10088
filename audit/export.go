package audit

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"golang.org/x/mod/sumdb/tlog"
)

// An export is one text file:
//
//	firebreak audit export v1
//	verifier <verifier key>
//	records <n>
//	<n record lines, as in records.jsonl>
//	checkpoints
//	<every checkpoint, as in the checkpoints file>
//	end
//
// The stored hashes are left out: the verifier recomputes them.
const exportMagic = "firebreak audit export v1\n"

// Export writes the whole log, as of its latest checkpoint, to w as one
// self-contained file for VerifyExport. Appends may continue meanwhile.
func (l *Log) Export(w io.Writer) error {
	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		return errClosed
	}
	n := int64(len(l.offsets) - 1)
	recs := io.NewSectionReader(l.records, 0, l.offsets[n])
	cks := io.NewSectionReader(l.checkpoints, 0, l.ckEnd)
	l.mu.Unlock()
	return writeExport(w, l.vkey, recs, n, cks)
}

// ExportDir writes the log in dir to w like Log.Export, without opening it
// for appending: it works while another process appends, and never repairs.
// It does not verify; run VerifyExport on the result.
func ExportDir(dir string, w io.Writer) error {
	vkey, err := os.ReadFile(filepath.Join(dir, verifierKeyFile))
	if err != nil {
		return fmt.Errorf("export audit log: %w", err)
	}
	cf, err := os.Open(filepath.Join(dir, checkpointsFile))
	if err != nil {
		return fmt.Errorf("export audit log: %w", err)
	}
	defer cf.Close()
	n, ckEnd, err := lastTree(cf)
	if err != nil {
		return fmt.Errorf("export audit log: %s: %w", checkpointsFile, err)
	}
	rf, err := os.Open(filepath.Join(dir, recordsFile))
	if err != nil {
		return fmt.Errorf("export audit log: %w", err)
	}
	defer rf.Close()
	return writeExport(w, strings.TrimSpace(string(vkey)), rf, n, io.NewSectionReader(cf, 0, ckEnd))
}

// lastTree returns the size signed by the last complete checkpoint in f
// (its signature unchecked) and where that checkpoint ends.
func lastTree(f *os.File) (n, end int64, err error) {
	br := bufio.NewReaderSize(f, 64<<10)
	var off int64
	for {
		msg, err := readNote(br)
		if err == io.EOF || errors.Is(err, errPartial) {
			return n, end, nil
		} else if err != nil {
			return 0, 0, fmt.Errorf("checkpoint at byte %d: %w", off, err)
		}
		off += int64(len(msg))
		text, _, _ := bytes.Cut(msg, []byte("\n\n"))
		tree, err := tlog.ParseTree(append(text, '\n'))
		if err != nil {
			return 0, 0, fmt.Errorf("checkpoint ending at byte %d: %w", off, err)
		}
		n, end = tree.N, off
	}
}

func writeExport(w io.Writer, vkey string, records io.Reader, n int64, checkpoints io.Reader) error {
	bw := bufio.NewWriterSize(w, 64<<10)
	fmt.Fprintf(bw, "%sverifier %s\nrecords %d\n", exportMagic, vkey, n)
	br := bufio.NewReaderSize(records, 64<<10)
	for seq := range n {
		line, err := readLine(br, MaxRecordSize)
		if err == io.EOF {
			return fmt.Errorf("export audit log: %s ends at record %d, before the %d signed", recordsFile, seq, n)
		} else if err != nil {
			return fmt.Errorf("export audit log: record %d: %w", seq, err)
		}
		bw.Write(line)
	}
	bw.WriteString("checkpoints\n")
	if _, err := io.Copy(bw, checkpoints); err != nil {
		return fmt.Errorf("export audit log: %w", err)
	}
	bw.WriteString("end\n")
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("export audit log: %w", err)
	}
	return nil
}

// VerifyExport checks an export the way Verify checks a directory. An
// empty verifierKey means the key written inside the export, which proves
// only that the file is self-consistent; the Report then says so. A failure
// is a *VerifyError with File "export".
func VerifyExport(r io.Reader, verifierKey string) (Report, error) {
	var rep Report
	br := bufio.NewReaderSize(r, 64<<10)
	header := func(want string) (string, error) {
		line, err := readLine(br, 1024)
		if err != nil || !strings.HasPrefix(string(line), want) {
			return "", verr("export", -1, -1, "want a %q line", strings.TrimSpace(want))
		}
		return strings.TrimSuffix(string(line[len(want):]), "\n"), nil
	}
	if _, err := header(exportMagic); err != nil {
		return rep, verr("export", -1, -1, "not a firebreak audit export (want first line %q)", strings.TrimSpace(exportMagic))
	}
	embedded, err := header("verifier ")
	if err != nil {
		return rep, err
	}
	key := verifierKey
	switch {
	case key == "":
		key = embedded
		rep.Warnings = append(rep.Warnings, "no pinned verifier key: used the key written in the export, which whoever made the file chose; pass a copy kept elsewhere")
	case strings.TrimSpace(key) != embedded:
		return rep, verr("export", -1, -1, "made with verifier key %q, not the pinned key %q", abbrev(embedded), abbrev(key))
	}
	v, err := parseVerifierKey(key)
	if err != nil {
		return rep, verr("verifier key", -1, -1, "%v", err)
	}
	rep.VerifierKey = keyID(v)
	count, err := header("records ")
	if err != nil {
		return rep, err
	}
	n, err := strconv.ParseInt(count, 10, 64)
	if err != nil || n < 0 || strconv.FormatInt(n, 10) != count {
		return rep, verr("export", -1, -1, "records %q: want a record count", count)
	}
	c := &checker{recName: "export", ckName: "export", v: v}
	for c.n < n {
		line, err := readLine(br, MaxRecordSize)
		if err != nil {
			return rep, verr("export", c.n, -1, "record line: %v (the header says %d records)", errText(err), n)
		}
		if err := c.addRecord(line[:len(line)-1]); err != nil {
			return rep, err
		}
	}
	if _, err := header("checkpoints\n"); err != nil {
		return rep, err
	}
	for {
		if p, _ := br.Peek(4); string(p) == "end\n" {
			break
		}
		msg, err := readNote(br)
		if err != nil {
			return rep, verr("export", -1, len(c.trees), "checkpoint: %v", errText(err))
		}
		if err := c.addCheckpoint(msg); err != nil {
			return rep, err
		}
	}
	br.Discard(4)
	if _, err := br.ReadByte(); err != io.EOF {
		return rep, verr("export", -1, -1, "data after the end line")
	}
	if err := c.checkTrees(nil); err != nil {
		return rep, err
	}
	return c.report(rep), nil
}

func errText(err error) string {
	if err == io.EOF {
		return "the file ends early"
	}
	return err.Error()
}
