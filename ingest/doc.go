// Package ingest decodes login events and account changes into
// firebreak.Event.
//
// Three formats are accepted: the native NDJSON event of the design (see
// ParseNative), OCSF Authentication and Account Change events (class_uid 3002
// and 3001, see ParseOCSF) and the CSV layout of the public RBA login data set (see Decoder with FormatRBA).
// docs/event-format.md documents every field of every format and the
// rejection rules.
//
// Every rejection is a *firebreak.FieldError naming the field and the reason;
// the Decoder adds the line. A Decoder keeps going after a bad line, so valid
// lines in the same stream are still decoded.
package ingest
