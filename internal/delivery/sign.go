// Package delivery carries the service's case changes to the courts: it
// fans the outbox out into one delivery per matching webhook endpoint,
// sends each as a signed Standard Webhooks message (retrying with backoff,
// in version order per case), keeps the endpoints' secrets encrypted, and
// refuses targets the operator has not allowed.
package delivery

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// The Standard Webhooks headers (https://www.standardwebhooks.com/).
const (
	HeaderID        = "webhook-id"
	HeaderTimestamp = "webhook-timestamp"
	HeaderSignature = "webhook-signature"
)

// SecretPrefix starts every signing secret shown to a receiver.
const SecretPrefix = "whsec_"

// secretBytes is the length of a generated signing key: 24 bytes, as the
// specification suggests (between 24 and 64).
const secretBytes = 24

// NewSecret returns a fresh signing secret, "whsec_" followed by the
// base64 of 24 random bytes.
func NewSecret() (string, error) {
	b := make([]byte, secretBytes)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("generate webhook secret: %w", err)
	}
	return SecretPrefix + base64.StdEncoding.EncodeToString(b), nil
}

// SecretKey returns the HMAC key of a secret: the base64-decoded part
// after "whsec_" (the prefix is optional).
func SecretKey(secret string) ([]byte, error) {
	key, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(secret, SecretPrefix))
	if err != nil || len(key) == 0 {
		return nil, errors.New("a webhook secret is whsec_ followed by base64")
	}
	return key, nil
}

// Sign returns the v1 signature of a message: "v1," and the base64 of
// HMAC-SHA256 over "{id}.{timestamp}.{body}" with key.
func Sign(key []byte, id string, timestamp time.Time, body []byte) string {
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte(id))
	mac.Write([]byte{'.'})
	mac.Write([]byte(strconv.FormatInt(timestamp.Unix(), 10)))
	mac.Write([]byte{'.'})
	mac.Write(body)
	return "v1," + base64.StdEncoding.EncodeToString(mac.Sum(nil))
}

// SignatureHeader signs a message with each key (the current secret and,
// during a rotation, the previous one) and joins the signatures with
// spaces, as the webhook-signature header carries them.
func SignatureHeader(keys [][]byte, id string, timestamp time.Time, body []byte) string {
	sigs := make([]string, len(keys))
	for i, k := range keys {
		sigs[i] = Sign(k, id, timestamp, body)
	}
	return strings.Join(sigs, " ")
}

// Verify checks a received message as a receiver would: the headers are
// present, the timestamp is within tolerance of now (tolerance 0 skips
// that check), and one of the v1 signatures matches secret. It is what
// the README's receiver example does, and what the tests' receivers use.
func Verify(secret string, h http.Header, body []byte, now time.Time, tolerance time.Duration) error {
	key, err := SecretKey(secret)
	if err != nil {
		return err
	}
	id, ts, sigs := h.Get(HeaderID), h.Get(HeaderTimestamp), h.Get(HeaderSignature)
	if id == "" || ts == "" || sigs == "" {
		return errors.New("missing webhook-id, webhook-timestamp or webhook-signature")
	}
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return fmt.Errorf("webhook-timestamp %q is not a Unix time", ts)
	}
	at := time.Unix(sec, 0)
	if tolerance > 0 && (now.Sub(at) > tolerance || at.Sub(now) > tolerance) {
		return fmt.Errorf("webhook-timestamp %s is more than %s from now", at.UTC().Format(time.RFC3339), tolerance)
	}
	want := Sign(key, id, at, body)
	for s := range strings.FieldsSeq(sigs) {
		if hmac.Equal([]byte(s), []byte(want)) {
			return nil
		}
	}
	return errors.New("no signature matches")
}
