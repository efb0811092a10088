// Package detect recognises attack campaigns in a stream of scored logins:
// credential stuffing, password spraying, brute force, account enumeration,
// impossible travel, and successes that follow a failure burst or come from
// a campaign's sources. It groups findings into campaigns whose affected
// accounts are placed in tiers (compromised, at risk, targeted), and feeds
// source reputation back into the risk score through SourceEvidence.
//
// The package is pure: no I/O, no goroutines, no clocks. Event time drives
// every window. Aggregates live in fixed-size direct-mapped tables whose
// entries decay exponentially, so memory is bounded whatever the traffic.
// A Detector is not safe for concurrent use. docs/detection.md describes the
// statistics and their constants.
package detect
