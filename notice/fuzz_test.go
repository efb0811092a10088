package notice_test

import (
	"testing"

	"firebreak"
	"firebreak/notice"
)

// FuzzTemplate parses, lints and renders arbitrary template text: every
// outcome is a template or an error, never a panic or a runaway render.
func FuzzTemplate(f *testing.F) {
	f.Add(validSMS, "", false)
	f.Add(`{{define "subject"}}x{{end}}`+validSMS, `<a href="{{.StatusURL}}">{{.Account}}</a>`+validSMS, true)
	f.Add(`{{with $x := .Actions}}{{$x.LockedUntil.Year}}{{end}}{{.Incident.FirstSeen.Format "2006"}}`, "", false)
	f.Add(`{{define "a"}}{{template "b" .}}{{end}}{{define "b"}}{{template "a" .}}{{end}}{{template "a" .}}`, "", false)
	f.Add(`{{range .Org}}{{.}}{{end}}{{index .Org 1}}{{slice .Org 9 1}}{{len .}}`, "", false)
	f.Add(`https://evil.example.net/login?token=eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0 code 123456`, "", false)
	f.Add(`{{/* section: what_happened */}}{{if .Tier}}{{/* section: what_to_do */}}{{end}}`, "", false)
	f.Fuzz(func(t *testing.T, text, html string, email bool) {
		src := notice.Source{Path: "en/sms/any", Text: text}
		if email {
			src = notice.Source{Path: "en/email/compromised", Text: `{{define "subject"}}s{{end}}` + text, HTML: html}
		}
		tm, err := notice.Parse(src)
		if err != nil {
			return
		}
		_ = notice.Lint(tm, notice.LintConfig{AllowedHosts: []string{"status.example.com"}})
		d := notice.SampleData("Example Corp", "https://status.example.com/")
		d.Tier = firebreak.TierAtRisk
		m, err := tm.Execute(d)
		if err == nil && len(m.Text) > firebreak.MaxNoticeBody {
			t.Fatalf("text of %d bytes passed the limit", len(m.Text))
		}
	})
}
