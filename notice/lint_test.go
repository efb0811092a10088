package notice_test

import (
	"strings"
	"testing"

	"firebreak/notice"
)

// validSMS passes every rule; each case below changes one thing.
const validSMS = `{{/* section: what_happened */ -}}
{{.Org}}: someone signed in to your account.
{{- /* section: what_to_do */}} Choose a new password in our app.
{{- /* section: next_update */}} Next update by {{datetime .NextUpdate}}: {{.StatusURL}}
`

var lintCfg = notice.LintConfig{AllowedHosts: []string{"status.example.com", "*.help.example.com"}}

// lint parses and lints one SMS template.
func lint(t *testing.T, text string) []notice.Problem {
	t.Helper()
	tm, err := notice.Parse(notice.Source{Path: "en/sms/compromised", Text: text})
	if err != nil {
		t.Fatalf("parse: %v", err)
	}
	return notice.Lint(tm, lintCfg)
}

func TestLintValid(t *testing.T) {
	if got := lint(t, validSMS); len(got) != 0 {
		t.Fatalf("problems in a valid template: %v", got)
	}
}

func TestLintRules(t *testing.T) {
	tests := []struct {
		name     string
		text     string
		rule     string
		line     int  // 0: any
		rendered bool // the problem is in the rendered sample
		reason   string
	}{
		// sections
		{name: "missing section", rule: notice.RuleSection, reason: "missing section what_to_do",
			text: strings.Replace(validSMS, "section: what_to_do", "no section", 1)},
		{name: "unknown section", rule: notice.RuleSection, line: 5, reason: `unknown section "next_steps"`,
			text: validSMS + "{{/* section: next_steps */}}"},
		{name: "conditional section", rule: notice.RuleSection, line: 1, reason: "inside {{if}}",
			text: "{{if .Actions.Any}}{{/* section: what_happened */}}x{{end}}" + validSMS},
		{name: "empty section", rule: notice.RuleSection, reason: "section what_to_do is empty",
			text: strings.Replace(validSMS, " Choose a new password in our app.", "", 1)},
		{name: "next update without when", rule: notice.RuleSection, reason: "must say when, using .NextUpdate",
			text: strings.Replace(validSMS, "{{datetime .NextUpdate}}", "soon", 1)},
		// fields
		{name: "unknown field", rule: notice.RuleField, line: 5, reason: "unknown field .Password on Data",
			text: validSMS + "{{.Password}}"},
		{name: "unknown nested field", rule: notice.RuleField, line: 5, reason: "unknown field .Severity on Incident",
			text: validSMS + "{{.Incident.Severity}}"},
		{name: "unknown field under with", rule: notice.RuleField, line: 5, reason: "unknown field .Until on Actions",
			text: validSMS + "{{with .Actions}}{{.Until}}{{end}}"},
		{name: "unknown field on variable", rule: notice.RuleField, line: 5, reason: "unknown field .Bogus on Actions",
			text: validSMS + "{{$a := .Actions}}{{$a.Bogus}}"},
		{name: "unknown field on root variable", rule: notice.RuleField, line: 5, reason: "unknown field .Secret on Data",
			text: validSMS + "{{with .Incident}}{{$.Secret}}{{end}}"},
		{name: "unknown field in a block", rule: notice.RuleField, line: 5, reason: "unknown field .Token on Data",
			text: validSMS + `{{define "b"}}{{.Token}}{{end}}{{template "b" .}}`},
		{name: "undefined template", rule: notice.RuleField, line: 5, reason: `template "nope" is not defined`,
			text: validSMS + `{{template "nope" .}}`},
		// links
		{name: "host not allowed", rule: notice.RuleLink, line: 5, reason: `"evil.example.net"`,
			text: validSMS + "https://evil.example.net/help"},
		{name: "www link", rule: notice.RuleLink, line: 5, reason: `"www.example.org"`,
			text: validSMS + "see www.example.org"},
		{name: "bare domain", rule: notice.RuleLink, line: 5, reason: `"example.org"`,
			text: validSMS + "see example.org/help"},
		{name: "link in a string", rule: notice.RuleLink, line: 5, reason: `"evil.example.net"`,
			text: validSMS + `{{print "http://evil.example.net"}}`},
		{name: "link assembled at render", rule: notice.RuleLink, rendered: true, reason: `"evil.example.net"`,
			text: validSMS + `{{print "http:" "//evil.example" ".net"}}`},
		{name: "script link", rule: notice.RuleLink, line: 5, reason: "script or data link",
			text: validSMS + "javascript:alert(1)"},
		// login links
		{name: "login path", rule: notice.RuleLoginLink, line: 5, reason: `"login"`,
			text: validSMS + "https://status.example.com/login"},
		{name: "auth path", rule: notice.RuleLoginLink, line: 5, reason: `"auth"`,
			text: validSMS + "https://status.example.com/auth/callback"},
		{name: "reset path", rule: notice.RuleLoginLink, line: 5, reason: `"reset"`,
			text: validSMS + "https://status.example.com/account/reset"},
		{name: "verify path", rule: notice.RuleLoginLink, line: 5, reason: `"verif"`,
			text: validSMS + "https://status.example.com/verify?email=1"},
		{name: "sign-in host", rule: notice.RuleLoginLink, line: 5, reason: `"signin"`,
			text: validSMS + "https://signin.help.example.com/"},
		{name: "markdown link text", rule: notice.RuleLoginLink, rendered: true, reason: `"Reset your password"`,
			text: validSMS + "[Reset your password](https://status.example.com/)"},
		// credentials
		{name: "password=", rule: notice.RuleCredential, line: 5, reason: "credential parameter",
			text: validSMS + "password=hunter2"},
		{name: "token=", rule: notice.RuleCredential, line: 5, reason: "credential parameter",
			text: validSMS + "https://status.example.com/?token=abc"},
		{name: "password:", rule: notice.RuleCredential, line: 5, reason: "credential given in the text",
			text: validSMS + "Your password: Winter2026"},
		{name: "otp", rule: notice.RuleCredential, line: 5, reason: "OTP",
			text: validSMS + "Your OTP follows."},
		{name: "six digits after code", rule: notice.RuleCredential, line: 5, reason: "one-time code",
			text: validSMS + "Your code is 123456."},
		{name: "six digits before code", rule: notice.RuleCredential, line: 5, reason: "one-time code",
			text: validSMS + "123 456 is your code."},
		{name: "base64 blob", rule: notice.RuleCredential, line: 5, reason: "encoded secret",
			text: validSMS + "ref dGhpcyBpcyBhIHNlY3JldCB0b2tlbg1"},
		{name: "hex blob", rule: notice.RuleCredential, line: 5, reason: "encoded secret",
			text: validSMS + "ref 9f86d081884c7d659a2feaa0c55ad015"},
		{name: "jwt", rule: notice.RuleCredential, line: 5, reason: "JWT",
			text: validSMS + "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2ln"},
		{name: "token in a link path", rule: notice.RuleCredential, line: 5, reason: "carries what looks like a token",
			text: validSMS + "https://status.example.com/i/AbCdEf1234567890XyZ12345"},
		// length
		{name: "too long for SMS", rule: notice.RuleLength, rendered: true, reason: "sms takes at most 480",
			text: validSMS + strings.Repeat("word ", 80)},
		{name: "too long with the longest title", rule: notice.RuleLength, rendered: true, reason: "longest title",
			text: validSMS + "{{.Incident.Title}} {{.Incident.Title}}"},
		// render
		{name: "sample does not render", rule: notice.RuleRender, reason: "does not render",
			text: validSMS + "{{index .Org 999}}"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := lint(t, tt.text)
			for _, p := range got {
				if p.Rule == tt.rule && strings.Contains(p.Reason, tt.reason) &&
					(tt.line == 0 || p.Line == tt.line) && p.Rendered == tt.rendered {
					if p.Template != "en/sms/compromised.txt" && p.Template != "en/sms/compromised" {
						t.Errorf("problem names template %q", p.Template)
					}
					return
				}
			}
			t.Fatalf("want %s problem at line %d (rendered %v) containing %q; got %v", tt.rule, tt.line, tt.rendered, tt.reason, got)
		})
	}
}

