package http

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"io"
	nethttp "net/http"
	"strings"
	"time"

	"firebreak"
	"firebreak/ingest"
)

// DefaultBatchSize is how many events Client.Ingest sends per request.
const DefaultBatchSize = 1000

var _ firebreak.IngestService = (*Client)(nil)

// Client implements firebreak.IngestService over the HTTP API.
type Client struct {
	URL        string // base URL, e.g. "http://localhost:8080"
	Token      string // bearer token; empty sends none
	HTTPClient *nethttp.Client
	BatchSize  int // events per request (default DefaultBatchSize)
}

// NewClient returns a client of the server at url.
func NewClient(url, token string) *Client {
	return &Client{
		URL:        strings.TrimSuffix(url, "/"),
		Token:      token,
		HTTPClient: &nethttp.Client{Timeout: 60 * time.Second},
		BatchSize:  DefaultBatchSize,
	}
}

// Ingest posts events in gzip-compressed NDJSON batches and returns once the
// server holds them durably. It stops at the first batch that fails: batches
// before it stay accepted. A batch with invalid events has its valid events
// accepted, and Ingest reports the first invalid one as EINVALID naming its
// index in events. Overload comes back as ETOOMANYREQUEST or EUNAVAILABLE,
// with nothing of that batch accepted.
func (c *Client) Ingest(ctx context.Context, events []firebreak.Event) error {
	size := c.BatchSize
	if size <= 0 {
		size = DefaultBatchSize
	}
	var buf bytes.Buffer
	for start := 0; start < len(events); start += size {
		batch := events[start:min(start+size, len(events))]
		if err := gzipNDJSON(&buf, batch); err != nil {
			return err
		}
		var res EventsResponse
		if err := c.do(ctx, "POST", "/api/v1/events", mediaNDJSON, true, &buf, &res); err != nil {
			return err
		}
		if res.Rejected > 0 && len(res.Errors) > 0 {
			fe := res.Errors[0]
			return firebreak.Errorf(firebreak.EINVALID, "event %d: %s", start+fe.Line-1, (&firebreak.FieldError{Field: fe.Field, Reason: fe.Reason}).Error())
		}
	}
	return nil
}

// gzipNDJSON encodes events as gzip-compressed NDJSON into buf.
func gzipNDJSON(buf *bytes.Buffer, events []firebreak.Event) error {
	buf.Reset()
	zw := gzip.NewWriter(buf)
	line := make([]byte, 0, 512)
	for i := range events {
		line = append(ingest.AppendNative(line[:0], &events[i]), '\n')
		if _, err := zw.Write(line); err != nil {
			return fmt.Errorf("compress events: %w", err)
		}
	}
	if err := zw.Close(); err != nil {
		return fmt.Errorf("compress events: %w", err)
	}
	return nil
}

// Score posts one event and returns the server's verdict.
func (c *Client) Score(ctx context.Context, e firebreak.Event) (firebreak.Assessment, firebreak.Thresholds, error) {
	var res ScoreResponse
	body := bytes.NewBuffer(ingest.AppendNative(nil, &e))
	if err := c.do(ctx, "POST", "/api/v1/score", mediaJSON, false, body, &res); err != nil {
		return firebreak.Assessment{}, firebreak.Thresholds{}, err
	}
	d, ok := parseDecision(res.Decision)
	if !ok {
		return firebreak.Assessment{}, firebreak.Thresholds{}, fmt.Errorf("score: unknown decision %q", res.Decision)
	}
	return firebreak.Assessment{Score: res.Score, Decision: d, Reasons: res.Reasons}, res.Thresholds, nil
}

// Stats returns the server's statistics, or zero statistics when the server
// cannot be reached: the interface has no room for an error. Use FetchStats
// to see the error.
func (c *Client) Stats() firebreak.EngineStats {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	st, _ := c.FetchStats(ctx)
	return st
}

// FetchStats returns the server's statistics.
func (c *Client) FetchStats(ctx context.Context) (firebreak.EngineStats, error) {
	var st firebreak.EngineStats
	err := c.do(ctx, "GET", "/api/v1/stats", "", false, nil, &st)
	return st, err
}

// do sends one request and decodes a JSON response into v, or an error
// response into a *firebreak.Error.
func (c *Client) do(ctx context.Context, method, path, media string, gzipped bool, body io.Reader, v any) error {
	req, err := nethttp.NewRequestWithContext(ctx, method, c.URL+path, body)
	if err != nil {
		return fmt.Errorf("%s %s: %w", method, path, err)
	}
	if media != "" {
		req.Header.Set("Content-Type", media)
	}
	if gzipped {
		req.Header.Set("Content-Encoding", "gzip")
	}
	if c.Token != "" {
		req.Header.Set("Authorization", "Bearer "+c.Token)
	}
	req.Header.Set("Accept", "application/json")
	hc := c.HTTPClient
	if hc == nil {
		hc = nethttp.DefaultClient
	}
	resp, err := hc.Do(req)
	if err != nil {
		return fmt.Errorf("%s %s: %w", method, path, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode >= 300 {
		return responseError(resp)
	}
	if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
		return fmt.Errorf("%s %s: decode response: %w", method, path, err)
	}
	return nil
}

// responseError turns an error response into a *firebreak.Error, taking the
// code from the body or, failing that, from the status.
func responseError(resp *nethttp.Response) error {
	var res ErrorResponse
	data, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err := json.Unmarshal(data, &res); err != nil || res.Code == "" {
		res.Code = FromErrorStatusCode(resp.StatusCode)
		res.Error = strings.TrimSpace(string(data))
	}
	if res.Error == "" {
		res.Error = resp.Status
	}
	if len(res.Errors) > 0 && res.Code == firebreak.EINVALID {
		res.Error = fmt.Sprintf("%s (%s)", res.Error, res.Errors[0].Error())
	}
	return &firebreak.Error{Code: res.Code, Message: res.Error}
}
