package sqlite_test

import (
	"context"
	"fmt"
	"testing"

	"firebreak"
	"firebreak/sqlite"
)

// benchAccounts is the size of the incident the read benchmarks page through.
const benchAccounts = 200_000

func benchIncident(b *testing.B, n int) (*sqlite.IncidentStore, int64) {
	b.Helper()
	s, ctx := sqlite.NewIncidentStore(openDB(b)), context.Background()
	inc := &firebreak.Incident{Kind: firebreak.KindCredentialStuffing, Severity: firebreak.SeverityHigh,
		Title: "bench", FirstSeen: fixedNow, LastSeen: fixedNow}
	if err := s.Create(ctx, inc, nil, firebreak.SystemActor); err != nil {
		b.Fatal(err)
	}
	batch := make([]firebreak.AffectedAccount, 0, firebreak.MaxBatch)
	for i := range n {
		batch = append(batch, firebreak.AffectedAccount{Account: fmt.Sprintf("u%07d", i), Tier: firebreak.Tiers[min(i%50, 2)],
			Confidence: 0.5, Evidence: "12 failures from the campaign's /24", FirstSeen: fixedNow, LastSeen: fixedNow})
		if len(batch) == cap(batch) || i == n-1 {
			if err := s.UpsertAccounts(ctx, inc.ID, batch); err != nil {
				b.Fatal(err)
			}
			batch = batch[:0]
		}
	}
	return s, inc.ID
}

// BenchmarkUpsertAccounts writes batches of 1,000 new accounts.
func BenchmarkUpsertAccounts(b *testing.B) {
	s, id := benchIncident(b, 0)
	ctx, next := context.Background(), 0
	batch := make([]firebreak.AffectedAccount, 1000)
	b.ReportAllocs()
	for b.Loop() {
		for i := range batch {
			batch[i] = firebreak.AffectedAccount{Account: fmt.Sprintf("n%09d", next), Tier: firebreak.TierTargeted,
				Confidence: 0.3, FirstSeen: fixedNow, LastSeen: fixedNow}
			next++
		}
		if err := s.UpsertAccounts(ctx, id, batch); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(next), "ns/account")
}

// BenchmarkListAccounts reads one page of 100 accounts with the tier counts
// from an incident of benchAccounts accounts: the first page, and one deep
// in the last tier.
func BenchmarkListAccounts(b *testing.B) {
	s, id := benchIncident(b, benchAccounts)
	ctx := context.Background()
	deep := firebreak.AccountFilter{Limit: 100}
	for range benchAccounts / 2 / 100 {
		page, err := s.ListAccounts(ctx, id, deep)
		if err != nil {
			b.Fatal(err)
		}
		deep.Cursor = page.Next
	}
	for name, f := range map[string]firebreak.AccountFilter{"first": {Limit: 100}, "deep": deep,
		"tier": {Tier: firebreak.TierCompromised, Limit: 100}} {
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				page, err := s.ListAccounts(ctx, id, f)
				if err != nil || len(page.Accounts) != 100 {
					b.Fatalf("ListAccounts = %d accounts, %v", len(page.Accounts), err)
				}
			}
		})
	}
	b.Run("find", func(b *testing.B) {
		for b.Loop() {
			if _, err := s.Find(ctx, id); err != nil {
				b.Fatal(err)
			}
		}
	})
}
