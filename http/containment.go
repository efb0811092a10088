package http

import (
	"context"
	nethttp "net/http"
	"slices"
	"strconv"

	"firebreak"
)

// Containment is what the API needs of the containment service
// (*contain.Service implements it): the writes, each checked and audited by
// the service, and the reads of its store.
type Containment interface {
	CreatePlan(ctx context.Context, incidentID int64, spec firebreak.PlanSpec, actor string) (*firebreak.Plan, error)
	RevisePlan(ctx context.Context, planID int64, spec firebreak.PlanSpec, actor string) (*firebreak.Plan, error)
	Approve(ctx context.Context, planID int64, version int, hash, approver, comment string) (*firebreak.Approval, error)
	StartRun(ctx context.Context, planID int64, version int, hash, actor string) (*firebreak.Run, error)
	Pause(ctx context.Context, runID int64, actor string) (*firebreak.Run, error)
	Resume(ctx context.Context, runID int64, actor string) (*firebreak.Run, error)
	Kill(ctx context.Context, runID int64, actor string) (*firebreak.Run, error)
	Rollback(ctx context.Context, runID int64, stage int, actor string) (*firebreak.Run, error)
	// Runnable returns nil if the plan's latest version may run now, or
	// the reason it may not (no valid approval).
	Runnable(ctx context.Context, p *firebreak.Plan) error
	// Reads returns the store of plans and runs.
	Reads() firebreak.ContainmentService
}

// PlansResponse is the body of GET /api/v1/incidents/{id}/plans.
type PlansResponse struct {
	Plans []*firebreak.Plan `json:"plans"`
}

// RunsResponse is the body of GET /api/v1/runs.
type RunsResponse struct {
	Runs []*firebreak.Run `json:"runs"`
}

// TargetsResponse is the body of GET /api/v1/plans/{id}/targets.
type TargetsResponse struct {
	Targets []firebreak.PlanTarget `json:"targets"`
	// Next is the "after" parameter of the next page; nil (absent) on the
	// last page. A pointer, because the first page may end at seq 0.
	Next *int64 `json:"next,omitempty"`
}

// containment returns the configured service, or writes 503 and returns nil.
func (s *Server) containment(w nethttp.ResponseWriter, r *nethttp.Request) Containment {
	if s.cfg.Containment == nil {
		s.writeError(w, r, firebreak.Errorf(firebreak.EUNAVAILABLE,
			"Containment is not available: this server runs without a containment service."))
		return nil
	}
	return s.cfg.Containment
}

// pathID reads a positive integer path value.
func pathID(r *nethttp.Request, name string) (int64, error) {
	id, err := strconv.ParseInt(r.PathValue(name), 10, 64)
	if err != nil || id < 1 {
		return 0, fieldErrors{{Field: name, Reason: "must be a positive integer"}}
	}
	return id, nil
}

// decodeSpec reads a plan spec; a field error from a nested value (a bad
// duration) keeps its field name (see jsonError).
func (s *Server) decodeSpec(w nethttp.ResponseWriter, r *nethttp.Request) (firebreak.PlanSpec, error) {
	var spec firebreak.PlanSpec
	return spec, s.decodeBody(w, r, &spec)
}

func (s *Server) handleCreatePlan(w nethttp.ResponseWriter, r *nethttp.Request) {
	svc := s.containment(w, r)
	if svc == nil {
		return
	}
	id, err := parseIncidentID(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	spec, err := s.decodeSpec(w, r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	p, err := svc.CreatePlan(r.Context(), id, spec, s.actor(r))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, nethttp.StatusCreated, p)
}

func (s *Server) handleListPlans(w nethttp.ResponseWriter, r *nethttp.Request) {
	svc := s.containment(w, r)
	if svc == nil {
		return
	}
	id, err := parseIncidentID(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if s.cfg.Incidents != nil {
		if _, err := s.cfg.Incidents.Find(r.Context(), id); err != nil {
			s.writeError(w, r, err)
			return
		}
	}
	plans, err := svc.Reads().ListPlans(r.Context(), id)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, nethttp.StatusOK, PlansResponse{Plans: nonNil(plans)})
}

func (s *Server) handleGetPlan(w nethttp.ResponseWriter, r *nethttp.Request) {
	svc := s.containment(w, r)
	if svc == nil {
		return
	}
	d, err := s.planDetail(r, svc)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, nethttp.StatusOK, d)
}

