package server_test

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"google.golang.org/protobuf/types/known/durationpb"

	"github.com/mediationd/mediationd/internal/casework"
	"github.com/mediationd/mediationd/internal/casework/caseworktest"

	"github.com/mediationd/mediationd/internal/delivery"
	"github.com/mediationd/mediationd/internal/pgtest"
	"github.com/mediationd/mediationd/internal/server"
	mediationv1 "github.com/mediationd/mediationd/proto/mediation/v1"
)

// awaitLog waits until the endpoint's delivery log satisfies ok.
func awaitLog(t *testing.T, e *env, ep string, what string, ok func([]*mediationv1.WebhookDelivery) bool) []*mediationv1.WebhookDelivery {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		log, err := webhooks(e).ListWebhookDeliveries(context.Background(), &mediationv1.ListWebhookDeliveriesRequest{Parent: ep, PageSize: 1000})
		if err != nil {
			t.Fatal(err)
		}
		if ok(log.GetWebhookDeliveries()) {
			return log.GetWebhookDeliveries()
		}
		if time.Now().After(deadline) {
			t.Fatalf("waited 20s for %s; the log: %v", what, log.GetWebhookDeliveries())
		}
		time.Sleep(30 * time.Millisecond)
	}
}

func countStatus(ds []*mediationv1.WebhookDelivery, st mediationv1.WebhookDeliveryStatus) int {
	n := 0
	for _, d := range ds {
		if d.GetStatus() == st {
			n++
		}
	}
	return n
}

const (
	pending   = mediationv1.WebhookDeliveryStatus_WEBHOOK_DELIVERY_STATUS_PENDING
	delivered = mediationv1.WebhookDeliveryStatus_WEBHOOK_DELIVERY_STATUS_DELIVERED
	failed    = mediationv1.WebhookDeliveryStatus_WEBHOOK_DELIVERY_STATUS_FAILED
)

// TestWebhookFailedDeliveryHoldsItsCaseUntilRedelivered: after the last
// retry a delivery is FAILED and stays in the log; the case's later
// events wait for it (other cases do not), and :redeliver sends it and
// then the rest, in order.
func TestWebhookFailedDeliveryHoldsItsCaseUntilRedelivered(t *testing.T) {
	e := startWebhooks(t, nil) // three retries 50-100ms apart
	r := newReceiver(t)
	var broken atomic.Bool
	broken.Store(true)
	var blocked atomic.Value
	r.answer = func(_ int, m message, w http.ResponseWriter, _ func()) int {
		if broken.Load() && m.id == blocked.Load() {
			w.WriteHeader(http.StatusInternalServerError)
			return 500
		}
		w.WriteHeader(http.StatusOK)
		return 200
	}
	ep := register(t, e, "甘1002", r)
	// Nothing is sent until the receiver knows which message to refuse.
	if _, err := webhooks(e).DisableWebhookEndpoint(context.Background(), &mediationv1.DisableWebhookEndpointRequest{Name: ep.GetName()}); err != nil {
		t.Fatal(err)
	}
	stuck, other := referCase(t, e, "甘1002", 1), referCase(t, e, "甘1002", 2)
	blocked.Store("msg_" + strings.TrimPrefix(stuck, "cases/") + "_1")
	if _, err := webhooks(e).EnableWebhookEndpoint(context.Background(), &mediationv1.EnableWebhookEndpointRequest{Name: ep.GetName()}); err != nil {
		t.Fatal(err)
	}
	toAgreement(t, e, stuck)
	toAgreement(t, e, other)
	awaitDelivered(t, e, r, []string{other}, 20*time.Second)
	log := awaitLog(t, e, ep.GetName(), "the first event of the case to fail", func(ds []*mediationv1.WebhookDelivery) bool {
		return countStatus(ds, failed) == 1
	})
	for _, d := range log {
		switch {
		case d.GetStatus() == failed:
			if d.GetCase() != stuck || d.GetCaseVersion() != 1 || d.GetAttempts() != 4 || d.GetLastHttpStatus() != 500 || !strings.Contains(d.GetLastError(), "500") {
				t.Errorf("failed delivery %v: want version 1 of %s after 4 attempts, last 500", d, stuck)
			}
		case d.GetCase() == stuck && d.GetStatus() != pending:
			t.Errorf("%s version %d is %v while version 1 failed; want it held PENDING", stuck, d.GetCaseVersion(), d.GetStatus())
		}
	}
	for _, m := range r.messages() {
		if m.caseName == stuck && m.version > 1 {
			t.Errorf("version %d of %s was sent while version 1 had failed", m.version, stuck)
		}
	}
	broken.Store(false)
	var failedName string
	for _, d := range log {
		if d.GetStatus() == failed {
			failedName = d.GetName()
		}
	}
	again, err := webhooks(e).RedeliverWebhookDelivery(context.Background(), &mediationv1.RedeliverWebhookDeliveryRequest{Name: failedName})
	if err != nil || again.GetWebhookDelivery().GetStatus() != pending {
		t.Fatalf("redeliver: %v, %v", again, err)
	}
	awaitDelivered(t, e, r, []string{stuck, other}, 20*time.Second)
	checkDelivered(t, e, r, []string{stuck, other})
}

