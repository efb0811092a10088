package journal_test

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"firebreak/journal"
)

// crashEnv names the journal directory when the test binary runs as the
// crash test's child process.
const crashEnv = "FIREBREAK_JOURNAL_CRASH_DIR"

// TestCrashChild is the child side of TestCrash: it appends until killed and
// prints "seq record" for every record only after Append acknowledged it.
func TestCrashChild(t *testing.T) {
	dir := os.Getenv(crashEnv)
	if dir == "" {
		t.Skip("runs only as the child of TestCrash")
	}
	j, err := journal.Open(dir, journal.Options{SegmentBytes: 32 << 10})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	var out sync.Mutex
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Go(func() {
			for i := 0; ; i++ {
				batch := make([][]byte, 1+i%7)
				for k := range batch {
					batch[k] = fmt.Appendf(nil, "w%d-i%d-k%d-%s", w, i, k, strings.Repeat("p", (i*7+k)%200))
				}
				first, err := j.Append(context.Background(), batch)
				if err != nil {
					fmt.Fprintln(os.Stderr, err)
					os.Exit(2)
				}
				var b strings.Builder
				for k, rec := range batch {
					fmt.Fprintf(&b, "%d %s\n", first+uint64(k), rec)
				}
				out.Lock()
				io.WriteString(os.Stdout, b.String())
				out.Unlock()
			}
		})
	}
	wg.Wait()
}

// TestCrash kills a process that is appending with SIGKILL at a random moment
// and checks that every acknowledged record is on disk with its content.
func TestCrash(t *testing.T) {
	if os.Getenv(crashEnv) != "" {
		t.Skip("already the child")
	}
	for round := range 3 {
		t.Run(fmt.Sprintf("round %d", round), func(t *testing.T) {
			dir := t.TempDir()
			acked := runAndKill(t, dir, time.Duration(50+rand.IntN(300))*time.Millisecond)
			if len(acked) == 0 {
				t.Fatal("child acknowledged nothing before it was killed")
			}
			j := open(t, dir, journal.Options{})
			got := map[uint64]string{}
			err := j.Replay(1, func(seq uint64, rec []byte) error {
				got[seq] = string(rec)
				return nil
			})
			if err != nil {
				t.Fatalf("Replay after kill: %v", err)
			}
			for seq, want := range acked {
				if got[seq] != want {
					t.Fatalf("acknowledged seq %d = %q after kill, want %q", seq, got[seq], want)
				}
			}
			if uint64(len(got)) != j.LastSeq() {
				t.Fatalf("replayed %d records, LastSeq %d", len(got), j.LastSeq())
			}
			t.Logf("%d acknowledged, %d on disk", len(acked), len(got))
		})
	}
}

// runAndKill starts the child, lets it append for d after its first
// acknowledgement, kills it with SIGKILL and returns what it acknowledged.
func runAndKill(t *testing.T, dir string, d time.Duration) map[uint64]string {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestCrashChild$", "-test.count=1")
	cmd.Env = append(os.Environ(), crashEnv+"="+dir)
	cmd.Stderr = os.Stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	acked := map[uint64]string{}
	started := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		readAcks(stdout, acked, started)
	}()
	select {
	case <-started:
	case <-time.After(30 * time.Second):
		cmd.Process.Kill()
		t.Fatal("child did not acknowledge anything within 30s")
	}
	time.Sleep(d)
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	<-done
	cmd.Wait()
	return acked
}

// readAcks parses complete "seq record" lines; a line cut by the kill has no
// newline and is ignored. It closes started at the first acknowledgement, or
// when the child's output ends.
func readAcks(r io.Reader, acked map[uint64]string, started chan struct{}) {
	var once sync.Once
	defer once.Do(func() { close(started) })
	br := bufio.NewReader(r)
	for {
		line, err := br.ReadString('\n')
		if err != nil {
			return
		}
		seqText, rec, ok := strings.Cut(strings.TrimSuffix(line, "\n"), " ")
		seq, perr := strconv.ParseUint(seqText, 10, 64)
		if !ok || perr != nil {
			continue
		}
		acked[seq] = rec
		once.Do(func() { close(started) })
	}
}
