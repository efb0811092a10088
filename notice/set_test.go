package notice_test

import (
	"errors"
	"io/fs"
	"strconv"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"firebreak"
	"firebreak/notice"
)

var setCfg = notice.LintConfig{AllowedHosts: []string{"status.example.com"}}

func loadDefaults(t testing.TB, layers ...fstest.MapFS) *notice.Set {
	t.Helper()
	s, err := load(layers...)
	if err != nil {
		t.Fatalf("load: %v", err)
	}
	return s
}

// load loads the embedded templates overlaid by layers.
func load(layers ...fstest.MapFS) (*notice.Set, error) {
	fss := []fs.FS{notice.Embedded()}
	for _, l := range layers {
		fss = append(fss, l)
	}
	return notice.Load(setCfg, fss...)
}

func sample(kind firebreak.IncidentKind, tier firebreak.Tier) *notice.Data {
	d := notice.SampleData("Example Corp", "https://status.example.com/incidents/42")
	d.Incident.Kind, d.Tier = kind, tier
	return d
}

// TestDefaultsPassLint checks that every embedded template passes every
// rule and renders, for every kind, tier, channel and shipped locale.
func TestDefaultsPassLint(t *testing.T) {
	s := loadDefaults(t)
	if got := len(s.Templates()); got != 25 {
		t.Fatalf("got %d templates, want en and de for every tier and channel", got)
	}
	for _, tm := range s.Templates() {
		if ps := notice.Lint(tm, setCfg); len(ps) != 0 {
			t.Errorf("%s: %v", tm.Path, ps)
		}
	}
	for _, locale := range []string{"en", "de"} {
		for _, kind := range firebreak.IncidentKinds {
			for _, tier := range firebreak.Tiers {
				for _, ch := range firebreak.Channels {
					d := sample(kind, tier)
					m, err := s.Render(kind, tier, ch, locale, d)
					if err != nil {
						t.Fatalf("%s %s %s %s: %v", locale, kind, tier, ch, err)
					}
					checkMessage(t, ch, d, m)
				}
			}
		}
	}
}

// checkMessage checks what every notice must carry.
func checkMessage(t *testing.T, ch firebreak.Channel, d *notice.Data, m notice.Message) {
	t.Helper()
	when := d.NextUpdate.UTC().Format("2006-01-02 15:04 UTC")
	if !strings.Contains(m.Text, when) || !strings.Contains(m.Text, d.StatusURL) {
		t.Errorf("%s: text lacks the next update time or the status URL:\n%s", m.Template, m.Text)
	}
	if got, want := m.Template, notice.Name(ch, d.Tier); got != want {
		t.Errorf("template name %q, want %q", got, want)
	}
	if ch == firebreak.ChannelEmail && (m.Subject == "" || !strings.Contains(m.HTML, `href="`+d.StatusURL+`"`)) {
		t.Errorf("%s: email lacks subject or status link", m.Template)
	}
	if ch != firebreak.ChannelEmail && (m.Subject != "" || m.HTML != "") {
		t.Errorf("%s: subject or HTML outside email", m.Template)
	}
}

func TestLookupFallback(t *testing.T) {
	kindOverride := fstest.MapFS{
		"en/sms/compromise/compromised.txt": {Data: []byte(strings.Replace(validSMS, "someone signed in", "an attacker used", 1))},
	}
	s := loadDefaults(t, kindOverride)
	k, tier := firebreak.KindCredentialStuffing, firebreak.TierAtRisk
	tests := []struct {
		kind   firebreak.IncidentKind
		ch     firebreak.Channel
		locale string
		want   string
	}{
		{k, firebreak.ChannelEmail, "de", "de/email/at_risk"},
		{k, firebreak.ChannelEmail, "de-AT", "de/email/at_risk"},
		{k, firebreak.ChannelEmail, "fr", "en/email/at_risk"},
		{k, firebreak.ChannelEmail, "", "en/email/at_risk"},
		{k, firebreak.ChannelSlack, "de", "en/slack/any"},
		{firebreak.KindCompromise, firebreak.ChannelSMS, "en", "en/sms/at_risk"},
	}
	for _, tt := range tests {
		got, err := s.Lookup(tt.kind, tier, tt.ch, tt.locale)
		if err != nil {
			t.Fatal(err)
		}
		if got.Path != tt.want {
			t.Errorf("%s %s %q: got %s, want %s", tt.kind, tt.ch, tt.locale, got.Path, tt.want)
		}
	}
	// A kind's own template comes before the generic one of its locale, but
	// the person's language comes first.
	for locale, want := range map[string]string{"en": "en/sms/compromise/compromised", "de": "de/sms/compromised"} {
		got, err := s.Lookup(firebreak.KindCompromise, firebreak.TierCompromised, firebreak.ChannelSMS, locale)
		if err != nil || got.Path != want {
			t.Fatalf("kind override in %s: got %v, want %s", locale, err, want)
		} else if got.Kind != firebreak.KindCompromise && locale == "en" {
			t.Fatalf("kind not set on %s", got.Path)
		}
	}
}

