package engine

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"time"

	"firebreak"
	"firebreak/detect"
)

// incidentSync turns the detector's campaigns into incidents in the store,
// on its own goroutine so that a slow store never stalls scoring. A new
// campaign joins an open incident of the same kind that shares a client
// fingerprint or a network with it (which is also how campaigns found again
// after a restart find their incident), or opens one. Accounts are added as
// their tiers rise; an incident whose campaigns have all gone quiet is
// resolved, unless an operator has moved it on (contained, recovered).
type incidentSync struct {
	store firebreak.IncidentService
	log   *slog.Logger
	offer chan []detect.Campaign
	done  chan struct{}

	byCampaign map[string]*tracked
}

// tracked is what has been written for one campaign.
type tracked struct {
	incident int64
	tiers    map[string]detect.Tier
	sources  map[string]bool
	quiet    bool
	// frozen: the campaign is one a resolved incident already recorded
	// (found again in the journal replayed after a restart); nothing is
	// written for it.
	frozen bool
}

func newIncidentSync(store firebreak.IncidentService, log *slog.Logger) *incidentSync {
	return &incidentSync{store: store, log: log, offer: make(chan []detect.Campaign, 1), done: make(chan struct{}), byCampaign: map[string]*tracked{}}
}

// submit hands over the latest campaigns; an older snapshot still waiting
// is replaced, never queued behind.
func (s *incidentSync) submit(campaigns []detect.Campaign) {
	select {
	case <-s.offer:
	default:
	}
	s.offer <- campaigns
}

func (s *incidentSync) run(ctx context.Context) {
	defer close(s.done)
	for {
		select {
		case <-ctx.Done():
			// One last pass with what scoring produced before it stopped.
			select {
			case c := <-s.offer:
				s.syncAll(c)
			default:
			}
			return
		case c := <-s.offer:
			s.syncAll(c)
		}
	}
}

func (s *incidentSync) syncAll(campaigns []detect.Campaign) {
	defer func() {
		if r := recover(); r != nil {
			s.log.Error("incident sync panicked", "module", "engine/incidents", "panic", r)
		}
	}()
	for i := range campaigns {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		if err := s.sync(ctx, &campaigns[i]); err != nil {
			s.log.Error("sync incident", "campaign", campaigns[i].ID, "err", err)
		}
		cancel()
	}
}

func (s *incidentSync) sync(ctx context.Context, c *detect.Campaign) error {
	t := s.byCampaign[c.ID]
	if t == nil {
		// A campaign that began and ended between two passes (a backfill,
		// a fast replay) still becomes an incident, opened and resolved.
		var err error
		if t, err = s.open(ctx, c); err != nil {
			if firebreak.ErrorCode(err) == firebreak.EINVALID {
				// The store will never take it (an unknown kind): say so
				// once rather than every pass.
				s.byCampaign[c.ID] = &tracked{frozen: true}
			}
			return err
		}
		s.byCampaign[c.ID] = t
	}
	if t.frozen {
		return nil
	}
	if err := s.addAccounts(ctx, t, c); err != nil {
		return s.freezeOnConflict(t, c, err)
	}
	if err := s.addSources(ctx, t, c); err != nil {
		return s.freezeOnConflict(t, c, err)
	}
	if !c.Active && !t.quiet {
		t.quiet = true
		return s.resolveIfQuiet(ctx, t.incident)
	}
	return nil
}

// freezeOnConflict stops writing for a campaign whose incident no longer
// takes changes (resolved or merged, by an operator or after going quiet)
// while the campaign came back to life.
func (s *incidentSync) freezeOnConflict(t *tracked, c *detect.Campaign, err error) error {
	if firebreak.ErrorCode(err) != firebreak.ECONFLICT {
		return err
	}
	t.frozen = true
	s.log.Info("incident no longer takes changes; campaign activity not recorded on it", "incident", t.incident, "campaign", c.ID)
	return nil
}

// open attaches the campaign to a matching open incident or creates one.
func (s *incidentSync) open(ctx context.Context, c *detect.Campaign) (*tracked, error) {
	t := &tracked{tiers: map[string]detect.Tier{}, sources: map[string]bool{}}
	kind := firebreak.IncidentKind(c.Kind.String())
	if id, resolved, ok, err := s.findMatch(ctx, kind, c); err != nil {
		return nil, err
	} else if ok && resolved {
		t.incident, t.frozen = id, true
		return t, nil
	} else if ok {
		t.incident = id
		_, err := s.store.AddEntry(ctx, id, firebreak.TimelineEntry{Actor: firebreak.SystemActor, Kind: "campaign_joined",
			Message: fmt.Sprintf("Detection campaign %s joined this incident: it shares a client fingerprint or network.", c.ID)})
		return t, err
	}
	inc := &firebreak.Incident{
		Kind: kind, Severity: severity(c), State: firebreak.StateDetected,
		Title: title(c), Summary: summary(c), FirstSeen: c.FirstSeen, LastSeen: c.LastSeen,
	}
	if err := s.store.Create(ctx, inc, nil, firebreak.SystemActor); err != nil {
		return nil, fmt.Errorf("create incident: %w", err)
	}
	t.incident = inc.ID
	s.log.Info("incident opened", "id", inc.ID, "kind", kind, "campaign", c.ID)
	return t, nil
}

