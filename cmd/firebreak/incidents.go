package main

import (
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"os"
	"slices"
	"time"

	"firebreak/detect"
	"firebreak/eval"
)

// tierNames lists the tiers, most certain first.
var tierNames = []string{"compromised", "at_risk", "targeted"}

// incidentJSON is one incident found by replay, as --incidents writes it.
type incidentJSON struct {
	ID           string              `json:"id"`
	Kind         string              `json:"kind"`
	Active       bool                `json:"active"`
	FirstSeen    time.Time           `json:"first_seen"`
	LastSeen     time.Time           `json:"last_seen"`
	Attempts     int                 `json:"attempts"`
	Failures     int                 `json:"failures"`
	Successes    int                 `json:"successes"`
	SourceIPs    int                 `json:"source_ips"`
	Sources      []string            `json:"sources_sample"`
	Networks     []uint32            `json:"networks"`
	Fingerprints []string            `json:"fingerprints"`
	Confidence   float64             `json:"confidence"`
	Tiers        map[string][]string `json:"tiers"`
}

func toIncidentJSON(c detect.Campaign) incidentJSON {
	out := incidentJSON{
		ID: c.ID, Kind: c.Kind.String(), Active: c.Active, FirstSeen: c.FirstSeen, LastSeen: c.LastSeen,
		Attempts: c.Attempts, Failures: c.Failures, Successes: c.Successes, SourceIPs: c.SourceIPs,
		Networks: c.Networks, Fingerprints: c.Fingerprints, Confidence: c.Confidence,
		Tiers: map[string][]string{},
	}
	for _, ip := range c.Sources {
		out.Sources = append(out.Sources, ip.String())
	}
	for _, t := range tierNames {
		out.Tiers[t] = []string{}
	}
	for _, a := range c.Accounts {
		out.Tiers[a.Tier.String()] = append(out.Tiers[a.Tier.String()], a.Account)
	}
	return out
}

// writeIncidents writes the campaigns as a JSON array to path.
func writeIncidents(path string, campaigns []detect.Campaign) error {
	list := make([]incidentJSON, 0, len(campaigns))
	for _, c := range campaigns {
		list = append(list, toIncidentJSON(c))
	}
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("create incidents file: %w", err)
	}
	enc := json.NewEncoder(f)
	enc.SetIndent("", "  ")
	if err := enc.Encode(list); err != nil {
		f.Close()
		return fmt.Errorf("write incidents file: %w", err)
	}
	return f.Close()
}

// accountTiers maps each account to the most certain tier any campaign put
// it in.
func accountTiers(campaigns []detect.Campaign) map[string]string {
	best := map[string]detect.Tier{}
	for _, c := range campaigns {
		for _, a := range c.Accounts {
			if a.Tier > best[a.Account] {
				best[a.Account] = a.Tier
			}
		}
	}
	out := make(map[string]string, len(best))
	for acct, t := range best {
		out[acct] = t.String()
	}
	return out
}

// incidentReport is what replay says about detection.
type incidentReport struct {
	Incidents int                `json:"incidents"`
	ByKind    map[string]int     `json:"by_kind"`
	Quality   *eval.TiersQuality `json:"tier_quality,omitempty"`
}

func newIncidentReport(campaigns []detect.Campaign, truth *eval.Truth) incidentReport {
	rep := incidentReport{Incidents: len(campaigns), ByKind: map[string]int{}}
	for _, c := range campaigns {
		rep.ByKind[c.Kind.String()]++
	}
	if truth.Labelled() {
		q := truth.MeasureTiers(accountTiers(campaigns), tierNames)
		rep.Quality = &q
	}
	return rep
}

func (rep incidentReport) writeText(w io.Writer) {
	fmt.Fprintf(w, "\nIncidents found: %d", rep.Incidents)
	for _, k := range sortedKeys(rep.ByKind) {
		fmt.Fprintf(w, "  %s %d", k, rep.ByKind[k])
	}
	fmt.Fprintln(w)
	if rep.Quality == nil {
		return
	}
	q := rep.Quality
	fmt.Fprintf(w, "  truth: %d accounts attacked, %d taken over\n", q.Attacked, q.Compromised)
	fmt.Fprintf(w, "  %-12s %9s  %-22s %-22s\n", "tier", "accounts", "precision", "recall")
	for _, t := range q.Tiers {
		fmt.Fprintf(w, "  %-12s %9d  %-22s %-22s\n", t.Tier, t.Accounts, shareText(t.Precision), shareText(t.Recall))
	}
	fmt.Fprintf(w, "  accounts in any tier that were never attacked: %d\n", q.NeverAttacked)
}

func shareText(s eval.Share) string {
	if s.Of == 0 {
		return "n/a"
	}
	return fmt.Sprintf("%.1f%% (%d/%d)", 100*float64(s.N)/float64(s.Of), s.N, s.Of)
}

func sortedKeys(m map[string]int) []string { return slices.Sorted(maps.Keys(m)) }
