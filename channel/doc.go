// Package channel delivers notices: e-mail over SMTP, SMS and chat through
// signed webhooks, operator messages through Slack-compatible incoming
// webhooks, and an in-app feed. Each sender implements firebreak.Sender and
// makes one attempt per call; the Dispatcher queues messages per channel,
// limits their rate, retries with backoff, honours 429 and Retry-After, and
// reports every message's delivery state.
//
// Config is the "channels" section of the configuration file; Open turns
// it into a running Dispatcher. See docs/channels.md.
package channel
