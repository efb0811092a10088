package contain

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"

	"firebreak"
)

// LikelyCleanBelow is the confidence under which an affected account counts
// as likely clean in a preview. Accounts of the targeted tier (attempted,
// never logged into) always count as likely clean: their password did not
// work, so a reset would hit a person who did nothing wrong.
const LikelyCleanBelow = 0.5

// resolve turns a plan spec into its exact targets: every account (or
// source) each step selects, once per action, in dispatch order. A step
// that selects nothing is refused, and so is a selection beyond the
// configured bounds: neither is ever read as "everyone".
func (s *Service) resolve(ctx context.Context, inc *firebreak.Incident, spec *firebreak.PlanSpec) ([]firebreak.PlanTarget, error) {
	var targets []firebreak.PlanTarget
	accounts := make(map[string]struct{})
	type pair struct {
		action firebreak.ActionKind
		target string
	}
	seen := make(map[pair]struct{})
	for i, step := range spec.Steps {
		picked, err := s.selectTargets(ctx, inc, step.Select)
		if err != nil {
			return nil, stepError(i, err)
		}
		if len(picked) == 0 {
			return nil, &firebreak.FieldError{Field: "steps[" + strconv.Itoa(i) + "].select",
				Reason: fmt.Sprintf("matches nothing in incident %d; a plan never acts on an empty selection", inc.ID)}
		}
		for _, t := range picked {
			if !t.Source {
				accounts[t.Target] = struct{}{}
			}
			for _, a := range step.Actions {
				// Two steps that give one target the same action make
				// one target: the first step's.
				key := pair{a, t.Target}
				if _, dup := seen[key]; dup {
					continue
				}
				seen[key] = struct{}{}
				t.Step, t.Action = i, a
				targets = append(targets, t)
			}
		}
		if n := int64(len(accounts)); n > s.cfg.MaxAccounts {
			return nil, &firebreak.FieldError{Field: "steps[" + strconv.Itoa(i) + "].select",
				Reason: fmt.Sprintf("selects more than %d accounts (the configured maximum of a plan)", s.cfg.MaxAccounts)}
		}
	}
	if err := s.checkShare(ctx, int64(len(accounts))); err != nil {
		return nil, err
	}
	order(targets, inc.ID)
	return targets, nil
}

// checkShare refuses a plan that acts on at least MaxShare of every account
// the platform knows: that is "everyone", whatever the selector says.
func (s *Service) checkShare(ctx context.Context, n int64) error {
	if s.KnownAccounts == nil || n == 0 {
		return nil
	}
	known, err := s.KnownAccounts(ctx)
	if err != nil {
		return fmt.Errorf("count known accounts: %w", err)
	}
	if known > 0 && float64(n) >= s.cfg.MaxShare*float64(known) {
		return &firebreak.FieldError{Field: "steps",
			Reason: fmt.Sprintf("selects %d of the %d accounts Firebreak knows (at least %.0f%%): a plan may not act on everyone", n, known, 100*s.cfg.MaxShare)}
	}
	return nil
}

func stepError(i int, err error) error {
	if fe, ok := err.(*firebreak.FieldError); ok {
		field := "steps[" + strconv.Itoa(i) + "].select"
		if fe.Field != "" {
			field += "." + fe.Field
		}
		return &firebreak.FieldError{Field: field, Reason: fe.Reason}
	}
	return err
}

// selectTargets returns what one selector picks from the incident.
func (s *Service) selectTargets(ctx context.Context, inc *firebreak.Incident, sel firebreak.Selector) ([]firebreak.PlanTarget, error) {
	if sel.Sources {
		var out []firebreak.PlanTarget
		for _, src := range inc.Sources {
			// Only addresses and prefixes can be throttled or blocked;
			// an ASN or a fingerprint is evidence, not a target.
			if src.Kind == firebreak.SourceIP || src.Kind == firebreak.SourcePrefix {
				out = append(out, firebreak.PlanTarget{Target: src.Value, Source: true, Confidence: 1})
			}
		}
		return out, nil
	}
	want := make(map[string]bool, len(sel.Accounts))
	for _, a := range sel.Accounts {
		want[a] = true
	}
	var out []firebreak.PlanTarget
	filter := firebreak.AccountFilter{Tier: sel.Tier, Limit: firebreak.MaxPageLimit}
	for {
		page, err := s.Incidents.ListAccounts(ctx, inc.ID, filter)
		if err != nil {
			return nil, fmt.Errorf("list accounts of incident %d: %w", inc.ID, err)
		}
		for _, a := range page.Accounts {
			if len(want) > 0 && !want[a.Account] {
				continue
			}
			if a.Confidence < sel.MinConfidence {
				continue
			}
			delete(want, a.Account)
			out = append(out, firebreak.PlanTarget{Target: a.Account, Tier: a.Tier, Confidence: a.Confidence,
				LikelyClean: a.Tier == firebreak.TierTargeted || a.Confidence < LikelyCleanBelow})
		}
		if page.Next == "" {
			break
		}
		filter.Cursor = page.Next
	}
	if len(sel.Accounts) > 0 && len(want) > 0 {
		for i, a := range sel.Accounts {
			if want[a] {
				return nil, &firebreak.FieldError{Field: "accounts[" + strconv.Itoa(i) + "]",
					Reason: fmt.Sprintf("account %q is not affected by incident %d", a, inc.ID)}
			}
		}
	}
	return out, nil
}

