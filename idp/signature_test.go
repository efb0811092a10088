package idp_test

import (
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"

	"firebreak/idp"
)

func TestVerifySignature(t *testing.T) {
	secret := []byte("s3cret-s3cret-s3cret")
	body := []byte(`{"op":"apply","action":"temporary_lock","target":"alice"}`)
	now := time.Unix(1_780_000_000, 0)
	good := idp.Sign(secret, body, now)
	goodSig := good[strings.Index(good, "v1=")+3:]
	other := idp.Sign([]byte("another-secret-entirely"), body, now)
	otherSig := other[strings.Index(other, "v1=")+3:]
	ts := "t=" + strconv.FormatInt(now.Unix(), 10)
	tests := []struct {
		name   string
		header string
		body   []byte
		now    time.Time
		want   error
	}{
		{"valid", good, body, now, nil},
		{"valid within tolerance", good, body, now.Add(59 * time.Second), nil},
		{"rotation: one of two v1 matches", ts + ",v1=" + otherSig + ",v1=" + goodSig, body, now, nil},
		{"unknown keys ignored", ts + ",v0=zz, v1=" + goodSig, body, now, nil},
		{"missing", "", body, now, idp.ErrSignatureMissing},
		{"no t", "v1=" + goodSig, body, now, idp.ErrSignatureMalformed},
		{"no v1", ts, body, now, idp.ErrSignatureMalformed},
		{"t twice", ts + "," + ts + ",v1=" + goodSig, body, now, idp.ErrSignatureMalformed},
		{"t not a number", "t=soon,v1=" + goodSig, body, now, idp.ErrSignatureMalformed},
		{"short v1", ts + ",v1=abcd", body, now, idp.ErrSignatureMalformed},
		{"not key=value", ts + ",garbage", body, now, idp.ErrSignatureMalformed},
		{"wrong secret", other, body, now, idp.ErrSignatureMismatch},
		{"other body", good, []byte(`{"op":"apply","target":"mallory"}`), now, idp.ErrSignatureMismatch},
		{"stale", good, body, now.Add(2 * time.Minute), idp.ErrSignatureStale},
		{"from the future", good, body, now.Add(-2 * time.Minute), idp.ErrSignatureStale},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := idp.VerifySignature(secret, tt.header, tt.body, tt.now, time.Minute, nil)
			if !errors.Is(err, tt.want) || (tt.want == nil) != (err == nil) {
				t.Fatalf("VerifySignature = %v, want %v", err, tt.want)
			}
		})
	}
	t.Run("replay", func(t *testing.T) {
		seen := idp.NewReplayCache(10)
		if err := idp.VerifySignature(secret, good, body, now, time.Minute, seen); err != nil {
			t.Fatal(err)
		}
		if err := idp.VerifySignature(secret, good, body, now.Add(time.Second), time.Minute, seen); !errors.Is(err, idp.ErrSignatureReplayed) {
			t.Fatalf("second use = %v, want ErrSignatureReplayed", err)
		}
		// A fresh signature of the same body (Firebreak's own retry) passes.
		if err := idp.VerifySignature(secret, idp.Sign(secret, body, now.Add(time.Second)), body, now.Add(time.Second), time.Minute, seen); err != nil {
			t.Fatalf("fresh signature of the same body: %v", err)
		}
	})
	t.Run("full replay cache fails closed", func(t *testing.T) {
		seen := idp.NewReplayCache(1)
		if seen.Seen("a", now, now.Add(time.Minute)) || !seen.Seen("b", now, now.Add(time.Minute)) {
			t.Fatal("a full cache must refuse a new signature")
		}
		if seen.Seen("b", now.Add(2*time.Minute), now.Add(3*time.Minute)) {
			t.Fatal("expired entries must be pruned")
		}
	})
}

// FuzzVerifySignature feeds arbitrary headers to the parser: it must never
// panic, and must accept only what a signer with the secret produced.
func FuzzVerifySignature(f *testing.F) {
	secret := []byte("fuzz-secret-fuzz-secret")
	body := []byte(`{"op":"observe","target":"x"}`)
	now := time.Unix(1_780_000_000, 0)
	f.Add(idp.Sign(secret, body, now))
	f.Add("t=1780000000,v1=" + strings.Repeat("0", 64))
	f.Add("t=,v1=")
	f.Add("t=-1,v1=zz,v1=,=,,")
	f.Add(strings.Repeat("v1=00,", 40))
	signed := idp.Sign(secret, body, now)
	trueSig := signed[strings.Index(signed, "v1=")+3:]
	f.Fuzz(func(t *testing.T, header string) {
		err := idp.VerifySignature(secret, header, body, now, time.Minute, idp.NewReplayCache(4))
		if err == nil && !strings.Contains(strings.ToLower(header), trueSig) {
			t.Fatalf("accepted %q without the true signature", header)
		}
		if err != nil && !errors.Is(err, idp.ErrSignatureMissing) && !errors.Is(err, idp.ErrSignatureMalformed) &&
			!errors.Is(err, idp.ErrSignatureMismatch) && !errors.Is(err, idp.ErrSignatureStale) {
			t.Fatalf("unclassified error %v", err)
		}
	})
}
