package delivery

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/mediationd/mediationd/internal/store"
)

// Options tune the dispatcher and the senders.
type Options struct {
	// Keys encrypt the endpoints' secrets; nil = none configured, which
	// refuses registration (ErrNoSecretKey).
	Keys *Keyring
	// Guard decides which targets may be called.
	Guard Guard
	// Schedule is the delays between attempts; nil = DefaultSchedule.
	Schedule []time.Duration
	// Workers is how many messages one replica sends at once; 0 = 8.
	Workers int
	// Timeout bounds one attempt; 0 = 10s.
	Timeout time.Duration
	// Lease is how long a claimed delivery is a sender's before another
	// replica may take it over; 0 (or not longer than Timeout) =
	// Timeout+20s.
	Lease time.Duration
	// PollInterval is how often an idle replica looks for new outbox rows
	// and due retries; 0 = 250ms.
	PollInterval time.Duration
	// DispatchBatch is how many outbox rows one transaction fans out; 0 =
	// 500.
	DispatchBatch int
	// Retention is how long dispatched outbox rows and delivered
	// deliveries are kept; 0 = 7 days.
	Retention time.Duration
	// PruneInterval is how often the retention runs; 0 = 1h.
	PruneInterval time.Duration
	// PruneBatch is how many rows one pruning statement deletes; 0 = 1000.
	PruneBatch int
	// Clock is the service's clock; nil = time.Now.
	Clock func() time.Time
	// Logger; nil = discarded. Secrets are never logged.
	Logger *slog.Logger
	// Registerer receives the delivery metrics; nil = none.
	Registerer prometheus.Registerer
}

// Service moves the outbox to the courts' endpoints.
type Service struct {
	store   *store.Store
	opt     Options
	log     *slog.Logger
	clients map[string]*http.Client
	wake    chan struct{}
	metrics *serviceMetrics
}

// New returns the service; Run runs it.
func New(st *store.Store, opt Options) *Service {
	if opt.Schedule == nil {
		opt.Schedule, _ = ParseSchedule(DefaultSchedule)
	}
	if opt.Workers <= 0 {
		opt.Workers = 8
	}
	if opt.Timeout <= 0 {
		opt.Timeout = 10 * time.Second
	}
	if opt.Lease <= opt.Timeout {
		opt.Lease = opt.Timeout + 20*time.Second
	}
	if opt.PollInterval <= 0 {
		opt.PollInterval = 250 * time.Millisecond
	}
	if opt.DispatchBatch <= 0 {
		opt.DispatchBatch = 500
	}
	if opt.Retention <= 0 {
		opt.Retention = 7 * 24 * time.Hour
	}
	if opt.PruneInterval <= 0 {
		opt.PruneInterval = time.Hour
	}
	if opt.PruneBatch <= 0 {
		opt.PruneBatch = 1000
	}
	if opt.Clock == nil {
		opt.Clock = time.Now
	}
	if opt.Logger == nil {
		opt.Logger = slog.New(slog.DiscardHandler)
	}
	s := &Service{store: st, opt: opt, log: opt.Logger, clients: opt.Guard.Clients(opt.Timeout), wake: make(chan struct{}, 1)}
	s.metrics = newServiceMetrics(st, opt.Clock, opt.Logger, opt.Registerer)
	return s
}

// Keys returns the keyring of the endpoints' secrets (nil if none).
func (s *Service) Keys() *Keyring { return s.opt.Keys }

// Guard returns the target guard.
func (s *Service) Guard() Guard { return s.opt.Guard }

// Wake makes the dispatcher and senders look for work now, as after a
// change this replica made.
func (s *Service) Wake() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// Run dispatches, sends and prunes until ctx ends. Replicas may all run
// it: the outbox and deliveries are claimed with FOR UPDATE SKIP LOCKED
// and leases, so no message is sent twice at once.
func (s *Service) Run(ctx context.Context) {
	work := make(chan struct{}, s.opt.Workers)
	var wg sync.WaitGroup
	for range s.opt.Workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s.sendLoop(ctx, work)
		}()
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		s.pruneLoop(ctx)
	}()
	t := time.NewTicker(s.opt.PollInterval)
	defer t.Stop()
	var lastPromote time.Time
	// due: deliveries may have become due since the senders last looked
	// (retries, promoted successors): on every tick and wake-up.
	due := true
	for {
		if time.Since(lastPromote) >= promoteInterval {
			lastPromote = time.Now()
			n, err := s.store.PromoteWaitingDeliveries(ctx, s.opt.Clock())
			if err != nil && ctx.Err() == nil {
				s.log.Warn("webhook promote", "error", err.Error())
			}
			due = due || n > 0
		}
		n, created, err := s.dispatch(ctx)
		if err != nil && ctx.Err() == nil {
			s.log.Warn("webhook dispatch", "error", err.Error())
		}
		// Wake every sender for new deliveries, or retries now due; not
		// for outbox rows no endpoint subscribes to, which busy replicas
		// dispatch many times a second: eight senders each claiming
		// nothing cost the service and the database more than the rest
		// of the dispatcher.
		if created > 0 || due {
			for range s.opt.Workers {
				select {
				case work <- struct{}{}:
				default:
				}
			}
		}
		due = false
		if n > 0 {
			// More may wait; a tick that passed meanwhile still counts,
			// so that retries fall due under a steady stream of changes.
			select {
			case <-t.C:
				due = true
			default:
			}
			continue
		}
		select {
		case <-ctx.Done():
			wg.Wait()
			return
		case <-t.C:
		case <-s.wake:
		}
		due = true
	}
}