// planDetail reads the plan named by the {id} path value (and the version
// query parameter) with its approvals and runs.
func (s *Server) planDetail(r *nethttp.Request, svc Containment) (*PlanDetail, error) {
	id, err := pathID(r, "id")
	if err != nil {
		return nil, err
	}
	version := 0
	if v := r.URL.Query().Get("version"); v != "" {
		if version, err = strconv.Atoi(v); err != nil || version < 1 {
			return nil, fieldErrors{{Field: "version", Reason: "must be a positive integer"}}
		}
	}
	ctx := r.Context()
	p, err := svc.Reads().FindPlan(ctx, id, version)
	if err != nil {
		return nil, err
	}
	d := &PlanDetail{Plan: p}
	if d.Approvals, err = svc.Reads().Approvals(ctx, id); err != nil {
		return nil, err
	}
	if d.Runs, err = svc.Reads().ListRuns(ctx, id); err != nil {
		return nil, err
	}
	d.Approvals, d.Runs = nonNilSlice(d.Approvals), nonNil(d.Runs)
	d.Approved = svc.Runnable(ctx, p) == nil
	return d, nil
}

func (s *Server) handleRevisePlan(w nethttp.ResponseWriter, r *nethttp.Request) {
	svc := s.containment(w, r)
	if svc == nil {
		return
	}
	id, err := pathID(r, "id")
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	spec, err := s.decodeSpec(w, r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	p, err := svc.RevisePlan(r.Context(), id, spec, s.actor(r))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, nethttp.StatusOK, p)
}

func (s *Server) handlePlanTargets(w nethttp.ResponseWriter, r *nethttp.Request) {
	svc := s.containment(w, r)
	if svc == nil {
		return
	}
	id, err := pathID(r, "id")
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	q := r.URL.Query()
	var errs fieldErrors
	after, limit, version := int64(-1), firebreak.DefaultPageLimit, 0
	if v := q.Get("after"); v != "" {
		if after, err = strconv.ParseInt(v, 10, 64); err != nil || after < 0 {
			errs = append(errs, firebreak.FieldError{Field: "after", Reason: "must be a non-negative integer (the next of a previous page)"})
		}
	}
	if v := q.Get("limit"); v != "" {
		if limit, err = strconv.Atoi(v); err != nil || limit < 1 || limit > firebreak.MaxPageLimit {
			errs = append(errs, firebreak.FieldError{Field: "limit", Reason: "must be an integer from 1 to " + strconv.Itoa(firebreak.MaxPageLimit)})
		}
	}
	if v := q.Get("version"); v != "" {
		if version, err = strconv.Atoi(v); err != nil || version < 1 {
			errs = append(errs, firebreak.FieldError{Field: "version", Reason: "must be a positive integer"})
		}
	}
	if len(errs) > 0 {
		s.writeError(w, r, errs)
		return
	}
	p, err := svc.Reads().FindPlan(r.Context(), id, version)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	targets, err := svc.Reads().PlanTargets(r.Context(), id, p.Version, after, limit)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	res := TargetsResponse{Targets: nonNilSlice(targets)}
	// Seqs run from 0 to the version's target count - 1 (its last stage size).
	if n := len(targets); n > 0 && targets[n-1].Seq+1 < planTargetCount(p) {
		res.Next = &targets[n-1].Seq
	}
	writeJSON(w, nethttp.StatusOK, res)
}

func (s *Server) handleApprove(w nethttp.ResponseWriter, r *nethttp.Request) {
	svc := s.containment(w, r)
	if svc == nil {
		return
	}
	id, bind, err := s.decodeBind(w, r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	a, err := svc.Approve(r.Context(), id, bind.Version, bind.Hash, s.actor(r), bind.Comment)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, nethttp.StatusCreated, a)
}

func (s *Server) handleStartRun(w nethttp.ResponseWriter, r *nethttp.Request) {
	svc := s.containment(w, r)
	if svc == nil {
		return
	}
	id, bind, err := s.decodeBind(w, r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	run, err := svc.StartRun(r.Context(), id, bind.Version, bind.Hash, s.actor(r))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, nethttp.StatusCreated, run)
}

