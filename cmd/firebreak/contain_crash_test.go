package main

import (
	"context"
	"math/rand/v2"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"

	"firebreak"
	"firebreak/audit"
	fbhttp "firebreak/http"
	"firebreak/idp"
	"firebreak/sqlite"
)

// TestContainmentSurvivesKill9 runs a 100,000-account plan in a real
// `firebreak serve` process against a simulated identity provider over
// HTTP, and SIGKILLs the process at 24 seeded random points: half at a
// random moment, half right after a provider call succeeded and before its
// outcome was recorded. Each time the process restarts on the same data
// directory and resumes. At the end no account holds more than one effect,
// nothing outside the approved plan was touched, every item reached a final
// state with a reason where it needs one, and the audit trail verifies. The
// second subtest does it all with the provider injecting faults.
func TestContainmentSurvivesKill9(t *testing.T) {
	if testing.Short() {
		t.Skip("skipping the containment kill -9 test in -short mode: it kills a server process 48 times (about 60s)")
	}
	seed := uint64(20261126)
	if s := os.Getenv(crashSeedEnv); s != "" {
		v, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			t.Fatalf("%s=%q: %v", crashSeedEnv, s, err)
		}
		seed = v
	}
	t.Run("clean provider", func(t *testing.T) { containCrash(t, seed, idp.Faults{}) })
	t.Run("faulty provider", func(t *testing.T) {
		containCrash(t, seed+1, idp.Faults{ErrorRate: 0.02, ResetRate: 0.02,
			BurstEvery: time.Second, BurstFor: 50 * time.Millisecond, Latency: 200 * time.Microsecond, Seed: seed})
	})
}