// Dispatch fans out the outbox until it is empty, and returns how many
// rows it dispatched.
func (s *Service) Dispatch(ctx context.Context) (int, error) {
	n, _, err := s.dispatch(ctx)
	return n, err
}

// dispatch is Dispatch that also returns how many deliveries it created.
func (s *Service) dispatch(ctx context.Context) (rows, created int, err error) {
	for {
		n, deliveries, err := s.store.DispatchOutbox(ctx, s.opt.DispatchBatch, s.opt.Clock())
		rows += n
		created += deliveries
		s.metrics.dispatched(deliveries)
		if err != nil || n < s.opt.DispatchBatch {
			return rows, created, err
		}
	}
}

// promoteInterval is how often the dispatcher looks for waiting
// deliveries whose predecessor was delivered while they were being queued
// (see store.PromoteWaitingDeliveries).
const promoteInterval = 5 * time.Second

// leaseMargin is how much of its lease a claimed message must have left,
// beyond the timeout, to be sent: a send never outlives its lease.
const leaseMargin = 500 * time.Millisecond

// claimBatch is how many deliveries a sender claims at once: fewer claims
// under load, while the others still find work.
const claimBatch = 4

// sendLoop claims and sends deliveries until there are none due, then
// waits for a wake-up.
func (s *Service) sendLoop(ctx context.Context, work <-chan struct{}) {
	for {
		for ctx.Err() == nil {
			n, err := s.SendDue(ctx, claimBatch)
			if err != nil && ctx.Err() == nil {
				s.log.Warn("webhook send", "error", err.Error())
				break
			}
			if n == 0 {
				break
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-work:
		}
	}
}

// SendDue claims at most limit due deliveries, sends them one after the
// other and records each outcome; it returns how many it claimed.
func (s *Service) SendDue(ctx context.Context, limit int) (int, error) {
	claimed, err := s.store.ClaimWebhookDeliveries(ctx, limit, s.opt.Clock(), s.opt.Lease)
	if err != nil {
		return 0, err
	}
	for _, c := range claimed {
		if !s.leaseCovers(c.LeaseUntil) {
			// Earlier sends of the batch were slow: the lease could end
			// during this one and another sender take the message. Leave
			// it; it is claimed again when the lease runs out.
			continue
		}
		r := s.attempt(ctx, c)
		if ctx.Err() != nil {
			// Shutting down: the lease runs out and a replica sends again.
			return len(claimed), nil
		}
		recorded, err := s.store.RecordWebhookAttempt(context.WithoutCancel(ctx), c, r, s.opt.Clock())
		if err != nil {
			return len(claimed), err
		}
		if recorded {
			s.metrics.attempted(r)
		}
		if r.DisableEndpoint != "" {
			s.log.Warn("webhook endpoint disabled", "endpoint", c.EndpointID.String(), "reason", r.DisableEndpoint)
		}
	}
	return len(claimed), nil
}

// leaseCovers reports whether a lease ending at until still covers a
// whole attempt, with leaseMargin to spare.
func (s *Service) leaseCovers(until time.Time) bool {
	return until.Sub(s.opt.Clock()) >= s.opt.Timeout+leaseMargin
}

// attempt sends one message and says what to record.
func (s *Service) attempt(ctx context.Context, c store.ClaimedDelivery) store.AttemptResult {
	status, retryAfter, err := s.send(ctx, c)
	now := s.opt.Clock()
	if err == nil {
		return store.AttemptResult{Delivered: true, HTTPStatus: status}
	}
	r := store.AttemptResult{HTTPStatus: status, Error: err.Error()}
	if status == http.StatusGone {
		r.DisableEndpoint = "the receiver answered 410 Gone: it no longer accepts messages; enable the endpoint again (:enable) once it does"
	}
	delay, again := retryDelay(s.opt.Schedule, c.Attempts+1, retryAfter)
	if !again {
		r.Failed = true
		return r
	}
	r.NextAttempt = now.Add(delay)
	return r
}

// send makes one attempt: the HTTP status (0 if none), the receiver's
// Retry-After, and an error unless it answered 2xx.
func (s *Service) send(ctx context.Context, c store.ClaimedDelivery) (int, time.Duration, error) {
	keys := make([][]byte, 0, len(c.Secrets))
	for _, sealed := range c.Secrets {
		secret, err := s.opt.Keys.Open(sealed)
		if err != nil {
			return 0, 0, err
		}
		key, err := SecretKey(secret)
		if err != nil {
			return 0, 0, err
		}
		keys = append(keys, key)
	}
	if len(keys) == 0 {
		return 0, 0, errors.New("the endpoint has no signing secret: rotate its secret (:rotateSecret)")
	}
	body := []byte(c.Body)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.URL, bytes.NewReader(body))
	if err != nil {
		return 0, 0, fmt.Errorf("build the request: %w", err)
	}
	client := s.clients[req.URL.Scheme]
	if client == nil {
		return 0, 0, fmt.Errorf("scheme %q is not http or https", req.URL.Scheme)
	}
	now := s.opt.Clock()
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "mediationd-webhooks/1")
	req.Header.Set(HeaderID, c.MessageID)
	req.Header.Set(HeaderTimestamp, strconv.FormatInt(now.Unix(), 10))
	req.Header.Set(HeaderSignature, SignatureHeader(keys, c.MessageID, now, body))
	resp, err := client.Do(req)
	if err != nil {
		return 0, 0, describeSendError(err, s.opt.Timeout)
	}
	defer resp.Body.Close()
	snippet, _ := io.ReadAll(io.LimitReader(resp.Body, maxResponseBytes))
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, maxResponseBytes)) // let the connection be reused
	switch {
	case resp.StatusCode >= 200 && resp.StatusCode < 300:
		return resp.StatusCode, 0, nil
	case resp.StatusCode >= 300 && resp.StatusCode < 400:
		return resp.StatusCode, 0, fmt.Errorf("%w: the receiver answered %d to %q; register the final URL", errRedirect, resp.StatusCode, resp.Header.Get("Location"))
	}
	msg := fmt.Sprintf("the receiver answered %s", resp.Status)
	if len(snippet) > 0 {
		msg += ": " + string(bytes.ToValidUTF8(bytes.TrimSpace(snippet[:min(len(snippet), 200)]), nil))
	}
	return resp.StatusCode, parseRetryAfter(resp, now), errors.New(msg)
}