// TestWebhookGoneDisablesTheEndpoint: a 410 disables the endpoint with a
// reason; nothing more is sent until it is enabled, then everything is.
func TestWebhookGoneDisablesTheEndpoint(t *testing.T) {
	e := startWebhooks(t, nil)
	r := newReceiver(t)
	var gone atomic.Bool
	gone.Store(true)
	r.answer = func(_ int, _ message, w http.ResponseWriter, _ func()) int {
		if gone.Load() {
			w.WriteHeader(http.StatusGone)
			return 410
		}
		w.WriteHeader(http.StatusNoContent)
		return 204
	}
	ep := register(t, e, "甘1002", r)
	c := referCase(t, e, "甘1002", 1)
	deadline := time.Now().Add(20 * time.Second)
	for {
		got, err := webhooks(e).GetWebhookEndpoint(context.Background(), &mediationv1.GetWebhookEndpointRequest{Name: ep.GetName()})
		if err != nil {
			t.Fatal(err)
		}
		if got.GetWebhookEndpoint().GetState() == mediationv1.WebhookEndpointState_WEBHOOK_ENDPOINT_STATE_DISABLED {
			if !strings.Contains(got.GetWebhookEndpoint().GetDisabledReason(), "410") {
				t.Errorf("disabled reason %q", got.GetWebhookEndpoint().GetDisabledReason())
			}
			ep = got.GetWebhookEndpoint()
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("a 410 did not disable the endpoint")
		}
		time.Sleep(30 * time.Millisecond)
	}
	toAgreement(t, e, c)
	time.Sleep(300 * time.Millisecond)
	if n := len(r.messages()); n != 1 {
		t.Errorf("a disabled endpoint got %d requests, want only the one answered 410", n)
	}
	gone.Store(false)
	if _, err := webhooks(e).EnableWebhookEndpoint(context.Background(), &mediationv1.EnableWebhookEndpointRequest{Name: ep.GetName(), Etag: ep.GetEtag()}); err != nil {
		t.Fatal(err)
	}
	awaitDelivered(t, e, r, []string{c}, 20*time.Second)
	checkDelivered(t, e, r, []string{c})
}

// TestWebhookSecretRotation: after :rotateSecret each message carries a
// signature by the new secret and one by the old until the grace period
// ends; then only the new one.
func TestWebhookSecretRotation(t *testing.T) {
	e := startWebhooks(t, nil)
	r := newReceiver(t)
	ep := register(t, e, "甘1002", r)
	c := referCase(t, e, "甘1002", 1)
	awaitDelivered(t, e, r, []string{c}, 10*time.Second)
	r.mu.Lock()
	old := r.secret
	r.mu.Unlock()
	const grace = 4 * time.Second
	rotated, err := webhooks(e).RotateWebhookSecret(context.Background(), &mediationv1.RotateWebhookSecretRequest{Name: ep.GetName(), GracePeriod: durationpb.New(grace)})
	if err != nil || rotated.GetSecret() == old || !strings.HasPrefix(rotated.GetSecret(), "whsec_") {
		t.Fatalf("rotate: %v, %v", rotated, err)
	}
	rotateTime := time.Now()
	r.setSecret(rotated.GetSecret()) // the receiver checks with the new secret from now on
	act := func(a casework.Action) {
		if res := (grpcClient{e}).act(t, c, caseworktest.Command(a, 0), ""); res.st != nil {
			t.Fatal(res.st)
		}
		awaitDelivered(t, e, r, []string{c}, 10*time.Second)
	}
	act(casework.ActionAccept)
	during := r.messages()[len(r.messages())-1]
	if during.at.After(rotateTime.Add(grace)) {
		t.Fatalf("the message after the rotation took longer than the %s grace period to arrive", grace)
	}
	time.Sleep(time.Until(rotateTime.Add(grace + 100*time.Millisecond)))
	act(casework.ActionAssign)
	after := r.messages()[len(r.messages())-1]
	checkDelivered(t, e, r, []string{c})

	verify := func(secret string, m message) error {
		return delivery.Verify(secret, m.header, m.body, time.Now(), time.Hour)
	}
	if n := len(strings.Fields(during.header.Get(delivery.HeaderSignature))); n != 2 || verify(old, during) != nil || verify(rotated.GetSecret(), during) != nil {
		t.Errorf("during the grace period: %d signatures (%q); want 2, one by each secret", n, during.header.Get(delivery.HeaderSignature))
	}
	if n := len(strings.Fields(after.header.Get(delivery.HeaderSignature))); n != 1 || verify(old, after) == nil || verify(rotated.GetSecret(), after) != nil {
		t.Errorf("after the grace period: %d signatures (%q); want 1, by the new secret only", n, after.header.Get(delivery.HeaderSignature))
	}
}

