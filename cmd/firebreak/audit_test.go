package main

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"firebreak"
	"firebreak/audit"
)

// auditData makes a data directory whose audit log holds n records and
// returns it with the path of a pinned copy of the verifier key.
func auditData(t *testing.T, n int) (data, keyPath string) {
	t.Helper()
	data = t.TempDir()
	l, err := audit.Open(filepath.Join(data, "audit"), audit.Options{})
	if err != nil {
		t.Fatal(err)
	}
	for i := range n {
		if _, err := l.Append(context.Background(), firebreak.AuditRecord{Actor: "alice", Action: firebreak.AuditPlanApproved, Object: "plan/" + string(rune('a'+i))}); err != nil {
			t.Fatal(err)
		}
	}
	keyPath = filepath.Join(t.TempDir(), "pinned.key")
	if err := os.WriteFile(keyPath, []byte(l.VerifierKey()+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	return data, keyPath
}

func auditRun(args ...string) (stdout, stderr string, err error) {
	var out, errb bytes.Buffer
	err = (&AuditCommand{stdout: &out, stderr: &errb}).Run(context.Background(), args)
	return out.String(), errb.String(), err
}

func TestAuditVerifyAndExport(t *testing.T) {
	data, key := auditData(t, 3)
	out, _, err := auditRun("verify", "--data", data, "--key", key)
	if err != nil {
		t.Fatalf("verify: %v", err)
	}
	for _, want := range []string{": OK", "records      3", "checkpoints  4"} {
		if !strings.Contains(out, want) {
			t.Fatalf("verify output lacks %q:\n%s", want, out)
		}
	}
	_, stderr, err := auditRun("verify", "--data", data)
	if err != nil || !strings.Contains(stderr, "warning: no pinned verifier key") {
		t.Fatalf("verify without --key: err %v, stderr %q; want success with a warning", err, stderr)
	}

	exp := filepath.Join(t.TempDir(), "audit.export")
	if _, _, err := auditRun("export", "--data", data, "--out", exp); err != nil {
		t.Fatalf("export: %v", err)
	}
	out, _, err = auditRun("verify", "--export", exp, "--key", key)
	if err != nil || !strings.Contains(out, "records      3") {
		t.Fatalf("verify --export: %v\n%s", err, out)
	}

	// Tampering makes verify fail, naming the record.
	recs := filepath.Join(data, "audit", "records.jsonl")
	b, _ := os.ReadFile(recs)
	os.WriteFile(recs, bytes.Replace(b, []byte("plan/b"), []byte("plan/x"), 1), 0o600)
	out, _, err = auditRun("verify", "--data", data, "--key", key)
	var ve *audit.VerifyError
	if !errors.As(err, &ve) || ve.Seq != 1 || !strings.Contains(out, "FAILED") {
		t.Fatalf("verify of a changed record: err %v, output %q; want FAILED naming record 1", err, out)
	}
}

func TestAuditUsage(t *testing.T) {
	data, key := auditData(t, 1)
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"no subcommand", nil, "Usage:"},
		{"unknown subcommand", []string{"shred"}, `unknown subcommand "shred"`},
		{"neither source", []string{"verify"}, "want exactly one of --data and --export"},
		{"both sources", []string{"verify", "--data", data, "--export", "x"}, "want exactly one"},
		{"export without key", []string{"verify", "--export", "x"}, "--export needs --key"},
		{"export without out", []string{"export", "--data", data}, "--out is required"},
		{"stray argument", []string{"verify", "--data", data, "--key", key, "extra"}, `unexpected argument "extra"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, stderr, err := auditRun(tt.args...)
			if !errors.Is(err, errUsage) || !strings.Contains(stderr, tt.want) {
				t.Fatalf("err %v, stderr %q; want a usage error with %q", err, stderr, tt.want)
			}
		})
	}
	if _, _, err := auditRun("verify", "--data", t.TempDir()); err == nil || !strings.Contains(err.Error(), "no audit log") {
		t.Fatalf("verify of a data dir without a log: err = %v", err)
	}
}
