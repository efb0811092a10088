package ingest_test

import (
	"bytes"
	"fmt"
	"io"
	"net/netip"
	"testing"
	"time"

	"firebreak"
	"firebreak/ingest"
)

var benchAgents = []string{
	"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/122.0.0.0 Safari/537.36",
	"Mozilla/5.0 (iPhone; CPU iPhone OS 17_3 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.3 Mobile/15E148 Safari/604.1",
	"Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.2 Safari/605.1.15",
}

// benchParsed holds the parsed benchAgents.
var benchParsed = []firebreak.Agent{
	{DeviceType: "desktop", OS: "Windows", Browser: "Chrome", Major: 122},
	{DeviceType: "mobile", OS: "iOS", Browser: "Mobile Safari", Major: 17},
	{DeviceType: "desktop", OS: "Mac OS X", Browser: "Safari", Major: 17},
}

// benchEvent returns a realistic event of about 300 bytes.
func benchEvent(i int) firebreak.Event {
	return firebreak.Event{
		Time:      time.Date(2026, 3, 2, 8, 15, 4, 123e6, time.UTC).Add(time.Duration(i) * 37 * time.Millisecond),
		Account:   fmt.Sprintf("u%07d", i*7919%1000003),
		Outcome:   firebreak.Outcome(1 + i%7/6),
		IP:        netip.AddrFrom4([4]byte{81, byte(i >> 16), byte(i >> 8), byte(i)}),
		UserAgent: benchAgents[i%len(benchAgents)],
		DeviceID:  fmt.Sprintf("d-%04x", i%65536),
		Country:   "NO", Region: "Viken", City: "Oslo", ASN: 2119,
		Lat: 59.91, Lon: 10.75, HasGeo: true,
		Method: "password", App: "web",
		Label: &firebreak.Label{},
	}
}

func benchInput(n int) []byte {
	var buf []byte
	for i := range n {
		e := benchEvent(i)
		buf = append(ingest.AppendNative(buf, &e), '\n')
	}
	return buf
}

func BenchmarkParseNative(b *testing.B) {
	e := benchEvent(42)
	line := ingest.AppendNative(nil, &e)
	b.SetBytes(int64(len(line)))
	b.ReportAllocs()
	var got firebreak.Event
	for b.Loop() {
		if err := ingest.ParseNative(line, &got, time.Time{}); err != nil {
			b.Fatal(err)
		}
	}
}

// journalEvent is benchEvent with its parsed agent, as the journal writes it.
func journalEvent(i int) firebreak.Event {
	e := benchEvent(i)
	e.Agent = benchParsed[i%len(benchParsed)]
	return e
}

// BenchmarkParseNativeJournal parses a journal line, parsed agent included,
// as the engine's rebuild does.
func BenchmarkParseNativeJournal(b *testing.B) {
	e := journalEvent(42)
	line := ingest.AppendNative(nil, &e)
	b.SetBytes(int64(len(line)))
	b.ReportAllocs()
	var got firebreak.Event
	for b.Loop() {
		if err := ingest.ParseNative(line, &got, time.Time{}); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkAppendNative(b *testing.B) {
	e := benchEvent(42)
	buf := make([]byte, 0, 1024)
	b.ReportAllocs()
	for b.Loop() {
		buf = ingest.AppendNative(buf[:0], &e)
	}
	b.SetBytes(int64(len(buf)))
}

// BenchmarkDecoder decodes 1M NDJSON lines from memory per iteration.
func BenchmarkDecoder(b *testing.B) {
	const lines = 1_000_000
	input := benchInput(lines)
	b.SetBytes(int64(len(input)))
	b.ReportAllocs()
	var e firebreak.Event
	for b.Loop() {
		d := ingest.NewDecoder(bytes.NewReader(input), ingest.Options{Format: ingest.FormatNDJSON})
		n := 0
		for {
			err := d.Next(&e)
			if err == io.EOF {
				break
			}
			if err != nil {
				b.Fatal(err)
			}
			n++
		}
		if n != lines {
			b.Fatalf("decoded %d events, want %d", n, lines)
		}
	}
	b.ReportMetric(float64(lines*b.N)/b.Elapsed().Seconds(), "events/s")
}
