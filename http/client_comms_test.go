package http_test

import (
	"context"
	"strings"
	"testing"

	"firebreak"
	fbhttp "firebreak/http"
)

// TestClientComms drives every communication method of the client against
// a real listening server over the fake service: queries and bodies reach
// the service as sent, answers come back decoded, and API errors keep their
// code and message.
func TestClientComms(t *testing.T) {
	ctx := context.Background()
	c := newComms()
	var filters []firebreak.NoticeFilter
	list := c.ListNoticesFn
	c.ListNoticesFn = func(ctx context.Context, f firebreak.NoticeFilter) (*firebreak.NoticePage, error) {
		filters = append(filters, f)
		return list(ctx, f)
	}
	var appealFilters []firebreak.AppealFilter
	appeals := c.ListAppealsFn
	c.ListAppealsFn = func(ctx context.Context, f firebreak.AppealFilter) (*firebreak.AppealList, error) {
		appealFilters = append(appealFilters, f)
		return appeals(ctx, f)
	}
	var locales []string
	preview := c.PreviewFn
	c.PreviewFn = func(ctx context.Context, id int64, tier firebreak.Tier, ch firebreak.Channel, locale string) (*firebreak.NoticePreview, error) {
		locales = append(locales, locale)
		return preview(ctx, id, tier, ch, locale)
	}
	cl := fbhttp.NewClient(openServer(t, newCommsFixture(t, c)), testToken)

	t.Run("notices", func(t *testing.T) {
		want := firebreak.NoticeFilter{IncidentID: 3, State: firebreak.NoticeFailed, Channel: firebreak.ChannelEmail, Cursor: "c1", Limit: 10}
		page, err := cl.Notices(ctx, want)
		if err != nil {
			t.Fatal(err)
		}
		if len(page.Notices) != 1 || page.Notices[0].Reason != "550 mailbox unavailable" || page.Next != "after-7" {
			t.Errorf("page = %+v", page)
		}
		if _, err := cl.Notices(ctx, firebreak.NoticeFilter{}); err != nil {
			t.Fatal(err)
		}
		if len(filters) != 2 || filters[0] != want || filters[1] != (firebreak.NoticeFilter{Limit: firebreak.DefaultPageLimit}) {
			t.Errorf("filters = %+v, want %+v then the defaults", filters, want)
		}
		_, err = cl.Notices(ctx, firebreak.NoticeFilter{State: "delivered"})
		wantClientError(t, err, firebreak.EINVALID, "state")
	})
	t.Run("notice", func(t *testing.T) {
		n, err := cl.Notice(ctx, 7)
		if err != nil || n.ID != 7 || n.Subject == "" || n.Attempts != 2 {
			t.Errorf("Notice(7) = %+v, %v", n, err)
		}
		_, err = cl.Notice(ctx, 99)
		wantClientError(t, err, firebreak.ENOTFOUND, "Notice 99 not found.")
	})
	t.Run("appeals", func(t *testing.T) {
		l, err := cl.Appeals(ctx, firebreak.AppealFilter{IncidentID: 3, State: firebreak.AppealQueued, Limit: 5})
		if err != nil {
			t.Fatal(err)
		}
		if len(l.Appeals) != 2 || len(l.Counts) != 2 || l.Lifted(firebreak.TierCompromised) != 1 {
			t.Errorf("appeals = %+v", l)
		}
		if want := (firebreak.AppealFilter{IncidentID: 3, State: firebreak.AppealQueued, Limit: 5}); len(appealFilters) != 1 || appealFilters[0] != want {
			t.Errorf("filters = %+v, want %+v", appealFilters, want)
		}
		_, err = cl.Appeals(ctx, firebreak.AppealFilter{IncidentID: 99})
		wantClientError(t, err, firebreak.ENOTFOUND, "Incident 99 not found.")
	})
	t.Run("decide", func(t *testing.T) {
		a, err := cl.DecideAppeal(ctx, 5, false, "Login from a botnet.")
		if err != nil || a.ID != 5 || a.State != firebreak.AppealRejected || a.Reason != "Login from a botnet." {
			t.Errorf("reject = %+v, %v", a, err)
		}
		a, err = cl.DecideAppeal(ctx, 5, true, "Known device.")
		if err != nil || a.State != firebreak.AppealLifted {
			t.Errorf("lift = %+v, %v", a, err)
		}
		_, err = cl.DecideAppeal(ctx, 6, true, "ok")
		wantClientError(t, err, firebreak.ECONFLICT, "Appeal 5 is lifted already.")
		_, err = cl.DecideAppeal(ctx, 5, true, "")
		wantClientError(t, err, firebreak.EINVALID, "reason")
		got := c.decided()
		want := []decision{{5, false, "Login from a botnet.", fbhttp.APIActor}, {5, true, "Known device.", fbhttp.APIActor}, {6, true, "ok", fbhttp.APIActor}}
		if len(got) != len(want) {
			t.Fatalf("decisions = %+v, want %+v", got, want)
		}
		for i := range want {
			if got[i] != want[i] {
				t.Errorf("decision %d = %+v, want %+v", i, got[i], want[i])
			}
		}
	})
	t.Run("metrics", func(t *testing.T) {
		m, err := cl.CommunicationMetrics(ctx, 3)
		if err != nil || m.IncidentID != 3 || m.Notices[firebreak.ChannelEmail].Failed != 12 || m.Tiers[0].Rate != 0.25 {
			t.Errorf("metrics = %+v, %v", m, err)
		}
		_, err = cl.CommunicationMetrics(ctx, 99)
		wantClientError(t, err, firebreak.ENOTFOUND, "Incident 99 not found.")
	})
	t.Run("preview", func(t *testing.T) {
		p, err := cl.NoticePreview(ctx, 3, firebreak.TierAtRisk, firebreak.ChannelSMS, "de")
		if err != nil || p.Template != "de/sms/at_risk" || p.Text == "" {
			t.Errorf("preview = %+v, %v", p, err)
		}
		if _, err := cl.NoticePreview(ctx, 3, firebreak.TierTargeted, firebreak.ChannelEmail, ""); err != nil {
			t.Fatal(err)
		}
		if want := []string{"de", "en"}; strings.Join(locales, ",") != strings.Join(want, ",") {
			t.Errorf("locales = %q, want %q", locales, want)
		}
		_, err = cl.NoticePreview(ctx, 3, "everyone", firebreak.ChannelEmail, "")
		wantClientError(t, err, firebreak.EINVALID, "tier")
	})
}

// wantClientError fails t unless err carries code and its message
// mentions mention.
func wantClientError(t *testing.T, err error, code, mention string) {
	t.Helper()
	if got := firebreak.ErrorCode(err); got != code || !strings.Contains(firebreak.ErrorMessage(err), mention) {
		t.Errorf("error = %v (%s), want %s mentioning %q", err, got, code, mention)
	}
}
