package http

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"strconv"

	"firebreak"
)

// PlanDetail is a plan with its approvals and runs, as GET /api/v1/plans/{id}
// returns it.
type PlanDetail struct {
	Plan      *firebreak.Plan      `json:"plan"`
	Approvals []firebreak.Approval `json:"approvals"`
	Runs      []*firebreak.Run     `json:"runs"`
	// Approved says whether the latest version holds a valid approval (or
	// needs none), so that it can run.
	Approved bool `json:"approved"`
}

// BindRequest names an exact plan version: the body of an approval or a run.
type BindRequest struct {
	Version int    `json:"version"`
	Hash    string `json:"hash"`
	Comment string `json:"comment,omitempty"`
}

// RollbackRequest is the body of POST /api/v1/runs/{id}/rollback. Stage nil
// rolls back the whole run.
type RollbackRequest struct {
	Stage *int `json:"stage,omitempty"`
}

// CreatePlan writes a plan for an incident and returns it with its preview.
func (c *Client) CreatePlan(ctx context.Context, incidentID int64, spec firebreak.PlanSpec) (*firebreak.Plan, error) {
	var p firebreak.Plan
	err := c.doJSON(ctx, "POST", "/api/v1/incidents/"+strconv.FormatInt(incidentID, 10)+"/plans", spec, &p)
	return &p, err
}

// RevisePlan writes a new version of a plan.
func (c *Client) RevisePlan(ctx context.Context, planID int64, spec firebreak.PlanSpec) (*firebreak.Plan, error) {
	var p firebreak.Plan
	err := c.doJSON(ctx, "PUT", "/api/v1/plans/"+strconv.FormatInt(planID, 10), spec, &p)
	return &p, err
}

// Plan returns a plan with its approvals and runs.
func (c *Client) Plan(ctx context.Context, planID int64) (*PlanDetail, error) {
	var d PlanDetail
	err := c.doJSON(ctx, "GET", "/api/v1/plans/"+strconv.FormatInt(planID, 10), nil, &d)
	return &d, err
}

// Plans returns the plans of an incident.
func (c *Client) Plans(ctx context.Context, incidentID int64) ([]*firebreak.Plan, error) {
	var res struct {
		Plans []*firebreak.Plan `json:"plans"`
	}
	err := c.doJSON(ctx, "GET", "/api/v1/incidents/"+strconv.FormatInt(incidentID, 10)+"/plans", nil, &res)
	return res.Plans, err
}

// Approve approves one exact plan version.
func (c *Client) Approve(ctx context.Context, planID int64, bind BindRequest) (*firebreak.Approval, error) {
	var a firebreak.Approval
	err := c.doJSON(ctx, "POST", "/api/v1/plans/"+strconv.FormatInt(planID, 10)+"/approvals", bind, &a)
	return &a, err
}

// StartRun runs one exact plan version.
func (c *Client) StartRun(ctx context.Context, planID int64, bind BindRequest) (*firebreak.Run, error) {
	var r firebreak.Run
	err := c.doJSON(ctx, "POST", "/api/v1/plans/"+strconv.FormatInt(planID, 10)+"/runs", bind, &r)
	return &r, err
}

// Run returns a run with its progress.
func (c *Client) Run(ctx context.Context, runID int64) (*firebreak.Run, error) {
	var r firebreak.Run
	err := c.doJSON(ctx, "GET", "/api/v1/runs/"+strconv.FormatInt(runID, 10), nil, &r)
	return &r, err
}

// RunItems returns a page of a run's items.
func (c *Client) RunItems(ctx context.Context, runID int64, f firebreak.ItemFilter) (*firebreak.ItemPage, error) {
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
	var page firebreak.ItemPage
	err := c.doJSON(ctx, "GET", "/api/v1/runs/"+strconv.FormatInt(runID, 10)+"/items?"+q.Encode(), nil, &page)
	return &page, err
}

// ControlRun pauses, resumes or kills a run: verb is "pause", "resume" or "kill".
func (c *Client) ControlRun(ctx context.Context, runID int64, verb string) (*firebreak.Run, error) {
	var r firebreak.Run
	err := c.doJSON(ctx, "POST", "/api/v1/runs/"+strconv.FormatInt(runID, 10)+"/"+verb, struct{}{}, &r)
	return &r, err
}

// Rollback starts the rollback of a run (stage nil: all of it).
func (c *Client) Rollback(ctx context.Context, runID int64, stage *int) (*firebreak.Run, error) {
	var r firebreak.Run
	err := c.doJSON(ctx, "POST", "/api/v1/runs/"+strconv.FormatInt(runID, 10)+"/rollback", RollbackRequest{Stage: stage}, &r)
	return &r, err
}

// doJSON sends in as JSON (nil: no body) and decodes the answer into out.
func (c *Client) doJSON(ctx context.Context, method, path string, in, out any) error {
	var body bytes.Buffer
	media := ""
	if in != nil {
		if err := json.NewEncoder(&body).Encode(in); err != nil {
			return fmt.Errorf("encode request: %w", err)
		}
		media = "application/json"
	}
	return c.do(ctx, method, path, media, false, &body, out)
}
