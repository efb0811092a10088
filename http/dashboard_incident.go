package http

import (
	"context"
	"net/url"
	"strconv"

	"firebreak"
)

// incidentPageData is what incident.html renders.
type incidentPageData struct {
	layout
	Incident *firebreak.Incident
	Tiers    []tierSection
	Timeline []firebreak.TimelineEntry
	// Action is a refused state change or tier move, shown again with its
	// error; nil on a fresh page.
	Action *incidentAction
}

// tierSection is one tier of the incident page: its count and a page of its
// accounts.
type tierSection struct {
	Tier      firebreak.Tier
	Count     int64
	Accounts  []firebreak.AffectedAccount
	More      string // link to the next accounts of this tier, if any
	Continued bool   // the accounts start at a cursor, not at the first
	First     string // link back to the first accounts
}

// tierPage is which page of which tier the incident page shows: the query
// ?tier=at_risk&cursor=... pages through one tier while the others show
// their first accounts.
type tierPage struct {
	Tier   firebreak.Tier
	Cursor string
}

// parseTierPage reads the incident page's tier and cursor parameters,
// reporting every bad one at once.
func parseTierPage(q url.Values) (tierPage, error) {
	p := tierPage{Tier: firebreak.Tier(q.Get("tier")), Cursor: q.Get("cursor")}
	var errs fieldErrors
	if p.Tier != "" && !isTier(p.Tier) {
		errs = append(errs, oneOf("tier", firebreak.Tiers))
	}
	switch {
	case len(p.Cursor) > maxCursorLen:
		errs = append(errs, firebreak.FieldError{Field: "cursor", Reason: "longer than " + strconv.Itoa(maxCursorLen) + " bytes"})
	case p.Cursor != "" && p.Tier == "":
		errs = append(errs, firebreak.FieldError{Field: "cursor", Reason: "needs the tier it pages through"})
	}
	if len(errs) > 0 {
		return p, errs
	}
	return p, nil
}

// loadIncidentPage reads the incident, a page of each tier and the timeline.
func (s *Server) loadIncidentPage(ctx context.Context, svc firebreak.IncidentService, id int64, tp tierPage) (*incidentPageData, error) {
	inc, err := svc.Find(ctx, id)
	if err == nil && inc == nil {
		err = firebreak.Errorf(firebreak.ENOTFOUND, "Incident %d not found.", id)
	}
	if err != nil {
		return nil, err
	}
	data := &incidentPageData{Incident: inc}
	for _, tier := range firebreak.Tiers {
		sec, err := loadTier(ctx, svc, inc, tier, tp)
		if err != nil {
			return nil, err
		}
		data.Tiers = append(data.Tiers, sec)
	}
	if data.Timeline, err = svc.Timeline(ctx, id); err != nil {
		return nil, err
	}
	return data, nil
}

// loadTier reads the first accounts of one tier, or those after the cursor
// when tp pages through this tier.
func loadTier(ctx context.Context, svc firebreak.IncidentService, inc *firebreak.Incident, tier firebreak.Tier, tp tierPage) (tierSection, error) {
	sec := tierSection{Tier: tier, Count: inc.Counts.Of(tier), First: incidentURL(inc.ID) + "#tier-" + string(tier) + "-h"}
	filter := firebreak.AccountFilter{Tier: tier, Limit: tierSample}
	if tp.Tier == tier {
		filter.Cursor, sec.Continued = tp.Cursor, tp.Cursor != ""
	}
	page, err := svc.ListAccounts(ctx, inc.ID, filter)
	if err != nil || page == nil {
		return sec, err
	}
	sec.Accounts = page.Accounts
	if page.Next != "" {
		q := url.Values{"tier": {string(tier)}, "cursor": {page.Next}}
		sec.More = incidentURL(inc.ID) + "?" + q.Encode() + "#tier-" + string(tier) + "-h"
	}
	return sec, nil
}