func TestLookupBadInput(t *testing.T) {
	s := loadDefaults(t)
	k, tier, ch := firebreak.KindBruteForce, firebreak.TierTargeted, firebreak.ChannelSMS
	for _, tt := range []struct {
		kind   firebreak.IncidentKind
		tier   firebreak.Tier
		ch     firebreak.Channel
		locale string
		field  string
	}{
		{"phishing", tier, ch, "en", "kind"},
		{k, "owned", ch, "en", "tier"},
		{k, tier, "fax", "en", "channel"},
		{k, tier, ch, "../../etc", "locale"},
	} {
		_, err := s.Lookup(tt.kind, tt.tier, tt.ch, tt.locale)
		var fe *firebreak.FieldError
		if !errors.As(err, &fe) || fe.Field != tt.field {
			t.Errorf("%v: got %v, want a field error on %s", tt, err, tt.field)
		}
	}
}

func TestOverride(t *testing.T) {
	text := strings.Replace(validSMS, "someone signed in to your account.", "nothing happened, really.", 1)
	s := loadDefaults(t, fstest.MapFS{"en/sms/targeted.txt": {Data: []byte(text)}})
	d := sample(firebreak.KindBruteForce, firebreak.TierTargeted)
	m, err := s.Render(d.Incident.Kind, d.Tier, firebreak.ChannelSMS, "en", d)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(m.Text, "nothing happened, really.") {
		t.Fatalf("override not used: %s", m.Text)
	}
}

func TestLoadRefuses(t *testing.T) {
	tests := []struct {
		name  string
		files fstest.MapFS
		want  string // in the error
		rule  string // of a *LintError problem; "" for a parse error
	}{
		{"lint failure names file and line", fstest.MapFS{"en/sms/targeted.txt": {Data: []byte(validSMS + "https://evil.example.net")}},
			"en/sms/targeted.txt:5: link", notice.RuleLink},
		{"failure in common.txt", fstest.MapFS{"en/common.txt": {Data: []byte(strings.Replace(embedded("en/common.txt"),
			"The {{.Org}} security team", "The team, password=x", 1))}},
			"en/common.txt:" + lineOf(embedded("en/common.txt"), "security team") + ": credential", notice.RuleCredential},
		{"unknown field", fstest.MapFS{"de/chat/targeted.txt": {Data: []byte(validSMS + "{{.Incident.Secret}}")}},
			"de/chat/targeted.txt:5: field", notice.RuleField},
		{"syntax error", fstest.MapFS{"en/sms/targeted.txt": {Data: []byte("{{if}}")}}, "en/sms/targeted.txt", ""},
		{"email without subject", fstest.MapFS{"en/email/targeted.txt": {Data: []byte(validSMS)}}, "define a subject", ""},
		{"html without text", fstest.MapFS{"en/chat/x/any.html": {Data: []byte("x")}}, "en/chat/x/any", ""},
		{"html outside email", fstest.MapFS{"en/sms/any.txt": {Data: []byte(validSMS)}, "en/sms/any.html": {Data: []byte("x")}}, "only email", ""},
		{"bad tier", fstest.MapFS{"en/sms/owned.txt": {Data: []byte(validSMS)}}, "tier", ""},
		{"bad kind", fstest.MapFS{"en/sms/phishing/any.txt": {Data: []byte(validSMS)}}, "kind", ""},
		{"bad path", fstest.MapFS{"en/sms.txt": {Data: []byte(validSMS)}}, "path must be", ""},
		{"printf refused", fstest.MapFS{"en/sms/any.txt": {Data: []byte(`{{printf "%09999999d" 1}}` + validSMS)}}, "printf", ""},
		{"recursion refused", fstest.MapFS{"en/sms/any.txt": {Data: []byte(`{{define "a"}}{{template "a" .}}{{end}}` + validSMS + `{{template "a" .}}`)}}, "calls itself", ""},
		{"range refused", fstest.MapFS{"en/sms/any.txt": {Data: []byte(`{{range 100000000}}{{end}}` + validSMS)}}, "range only over a list", ""},
		{"file too large", fstest.MapFS{"en/sms/any.txt": {Data: []byte(strings.Repeat("x", notice.MaxTemplateFile+1))}}, "larger than", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := load(tt.files)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("got %v, want an error containing %q", err, tt.want)
			}
			var le *notice.LintError
			if got := errors.As(err, &le); got != (tt.rule != "") {
				t.Fatalf("lint error %v, want %v: %v", got, tt.rule != "", err)
			}
		})
	}
}

