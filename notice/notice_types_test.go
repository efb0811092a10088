package notice_test

import (
	"errors"
	"strings"
	"testing"

	"firebreak"
)

// TestNoticeValidate covers the root package's Notice and NoticeFilter.
func TestNoticeValidate(t *testing.T) {
	valid := func() firebreak.Notice {
		return firebreak.Notice{IncidentID: 3, Account: "alice", Template: "email/compromised",
			Channel: firebreak.ChannelEmail, Locale: "en", Subject: "s", Text: "t", HTML: "<p>t</p>"}
	}
	n := valid()
	if err := n.Validate(); err != nil {
		t.Fatalf("valid notice: %v", err)
	}
	if got, want := n.Key(), (firebreak.NoticeKey{IncidentID: 3, Account: "alice", Template: "email/compromised"}); got != want {
		t.Fatalf("key %v, want %v", got, want)
	}
	for _, tt := range []struct {
		change func(n *firebreak.Notice)
		field  string
	}{
		{func(n *firebreak.Notice) { n.IncidentID = 0 }, "incident_id"},
		{func(n *firebreak.Notice) { n.Account = "" }, "account"},
		{func(n *firebreak.Notice) { n.Template = "" }, "template"},
		{func(n *firebreak.Notice) { n.Channel = "fax" }, "channel"},
		{func(n *firebreak.Notice) { n.State = "lost" }, "state"},
		{func(n *firebreak.Notice) { n.Text = "" }, "text"},
		{func(n *firebreak.Notice) { n.Subject = "" }, "subject"},
		{func(n *firebreak.Notice) { n.Subject = "a\nBcc: x" }, "subject"},
		{func(n *firebreak.Notice) { n.HTML = strings.Repeat("x", firebreak.MaxNoticeBody+1) }, "html"},
		{func(n *firebreak.Notice) { n.Channel = firebreak.ChannelSMS }, "html"},
	} {
		n := valid()
		tt.change(&n)
		err := firebreak.ValidateNotices([]firebreak.Notice{valid(), n})
		var fe *firebreak.FieldError
		if !errors.As(err, &fe) || fe.Field != "notices[1]."+tt.field {
			t.Errorf("got %v, want a field error on notices[1].%s", err, tt.field)
		}
	}
	f := firebreak.NoticeFilter{State: "lost"}
	if err := f.Validate(); err == nil {
		t.Fatal("filter with an unknown state accepted")
	}
}
