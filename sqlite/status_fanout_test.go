package sqlite_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"firebreak"
	"firebreak/sqlite"
)

// TestStatusUpdatesAfter checks that the fan-out's listing walks every
// update once, oldest first, in pages after a cursor, and refuses bad input.
func TestStatusUpdatesAfter(t *testing.T) {
	s := sqlite.NewStatusStore(openDB(t))
	ctx := context.Background()
	var ids []int64
	for i := range 5 {
		u := &firebreak.StatusUpdate{Phase: firebreak.PhaseInvestigating, Title: fmt.Sprintf("Notice %d", i),
			Body: "Body.", Author: "alice", NextUpdateBy: fixedNow.Add(30 * time.Minute)}
		if err := s.Publish(ctx, u); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, u.ID)
	}
	var got []int64
	for after := int64(0); ; {
		page, err := s.UpdatesAfter(ctx, after, 2)
		if err != nil {
			t.Fatal(err)
		}
		if len(page) == 0 {
			break
		}
		for _, u := range page {
			got = append(got, u.ID)
			if u.Title == "" || u.PublishedAt.IsZero() {
				t.Errorf("update %d read back without its fields: %+v", u.ID, u)
			}
		}
		after = page[len(page)-1].ID
	}
	if fmt.Sprint(got) != fmt.Sprint(ids) {
		t.Fatalf("walked %v, want %v", got, ids)
	}
	if rest, err := s.UpdatesAfter(ctx, ids[2], 0); err != nil || len(rest) != 2 || rest[0].ID != ids[3] {
		t.Fatalf("UpdatesAfter(%d, 0) = %+v, %v; want the last two", ids[2], rest, err)
	}
	for _, tt := range []struct {
		after int64
		limit int
	}{{-1, 10}, {0, -1}, {0, firebreak.MaxPageLimit + 1}} {
		if _, err := s.UpdatesAfter(ctx, tt.after, tt.limit); firebreak.ErrorCode(err) != firebreak.EINVALID {
			t.Errorf("UpdatesAfter(%d, %d) err = %v, want EINVALID", tt.after, tt.limit, err)
		}
	}
}