func describeSendError(err error, timeout time.Duration) error {
	var refused *refusedError
	switch {
	case errors.As(err, &refused):
		return refused
	case errors.Is(err, context.DeadlineExceeded) || isTimeout(err):
		return fmt.Errorf("no answer within %s", timeout)
	}
	return fmt.Errorf("could not reach the receiver: %v", err)
}

func isTimeout(err error) bool {
	var t interface{ Timeout() bool }
	return errors.As(err, &t) && t.Timeout()
}

// pruneLoop deletes dispatched outbox rows and delivered deliveries past
// the retention, in batches, every PruneInterval.
func (s *Service) pruneLoop(ctx context.Context) {
	t := time.NewTicker(s.opt.PruneInterval)
	defer t.Stop()
	for {
		if _, _, err := s.Prune(ctx); err != nil && ctx.Err() == nil {
			s.log.Warn("webhook retention", "error", err.Error())
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// Prune deletes, in batches, the dispatched outbox rows and delivered
// deliveries older than the retention; it returns how many of each.
func (s *Service) Prune(ctx context.Context) (outbox, deliveries int, err error) {
	before := s.opt.Clock().Add(-s.opt.Retention)
	for {
		o, d, err := s.store.PruneDelivered(ctx, before, before, s.opt.PruneBatch)
		outbox, deliveries = outbox+o, deliveries+d
		if err != nil || (o < s.opt.PruneBatch && d < s.opt.PruneBatch) {
			if outbox+deliveries > 0 {
				s.log.Info("webhook retention", "outbox_deleted", outbox, "deliveries_deleted", deliveries)
			}
			return outbox, deliveries, err
		}
	}
}
