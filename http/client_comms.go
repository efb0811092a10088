package http

import (
	"context"
	"net/url"
	"strconv"

	"firebreak"
)

// Notices returns a page of the outbox's notices.
func (c *Client) Notices(ctx context.Context, f firebreak.NoticeFilter) (*firebreak.NoticePage, error) {
	q := url.Values{}
	if f.IncidentID > 0 {
		q.Set("incident_id", strconv.FormatInt(f.IncidentID, 10))
	}
	if f.State != "" {
		q.Set("state", string(f.State))
	}
	if f.Channel != "" {
		q.Set("channel", string(f.Channel))
	}
	if f.Cursor != "" {
		q.Set("cursor", f.Cursor)
	}
	if f.Limit > 0 {
		q.Set("limit", strconv.Itoa(f.Limit))
	}
	var page firebreak.NoticePage
	err := c.doJSON(ctx, "GET", "/api/v1/notices?"+q.Encode(), nil, &page)
	return &page, err
}

// Notice returns one notice with its text and delivery state.
func (c *Client) Notice(ctx context.Context, id int64) (*firebreak.Notice, error) {
	var n firebreak.Notice
	err := c.doJSON(ctx, "GET", "/api/v1/notices/"+strconv.FormatInt(id, 10), nil, &n)
	return &n, err
}

// Appeals returns a page of an incident's appeals and the counts of all of
// them by tier and state.
func (c *Client) Appeals(ctx context.Context, f firebreak.AppealFilter) (*firebreak.AppealList, error) {
	q := url.Values{}
	if f.State != "" {
		q.Set("state", string(f.State))
	}
	if f.Cursor != "" {
		q.Set("cursor", f.Cursor)
	}
	if f.Limit > 0 {
		q.Set("limit", strconv.Itoa(f.Limit))
	}
	var list firebreak.AppealList
	err := c.doJSON(ctx, "GET", "/api/v1/incidents/"+strconv.FormatInt(f.IncidentID, 10)+"/appeals?"+q.Encode(), nil, &list)
	return &list, err
}

// DecideAppeal lifts (lift true) or rejects an open appeal, with a reason,
// and returns the decided appeal.
func (c *Client) DecideAppeal(ctx context.Context, id int64, lift bool, reason string) (*firebreak.Appeal, error) {
	req := DecisionRequest{Decision: decisionReject, Reason: reason}
	if lift {
		req.Decision = decisionLift
	}
	var a firebreak.Appeal
	err := c.doJSON(ctx, "POST", "/api/v1/appeals/"+strconv.FormatInt(id, 10)+"/decision", req, &a)
	return &a, err
}

// CommunicationMetrics returns an incident's notices by channel and state,
// appeals by tier and state, and false-positive rates per tier.
func (c *Client) CommunicationMetrics(ctx context.Context, incidentID int64) (*firebreak.CommunicationMetrics, error) {
	var m firebreak.CommunicationMetrics
	err := c.doJSON(ctx, "GET", "/api/v1/incidents/"+strconv.FormatInt(incidentID, 10)+"/communication", nil, &m)
	return &m, err
}

// NoticePreview renders the notice a campaign would queue for a tier,
// channel and locale ("" means the server's default, "en") of an incident.
func (c *Client) NoticePreview(ctx context.Context, incidentID int64, tier firebreak.Tier, ch firebreak.Channel, locale string) (*firebreak.NoticePreview, error) {
	q := url.Values{}
	q.Set("tier", string(tier))
	q.Set("channel", string(ch))
	if locale != "" {
		q.Set("locale", locale)
	}
	var p firebreak.NoticePreview
	err := c.doJSON(ctx, "GET", "/api/v1/incidents/"+strconv.FormatInt(incidentID, 10)+"/notice-preview?"+q.Encode(), nil, &p)
	return &p, err
}
