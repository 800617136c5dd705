package server_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mediationd/mediationd/internal/casework"
	"github.com/mediationd/mediationd/internal/casework/caseworktest"
	"github.com/mediationd/mediationd/internal/server"
	mediationv1 "github.com/mediationd/mediationd/proto/mediation/v1"
)

// TestWebhookThroughput measures what the README reports: how many
// events a second one replica delivers to a fast receiver on loopback
// (a backlog drained with the default 8 senders), and the delivery lag
// (from the change to the receiver) while 32 clients run the lifecycle.
// It is a measurement, not a check: run it with
//
//	MEDIATION_WEBHOOK_BENCH=1 go run ./cmd/mediationd pg-exec -- go test -count=1 -run TestWebhookThroughput -v ./internal/server/
func TestWebhookThroughput(t *testing.T) {
	if os.Getenv("MEDIATION_WEBHOOK_BENCH") == "" {
		t.Skip("a measurement for the README, not a check: set MEDIATION_WEBHOOK_BENCH=1 to run it")
	}
	e := startWebhooks(t, func(o *server.WebhookOptions) {
		// The defaults of a deployment.
		o.Workers, o.PollInterval, o.Schedule, o.Timeout = 0, 0, nil, 0
	})
	var received atomic.Int64
	var mu sync.Mutex
	var lags []time.Duration
	var measureLag atomic.Bool
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var m struct {
			Data struct {
				OccurTime time.Time `json:"occur_time"`
			} `json:"data"`
		}
		if err := json.NewDecoder(r.Body).Decode(&m); err != nil {
			t.Error(err)
		}
		received.Add(1)
		if measureLag.Load() {
			mu.Lock()
			lags = append(lags, time.Since(m.Data.OccurTime))
			mu.Unlock()
		}
		w.WriteHeader(http.StatusNoContent)
	}))
	defer srv.Close()
	resp, err := webhooks(e).CreateWebhookEndpoint(context.Background(), &mediationv1.CreateWebhookEndpointRequest{
		WebhookEndpoint: &mediationv1.WebhookEndpoint{CourtCode: "甘1002", Url: srv.URL}})
	if err != nil {
		t.Fatal(err)
	}
	ep := resp.GetWebhookEndpoint()

	// 1. A backlog: the endpoint disabled while 400 referrals go through
	// five steps each, then enabled.
	if _, err := webhooks(e).DisableWebhookEndpoint(context.Background(), &mediationv1.DisableWebhookEndpointRequest{Name: ep.GetName()}); err != nil {
		t.Fatal(err)
	}
	const cases = 400
	run := func(n int, from int) {
		var wg sync.WaitGroup
		next := atomic.Int64{}
		for range 32 {
			wg.Go(func() {
				for i := int(next.Add(1)); i <= n; i = int(next.Add(1)) {
					c := referCase(t, e, "甘1002", from+i)
					toAgreement(t, e, c)
				}
			})
		}
		wg.Wait()
	}
	run(cases, 0)
	var backlog int
	deadline := time.Now().Add(time.Minute)
	for backlog < cases*5 && time.Now().Before(deadline) {
		time.Sleep(100 * time.Millisecond)
		e.store.Pool().QueryRow(context.Background(), `SELECT count(*) FROM webhook_deliveries WHERE status = 'PENDING'`).Scan(&backlog)
	}
	start := time.Now()
	if _, err := webhooks(e).EnableWebhookEndpoint(context.Background(), &mediationv1.EnableWebhookEndpointRequest{Name: ep.GetName()}); err != nil {
		t.Fatal(err)
	}
	for received.Load() < int64(backlog) {
		if time.Since(start) > 2*time.Minute {
			t.Fatalf("%d of %d delivered after 2 minutes", received.Load(), backlog)
		}
		time.Sleep(5 * time.Millisecond)
	}
	took := time.Since(start)
	t.Logf("backlog: %d events delivered in %v: %.0f events/s", backlog, took.Round(time.Millisecond), float64(backlog)/took.Seconds())

	// 2. Lag under load: 32 clients run the lifecycle for 15 s as fast as
	// they can (closed loop: the machine saturated), then the same at half
	// that rate (open loop: a new case every 5/rate seconds).
	lag := func(name string, casesPerSecond float64) {
		mu.Lock()
		lags = lags[:0]
		mu.Unlock()
		measureLag.Store(true)
		before := received.Load()
		loadStart := time.Now()
		var stop atomic.Bool
		var wg sync.WaitGroup
		var changes atomic.Int64
		lifecycle := func(n int) {
			c := referCase(t, e, "甘1002", n)
			changes.Add(1)
			for _, a := range caseworktest.PathTo(casework.StateAgreed) {
				if r := (grpcClient{e}).act(t, c, caseworktest.Command(a, 0), ""); r.st != nil {
					t.Error(r.st)
					return
				}
				changes.Add(1)
			}
		}
		var seq atomic.Int64
		seq.Store(int64(100000 * (1 + int(casesPerSecond))))
		if casesPerSecond == 0 {
			for range 32 {
				wg.Go(func() {
					for !stop.Load() {
						lifecycle(int(seq.Add(1)))
					}
				})
			}
		} else {
			wg.Go(func() {
				tick := time.NewTicker(time.Duration(float64(time.Second) / casesPerSecond))
				defer tick.Stop()
				for !stop.Load() {
					<-tick.C
					wg.Go(func() { lifecycle(int(seq.Add(1))) })
				}
			})
		}
		time.Sleep(15 * time.Second)
		stop.Store(true)
		wg.Wait()
		loadTook := time.Since(loadStart)
		for received.Load()-before < changes.Load() && time.Since(loadStart) < 2*time.Minute {
			time.Sleep(10 * time.Millisecond)
		}
		mu.Lock()
		defer mu.Unlock()
		slices.Sort(lags)
		q := func(p float64) time.Duration { return lags[int(p*float64(len(lags)-1))].Round(time.Millisecond) }
		t.Logf("%s: %d changes in %v (%.0f/s), %d delivered; lag p50 %v, p99 %v, max %v",
			name, changes.Load(), loadTook.Round(time.Millisecond), float64(changes.Load())/loadTook.Seconds(), len(lags), q(0.5), q(0.99), q(1))
		measureLag.Store(false)
	}
	lag("closed loop, 32 clients", 0)
	lag("open loop, 40 cases/s (200 changes/s)", 40)
	lag("open loop, 60 cases/s (300 changes/s)", 60)

	var retried, failedN int
	e.store.Pool().QueryRow(context.Background(), `SELECT count(*) FILTER (WHERE attempts > 1), count(*) FILTER (WHERE status = 'FAILED') FROM webhook_deliveries`).Scan(&retried, &failedN)
	t.Logf("deliveries retried: %d, failed: %d", retried, failedN)
}