func containCrash(t *testing.T, seed uint64, faults idp.Faults) {
	const accounts, kills = 100_000, 24
	t.Logf("kill points from seed %d (set %s to change)", seed, crashSeedEnv)
	rng := rand.New(rand.NewPCG(seed, 7))
	ctx := context.Background()
	dir := t.TempDir()

	// An approved plan of 100,000 accounts, capped at 8,000 calls/s so
	// that the run lasts long enough to be killed 24 times.
	db := sqlite.NewDB(filepath.Join(dir, "firebreak.db"))
	if err := db.Open(ctx); err != nil {
		t.Fatal(err)
	}
	store := sqlite.NewContainmentStore(db)
	p, err := benchPlan(ctx, sqlite.NewIncidentStore(db), store, accounts, 8000)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	if err := store.AddApproval(ctx, &firebreak.Approval{PlanID: p.ID, Version: p.Version, Hash: p.Hash,
		Approver: "bob", CreatedAt: now, ExpiresAt: now.Add(24 * time.Hour)}); err != nil {
		t.Fatal(err)
	}
	db.Close()

	sim := idp.NewSim(idp.SimConfig{Faults: faults})
	provider := httptest.NewServer(idp.NewSimHandler(sim))
	defer provider.Close()
	args := "--idp-url " + provider.URL

	c := startServeChild(t, dir, args, 0)
	client := fbhttp.NewClient(c.url, testToken)
	run, err := client.StartRun(ctx, p.ID, fbhttp.BindRequest{Version: p.Version, Hash: p.Hash})
	if err != nil {
		t.Fatalf("start run: %v", err)
	}
	for i := range kills {
		if i%2 == 0 {
			// A random moment.
			time.Sleep(time.Duration(50+rng.IntN(600)) * time.Millisecond)
			c.kill(t, syscall.SIGKILL)
		} else {
			// Right after the n-th applied call, before it is recorded:
			// the process kills itself.
			c.kill(t, syscall.SIGKILL)
			c = startServeChild(t, dir, args, 1+rng.IntN(3000))
			select {
			case <-c.exited:
			case <-time.After(30 * time.Second):
				r, err := fbhttp.NewClient(c.url, testToken).Run(ctx, run.ID)
				if err == nil && r.State == firebreak.RunFinished {
					t.Fatalf("the run finished after %d kills; slow it down to reach %d", i, kills)
				}
				t.Fatalf("kill %d: the child did not kill itself within 30s; run %+v (err %v); stderr:\n%s", i, r, err, c.stderr.String())
			}
		}
		c = startServeChild(t, dir, args, 0)
	}
	// Let the last process finish the run.
	client = fbhttp.NewClient(c.url, testToken)
	deadline := time.Now().Add(90 * time.Second)
	for {
		r, err := client.Run(ctx, run.ID)
		if err != nil {
			t.Fatalf("run: %v", err)
		}
		if r.State != firebreak.RunRunning {
			if r.State != firebreak.RunFinished {
				t.Fatalf("run %s: %s", r.State, r.Reason)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("run not finished 90s after the last kill: %+v", r.Counts)
		}
		time.Sleep(200 * time.Millisecond)
	}
	c.kill(t, syscall.SIGTERM)

	st := sim.Stats()
	t.Logf("provider: %d applies, %d observes, %d lost answers, %d 5xx, %d 429, rate peak %d/s",
		st.Applies, st.Observes, st.Resets, st.Errors5xx, st.Throttled429, st.Rate.MaxPerSecond)
	// The cap holds across 24 restarts: a new process waits out the second
	// the one before it may have used.
	if st.Rate.MaxPerSecond > 8000 {
		t.Errorf("the provider saw %d calls in one second, above the plan's cap of 8000", st.Rate.MaxPerSecond)
	}
	if reps := sim.Repeats(); len(reps) > 0 {
		t.Errorf("%d accounts with more than one effect, e.g. %+v", len(reps), reps[0])
	}
	var inside int64
	for i := range accounts {
		inside += int64(sim.Effects("acct"+strconv.Itoa(i), firebreak.ActionStepUp))
	}
	if st.Applies != inside {
		t.Errorf("%d effects, %d on approved targets: %d outside the approved set", st.Applies, inside, st.Applies-inside)
	}

	db = sqlite.NewDB(filepath.Join(dir, "firebreak.db"))
	if err := db.Open(ctx); err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	store = sqlite.NewContainmentStore(db)
	final, err := store.FindRun(ctx, run.ID)
	if err != nil {
		t.Fatal(err)
	}
	if final.Counts.Pending+final.Counts.Sent != 0 || final.Counts.Done() != accounts {
		t.Errorf("final counts %+v: want every item in a final state", final.Counts)
	}
	if final.Counts.Confirmed != inside {
		t.Errorf("%d items confirmed, %d effects on approved targets", final.Counts.Confirmed, inside)
	}
	for _, state := range []firebreak.ItemState{firebreak.ItemSkipped, firebreak.ItemFailed} {
		page, err := store.ListItems(ctx, run.ID, firebreak.ItemFilter{State: state, Limit: firebreak.MaxPageLimit})
		if err != nil {
			t.Fatal(err)
		}
		for _, it := range page.Items {
			if it.Reason == "" {
				t.Errorf("%s without a reason: %+v", state, it)
			}
		}
	}
	rep, err := audit.Verify(filepath.Join(dir, "audit"), "")
	if err != nil {
		t.Fatalf("audit trail does not verify after %d kills: %v", kills, err)
	}
	t.Logf("audit trail verifies: %d records, %d checkpoints", rep.Records, rep.Checkpoints)
	if rep.Records < 10 {
		t.Errorf("only %d audit records for a run of 100,000 actions", rep.Records)
	}
}

// startServeChild starts `firebreak serve` on dir with extra flags; a
// positive killAfter makes it SIGKILL itself after that many applied calls.
func startServeChild(t *testing.T, dir, extraArgs string, killAfter int) *child {
	t.Helper()
	stdout := &syncBuffer{}
	c := &child{stderr: &syncBuffer{}, exited: make(chan struct{})}
	c.cmd = exec.Command(os.Args[0])
	c.cmd.Env = append(os.Environ(), childEnv+"="+dir, childArgsEnv+"="+extraArgs, "FIREBREAK_TOKEN="+testToken)
	if killAfter > 0 {
		c.cmd.Env = append(c.cmd.Env, killAfterCallsEnv+"="+strconv.Itoa(killAfter))
	}
	c.cmd.Stdout, c.cmd.Stderr = stdout, c.stderr
	if err := c.cmd.Start(); err != nil {
		t.Fatalf("start child: %v", err)
	}
	go func() {
		c.err = c.cmd.Wait()
		close(c.exited)
	}()
	t.Cleanup(func() {
		c.cmd.Process.Kill()
		<-c.exited
	})
	c.url = waitURL(t, stdout, 60*time.Second, c.exited)
	return c
}
