package sim

import (
	"fmt"
	"slices"
	"testing"

	"firebreak"
)

// TestOwnerChangesLeaveLoginsAlone checks the salts discipline for the
// owners' account changes: they draw from their own stream, so the
// population's logins are the same with and without them.
func TestOwnerChangesLeaveLoginsAlone(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Scenario, cfg.Accounts, cfg.Days = ScenarioMixed, 3000, 12
	logins := func(noOwnerChanges bool) (logins []string, changes int) {
		g := newGenerator(cfg)
		g.noOwnerChanges = noOwnerChanges
		err := g.generate(func(e *firebreak.Event) error {
			if e.IsLogin() || e.Label.Attack {
				c := *e
				c.Label = nil
				logins = append(logins, fmt.Sprintf("%+v|%+v", c, *e.Label))
			} else {
				changes++
			}
			return nil
		})
		if err != nil {
			t.Fatalf("generate: %v", err)
		}
		return logins, changes
	}
	with, n := logins(false)
	without, none := logins(true)
	if n < 50 || none != 0 {
		t.Fatalf("%d owners' changes with them, %d without", n, none)
	}
	if !slices.Equal(with, without) {
		t.Fatalf("the logins differ with owners' changes (%d events) and without (%d)", len(with), len(without))
	}
}
