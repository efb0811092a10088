package http

import (
	"errors"
	"fmt"
	nethttp "net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"firebreak"
)

// metrics are the server's Prometheus collectors.
type metrics struct {
	requests       *prometheus.CounterVec
	duration       *prometheus.HistogramVec
	eventsAccepted prometheus.Counter
	eventsRejected prometheus.Counter
	handler        nethttp.Handler
}

// newMetrics creates the collectors and registers them, with a collector of
// the engine's statistics, on reg.
func newMetrics(reg *prometheus.Registry, engine firebreak.IngestService) (*metrics, error) {
	m := &metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "firebreak_http_requests_total",
			Help: "HTTP requests by route pattern and status code.",
		}, []string{"route", "code"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "firebreak_http_request_duration_seconds",
			Help:    "HTTP request duration by route pattern and status code.",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5},
		}, []string{"route", "code"}),
		eventsAccepted: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "firebreak_http_events_accepted_total",
			Help: "Events accepted (durably ingested) through POST /api/v1/events.",
		}),
		eventsRejected: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "firebreak_http_events_rejected_total",
			Help: "Event lines rejected as invalid by POST /api/v1/events.",
		}),
		handler: promhttp.HandlerFor(reg, promhttp.HandlerOpts{}),
	}
	var errs []error
	for _, c := range []prometheus.Collector{m.requests, m.duration, m.eventsAccepted, m.eventsRejected, newStatsCollector(engine)} {
		if err := reg.Register(c); err != nil {
			errs = append(errs, err)
		}
	}
	if err := errors.Join(errs...); err != nil {
		return m, fmt.Errorf("register metrics: %w", err)
	}
	return m, nil
}

func (m *metrics) observeRequest(route string, status int, d time.Duration) {
	code := strconv.Itoa(status)
	m.requests.WithLabelValues(route, code).Inc()
	m.duration.WithLabelValues(route, code).Observe(d.Seconds())
}

// statsCollector exports the engine's statistics. It reads Stats once per
// scrape so that every value comes from the same snapshot.
type statsCollector struct {
	engine                                         firebreak.IngestService
	events, accounts, queue, rate, budget, ready   *prometheus.Desc
	decisions, threshold, journalSeq, observations *prometheus.Desc
}

func newStatsCollector(engine firebreak.IngestService) *statsCollector {
	desc := func(name, help string, labels ...string) *prometheus.Desc {
		return prometheus.NewDesc("firebreak_engine_"+name, help, labels, nil)
	}
	return &statsCollector{
		engine:       engine,
		events:       desc("events_total", "Events scored since start, journal replay included."),
		accounts:     desc("accounts", "Accounts with a profile."),
		queue:        desc("queue_length", "Events journaled but not yet scored."),
		rate:         desc("challenge_rate", "Share of successful logins challenged or denied."),
		budget:       desc("challenge_budget", "Share of successful logins the policy may challenge."),
		ready:        desc("ready", "1 once the journal replay has finished."),
		decisions:    desc("decisions_total", "Decisions on successful logins by kind.", "decision"),
		threshold:    desc("threshold", "Score threshold in force, by decision and source.", "decision", "source"),
		journalSeq:   desc("journal_seq", "Last durable journal sequence number."),
		observations: desc("threshold_observations", "Scores the threshold sketch has seen."),
	}
}

// Describe implements prometheus.Collector.
func (c *statsCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{c.events, c.accounts, c.queue, c.rate, c.budget, c.ready, c.decisions, c.threshold, c.journalSeq, c.observations} {
		ch <- d
	}
}

// Collect implements prometheus.Collector.
func (c *statsCollector) Collect(ch chan<- prometheus.Metric) {
	if c.engine == nil {
		return
	}
	st := c.engine.Stats()
	gauge := func(d *prometheus.Desc, v float64, labels ...string) {
		ch <- constMetric(d, prometheus.GaugeValue, v, labels...)
	}
	counter := func(d *prometheus.Desc, v float64, labels ...string) {
		ch <- constMetric(d, prometheus.CounterValue, v, labels...)
	}
	counter(c.events, float64(st.Events))
	gauge(c.accounts, float64(st.Accounts))
	gauge(c.queue, float64(st.QueueLength))
	gauge(c.rate, st.Challenged)
	gauge(c.budget, st.Budget)
	gauge(c.ready, boolFloat(st.Ready))
	gauge(c.journalSeq, float64(st.JournalSeq))
	gauge(c.observations, float64(st.Thresholds.Observed))
	gauge(c.threshold, st.Thresholds.Challenge, "challenge", st.Thresholds.Source)
	gauge(c.threshold, st.Thresholds.Deny, "deny", st.Thresholds.Source)
	for _, d := range []string{"allow", "challenge", "deny"} {
		counter(c.decisions, float64(st.Decisions[d]), d)
	}
}

// constMetric is prometheus.MustNewConstMetric without the panic: a label
// value that is not valid UTF-8 makes the scrape report an error instead.
func constMetric(d *prometheus.Desc, t prometheus.ValueType, v float64, labels ...string) prometheus.Metric {
	m, err := prometheus.NewConstMetric(d, t, v, labels...)
	if err != nil {
		return prometheus.NewInvalidMetric(d, err)
	}
	return m
}

func boolFloat(b bool) float64 {
	if b {
		return 1
	}
	return 0
}
