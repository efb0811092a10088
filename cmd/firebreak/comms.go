package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"firebreak"
	fbhttp "firebreak/http"
)

// OutboxCommand lists the notices of the outbox and their delivery through
// the API of a running server: `firebreak outbox`.
type OutboxCommand struct {
	stdout, stderr io.Writer
}

// AppealsCommand lists and decides people's appeals through the API of a
// running server: `firebreak appeals list|decide`.
type AppealsCommand struct {
	stdout, stderr io.Writer
}

// NoticesCommand shows notices and previews them before a campaign
// through the API of a running server: `firebreak notices show|preview`.
type NoticesCommand struct {
	stdout, stderr io.Writer
}

const outboxUsage = `Usage: firebreak outbox [--incident ID] [--state S] [--channel C] [--limit N] [--json]

Lists the outbox's notices, oldest first: id, incident, account, channel,
template, state, why it failed and how often it was tried. With --incident it
first counts the incident's notices by channel and state.

States: queued, sent, failed. Channels: email, sms, chat, slack, inapp.

The server is FIREBREAK_URL (default http://127.0.0.1:8080) or --url; the API
token is FIREBREAK_TOKEN.
`

const appealsUsage = `Usage: firebreak appeals <command> [flags]

Commands:
  list    --incident ID [--state S]               an incident's appeals, counted by tier and state
  decide  ID --lift|--reject --reason TEXT        decide an open appeal (approvers)

States: received, queued_for_review, lifted, rejected. Lifting undoes the step-up
or lock of that one account through a rollback run; rejecting leaves everything
in place. The reason goes to the audit trail and to the person.

The server is FIREBREAK_URL (default http://127.0.0.1:8080) or --url; the API
token is FIREBREAK_TOKEN.
`

const noticesUsage = `Usage: firebreak notices <command> [flags]

Commands:
  show     ID                                              one notice: its text and delivery
  preview  --incident ID --tier T --channel C [--locale L] the notice a campaign would queue

Tiers: compromised, at_risk, targeted. Channels: email, sms, chat, slack, inapp.
A preview renders the incident's real data for the first account of the tier;
the locale is a language tag such as en (the default) or de.

The server is FIREBREAK_URL (default http://127.0.0.1:8080) or --url; the API
token is FIREBREAK_TOKEN.
`

// commandFlags returns the flag set of a subcommand that prints usage on
// error, with --url and --json.
func commandFlags(name, usage string, stderr io.Writer) (*flag.FlagSet, func() *fbhttp.Client, *bool) {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, usage, "\nFlags:\n"); fs.PrintDefaults() }
	client := apiFlags(fs)
	return fs, client, fs.Bool("json", false, "print JSON")
}

// checkOneOf returns a usage error naming the flag name unless v is empty or one of allowed.
func checkOneOf[T ~string](fs *flag.FlagSet, stderr io.Writer, name string, v T, allowed []T) error {
	if v == "" || slices.Contains(allowed, v) {
		return nil
	}
	names := make([]string, len(allowed))
	for i, a := range allowed {
		names[i] = string(a)
	}
	return usageError(fs, stderr, "--%s: %q must be one of %s", name, v, strings.Join(names, ", "))
}

// noArgs returns a usage error if positional arguments are left after the flags.
func noArgs(fs *flag.FlagSet, stderr io.Writer) error {
	if fs.NArg() > 0 {
		return usageError(fs, stderr, "unexpected argument %q", fs.Arg(0))
	}
	return nil
}

