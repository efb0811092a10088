package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"

	"firebreak"
	"firebreak/audit"
	"firebreak/auth"
	"firebreak/sqlite"
)

// cliActor is who the audit trail and tokens record for changes made with
// this command, which runs with direct access to the data directory.
const cliActor = "cli"

const operatorUsage = `Usage:

	firebreak operator add   --data DIR --name NAME --role ROLE [--password-stdin]
	firebreak operator list  --data DIR
	firebreak operator token --data DIR --name NAME --role ROLE

add creates an operator. Without --password-stdin it generates a strong
password and prints it once; with it, it reads the password from the first
line of standard input. Create the first admin this way:

	firebreak operator add --data DIR --name alice --role admin

list prints every operator and API token.

token creates an API token for automation and prints it once; only its
hash is stored. Send it as "Authorization: Bearer <token>".

Roles, least powerful first: viewer, responder, approver, admin. The
commands work on a data directory that a server is using.
`

// OperatorCommand manages operators and API tokens directly in a data
// directory's store, for the first admin and for scripts.
type OperatorCommand struct {
	stdout, stderr io.Writer
	stdin          io.Reader
}

// Run runs an operator subcommand.
func (c *OperatorCommand) Run(ctx context.Context, args []string) error {
	if len(args) == 0 {
		fmt.Fprint(c.stderr, operatorUsage)
		return errUsage
	}
	switch args[0] {
	case "add":
		return c.add(ctx, args[1:])
	case "list":
		return c.list(ctx, args[1:])
	case "token":
		return c.token(ctx, args[1:])
	case "help", "-h", "-help", "--help":
		fmt.Fprint(c.stdout, operatorUsage)
		return nil
	}
	fmt.Fprintf(c.stderr, "firebreak operator: unknown subcommand %q\n\n%s", args[0], operatorUsage)
	return errUsage
}

// operatorFlags are the flags the subcommands share.
type operatorFlags struct {
	data, name, role string
}

// parse parses args for subcommand sub; withName adds --name and --role and
// requires both.
func (c *OperatorCommand) parse(sub string, args []string, withName bool, extra func(fs *flag.FlagSet)) (*operatorFlags, error) {
	fl := &operatorFlags{}
	fs := flag.NewFlagSet("operator "+sub, flag.ContinueOnError)
	fs.SetOutput(c.stderr)
	fs.StringVar(&fl.data, "data", "firebreak-data", "data `directory`")
	if withName {
		fs.StringVar(&fl.name, "name", "", "the `name`: 2-64 lower-case letters, digits, '.', '_' or '-'")
		fs.StringVar(&fl.role, "role", "", "the `role`: viewer, responder, approver or admin")
	}
	if extra != nil {
		extra(fs)
	}
	fs.Usage = func() {
		fmt.Fprint(c.stderr, operatorUsage, "\nFlags:\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	switch {
	case fs.NArg() > 0:
		return nil, usageError(fs, c.stderr, "unexpected argument %q", fs.Arg(0))
	case withName && fl.name == "":
		return nil, usageError(fs, c.stderr, "--name is required")
	case withName && fl.role == "":
		return nil, usageError(fs, c.stderr, "--role is required (viewer, responder, approver or admin)")
	}
	return fl, nil
}

// openAuth opens the store in dir and returns the auth service over it, and
// a function that closes the store; logs receives the store's warnings.
func openAuth(ctx context.Context, dir string, logs io.Writer, audited bool) (*auth.Service, func() error, error) {
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, nil, fmt.Errorf("create data directory: %w", err)
	}
	logger := slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelWarn}))
	db := sqlite.NewDB(filepath.Join(dir, "firebreak.db"))
	db.Logger = logger
	if err := db.Open(ctx); err != nil {
		return nil, nil, fmt.Errorf("open store: %w", err)
	}
	cfg := auth.Config{}
	closeAll := db.Close
	if audited {
		// Operator and token changes go on the audit trail like any other
		// step; a running server holds the trail, so then use the API.
		log, err := audit.Open(filepath.Join(dir, "audit"), audit.Options{Logger: logger})
		if err != nil {
			db.Close()
			return nil, nil, fmt.Errorf("open the audit trail (if firebreak serve is running on %s, use its API instead: POST /api/v1/operators, POST /api/v1/tokens): %w", dir, err)
		}
		cfg.Auditor = log
		closeAll = func() error { return errors.Join(log.Close(), db.Close()) }
	}
	return auth.NewService(sqlite.NewOperatorStore(db), cfg), closeAll, nil
}

// createOperator creates an operator in the store of the data directory
// dir; logs receives warnings from opening the store. demo uses it for its
// sign-in.
func createOperator(ctx context.Context, dir, name string, role firebreak.Role, password string, logs io.Writer) (op *firebreak.Operator, err error) {
	svc, closeDB, err := openAuth(ctx, dir, logs, true)
	if err != nil {
		return nil, err
	}
	defer func() { err = errors.Join(err, closeDB()) }()
	op, err = svc.CreateOperator(ctx, cliActor, name, role, password)
	if err != nil {
		return nil, describeCLI("add operator", err)
	}
	return op, nil
}