// findMatch looks for an incident of the kind that shares a fingerprint or
// a network with the campaign: an unresolved one (the campaign joins it), or
// a resolved one whose time span overlaps the campaign's (the same attack,
// found again after a restart).
func (s *incidentSync) findMatch(ctx context.Context, kind firebreak.IncidentKind, c *detect.Campaign) (id int64, resolved, ok bool, err error) {
	page, err := s.store.List(ctx, firebreak.IncidentFilter{Kind: kind, Limit: 100})
	if err != nil {
		return 0, false, false, fmt.Errorf("list incidents: %w", err)
	}
	for _, inc := range page.Incidents {
		done := inc.State == firebreak.StateResolved
		if inc.MergedInto != 0 || (done && (inc.FirstSeen.After(c.LastSeen) || c.FirstSeen.After(inc.LastSeen))) {
			continue
		}
		full, err := s.store.Find(ctx, inc.ID)
		if err != nil {
			return 0, false, false, fmt.Errorf("find incident %d: %w", inc.ID, err)
		}
		for _, src := range full.Sources {
			if shares(src, c) {
				return inc.ID, done, true, nil
			}
		}
	}
	return 0, false, false, nil
}

func shares(src firebreak.IncidentSource, c *detect.Campaign) bool {
	switch src.Kind {
	case firebreak.SourceFingerprint:
		return slices.Contains(c.Fingerprints, src.Value)
	case firebreak.SourceASN:
		n, err := strconv.ParseUint(src.Value, 10, 32)
		return err == nil && slices.Contains(c.Networks, uint32(n))
	}
	return false
}

// addAccounts writes the accounts whose tier rose since the last pass.
func (s *incidentSync) addAccounts(ctx context.Context, t *tracked, c *detect.Campaign) error {
	var batch []firebreak.AffectedAccount
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		err := s.store.UpsertAccounts(ctx, t.incident, batch)
		batch = batch[:0]
		return err
	}
	for _, a := range c.Accounts {
		if a.Tier <= t.tiers[a.Account] {
			continue
		}
		batch = append(batch, firebreak.AffectedAccount{
			Account: a.Account, Tier: firebreak.Tier(a.Tier.String()), Confidence: a.Confidence,
			Evidence: a.Evidence, FirstSeen: a.FirstSeen, LastSeen: a.LastSeen,
		})
		if len(batch) == firebreak.MaxBatch {
			if err := flush(); err != nil {
				return fmt.Errorf("add accounts: %w", err)
			}
		}
	}
	if err := flush(); err != nil {
		return fmt.Errorf("add accounts: %w", err)
	}
	for _, a := range c.Accounts {
		t.tiers[a.Account] = max(t.tiers[a.Account], a.Tier)
	}
	return nil
}

// addSources writes fingerprints, networks and sampled addresses not yet
// written for the campaign.
func (s *incidentSync) addSources(ctx context.Context, t *tracked, c *detect.Campaign) error {
	var add []firebreak.IncidentSource
	put := func(kind firebreak.SourceKind, v string) {
		if key := string(kind) + ":" + v; !t.sources[key] {
			t.sources[key] = true
			add = append(add, firebreak.IncidentSource{Kind: kind, Value: v, Evidence: "campaign " + c.ID})
		}
	}
	for _, fp := range c.Fingerprints {
		put(firebreak.SourceFingerprint, fp)
	}
	for _, asn := range c.Networks {
		put(firebreak.SourceASN, strconv.FormatUint(uint64(asn), 10))
	}
	for _, ip := range c.Sources {
		put(firebreak.SourceIP, ip.String())
	}
	if len(add) == 0 {
		return nil
	}
	if err := s.store.AddSources(ctx, t.incident, add); err != nil {
		return fmt.Errorf("add sources: %w", err)
	}
	return nil
}

// resolveIfQuiet resolves an incident still in a state that allows it.
func (s *incidentSync) resolveIfQuiet(ctx context.Context, id int64) error {
	inc, err := s.store.Find(ctx, id)
	if err != nil {
		return err
	}
	if firebreak.CanTransition(inc.State, firebreak.StateResolved) != nil {
		return nil // an operator has it in hand
	}
	resolved := firebreak.StateResolved
	_, err = s.store.Update(ctx, id, firebreak.IncidentUpdate{State: &resolved}, firebreak.SystemActor)
	return err
}

func severity(c *detect.Campaign) firebreak.Severity {
	switch {
	case c.Compromised >= 10:
		return firebreak.SeverityCritical
	case c.Compromised > 0:
		return firebreak.SeverityHigh
	case c.AtRisk > 0 || c.Targeted >= 100:
		return firebreak.SeverityMedium
	}
	return firebreak.SeverityLow
}

func title(c *detect.Campaign) string {
	name := map[string]string{
		"credential_stuffing": "Credential stuffing", "password_spraying": "Password spraying",
		"brute_force": "Brute force", "account_enumeration": "Account enumeration",
		"compromise": "Accounts taken over outside any campaign",
	}[c.Kind.String()]
	if name == "" {
		name = c.Kind.String()
	}
	// No counts in the title: they grow while the incident is open, and the
	// tier counts and sources on the incident are the live figures.
	return fmt.Sprintf("%s (detection campaign %s)", name, c.ID)
}

func summary(c *detect.Campaign) string {
	if c.Kind == detect.KindCompromise {
		return fmt.Sprintf("When detected: %d account(s) whose password worked in a risky session that then failed the second factor and never passed it, or changed the account's security settings, from %d address(es); each is the attacker's by its own evidence.",
			c.Compromised, c.SourceIPs)
	}
	rate := 0.0
	if c.Attempts > 0 {
		rate = float64(c.Successes) / float64(c.Attempts) * 100
	}
	return fmt.Sprintf("When detected: %d attempts from %d addresses in %d networks, %.1f%% successful, %d on accounts that do not exist; accounts: %d compromised, %d at risk, %d targeted.",
		c.Attempts, c.SourceIPs, len(c.Networks), rate, c.UnknownAccounts, c.Compromised, c.AtRisk, c.Targeted)
}
