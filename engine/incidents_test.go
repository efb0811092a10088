package engine_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"firebreak"
	"firebreak/detect"
	"firebreak/engine"
	"firebreak/journal"
	"firebreak/sim"
	"firebreak/sqlite"
)

// openDetecting opens an engine with detection and an incident store on dir.
func openDetecting(t *testing.T, dir string) (*engine.Engine, *sqlite.IncidentStore, func()) {
	t.Helper()
	{
		db := sqlite.NewDB(filepath.Join(dir, "firebreak.db"))
		if err := db.Open(context.Background()); err != nil {
			t.Fatal(err)
		}
		j, err := journal.Open(filepath.Join(dir, "journal"), journal.Options{NoSync: true})
		if err != nil {
			t.Fatal(err)
		}
		store := sqlite.NewIncidentStore(db)
		dc := detect.DefaultConfig()
		cfg := engine.DefaultConfig()
		cfg.Detect, cfg.Incidents, cfg.SyncEvery = &dc, store, 50*time.Millisecond
		e := engine.New(cfg, j, journal.SnapshotDir(filepath.Join(dir, "snapshots")), sqlite.NewLoginStore(db))
		if err := e.Open(); err != nil {
			t.Fatal(err)
		}
		return e, store, func() {
			if err := e.Close(); err != nil {
				t.Error(err)
			}
			j.Close()
			db.Close()
		}
	}
}

// feed sends a simulated scenario through the engine and waits until every
// event is scored.
func feed(t *testing.T, e *engine.Engine, scenario string) {
	t.Helper()
	cfg := sim.DefaultConfig()
	cfg.Accounts, cfg.Days, cfg.Scenario = 20000, 14, scenario
	var batch []firebreak.Event
	var n int64
	err := sim.Generate(cfg, func(ev *firebreak.Event) error {
		x := *ev
		x.Label = nil
		batch = append(batch, x)
		if len(batch) == 1000 {
			n += int64(len(batch))
			err := e.Ingest(context.Background(), batch)
			batch = nil
			return err
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	n += int64(len(batch))
	if err := e.Ingest(context.Background(), batch); err != nil {
		t.Fatal(err)
	}
	waitScored(t, e, n)
}

// A credential-stuffing attack fed through the engine opens exactly one
// incident in the store, with the attacked accounts in its tiers, resolves
// it once the campaign has gone quiet, and the incident survives a restart.
func TestEngineOpensIncidentForStuffing(t *testing.T) {
	if testing.Short() {
		t.Skip("simulates 20,000 accounts for two weeks")
	}
	dir := t.TempDir()
	e, _, closeAll := openDetecting(t, dir)
	feed(t, e, sim.ScenarioStuffing)
	closeAll() // flushes the last campaigns to the store

	_, store, closeAll := openDetecting(t, dir)
	defer closeAll()
	page, err := store.List(context.Background(), firebreak.IncidentFilter{Kind: firebreak.KindCredentialStuffing})
	if err != nil {
		t.Fatal(err)
	}
	if len(page.Incidents) != 1 {
		t.Fatalf("credential stuffing incidents after restart = %d, want 1", len(page.Incidents))
	}
	inc := page.Incidents[0]
	if inc.Counts.Total() < 100 {
		t.Errorf("incident %d holds %d accounts (%+v), want the attacked accounts in its tiers", inc.ID, inc.Counts.Total(), inc.Counts)
	}
	if inc.State != firebreak.StateResolved {
		t.Errorf("incident state = %s, want resolved: the attack ended days before the simulation did", inc.State)
	}
	full, err := store.Find(context.Background(), inc.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(full.Sources) == 0 {
		t.Error("incident has no sources")
	}
}

// False-positive traps (travellers, VPNs, carrier NAT, offices, a marketing
// surge) open no incident at all.
func TestEngineOpensNoIncidentForTraps(t *testing.T) {
	if testing.Short() {
		t.Skip("simulates 20,000 accounts for two weeks")
	}
	dir := t.TempDir()
	e, _, closeAll := openDetecting(t, dir)
	feed(t, e, sim.ScenarioTraps)
	closeAll()
	_, store, closeAll := openDetecting(t, dir)
	defer closeAll()
	page, err := store.List(context.Background(), firebreak.IncidentFilter{})
	if err != nil {
		t.Fatal(err)
	}
	if len(page.Incidents) != 0 {
		t.Errorf("incidents on traps = %d (first: %s), want 0", len(page.Incidents), page.Incidents[0].Title)
	}
}
