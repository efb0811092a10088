package idp

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"

	"firebreak"
)

// simClient speaks to a simulated provider served by NewSimHandler.
type simClient struct {
	base string
	hc   *http.Client
}

// NewSimClient returns a connector for the simulated provider at baseURL
// (e.g. "http://127.0.0.1:9090"). A nil hc gets a client with a 10s
// timeout and a keep-alive pool sized for about 64 concurrent callers.
//
// Outcomes: 429 and 503 are CallNotApplied with the Retry-After, any other
// 5xx CallNotApplied (the simulated provider fails only before acting),
// 404 and other 4xx CallRejected, and a timeout, a reset connection or a
// garbled answer CallUnknown.
func NewSimClient(baseURL string, hc *http.Client) firebreak.Connector {
	if hc == nil {
		hc = newHTTPClient(0)
	}
	return &simClient{base: strings.TrimRight(baseURL, "/"), hc: hc}
}

func (c *simClient) Name() string { return "simhttp" }

func (c *simClient) Apply(ctx context.Context, req firebreak.ActionRequest) error {
	return c.act(ctx, http.MethodPost, req)
}

func (c *simClient) Revert(ctx context.Context, req firebreak.ActionRequest) error {
	return c.act(ctx, http.MethodDelete, req)
}

func (c *simClient) act(ctx context.Context, method string, req firebreak.ActionRequest) error {
	body, err := json.Marshal(simRequest{Key: req.Key, Until: req.Until, Reason: req.Reason})
	if err != nil {
		return providerErr(firebreak.CallNotApplied, 0, "encode request: "+err.Error())
	}
	u := c.base + "/v1/targets/" + url.PathEscape(req.Target) + "/actions/" + url.PathEscape(string(req.Action))
	status, answer, err := c.do(ctx, method, u, body)
	if err != nil {
		return err
	}
	var ok struct{ OK bool }
	if err := json.Unmarshal(answer, &ok); err != nil || !ok.OK {
		if err == nil {
			err = errNotOK
		}
		return garbled(status, "apply/revert", err)
	}
	return nil
}

func (c *simClient) Observe(ctx context.Context, target string, source bool) (firebreak.TargetState, error) {
	u := c.base + "/v1/targets/" + url.PathEscape(target)
	if source {
		u += "?source=1"
	}
	status, answer, err := c.do(ctx, http.MethodGet, u, nil)
	if err != nil {
		return firebreak.TargetState{}, err
	}
	return decodeState(status, answer)
}

// do sends one request and classifies a failed answer.
func (c *simClient) do(ctx context.Context, method, u string, body []byte) (int, []byte, error) {
	hreq, err := http.NewRequestWithContext(ctx, method, u, bytes.NewReader(body))
	if err != nil {
		return 0, nil, providerErr(firebreak.CallRejected, 0, "bad request: "+err.Error())
	}
	if body != nil {
		hreq.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.hc.Do(hreq)
	if err != nil {
		return 0, nil, sendErr(ctx, err)
	}
	answer, err := readAnswer(resp)
	if err != nil {
		return 0, nil, err
	}
	switch s := resp.StatusCode; {
	case s >= 200 && s < 300:
		return s, answer, nil
	case s == http.StatusTooManyRequests || s == http.StatusServiceUnavailable:
		return 0, nil, refusedBefore(resp, answer)
	case s >= 500:
		return 0, nil, providerErr(firebreak.CallNotApplied, s, answerReason(answer, "server error"))
	case s == http.StatusNotFound:
		return 0, nil, providerErr(firebreak.CallRejected, s, answerReason(answer, "unknown account"))
	case s >= 400:
		return 0, nil, providerErr(firebreak.CallRejected, s, answerReason(answer, http.StatusText(s)))
	}
	return 0, nil, providerErr(firebreak.CallUnknown, resp.StatusCode, "unexpected answer "+resp.Status)
}
