package audit_test

import (
	"bytes"
	"testing"

	"firebreak/audit"
)

// FuzzVerifyExport feeds arbitrary bytes to VerifyExport: it must return an
// error or a report, never panic, and never accept a file whose records
// were not all signed.
func FuzzVerifyExport(f *testing.F) {
	dir := f.TempDir()
	l, err := audit.Open(dir, audit.Options{Now: clock()})
	if err != nil {
		f.Fatal(err)
	}
	for i := range 5 {
		if _, err := l.Append(ctx, record(i)); err != nil {
			f.Fatal(err)
		}
	}
	var exp bytes.Buffer
	if err := l.Export(&exp); err != nil {
		f.Fatal(err)
	}
	key := l.VerifierKey()
	l.Close()
	f.Add(exp.Bytes())
	f.Add([]byte("firebreak audit export v1\nverifier " + key + "\nrecords 0\ncheckpoints\nend\n"))
	f.Add([]byte("firebreak audit export v1\nverifier x\nrecords 99999999999\n"))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, data []byte) {
		rep, err := audit.VerifyExport(bytes.NewReader(data), key)
		if err == nil && rep.TreeSize != rep.Records {
			t.Fatalf("accepted an export with %d records but a signed size of %d", rep.Records, rep.TreeSize)
		}
		audit.VerifyExport(bytes.NewReader(data), "")
	})
}