// TestLintAllows checks ordinary wording the rules must not refuse.
func TestLintAllows(t *testing.T) {
	for _, text := range []string{
		"Change your password when you next sign in.",
		"We will never ask for a code.",
		"Since 2026-03-14 09:26 UTC, attacks came from 203.0.113.7.",
		"Ask at https://status.example.com/incidents/42 or https://docs.help.example.com/account-safety.",
		"Sicherheitsbenachrichtigungen und Anmeldeversuche, z.B. heute.",
		"Campaign spring-sale-2026-edition-one ended.",
	} {
		if got := lint(t, validSMS+text); len(got) != 0 {
			t.Errorf("%q: %v", text, got)
		}
	}
}

// TestLintHTMLAnchor checks the visible text of links in the HTML part.
func TestLintHTMLAnchor(t *testing.T) {
	text := `{{define "subject"}}Notice{{end}}` + validSMS
	html := validSMS + `<a href="{{.StatusURL}}">Reset your password</a>`
	tm, err := notice.Parse(notice.Source{Path: "en/email/compromised", Text: text, HTML: html})
	if err != nil {
		t.Fatal(err)
	}
	got := notice.Lint(tm, lintCfg)
	if len(got) != 1 || got[0].Rule != notice.RuleLoginLink || got[0].Template != "en/email/compromised.html" || !got[0].Rendered || got[0].Line == 0 {
		t.Fatalf("got %v, want one rendered login-link problem in en/email/compromised.html", got)
	}
}

func TestLintSampleOnDisallowedHost(t *testing.T) {
	tm, err := notice.Parse(notice.Source{Path: "en/sms/compromised", Text: validSMS})
	if err != nil {
		t.Fatal(err)
	}
	cfg := lintCfg
	cfg.Sample = notice.SampleData("Example Corp", "https://status.other.org/")
	got := notice.Lint(tm, cfg)
	if len(got) != 1 || got[0].Rule != notice.RuleLink || !got[0].Rendered || got[0].Line != 1 {
		t.Fatalf("got %v, want one rendered link problem", got)
	}
}

func TestProblemString(t *testing.T) {
	p := notice.Problem{Template: "en/sms/any.txt", Line: 3, Rule: notice.RuleLink, Reason: "bad"}
	if got, want := p.String(), "en/sms/any.txt:3: link: bad"; got != want {
		t.Fatalf("got %q, want %q", got, want)
	}
}
