package statuspage_test

import (
	"context"
	"errors"
	"reflect"
	"testing"
	"time"

	"firebreak"
	"firebreak/statuspage"
)

func TestReminder(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	a := e.publish(t, e.incident(t), firebreak.PhaseInvestigating, "A", "a") // promises t0+30m
	e.clock.Add(10 * time.Minute)
	b := e.publish(t, e.incident(t), firebreak.PhaseIdentified, "B", "b") // promises t0+40m
	e.publish(t, 0, firebreak.PhaseResolved, "C", "c")

	var told [][]int64
	fail := false
	r := statuspage.NewReminder(e.status, func(_ context.Context, late []statuspage.Overdue) error {
		if fail {
			return errors.New("channel down")
		}
		told = append(told, overdueIDs(late))
		return nil
	})
	r.Now = e.clock.Now

	tick := func(want []int64) {
		t.Helper()
		got, err := r.Tick(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if ids := overdueIDs(got); !reflect.DeepEqual(ids, want) {
			t.Fatalf("at %v Tick reported %v, want %v", e.clock.Now().Sub(t0), ids, want)
		}
	}
	tick([]int64{}) // nothing late at t0+10m
	e.clock.Add(25 * time.Minute)
	tick([]int64{a.ID})
	late, err := r.Check(ctx)
	if err != nil || len(late) != 1 || late[0].Late != 5*time.Minute {
		t.Fatalf("Check = %+v, %v; want A, 5 minutes late", late, err)
	}
	tick([]int64{}) // told once
	e.clock.Add(10 * time.Minute)
	fail = true
	if _, err := r.Tick(ctx); err == nil {
		t.Fatal("Tick hid the failed notice")
	}
	fail = false
	tick([]int64{b.ID}) // retried after the failure
	e.publish(t, a.IncidentID, firebreak.PhaseMonitoring, "A", "kept")
	late, _ = r.Check(ctx)
	if ids := overdueIDs(late); !reflect.DeepEqual(ids, []int64{b.ID}) {
		t.Fatalf("Check after A's new update = %v, want B only", ids)
	}
	if !reflect.DeepEqual(told, [][]int64{{a.ID}, {b.ID}}) {
		t.Fatalf("Notify told %v", told)
	}

	r.Repeat = 15 * time.Minute
	tick([]int64{})
	e.clock.Add(15 * time.Minute)
	tick([]int64{b.ID}) // reminded again
}

func overdueIDs(late []statuspage.Overdue) []int64 {
	out := []int64{}
	for _, o := range late {
		out = append(out, o.Update.ID)
	}
	return out
}

// TestReminderRun checks that Run ticks and stops with its context.
func TestReminderRun(t *testing.T) {
	e := newEnv(t)
	e.publish(t, 0, firebreak.PhaseInvestigating, "A", "a")
	e.clock.Add(time.Hour)
	told := make(chan []statuspage.Overdue, 1)
	r := statuspage.NewReminder(e.status, func(_ context.Context, late []statuspage.Overdue) error {
		told <- late
		return nil
	})
	r.Now, r.Interval = e.clock.Now, 10*time.Millisecond
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- r.Run(ctx) }()
	select {
	case late := <-told:
		if len(late) != 1 || late[0].Late != 30*time.Minute {
			t.Errorf("Run told %+v", late)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Run did not tick")
	}
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("Run = %v, want context.Canceled", err)
	}
}