// decodeBind reads the plan id and a body naming an exact version.
func (s *Server) decodeBind(w nethttp.ResponseWriter, r *nethttp.Request) (int64, BindRequest, error) {
	var bind BindRequest
	id, err := pathID(r, "id")
	if err != nil {
		return 0, bind, err
	}
	if err := s.decodeBody(w, r, &bind); err != nil {
		return 0, bind, err
	}
	var errs fieldErrors
	if bind.Version < 1 {
		errs = append(errs, firebreak.FieldError{Field: "version", Reason: "required: the plan version you reviewed"})
	}
	if len(bind.Hash) != 64 {
		errs = append(errs, firebreak.FieldError{Field: "hash", Reason: "required: the 64-hex-digit hash of the plan version you reviewed"})
	}
	if len(errs) > 0 {
		return 0, bind, errs
	}
	return id, bind, nil
}

func (s *Server) handleListRuns(w nethttp.ResponseWriter, r *nethttp.Request) {
	svc := s.containment(w, r)
	if svc == nil {
		return
	}
	var plan int64
	if v := r.URL.Query().Get("plan"); v != "" {
		var err error
		if plan, err = strconv.ParseInt(v, 10, 64); err != nil || plan < 1 {
			s.writeError(w, r, fieldErrors{{Field: "plan", Reason: "must be a positive integer"}})
			return
		}
	}
	runs, err := svc.Reads().ListRuns(r.Context(), plan)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, nethttp.StatusOK, RunsResponse{Runs: nonNil(runs)})
}

func (s *Server) handleGetRun(w nethttp.ResponseWriter, r *nethttp.Request) {
	svc := s.containment(w, r)
	if svc == nil {
		return
	}
	id, err := pathID(r, "id")
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	run, err := svc.Reads().FindRun(r.Context(), id)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, nethttp.StatusOK, run)
}

func (s *Server) handleRunItems(w nethttp.ResponseWriter, r *nethttp.Request) {
	svc := s.containment(w, r)
	if svc == nil {
		return
	}
	var errs fieldErrors
	id, err := pathID(r, "id")
	if err != nil {
		errs = append(errs, err.(fieldErrors)...)
	}
	q := r.URL.Query()
	f := firebreak.ItemFilter{State: firebreak.ItemState(q.Get("state"))}
	if f.State != "" && !slices.Contains(firebreak.ItemStates, f.State) {
		errs = append(errs, oneOf("state", firebreak.ItemStates))
	}
	var perrs fieldErrors
	f.Cursor, f.Limit, perrs = parsePage(q)
	if errs = append(errs, perrs...); len(errs) > 0 {
		s.writeError(w, r, errs)
		return
	}
	page, err := svc.Reads().ListItems(r.Context(), id, f)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	page.Items = nonNilSlice(page.Items)
	writeJSON(w, nethttp.StatusOK, page)
}

// handleRunControl serves pause, resume and kill.
func (s *Server) handleRunControl(verb string) nethttp.HandlerFunc {
	return func(w nethttp.ResponseWriter, r *nethttp.Request) {
		svc := s.containment(w, r)
		if svc == nil {
			return
		}
		id, err := pathID(r, "id")
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		var run *firebreak.Run
		switch verb {
		case "pause":
			run, err = svc.Pause(r.Context(), id, s.actor(r))
		case "resume":
			run, err = svc.Resume(r.Context(), id, s.actor(r))
		case "kill":
			run, err = svc.Kill(r.Context(), id, s.actor(r))
		}
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		writeJSON(w, nethttp.StatusOK, run)
	}
}

func (s *Server) handleRollback(w nethttp.ResponseWriter, r *nethttp.Request) {
	svc := s.containment(w, r)
	if svc == nil {
		return
	}
	id, err := pathID(r, "id")
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	var req RollbackRequest
	if r.ContentLength != 0 {
		if err := s.decodeBody(w, r, &req); err != nil {
			s.writeError(w, r, err)
			return
		}
	}
	stage := -1
	if req.Stage != nil {
		if *req.Stage < 0 {
			s.writeError(w, r, fieldErrors{{Field: "stage", Reason: "must be a stage index from 0"}})
			return
		}
		stage = *req.Stage
	}
	run, err := svc.Rollback(r.Context(), id, stage, s.actor(r))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, nethttp.StatusCreated, run)
}

// planTargetCount returns how many targets a plan version has: the size of
// its last stage, which reaches every target.
func planTargetCount(p *firebreak.Plan) int64 {
	if n := len(p.Preview.StageSizes); n > 0 {
		return p.Preview.StageSizes[n-1]
	}
	return 0
}

// nonNil returns list, or an empty list for nil, so that JSON shows [].
func nonNil[T any](list []*T) []*T {
	if list == nil {
		return []*T{}
	}
	return list
}

func nonNilSlice[T any](list []T) []T {
	if list == nil {
		return []T{}
	}
	return list
}