func (c *OperatorCommand) add(ctx context.Context, args []string) error {
	var fromStdin bool
	fl, err := c.parse("add", args, true, func(fs *flag.FlagSet) {
		fs.BoolVar(&fromStdin, "password-stdin", false, "read the password from the first line of standard input")
	})
	if err != nil {
		return err
	}
	password, generated, err := c.password(fromStdin)
	if err != nil {
		return err
	}
	op, err := createOperator(ctx, fl.data, fl.name, firebreak.Role(fl.role), password, c.stderr)
	if err != nil {
		return err
	}
	fmt.Fprintf(c.stdout, "Created operator %s (%s).\n", op.Name, op.Role)
	if generated {
		fmt.Fprintf(c.stdout, "Password (shown once, keep it safe): %s\n", password)
	}
	return nil
}

// password reads the password from standard input, or generates one.
func (c *OperatorCommand) password(fromStdin bool) (password string, generated bool, err error) {
	if !fromStdin {
		pw, err := auth.NewPassword()
		return pw, true, err
	}
	if c.stdin == nil {
		return "", false, errors.New("--password-stdin: no standard input")
	}
	line, err := bufio.NewReader(io.LimitReader(c.stdin, auth.MaxPasswordLen+2)).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return "", false, fmt.Errorf("read password: %w", err)
	}
	password = strings.TrimRight(line, "\r\n")
	if err := auth.ValidatePassword(password); err != nil {
		return "", false, describeCLI("--password-stdin", err)
	}
	return password, false, nil
}

func (c *OperatorCommand) list(ctx context.Context, args []string) (err error) {
	fl, err := c.parse("list", args, false, nil)
	if err != nil {
		return err
	}
	svc, closeDB, err := openAuth(ctx, fl.data, c.stderr, false)
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, closeDB()) }()
	ops, err := svc.ListOperators(ctx)
	if err != nil {
		return err
	}
	tokens, err := svc.ListTokens(ctx)
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(c.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "OPERATOR\tROLE\tSTATUS\tCREATED")
	for _, op := range ops {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", op.Name, op.Role, activeOr(op.Disabled, "disabled"), op.CreatedAt.UTC().Format("2006-01-02 15:04"))
	}
	if len(tokens) > 0 {
		fmt.Fprintln(tw, "\nTOKEN\tROLE\tSTATUS\tCREATED\tBY\tLAST USED")
		for _, t := range tokens {
			used := "never"
			if !t.LastUsed.IsZero() {
				used = t.LastUsed.UTC().Format("2006-01-02 15:04")
			}
			fmt.Fprintf(tw, "%s (id %d)\t%s\t%s\t%s\t%s\t%s\n", t.Name, t.ID, t.Role, activeOr(t.Revoked, "revoked"),
				t.CreatedAt.UTC().Format("2006-01-02 15:04"), t.CreatedBy, used)
		}
	}
	return tw.Flush()
}

func activeOr(off bool, word string) string {
	if off {
		return word
	}
	return "active"
}

func (c *OperatorCommand) token(ctx context.Context, args []string) (err error) {
	fl, err := c.parse("token", args, true, nil)
	if err != nil {
		return err
	}
	svc, closeDB, err := openAuth(ctx, fl.data, c.stderr, true)
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, closeDB()) }()
	secret, t, err := svc.CreateToken(ctx, cliActor, fl.name, firebreak.Role(fl.role))
	if err != nil {
		return describeCLI("create token", err)
	}
	fmt.Fprintf(c.stderr, "Created API token %s (id %d, %s). It is shown once:\n", t.Name, t.ID, t.Role)
	fmt.Fprintln(c.stdout, secret)
	return nil
}

// describeCLI turns a service error into a message naming the field and
// the reason, as a person at the terminal should read it.
func describeCLI(op string, err error) error {
	var fe *firebreak.FieldError
	if errors.As(err, &fe) {
		return fmt.Errorf("%s: --%s: %s", op, fe.Field, fe.Reason)
	}
	if code := firebreak.ErrorCode(err); code != firebreak.EINTERNAL {
		return fmt.Errorf("%s: %s", op, firebreak.ErrorMessage(err))
	}
	return fmt.Errorf("%s: %w", op, err)
}

// demoOperatorName is the admin that demo creates for its sign-in.
const demoOperatorName = "demo"

// demoOperator gives the demo's admin in dir a new random password,
// creating the operator if needed, and returns its name and password.
func demoOperator(ctx context.Context, dir string, logs io.Writer) (name, password string, err error) {
	password, err = auth.NewPassword()
	if err != nil {
		return "", "", err
	}
	svc, closeDB, err := openAuth(ctx, dir, logs, true)
	if err != nil {
		return "", "", err
	}
	defer func() { err = errors.Join(err, closeDB()) }()
	_, err = svc.CreateOperator(ctx, cliActor, demoOperatorName, firebreak.RoleAdmin, password)
	if firebreak.ErrorCode(err) == firebreak.ECONFLICT {
		_, err = svc.UpdateOperator(ctx, cliActor, demoOperatorName, auth.OperatorUpdate{Password: &password, Disabled: new(false)})
	}
	if err != nil {
		return "", "", fmt.Errorf("create the demo operator: %w", err)
	}
	return demoOperatorName, password, nil
}