// Run lists the outbox.
func (c *OutboxCommand) Run(ctx context.Context, args []string) error {
	fs, client, asJSON := commandFlags("outbox", outboxUsage, c.stderr)
	incident := fs.Int64("incident", 0, "only the notices of incident `ID` (and count them)")
	state := fs.String("state", "", "only notices in this `state`")
	channel := fs.String("channel", "", "only notices of this `channel`")
	limit := fs.Int("limit", firebreak.DefaultPageLimit, "at most `N` notices (1 to 1000)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if err := noArgs(fs, c.stderr); err != nil {
		return err
	}
	f := firebreak.NoticeFilter{IncidentID: *incident, State: firebreak.NoticeState(*state), Channel: firebreak.Channel(*channel), Limit: *limit}
	switch {
	case f.IncidentID < 0:
		return usageError(fs, c.stderr, "--incident: must be an incident's id")
	case f.Limit < 1 || f.Limit > firebreak.MaxPageLimit:
		return usageError(fs, c.stderr, "--limit: must be 1 to %d", firebreak.MaxPageLimit)
	}
	if err := checkOneOf(fs, c.stderr, "state", f.State, firebreak.NoticeStates); err != nil {
		return err
	}
	if err := checkOneOf(fs, c.stderr, "channel", f.Channel, firebreak.Channels); err != nil {
		return err
	}
	cl := client()
	var counts firebreak.NoticeCounts
	if f.IncidentID > 0 {
		m, err := cl.CommunicationMetrics(ctx, f.IncidentID)
		if err != nil {
			return apiError(err)
		}
		counts = m.Notices
	}
	page, err := cl.Notices(ctx, f)
	if err != nil {
		return apiError(err)
	}
	if *asJSON {
		return printJSON(c.stdout, struct {
			Counts firebreak.NoticeCounts `json:"counts,omitempty"`
			*firebreak.NoticePage
		}{counts, page})
	}
	if f.IncidentID > 0 {
		if err := c.printCounts(f.IncidentID, counts); err != nil {
			return err
		}
	}
	tw := tabwriter.NewWriter(c.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tINCIDENT\tACCOUNT\tCHANNEL\tTEMPLATE\tSTATE\tREASON\tATTEMPTS")
	for _, n := range page.Notices {
		fmt.Fprintf(tw, "%d\t%d\t%s\t%s\t%s\t%s\t%s\t%d\n", n.ID, n.IncidentID, n.Account, n.Channel, n.Template, n.State, oneLine(n.Reason), n.Attempts)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if page.Next != "" {
		fmt.Fprintf(c.stdout, "More notices follow: narrow with --state or --channel, or raise --limit (at most %d).\n", firebreak.MaxPageLimit)
	}
	return nil
}

// printCounts shows an incident's notices by channel and state, channels
// in their usual order.
func (c *OutboxCommand) printCounts(incidentID int64, counts firebreak.NoticeCounts) error {
	fmt.Fprintf(c.stdout, "Notices of incident %d by channel and state:\n", incidentID)
	tw := tabwriter.NewWriter(c.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "CHANNEL\tQUEUED\tSENT\tFAILED")
	for _, ch := range firebreak.Channels {
		if n, ok := counts[ch]; ok {
			fmt.Fprintf(tw, "%s\t%d\t%d\t%d\n", ch, n.Queued, n.Sent, n.Failed)
		}
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if len(counts) == 0 {
		fmt.Fprintln(c.stdout, "No notices yet.")
	}
	fmt.Fprintln(c.stdout)
	return nil
}

// Run dispatches an appeals subcommand.
func (c *AppealsCommand) Run(ctx context.Context, args []string) error {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		fmt.Fprint(c.stderr, appealsUsage)
		return errUsage
	}
	fs, client, asJSON := commandFlags("appeals "+args[0], appealsUsage, c.stderr)
	switch args[0] {
	case "list":
		incident := fs.Int64("incident", 0, "incident `ID`")
		state := fs.String("state", "", "only appeals in this `state`")
		if err := parseFlags(fs, args[1:]); err != nil {
			return err
		}
		if err := noArgs(fs, c.stderr); err != nil {
			return err
		}
		if *incident < 1 {
			return usageError(fs, c.stderr, "--incident: required")
		}
		f := firebreak.AppealFilter{IncidentID: *incident, State: firebreak.AppealState(*state), Limit: firebreak.MaxPageLimit}
		if err := checkOneOf(fs, c.stderr, "state", f.State, firebreak.AppealStates); err != nil {
			return err
		}
		l, err := client().Appeals(ctx, f)
		if err != nil {
			return apiError(err)
		}
		if *asJSON {
			return printJSON(c.stdout, l)
		}
		return c.printList(*incident, l)
	case "decide":
		lift := fs.Bool("lift", false, "lift the appeal: undo the account's restriction")
		reject := fs.Bool("reject", false, "reject the appeal: leave everything in place")
		reason := fs.String("reason", "", "why, for the audit trail and the person (required)")
		id, err := parseIDAndFlags(fs, c.stderr, "decide", args[1:], true)
		if err != nil {
			return err
		}
		if err := noArgs(fs, c.stderr); err != nil {
			return err
		}
		switch {
		case *lift == *reject:
			return usageError(fs, c.stderr, "--lift, --reject: name exactly one")
		case strings.TrimSpace(*reason) == "":
			return usageError(fs, c.stderr, "--reason: required: say why, for the audit trail and the person")
		}
		a, err := client().DecideAppeal(ctx, id, *lift, *reason)
		if err != nil {
			return apiError(err)
		}
		if *asJSON {
			return printJSON(c.stdout, a)
		}
		fmt.Fprintf(c.stdout, "Appeal %d of incident %d (%s, %s): %s by %s at %s: %s\n", a.ID, a.IncidentID, a.Account, a.Tier,
			a.State, a.DecidedBy, a.DecidedAt.Format(time.RFC3339), oneLine(a.Reason))
		return nil
	}
	fmt.Fprintf(c.stderr, "firebreak appeals: unknown command %q\n\n%s", args[0], appealsUsage)
	return errUsage
}

// printList shows an incident's appeals counted by tier and state, then
// the appeals themselves.
func (c *AppealsCommand) printList(incidentID int64, l *firebreak.AppealList) error {
	fmt.Fprintf(c.stdout, "Appeals of incident %d by tier and state:\n", incidentID)
	tw := tabwriter.NewWriter(c.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "TIER\tRECEIVED\tQUEUED_FOR_REVIEW\tLIFTED\tREJECTED")
	for _, t := range firebreak.Tiers {
		fmt.Fprint(tw, t)
		for _, s := range firebreak.AppealStates {
			fmt.Fprintf(tw, "\t%d", appealCount(l.Counts, t, s))
		}
		fmt.Fprintln(tw)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintln(c.stdout)
	tw = tabwriter.NewWriter(c.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tACCOUNT\tTIER\tSTATE\tCREATED\tDECIDED BY\tCOMMENT\tREASON")
	for _, a := range l.Appeals {
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", a.ID, a.Account, a.Tier, a.State, a.CreatedAt.Format(time.RFC3339),
			a.DecidedBy, oneLine(a.Comment), oneLine(a.Reason))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if l.Next != "" {
		fmt.Fprintf(c.stdout, "More appeals follow: narrow with --state (this lists at most %d).\n", firebreak.MaxPageLimit)
	}
	return nil
}

// appealCount returns how many appeals of tier t are in state s.
func appealCount(counts []firebreak.AppealCount, t firebreak.Tier, s firebreak.AppealState) int64 {
	for _, c := range counts {
		if c.Tier == t && c.State == s {
			return c.Count
		}
	}
	return 0
}

// Run dispatches a notices subcommand.
func (c *NoticesCommand) Run(ctx context.Context, args []string) error {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		fmt.Fprint(c.stderr, noticesUsage)
		return errUsage
	}
	fs, client, asJSON := commandFlags("notices "+args[0], noticesUsage, c.stderr)
	switch args[0] {
	case "show":
		id, err := parseIDAndFlags(fs, c.stderr, "show", args[1:], true)
		if err != nil {
			return err
		}
		if err := noArgs(fs, c.stderr); err != nil {
			return err
		}
		n, err := client().Notice(ctx, id)
		if err != nil {
			return apiError(err)
		}
		if *asJSON {
			return printJSON(c.stdout, n)
		}
		tries := "attempts"
		if n.Attempts == 1 {
			tries = "attempt"
		}
		fmt.Fprintf(c.stdout, "Notice %d of incident %d to %s by %s (%s, %s): %s after %d %s", n.ID, n.IncidentID, n.Account, n.Channel, n.Template, n.Locale, n.State, n.Attempts, tries)
		if n.Reason != "" {
			fmt.Fprintf(c.stdout, " — %s", oneLine(n.Reason))
		}
		fmt.Fprintln(c.stdout)
		printMessage(c.stdout, n.Subject, n.Text)
		return nil
	case "preview":
		incident := fs.Int64("incident", 0, "incident `ID`")
		tier := fs.String("tier", "", "the `tier` whose notice to render")
		channel := fs.String("channel", "", "the `channel` to render it for")
		locale := fs.String("locale", "", "a language `tag` such as en or de (default en)")
		if err := parseFlags(fs, args[1:]); err != nil {
			return err
		}
		if err := noArgs(fs, c.stderr); err != nil {
			return err
		}
		switch {
		case *incident < 1:
			return usageError(fs, c.stderr, "--incident: required")
		case *tier == "":
			return usageError(fs, c.stderr, "--tier: required")
		case *channel == "":
			return usageError(fs, c.stderr, "--channel: required")
		}
		if err := checkOneOf(fs, c.stderr, "tier", firebreak.Tier(*tier), firebreak.Tiers); err != nil {
			return err
		}
		if err := checkOneOf(fs, c.stderr, "channel", firebreak.Channel(*channel), firebreak.Channels); err != nil {
			return err
		}
		p, err := client().NoticePreview(ctx, *incident, firebreak.Tier(*tier), firebreak.Channel(*channel), *locale)
		if err != nil {
			return apiError(err)
		}
		if *asJSON {
			return printJSON(c.stdout, p)
		}
		who := "no account: the tier is empty"
		if p.Account != "" {
			who = "the data of " + p.Account
		}
		fmt.Fprintf(c.stdout, "Preview of %s for incident %d, with %s:\n", p.Template, p.IncidentID, who)
		printMessage(c.stdout, p.Subject, p.Text)
		return nil
	}
	fmt.Fprintf(c.stderr, "firebreak notices: unknown command %q\n\n%s", args[0], noticesUsage)
	return errUsage
}

// printMessage prints a notice's subject (email only) and text.
func printMessage(w io.Writer, subject, text string) {
	fmt.Fprintln(w)
	if subject != "" {
		fmt.Fprintf(w, "Subject: %s\n\n", subject)
	}
	fmt.Fprintln(w, strings.TrimRight(text, "\n"))
}

// oneLine folds line breaks and tabs into spaces so that free text keeps a
// table's rows whole.
func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}
