package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"firebreak/audit"
)

// AuditCommand checks and exports the signed audit trail in DATA/audit.
type AuditCommand struct {
	stdout, stderr io.Writer
}

const auditUsage = `Usage:

	firebreak audit verify --data DIR [--key FILE]
	firebreak audit verify --export FILE --key FILE
	firebreak audit export --data DIR --out FILE

verify recomputes the audit trail's hash tree and checks every signed
checkpoint with the verifier key; it fails if any record was changed,
removed, reordered or added without the signing key. Pin the key: pass a
copy of DIR/audit/verifier.key kept somewhere else.

export writes the trail as one self-contained file for an auditor, who
checks it with 'verify --export'.
`

// Run runs an audit subcommand.
func (c *AuditCommand) Run(ctx context.Context, args []string) error {
	if len(args) == 0 {
		fmt.Fprint(c.stderr, auditUsage)
		return errUsage
	}
	var err error
	switch args[0] {
	case "verify":
		err = c.verify(args[1:])
	case "export":
		err = c.export(args[1:])
	case "help", "-h", "-help", "--help":
		fmt.Fprint(c.stdout, auditUsage)
		return nil
	default:
		fmt.Fprintf(c.stderr, "firebreak audit: unknown subcommand %q\n\n%s", args[0], auditUsage)
		return errUsage
	}
	if errors.Is(err, flag.ErrHelp) {
		return nil
	}
	return err
}

func (c *AuditCommand) flagSet(name, summary string) *flag.FlagSet {
	fs := flag.NewFlagSet("audit "+name, flag.ContinueOnError)
	fs.SetOutput(c.stderr)
	fs.Usage = func() {
		fmt.Fprintf(c.stderr, "%s\nFlags:\n", summary)
		fs.PrintDefaults()
	}
	return fs
}

func (c *AuditCommand) verify(args []string) error {
	fs := c.flagSet("verify", "Usage: firebreak audit verify (--data DIR | --export FILE) --key FILE\n\nCheck the audit trail of a data directory, or an exported file.\n")
	data := fs.String("data", "", "firebreak data `directory` (the log is in DIR/audit)")
	export := fs.String("export", "", "exported audit `file` to check instead")
	keyPath := fs.String("key", "", "verifier key `file` (a pinned copy of verifier.key); required with --export")
	if err := fs.Parse(args); err != nil {
		return err
	}
	switch {
	case fs.NArg() > 0:
		return usageError(fs, c.stderr, "unexpected argument %q", fs.Arg(0))
	case (*data == "") == (*export == ""):
		return usageError(fs, c.stderr, "want exactly one of --data and --export")
	case *export != "" && *keyPath == "":
		return usageError(fs, c.stderr, "--export needs --key: the key inside an export proves nothing")
	}
	var key string
	if *keyPath != "" {
		b, err := os.ReadFile(*keyPath)
		if err != nil {
			return fmt.Errorf("--key: %w", err)
		}
		key = string(b)
	}
	var (
		what string
		rep  audit.Report
		err  error
	)
	if *data != "" {
		dir := filepath.Join(*data, "audit")
		what = dir
		if _, statErr := os.Stat(filepath.Join(dir, "checkpoints")); statErr != nil {
			return fmt.Errorf("--data %s: no audit log in %s: %w", *data, dir, statErr)
		}
		rep, err = audit.Verify(dir, key)
	} else {
		what = *export
		f, openErr := os.Open(*export)
		if openErr != nil {
			return fmt.Errorf("--export: %w", openErr)
		}
		defer f.Close()
		rep, err = audit.VerifyExport(f, key)
	}
	for _, w := range rep.Warnings {
		fmt.Fprintf(c.stderr, "warning: %s\n", w)
	}
	if err != nil {
		fmt.Fprintf(c.stdout, "audit trail %s: FAILED\n", what)
		return err
	}
	fmt.Fprintf(c.stdout, "audit trail %s: OK\n", what)
	fmt.Fprintf(c.stdout, "  records      %d\n", rep.Records)
	fmt.Fprintf(c.stdout, "  checkpoints  %d, signed by %s\n", rep.Checkpoints, rep.VerifierKey)
	fmt.Fprintf(c.stdout, "  tree         size %d, root %s\n", rep.TreeSize, rep.RootHash)
	return nil
}

func (c *AuditCommand) export(args []string) error {
	fs := c.flagSet("export", "Usage: firebreak audit export --data DIR --out FILE\n\nWrite the audit trail as one self-contained file (records, every signed\ncheckpoint and the verifier key). Safe while the server runs.\n")
	data := fs.String("data", "", "firebreak data `directory` (the log is in DIR/audit)")
	out := fs.String("out", "", "output `file` (- for stdout)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	switch {
	case fs.NArg() > 0:
		return usageError(fs, c.stderr, "unexpected argument %q", fs.Arg(0))
	case *data == "":
		return usageError(fs, c.stderr, "--data is required")
	case *out == "":
		return usageError(fs, c.stderr, "--out is required")
	}
	dir := filepath.Join(*data, "audit")
	if *out == "-" {
		return audit.ExportDir(dir, c.stdout)
	}
	// Write beside the target and rename, so that a failed export leaves no
	// file that looks complete.
	tmp, err := os.CreateTemp(filepath.Dir(*out), filepath.Base(*out)+".tmp*")
	if err != nil {
		return fmt.Errorf("--out: %w", err)
	}
	defer os.Remove(tmp.Name())
	if err := audit.ExportDir(dir, tmp); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return fmt.Errorf("--out: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("--out: %w", err)
	}
	if err := os.Rename(tmp.Name(), *out); err != nil {
		return fmt.Errorf("--out: %w", err)
	}
	fmt.Fprintf(c.stdout, "wrote %s; check it with: firebreak audit verify --export %s --key verifier.key\n", *out, *out)
	return nil
}