// TestWebhookRetention: dispatched outbox rows and delivered deliveries
// past the retention are deleted; the history and undelivered messages
// stay.
func TestWebhookRetention(t *testing.T) {
	e := startWebhooks(t, func(o *server.WebhookOptions) { o.Retention = time.Hour })
	r := newReceiver(t)
	var refuse atomic.Bool
	r.answer = func(_ int, m message, w http.ResponseWriter, _ func()) int {
		if refuse.Load() {
			w.WriteHeader(http.StatusServiceUnavailable)
			return 503
		}
		w.WriteHeader(http.StatusNoContent)
		return 204
	}
	ep := register(t, e, "甘1002", r)
	done := referCase(t, e, "甘1002", 1)
	toAgreement(t, e, done)
	awaitDelivered(t, e, r, []string{done}, 10*time.Second)
	refuse.Store(true)
	waiting := referCase(t, e, "甘1002", 2)
	awaitLog(t, e, ep.GetName(), "the waiting case's message to be refused", func(ds []*mediationv1.WebhookDelivery) bool {
		for _, d := range ds {
			if d.GetCase() == waiting && d.GetLastHttpStatus() == 503 {
				return true
			}
		}
		return false
	})
	ctx := context.Background()
	// Everything happened two hours ago, as far as retention can tell.
	if _, err := e.store.Pool().Exec(ctx, `UPDATE outbox SET deliver_time = deliver_time - interval '2 hours' WHERE deliver_time IS NOT NULL`); err != nil {
		t.Fatal(err)
	}
	if _, err := e.store.Pool().Exec(ctx, `UPDATE webhook_deliveries SET deliver_time = deliver_time - interval '2 hours' WHERE status = 'DELIVERED'`); err != nil {
		t.Fatal(err)
	}
	var events, pendingBefore int
	e.store.Pool().QueryRow(ctx, `SELECT (SELECT count(*) FROM case_events), (SELECT count(*) FROM webhook_deliveries WHERE status <> 'DELIVERED')`).Scan(&events, &pendingBefore)
	outbox, deliveries, err := e.srv.Delivery().Prune(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if want := len(history(t, e, done)) + 1; outbox < want || deliveries != len(history(t, e, done)) {
		t.Errorf("pruned %d outbox rows and %d deliveries; want at least %d and exactly %d", outbox, deliveries, want, len(history(t, e, done)))
	}
	var eventsAfter, pendingAfter, left int
	e.store.Pool().QueryRow(ctx, `SELECT (SELECT count(*) FROM case_events), (SELECT count(*) FROM webhook_deliveries WHERE status <> 'DELIVERED'),
		(SELECT count(*) FROM webhook_deliveries WHERE status = 'DELIVERED')`).Scan(&eventsAfter, &pendingAfter, &left)
	if eventsAfter != events || pendingAfter != pendingBefore || pendingAfter == 0 || left != 0 {
		t.Errorf("after pruning: %d events (had %d), %d undelivered (had %d), %d delivered left", eventsAfter, events, pendingAfter, pendingBefore, left)
	}
}

// TestWebhookMetrics: deliveries by result, attempts by outcome, and each
// endpoint's queue depth and age, as the scrape shows them.
func TestWebhookMetrics(t *testing.T) {
	e := startWebhooks(t, nil)
	r := newReceiver(t)
	var refusals atomic.Int32
	r.answer = func(_ int, m message, w http.ResponseWriter, _ func()) int {
		if m.version == 1 && refusals.Add(1) <= 2 {
			w.WriteHeader(http.StatusInternalServerError)
			return 500
		}
		w.WriteHeader(http.StatusNoContent)
		return 204
	}
	ep := register(t, e, "甘1002", r)
	c := referCase(t, e, "甘1002", 1)
	toAgreement(t, e, c)
	awaitDelivered(t, e, r, []string{c}, 10*time.Second)
	n := float64(len(history(t, e, c)))
	id := strings.TrimPrefix(ep.GetName(), "webhookEndpoints/")
	wants := []struct {
		name   string
		labels []string
		value  float64
	}{
		{"mediationd_webhook_deliveries_created_total", nil, n},
		{"mediationd_webhook_deliveries_total", []string{"result", "delivered"}, n},
		{"mediationd_webhook_deliveries_total", []string{"result", "failed"}, 0},
		{"mediationd_webhook_attempts_total", []string{"outcome", "success"}, n},
		{"mediationd_webhook_attempts_total", []string{"outcome", "http_error"}, 2},
		{"mediationd_webhook_queue_depth", []string{"endpoint", id, "status", "PENDING"}, 0},
		{"mediationd_webhook_queue_oldest_age_seconds", []string{"endpoint", id}, 0},
	}
	// The receiver has every message once the sender wrote its last one;
	// the sender records the answer a moment later.
	var wrong []string
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		m := scrape(t, e)
		wrong = nil
		for _, want := range wants {
			if got := m.value(t, want.name, want.labels...); got != want.value {
				wrong = append(wrong, fmt.Sprintf("%s%v = %v, want %v", want.name, want.labels, got, want.value))
			}
		}
		if len(wrong) == 0 || time.Now().After(deadline) {
			break
		}
	}
	for _, w := range wrong {
		t.Error(w)
	}
	// A disabled endpoint's messages wait, and the queue shows them.
	if _, err := webhooks(e).DisableWebhookEndpoint(context.Background(), &mediationv1.DisableWebhookEndpointRequest{Name: ep.GetName(), Reason: "维护"}); err != nil {
		t.Fatal(err)
	}
	referCase(t, e, "甘1002", 2)
	awaitLog(t, e, ep.GetName(), "the new message", func(ds []*mediationv1.WebhookDelivery) bool { return countStatus(ds, pending) == 1 })
	time.Sleep(50 * time.Millisecond)
	m := scrape(t, e)
	if got := m.value(t, "mediationd_webhook_queue_depth", "endpoint", id, "status", "PENDING"); got != 1 {
		t.Errorf("queue depth %v, want 1", got)
	}
	if got := m.value(t, "mediationd_webhook_queue_oldest_age_seconds", "endpoint", id); got <= 0 {
		t.Errorf("queue age %v, want > 0", got)
	}
}

