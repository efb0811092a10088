package storetest

import (
	"context"
	"reflect"
	"strings"
	"testing"

	"firebreak"
)

func testAddSources(t *testing.T, open Opener) {
	s, ctx := open(t), context.Background()
	inc := create(t, s)
	add := []firebreak.IncidentSource{
		{Kind: firebreak.SourceIP, Value: "192.0.2.1", Attempts: 200, Failures: 200, Accounts: 400, Evidence: "newer"},
		{Kind: firebreak.SourceASN, Value: "64500", Attempts: 50, Failures: 10, Accounts: 40, Evidence: "residential proxies"},
		{Kind: firebreak.SourceFingerprint, Value: "python-requests/2.31 every 2s", Attempts: 20, Failures: 20, Accounts: 20},
	}
	if err := s.AddSources(ctx, inc.ID, add); err != nil {
		t.Fatal(err)
	}
	want := []firebreak.IncidentSource{newIncident().Sources[0],
		{Kind: firebreak.SourceIP, Value: "192.0.2.1", Attempts: 300, Failures: 290, Accounts: 400, Evidence: "newer"}, add[1], add[2]}
	if got := find(t, s, inc.ID).Sources; !reflect.DeepEqual(got, want) {
		t.Fatalf("sources = %+v\nwant %+v (counters keep the larger total, newest evidence, most attempts first)", got, want)
	}
	entries := timeline(t, s, inc.ID)
	last := entries[len(entries)-1]
	if len(entries) != 2 || last.Kind != firebreak.EntrySourceAdded || !strings.Contains(last.Message, "64500") {
		t.Fatalf("timeline = %+v, want opened and a source_added naming the new sources", entries)
	}
	if err := s.AddSources(ctx, inc.ID, add[:1]); err != nil {
		t.Fatal(err)
	}
	if n := len(timeline(t, s, inc.ID)); n != 2 {
		t.Errorf("updating a known source wrote %d timeline entries", n-2)
	}
	bad := []struct {
		name  string
		src   firebreak.IncidentSource
		field string
	}{
		{"asn with a prefix", firebreak.IncidentSource{Kind: firebreak.SourceASN, Value: "AS64500"}, "sources[0].value"},
		{"upper-case IPv6", firebreak.IncidentSource{Kind: firebreak.SourceIP, Value: "2001:DB8::1"}, "sources[0].value"},
		{"unknown kind", firebreak.IncidentSource{Kind: "country", Value: "NO"}, "sources[0].kind"},
		{"negative counter", firebreak.IncidentSource{Kind: firebreak.SourceIP, Value: "192.0.2.9", Accounts: -1}, "sources[0].accounts"},
	}
	for _, tt := range bad {
		t.Run(tt.name, func(t *testing.T) {
			wantField(t, s.AddSources(ctx, inc.ID, []firebreak.IncidentSource{tt.src}), tt.field)
		})
	}
	wantCode(t, s.AddSources(ctx, inc.ID+100, add), firebreak.ENOTFOUND)
	wantCode(t, s.AddSources(ctx, walk(t, s, firebreak.StateResolved).ID, add), firebreak.ECONFLICT)
}

func testTimeline(t *testing.T, open Opener) {
	s, ctx := open(t), context.Background()
	inc := create(t, s)
	note := firebreak.TimelineEntry{Actor: "alice", Kind: firebreak.EntryNote,
		Message: "Called the ISP abuse desk.\nTicket opened.", Data: map[string]any{"ticket": "INC-7"}}
	got, err := s.AddEntry(ctx, inc.ID, note)
	if err != nil {
		t.Fatal(err)
	}
	if got.ID <= 0 || got.IncidentID != inc.ID || got.Time.IsZero() || got.Message != note.Message {
		t.Fatalf("AddEntry returned %+v", got)
	}
	entries := timeline(t, s, inc.ID)
	if len(entries) != 2 || entries[0].Kind != firebreak.EntryOpened || !reflect.DeepEqual(entries[1], *got) {
		t.Fatalf("timeline = %+v, want opened then %+v", entries, *got)
	}
	if entries[1].Time.Before(entries[0].Time) || entries[0].ID == entries[1].ID {
		t.Errorf("entries out of order: %+v", entries)
	}
	bad := []struct {
		name   string
		change func(e *firebreak.TimelineEntry)
		field  string
	}{
		{"kind with capitals", func(e *firebreak.TimelineEntry) { e.Kind = "Note" }, "kind"},
		{"no kind", func(e *firebreak.TimelineEntry) { e.Kind = "" }, "kind"},
		{"no message", func(e *firebreak.TimelineEntry) { e.Message = "" }, "message"},
		{"no actor", func(e *firebreak.TimelineEntry) { e.Actor = "" }, "actor"},
		{"data not JSON", func(e *firebreak.TimelineEntry) { e.Data = map[string]any{"c": make(chan int)} }, "data"},
		{"data too large", func(e *firebreak.TimelineEntry) {
			e.Data = map[string]any{"x": strings.Repeat("x", firebreak.MaxDataLen)}
		}, "data"},
	}
	for _, tt := range bad {
		t.Run(tt.name, func(t *testing.T) {
			e := note
			tt.change(&e)
			_, err := s.AddEntry(ctx, inc.ID, e)
			wantField(t, err, tt.field)
		})
	}
	if n := len(timeline(t, s, inc.ID)); n != 2 {
		t.Fatalf("refused entries were stored: %d entries", n)
	}
	_, err = s.AddEntry(ctx, inc.ID+100, note)
	wantCode(t, err, firebreak.ENOTFOUND)
	_, err = s.Timeline(ctx, inc.ID+100)
	wantCode(t, err, firebreak.ENOTFOUND)
}
