package server

import (
	"net/netip"
	"time"

	"github.com/mediationd/mediationd/internal/delivery"
)

// WebhookOptions configure the courts' webhooks (package delivery).
type WebhookOptions struct {
	// Deliver runs the outbox dispatcher and the senders on this replica;
	// false serves the WebhookService API only (the messages wait for a
	// replica that delivers).
	Deliver bool
	// Keys encrypt the endpoints' signing secrets; nil refuses to register
	// endpoints with FAILED_PRECONDITION saying how to configure a key.
	Keys *delivery.Keyring
	// AllowedNetworks may be called although private, loopback or
	// link-local, over https or plain http.
	AllowedNetworks []netip.Prefix
	// Schedule is the delays between attempts; nil = delivery's default.
	Schedule []time.Duration
	// Workers is how many messages this replica sends at once; 0 = 8.
	Workers int
	// Timeout bounds an attempt; 0 = 10s.
	Timeout time.Duration
	// Lease is how long a claimed message stays a sender's; 0 = derived
	// from Timeout.
	Lease time.Duration
	// PollInterval is how often an idle replica looks for work; 0 = 1s.
	PollInterval time.Duration
	// Retention is how long dispatched outbox rows and delivered messages
	// are kept; 0 = 7 days.
	Retention time.Duration
}

// newDelivery builds the delivery service of the server.
func (s *Server) newDelivery() *delivery.Service {
	w := s.cfg.Webhooks
	return delivery.New(s.cfg.Store, delivery.Options{
		Keys:         w.Keys,
		Guard:        delivery.Guard{Allowed: w.AllowedNetworks},
		Schedule:     w.Schedule,
		Workers:      w.Workers,
		Timeout:      w.Timeout,
		Lease:        w.Lease,
		PollInterval: w.PollInterval,
		Retention:    w.Retention,
		Clock:        s.cfg.Clock,
		Logger:       s.log,
		Registerer:   s.metrics.Registry(),
	})
}

// Delivery returns the server's webhook delivery service, for jobs and
// tests that drive it directly.
func (s *Server) Delivery() *delivery.Service { return s.delivery }
