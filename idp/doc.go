// Package idp holds Firebreak's identity-provider connectors: the ways a
// containment run signs people out, requires a reset or step-up, locks an
// account or blocks a source at the provider that owns the accounts.
//
// Every connector implements firebreak.Connector and classifies each failed
// call by what it may have done (firebreak.CallOutcome): CallNotApplied when
// the provider refused before acting (safe to retry), CallRejected when the
// call can never succeed, and CallUnknown when the effect may or may not be
// in place, so that the executor reads the provider's state (Observe) before
// it retries and never applies an action twice.
//
// The connectors:
//
//   - Sim: an in-process simulated provider that counts every effect, with
//     fault injection (5xx, 429 bursts, latency, answers lost after the
//     effect). NewSimHandler serves it over HTTP; NewSimClient speaks to it.
//   - Webhook: a generic signed JSON webhook (HMAC-SHA256), with
//     VerifySignature for receivers.
//   - Keycloak: the Keycloak Admin REST API.
//   - Kratos: the Ory Kratos admin API.
//
// Open builds one from a Config. docs/connectors.md describes each in full.
package idp
