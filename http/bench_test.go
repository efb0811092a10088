package http_test

import (
	"bytes"
	"fmt"
	"net/http/httptest"
	"testing"

	fbhttp "firebreak/http"
	"firebreak/mock"
)

// BenchmarkEvents measures the HTTP layer's cost of POST /api/v1/events with
// 1,000-event NDJSON batches through Handler, the engine being a fake that
// accepts instantly: decoding, validation, limits, metrics and the response.
func BenchmarkEvents(b *testing.B) {
	var batch bytes.Buffer
	for i := range 1000 {
		fmt.Fprintf(&batch, `{"time":"2026-03-02T08:%02d:%02d.123Z","account":"u%07d","outcome":"success","ip":"81.23.%d.%d",`+
			`"user_agent":"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36",`+
			`"device_id":"d-%06x","country":"NO","region":"Viken","city":"Oslo","asn":2119,"lat":59.91,"lon":10.75,"method":"password","app":"web"}`+"\n",
			i/60%60, i%60, i*7919%1000000, i/256%256, i%256, i)
	}
	for _, bc := range []struct {
		name     string
		body     []byte
		encoding string
	}{
		{"ndjson", batch.Bytes(), ""},
		{"ndjson-gzip", gzipped(b, batch.Bytes()), "gzip"},
	} {
		b.Run(bc.name, func(b *testing.B) {
			s := fbhttp.NewServer(fbhttp.Config{Ingest: &mock.IngestService{}, Logins: &mock.LoginService{}})
			defer s.Close()
			h := s.Handler()
			b.SetBytes(int64(batch.Len()))
			b.ReportAllocs()
			for b.Loop() {
				r := httptest.NewRequest("POST", "/api/v1/events", bytes.NewReader(bc.body))
				r.Header.Set("Content-Type", "application/x-ndjson")
				if bc.encoding != "" {
					r.Header.Set("Content-Encoding", bc.encoding)
				}
				w := httptest.NewRecorder()
				h.ServeHTTP(w, r)
				if w.Code != 202 {
					b.Fatalf("status %d: %s", w.Code, w.Body)
				}
			}
			b.ReportMetric(float64(b.N)*1000/b.Elapsed().Seconds(), "events/s")
		})
	}
}
