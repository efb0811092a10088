package main

import (
	"context"
	"strings"
	"testing"
	"time"

	"firebreak"
	"firebreak/idp"
)

func TestSimIdPServesAndReports(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	out, errb := &syncBuffer{}, &syncBuffer{}
	exited := make(chan struct{})
	var runErr error
	go func() {
		defer close(exited)
		runErr = (&SimIdPCommand{stdout: out, stderr: errb}).Run(ctx, []string{"--addr", "127.0.0.1:0", "--latency", "1ms", "--seed", "3"})
	}()
	url := waitURL(t, out, 5*time.Second, exited)
	c := idp.NewSimClient(url, nil)
	r := firebreak.ActionRequest{Action: firebreak.ActionLock, Target: "alice", Key: "fb-1-1", Until: time.Now().Add(time.Hour)}
	if err := c.Apply(ctx, r); err != nil {
		t.Fatal(err)
	}
	if st, err := c.Observe(ctx, "alice", false); err != nil || st.LockedUntil.IsZero() {
		t.Fatalf("Observe = %+v, %v", st, err)
	}
	cancel()
	<-exited
	if runErr != nil {
		t.Fatalf("Run: %v\n%s", runErr, errb.String())
	}
	if got := out.String(); !strings.Contains(got, "effects:    1 applied, 0 reverted, on 1 targets") || !strings.Contains(got, "repeats:    0") {
		t.Fatalf("stats on exit:\n%s", got)
	}
}

func TestSimIdPUsageErrors(t *testing.T) {
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"--burst-429", "2s"}, "want FOR/EVERY"},
		{[]string{"--burst-429", "3s/2s"}, "want 0 < FOR <= EVERY"},
		{[]string{"--error-rate", "1.5"}, "--error-rate: must be a share from 0 to 1"},
		{[]string{"--reset-rate", "-0.1"}, "--reset-rate: must be a share"},
		{[]string{"extra"}, "unexpected argument"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			errb := &syncBuffer{}
			err := (&SimIdPCommand{stdout: &syncBuffer{}, stderr: errb}).Run(context.Background(), tt.args)
			if err != errUsage || !strings.Contains(errb.String(), tt.want) || !strings.Contains(errb.String(), "try: firebreak simidp -h") {
				t.Fatalf("err %v, stderr %q; want a usage error with %q", err, errb.String(), tt.want)
			}
		})
	}
}
