package config

import (
	"encoding/base64"
	"errors"
	"fmt"
	"net/netip"
	"strconv"
	"strings"
	"time"
)

// Webhooks is the configuration of the courts' webhooks.
type Webhooks struct {
	// SecretKey is the key (32 bytes) that encrypts the endpoints' signing
	// secrets at rest; nil = none given (see serve: a key file for the
	// private cluster, else registration is refused). Never printed.
	SecretKey []byte
	// AllowedNetworks may be called although private, loopback or
	// link-local, and over plain http.
	AllowedNetworks []netip.Prefix
	// RetrySchedule is the delays between attempts.
	RetrySchedule []time.Duration
	// Deliver runs the dispatcher and senders on this replica.
	Deliver bool
	// Workers is how many messages a replica sends at once.
	Workers int
	// Retention is how long dispatched outbox rows and delivered messages
	// are kept.
	Retention time.Duration
	// Timeout bounds one attempt.
	Timeout time.Duration
	// Lease is how long a claimed message is a replica's before another
	// may send it; longer than Timeout.
	Lease time.Duration
}

// webhookSettings are the webhook rows of Settings.
func webhookSettings() []Setting {
	return []Setting{
		{"secret-key", "MEDIATION_SECRET_KEY", "", "base64 of 32 random bytes (openssl rand -base64 32) encrypting the webhook signing secrets, the same on every replica; empty = a key file in the data directory for the private cluster, and with DATABASE_URL registering webhook endpoints is refused"},
		{"webhook-allowed-networks", "MEDIATION_WEBHOOK_ALLOWED_NETWORKS", "", "comma-separated CIDRs of private, loopback or link-local networks webhooks may be sent to (also over plain http), e.g. a government intranet; empty = https to public addresses only"},
		{"webhook-retry-schedule", "MEDIATION_WEBHOOK_RETRY_SCHEDULE", "5s,5m,30m,2h,5h,10h,14h,20h,24h", "comma-separated delays between the attempts of a webhook (with ±20% jitter); after the last the message is FAILED until :redeliver"},
		{"webhook-delivery", "MEDIATION_WEBHOOK_DELIVERY", "true", "run the webhook dispatcher and senders on this replica (replicas may all run them)"},
		{"webhook-workers", "MEDIATION_WEBHOOK_WORKERS", "8", "how many webhook messages a replica sends at once"},
		{"webhook-retention", "MEDIATION_WEBHOOK_RETENTION", "168h", "how long dispatched outbox rows and delivered webhook messages are kept (the case history is kept for good)"},
		{"webhook-timeout", "MEDIATION_WEBHOOK_TIMEOUT", "10s", "how long one webhook attempt may take, answer included"},
		{"webhook-lease", "MEDIATION_WEBHOOK_LEASE", "30s", "how long a message a replica took stays its own; after a crash another replica sends it again after this (longer than webhook-timeout)"},
	}
}

// parseWebhooks reads the webhook settings through v.
func (c *Config) parseWebhooks(v func(string) string) error {
	w := &c.Webhooks
	if k := v("secret-key"); k != "" {
		key, err := base64.StdEncoding.DecodeString(k)
		if err != nil || len(key) != 32 {
			// The value is a secret: never repeated in a message.
			return errors.New("secret-key / MEDIATION_SECRET_KEY: not the base64 of 32 bytes; make one with `openssl rand -base64 32`")
		}
		w.SecretKey = key
	}
	for f := range strings.SplitSeq(v("webhook-allowed-networks"), ",") {
		if f = strings.TrimSpace(f); f == "" {
			continue
		}
		p, err := netip.ParsePrefix(f)
		if err != nil {
			return fmt.Errorf("webhook-allowed-networks / MEDIATION_WEBHOOK_ALLOWED_NETWORKS: %q is not a CIDR such as 10.20.0.0/16", f)
		}
		w.AllowedNetworks = append(w.AllowedNetworks, p.Masked())
	}
	for f := range strings.SplitSeq(v("webhook-retry-schedule"), ",") {
		d, err := time.ParseDuration(strings.TrimSpace(f))
		if err != nil || d <= 0 {
			return fmt.Errorf("webhook-retry-schedule / MEDIATION_WEBHOOK_RETRY_SCHEDULE: %q is not a positive duration such as 5s or 2h", strings.TrimSpace(f))
		}
		w.RetrySchedule = append(w.RetrySchedule, d)
	}
	var err error
	if w.Deliver, err = strconv.ParseBool(v("webhook-delivery")); err != nil {
		return fmt.Errorf("webhook-delivery / MEDIATION_WEBHOOK_DELIVERY: %q is not true or false", v("webhook-delivery"))
	}
	if w.Workers, err = strconv.Atoi(v("webhook-workers")); err != nil || w.Workers < 1 || w.Workers > 256 {
		return fmt.Errorf("webhook-workers / MEDIATION_WEBHOOK_WORKERS: %q is not a number from 1 to 256", v("webhook-workers"))
	}
	if w.Retention, err = time.ParseDuration(v("webhook-retention")); err != nil || w.Retention < time.Hour {
		return fmt.Errorf("webhook-retention / MEDIATION_WEBHOOK_RETENTION: %q is not a duration of at least 1h, such as 168h", v("webhook-retention"))
	}
	if w.Timeout, err = time.ParseDuration(v("webhook-timeout")); err != nil || w.Timeout <= 0 {
		return fmt.Errorf("webhook-timeout / MEDIATION_WEBHOOK_TIMEOUT: %q is not a positive duration such as 10s", v("webhook-timeout"))
	}
	if w.Lease, err = time.ParseDuration(v("webhook-lease")); err != nil || w.Lease <= w.Timeout {
		return fmt.Errorf("webhook-lease / MEDIATION_WEBHOOK_LEASE: %q is not a duration longer than webhook-timeout (%s), such as 30s", v("webhook-lease"), w.Timeout)
	}
	return nil
}