func TestLoadCoverage(t *testing.T) {
	only := fstest.MapFS{"en/sms/any.txt": {Data: []byte(validSMS)}}
	_, err := notice.Load(setCfg, only)
	var le *notice.LintError
	if !errors.As(err, &le) {
		t.Fatalf("got %v, want a lint error", err)
	}
	for _, p := range le.Problems {
		if p.Rule != notice.RuleCoverage || strings.HasPrefix(p.Template, "en/sms/") {
			t.Errorf("unexpected problem %v", p)
		}
	}
	if got, want := len(le.Problems), 4*len(firebreak.Tiers); got != want {
		t.Fatalf("got %d coverage problems, want %d (every tier of the 4 channels without a template)", got, want)
	}
}

func TestRenderBadData(t *testing.T) {
	s := loadDefaults(t)
	k, tier, ch := firebreak.KindBruteForce, firebreak.TierTargeted, firebreak.ChannelEmail
	for _, tt := range []struct {
		change func(d *notice.Data)
		field  string
	}{
		{func(d *notice.Data) { d.Account = "" }, "account"},
		{func(d *notice.Data) { d.StatusURL = "" }, "status_url"},
		{func(d *notice.Data) { d.NextUpdate = time.Time{} }, "next_update"},
		{func(d *notice.Data) { d.Tier = firebreak.TierCompromised }, "data"},
	} {
		d := sample(k, tier)
		tt.change(d)
		_, err := s.Render(k, tier, ch, "en", d)
		var fe *firebreak.FieldError
		if !errors.As(err, &fe) || fe.Field != tt.field {
			t.Errorf("got %v, want a field error on %s", err, tt.field)
		}
	}
}

// TestRenderEscapesHTML checks that data cannot inject markup into email.
func TestRenderEscapesHTML(t *testing.T) {
	s := loadDefaults(t)
	d := sample(firebreak.KindCompromise, firebreak.TierCompromised)
	d.Account = `<script>alert("x")</script>`
	m, err := s.Render(d.Incident.Kind, d.Tier, firebreak.ChannelEmail, "en", d)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(m.HTML, "<script>") || !strings.Contains(m.HTML, "&lt;script&gt;") {
		t.Fatalf("account not escaped in HTML:\n%s", m.HTML)
	}
	if !strings.Contains(m.Text, d.Account) {
		t.Fatalf("text part should carry the account as is")
	}
}

func TestRenderActions(t *testing.T) {
	s := loadDefaults(t)
	d := sample(firebreak.KindCredentialStuffing, firebreak.TierAtRisk)
	until := time.Date(2026, 3, 20, 8, 0, 0, 0, time.UTC)
	d.Actions = notice.ActionsOf([]firebreak.ActionKind{firebreak.ActionStepUp, firebreak.ActionLock, firebreak.ActionBlockSource}, until)
	m, err := s.Render(d.Incident.Kind, d.Tier, firebreak.ChannelInApp, "en", d)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"second check", "paused until 2026-03-20 08:00 UTC"} {
		if !strings.Contains(m.Text, want) {
			t.Errorf("text lacks %q:\n%s", want, m.Text)
		}
	}
	for _, not := range []string{"signed your account out", "new password the next time"} {
		if strings.Contains(m.Text, not) {
			t.Errorf("text claims %q, which was not done", not)
		}
	}
}

// TestExecuteLimits checks the runtime guards of a template that skipped
// the linter: unknown fields and over-long output are errors.
func TestExecuteLimits(t *testing.T) {
	d := sample(firebreak.KindBruteForce, firebreak.TierTargeted)
	tm, err := notice.Parse(notice.Source{Path: "en/sms/any", Text: validSMS + "{{.Nope}}"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tm.Execute(d); err == nil || !strings.Contains(err.Error(), "Nope") {
		t.Fatalf("got %v, want an error naming the unknown field", err)
	}
	tm, err = notice.Parse(notice.Source{Path: "en/sms/any", Text: validSMS + strings.Repeat("x", 500)})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tm.Execute(d); firebreak.ErrorCode(err) != firebreak.ETOOLARGE {
		t.Fatalf("got %v, want too_large", err)
	}
}

func embedded(name string) string {
	b, err := fs.ReadFile(notice.Embedded(), name)
	if err != nil {
		panic(err)
	}
	return string(b)
}

func lineOf(text, sub string) string {
	return strconv.Itoa(1 + strings.Count(text[:strings.Index(text, sub)], "\n"))
}