// TestWebhookSecretsNeverLogged: registering, rotating, and delivering
// (also to a receiver that refuses) log no secret, at the debug level
// where every call is logged, and the database holds them only sealed.
func TestWebhookSecretsNeverLogged(t *testing.T) {
	logs := &piiLogBuffer{}
	e := startWith(t, pgtest.NewDatabase(t), func(cfg *server.Config) {
		cfg.Logger = slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
		cfg.Webhooks = server.WebhookOptions{Deliver: true, Keys: testKeyring(t), AllowedNetworks: loopback,
			Schedule: []time.Duration{10 * time.Millisecond}, PollInterval: 20 * time.Millisecond}
	})
	r := newReceiver(t)
	r.answer = func(_ int, _ message, w http.ResponseWriter, _ func()) int {
		w.WriteHeader(http.StatusUnauthorized)
		return 401
	}
	ep := register(t, e, "甘1002", r)
	r.mu.Lock()
	secrets := []string{r.secret}
	r.mu.Unlock()
	rotated, err := webhooks(e).RotateWebhookSecret(context.Background(), &mediationv1.RotateWebhookSecretRequest{Name: ep.GetName()})
	if err != nil {
		t.Fatal(err)
	}
	secrets = append(secrets, rotated.GetSecret())
	referCase(t, e, "甘1002", 1)
	awaitLog(t, e, ep.GetName(), "the message to fail", func(ds []*mediationv1.WebhookDelivery) bool { return countStatus(ds, failed) == 1 })
	var stored string
	if err := e.store.Pool().QueryRow(context.Background(), `SELECT string_agg(encode(secret, 'escape'), ' ') FROM webhook_secrets`).Scan(&stored); err != nil {
		t.Fatal(err)
	}
	for _, s := range secrets {
		if strings.Contains(stored, s) || strings.Contains(stored, strings.TrimPrefix(s, "whsec_")) {
			t.Errorf("webhook_secrets holds %s… in clear", s[:10])
		}
	}
	if err := e.stop(); err != nil {
		t.Fatal(err)
	}
	raw := string(logs.Bytes())
	if !strings.Contains(raw, "CreateWebhookEndpoint") {
		t.Fatal("the calls were not logged: the test proves nothing")
	}
	for _, s := range secrets {
		if key := strings.TrimPrefix(s, "whsec_"); strings.Contains(raw, key) {
			t.Errorf("the logs contain the secret %s…", s[:10])
		}
	}
}
