package main

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// simulate runs `firebreak simulate` with args plus --out and returns the file.
func simulate(t *testing.T, args ...string) []byte {
	t.Helper()
	out := filepath.Join(t.TempDir(), "events.ndjson")
	var stderr bytes.Buffer
	args = append([]string{"simulate", "--out", out}, args...)
	if err := run(context.Background(), args, io.Discard, &stderr); err != nil {
		t.Fatalf("simulate %v: %v\n%s", args, err, stderr.String())
	}
	data, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func TestSimulateDeterministic(t *testing.T) {
	args := []string{"--accounts", "300", "--days", "3", "--scenario", "mixed"}
	first := simulate(t, append(args, "--seed", "7")...)
	if len(lines(string(first))) < 100 {
		t.Fatalf("only %d events simulated", len(lines(string(first))))
	}
	if again := simulate(t, append(args, "--seed", "7")...); !bytes.Equal(first, again) {
		t.Error("the same seed gave different output")
	}
	if other := simulate(t, append(args, "--seed", "8")...); bytes.Equal(first, other) {
		t.Error("seeds 7 and 8 gave identical output")
	}
}

func TestSimulateToStdout(t *testing.T) {
	var stdout, stderr bytes.Buffer
	args := []string{"simulate", "--accounts", "100", "--days", "2", "--seed", "3"}
	if err := run(context.Background(), args, &stdout, &stderr); err != nil {
		t.Fatalf("simulate: %v\n%s", err, stderr.String())
	}
	if got, want := stdout.Bytes(), simulate(t, args[1:]...); !bytes.Equal(got, want) {
		t.Error("stdout and --out differ for the same seed")
	}
	if !strings.Contains(stderr.String(), "simulated ") {
		t.Errorf("stderr lacks the summary line: %q", stderr.String())
	}
}

func TestSimulateUsage(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"bad scenario", []string{"--scenario", "zombies"}, `"zombies"`},
		{"extra argument", []string{"now"}, `unexpected argument "now"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			err := run(context.Background(), append([]string{"simulate"}, tt.args...), &stdout, &stderr)
			if !errors.Is(err, errUsage) {
				t.Fatalf("err = %v, want errUsage", err)
			}
			if !strings.Contains(stderr.String(), tt.want) || !strings.Contains(stderr.String(), "try: firebreak simulate -h") {
				t.Errorf("stderr %q, want %q and a try: hint", stderr.String(), tt.want)
			}
			if stdout.Len() != 0 {
				t.Errorf("wrote %d bytes of events despite the usage error", stdout.Len())
			}
		})
	}
}