// order sorts targets into dispatch order and numbers them. Accounts are
// shuffled by a hash keyed by the incident, so that every stage (the canary
// first) is a random sample of the whole selection, and an account's actions
// stay together in one stage.
func order(targets []firebreak.PlanTarget, key int64) {
	var k [8]byte
	binary.LittleEndian.PutUint64(k[:], uint64(key))
	rank := func(t *firebreak.PlanTarget) uint64 {
		h := sha256.New()
		h.Write(k[:])
		h.Write([]byte(t.Target))
		return binary.LittleEndian.Uint64(h.Sum(nil))
	}
	ranks := make(map[string]uint64, len(targets))
	for i := range targets {
		if _, ok := ranks[targets[i].Target]; !ok {
			ranks[targets[i].Target] = rank(&targets[i])
		}
	}
	slices.SortStableFunc(targets, func(a, b firebreak.PlanTarget) int {
		return cmp.Or(cmp.Compare(ranks[a.Target], ranks[b.Target]), cmp.Compare(a.Target, b.Target),
			cmp.Compare(a.Step, b.Step))
	})
	for i := range targets {
		targets[i].Seq = int64(i)
	}
}

// preview counts what a plan would do, per action, and whether it needs a
// second person's approval.
func (s *Service) preview(spec *firebreak.PlanSpec, targets []firebreak.PlanTarget) firebreak.Preview {
	var p firebreak.Preview
	byAction := make(map[firebreak.ActionKind]*firebreak.ActionPreview)
	accounts, sources := make(map[string]struct{}), make(map[string]struct{})
	for _, t := range targets {
		ap := byAction[t.Action]
		if ap == nil {
			info, _ := t.Action.Info()
			ap = &firebreak.ActionPreview{Action: t.Action, Reversible: info.Reversible, Undo: info.Undo}
			byAction[t.Action] = ap
		}
		ap.Count++
		if t.LikelyClean {
			ap.LikelyClean++
		}
		if t.Source {
			sources[t.Target] = struct{}{}
		} else {
			accounts[t.Target] = struct{}{}
		}
	}
	for _, a := range firebreak.ActionKinds {
		if ap := byAction[a]; ap != nil {
			p.Actions = append(p.Actions, *ap)
		}
	}
	p.Accounts, p.Sources = int64(len(accounts)), int64(len(sources))
	for i := range spec.Stages {
		p.StageSizes = append(p.StageSizes, firebreak.StageEnd(spec.Stages, i, int64(len(targets))))
	}
	p.NeedsApproval, p.Why = s.needsApproval(p)
	return p
}

// needsApproval says whether a plan with this preview needs a second
// person: above the configured account count, and always when an action
// cannot be undone, except a notice (which cannot be unsent, but harms no
// one's access: a campaign of notices needs approval above the limit).
func (s *Service) needsApproval(p firebreak.Preview) (bool, string) {
	for _, a := range p.Actions {
		if info, _ := a.Action.Info(); !a.Reversible && info.Channel == "" {
			return true, fmt.Sprintf("%s cannot be undone", a.Action)
		}
	}
	if p.Accounts > s.cfg.ApprovalAbove {
		return true, fmt.Sprintf("it acts on %d accounts, above the limit of %d without approval", p.Accounts, s.cfg.ApprovalAbove)
	}
	return false, ""
}

// planHash binds a plan version: its incident, version, spec and every
// resolved target in order. An approval carries it with the plan's id, so
// that an approval of one version never runs another.
func planHash(p *firebreak.Plan, targets []firebreak.PlanTarget) string {
	h := sha256.New()
	head, _ := json.Marshal(struct {
		Incident int64              `json:"incident"`
		Version  int                `json:"version"`
		Spec     firebreak.PlanSpec `json:"spec"`
	}{p.IncidentID, p.Version, p.Spec})
	h.Write(head)
	var buf []byte
	for _, t := range targets {
		buf = buf[:0]
		buf = strconv.AppendInt(buf, t.Seq, 10)
		buf = append(buf, '\t')
		buf = append(buf, t.Action...)
		buf = append(buf, '\t')
		buf = strconv.AppendBool(buf, t.Source)
		buf = append(buf, '\t')
		buf = append(buf, t.Target...)
		buf = append(buf, '\n')
		h.Write(buf)
	}
	return hex.EncodeToString(h.Sum(nil))
}
