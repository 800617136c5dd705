package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/mediationd/mediationd/internal/delivery"
	"github.com/mediationd/mediationd/internal/pgtest"
)

// courtReceiver is a court's system: it verifies each message, answers
// after a pause (so that a kill finds messages in flight), and records
// what it got.
type courtReceiver struct {
	t        *testing.T
	mu       sync.Mutex
	secret   string
	inFlight map[string]int
	got      []courtMessage
	busy     int // requests being answered now
}

type courtMessage struct {
	id, caseName string
	version      int64
	body         []byte
}

func (r *courtReceiver) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	body, _ := io.ReadAll(req.Body)
	id := req.Header.Get(delivery.HeaderID)
	r.mu.Lock()
	secret := r.secret
	r.inFlight[id]++
	if r.inFlight[id] > 1 {
		r.t.Errorf("%s sent twice at once", id)
	}
	r.busy++
	r.mu.Unlock()
	defer func() { r.mu.Lock(); r.inFlight[id]--; r.busy--; r.mu.Unlock() }()
	if err := delivery.Verify(secret, req.Header, body, time.Now(), 5*time.Minute); err != nil {
		r.t.Errorf("%s: %v", id, err)
		w.WriteHeader(http.StatusUnauthorized)
		return
	}
	var msg struct {
		Data struct {
			Case    string `json:"case"`
			Version int64  `json:"version"`
		} `json:"data"`
	}
	if err := json.Unmarshal(body, &msg); err != nil {
		r.t.Errorf("%s: %v", id, err)
	}
	time.Sleep(150 * time.Millisecond)
	r.mu.Lock()
	r.got = append(r.got, courtMessage{id: id, caseName: msg.Data.Case, version: msg.Data.Version, body: body})
	r.mu.Unlock()
	w.WriteHeader(http.StatusNoContent)
}

// TestWebhooksSurviveAKilledReplica: two replicas deliver at once while
// cases change through both; one is killed with SIGKILL mid-delivery and
// started again. Read back what the receiver got and compare it with the
// history: every event of every case, no message sent twice at once,
// duplicates only as identical retries, each case's versions in order.
func TestWebhooksSurviveAKilledReplica(t *testing.T) {
	t.Parallel()
	ctx := testContext(t, 2*time.Minute)
	dsn := pgtest.NewDatabase(t)
	r := &courtReceiver{t: t, inFlight: map[string]int{}}
	srv := httptest.NewServer(r)
	defer srv.Close()
	env := crashEnv("DATABASE_URL="+dsn,
		"MEDIATION_SECRET_KEY=AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=",
		"MEDIATION_WEBHOOK_ALLOWED_NETWORKS=127.0.0.0/8",
		"MEDIATION_WEBHOOK_RETRY_SCHEDULE=100ms,200ms,200ms,200ms,200ms,200ms,200ms,200ms,200ms,200ms",
		"MEDIATION_WEBHOOK_WORKERS=3",
		"MEDIATION_WEBHOOK_TIMEOUT=1s",
		"MEDIATION_WEBHOOK_LEASE=2s")
	grpcA, httpA := freeAddr(t), freeAddr(t)
	a := serveAt(ctx, t, env, grpcA, httpA, "--migrate")
	a.waitReady(ctx, 30*time.Second)
	b := serve(ctx, t, env)
	b.waitReady(ctx, 30*time.Second)
	a.signIn(ctx)
	b.token = a.token

	var created struct {
		WebhookEndpoint struct{ Name string } `json:"webhookEndpoint"`
		Secret          string                `json:"secret"`
	}
	a.mustCall(ctx, "POST", "/v1/webhookEndpoints", map[string]any{"courtCode": "甘1002", "url": srv.URL + "/court"}, http.StatusOK, &created)
	r.mu.Lock()
	r.secret = created.Secret
	r.mu.Unlock()

	// Twelve referrals, each accepted and changed four times, half through
	// each replica.
	const cases, updates = 12, 4
	names := make([]string, cases)
	var wg sync.WaitGroup
	var killedAt time.Time
	for i := range cases {
		s := []*service{a, b}[i%2]
		var c struct{ Case struct{ Name string } }
		s.mustCall(ctx, "POST", "/v1/cases", map[string]any{
			"disputeType": "DISPUTE_TYPE_NEIGHBOR", "source": "CASE_SOURCE_COURT_DELEGATED", "summary": fmt.Sprintf("诉前委派 %d", i),
			"regionCode":    "621002",
			"parties":       []map[string]string{{"name": "张三", "role": "PARTY_ROLE_APPLICANT"}, {"name": "李四", "role": "PARTY_ROLE_RESPONDENT"}},
			"courtReferral": map[string]string{"courtCode": "甘1002", "courtCaseNumber": fmt.Sprintf("（2026）甘1002民诉前调%d号", i)},
		}, http.StatusOK, &c)
		names[i] = c.Case.Name
	}
	// change makes step of a case through s; a change whose answer was
	// lost to the kill is sent again with its request id.
	change := func(s *service, name string, step int) error {
		var code int
		var err error
		requestID := fmt.Sprintf("00000000-0000-4000-8000-%012d", step)
		var out map[string]any
		if step == 0 {
			code, err = s.call(ctx, "POST", "/v1/"+name+":accept", map[string]any{"requestId": requestID}, &out)
		} else {
			code, err = s.call(ctx, "PATCH", "/v1/"+name+"?updateMask=summary&requestId="+requestID, map[string]any{"summary": fmt.Sprintf("修改 %d", step)}, &out)
		}
		if err == nil && code != http.StatusOK {
			err = fmt.Errorf("status %d: %v", code, out)
		}
		return err
	}
	for i, name := range names {
		wg.Go(func() {
			for step := 0; step <= updates; step++ {
				// Replica a is down for a while: b takes the changes then.
				s := []*service{a, b}[(i+step)%2]
				for try := 0; ; try++ {
					err := change(s, name, step)
					if err == nil {
						break
					}
					if try == 20 || ctx.Err() != nil {
						t.Errorf("%s step %d: %v", name, step, err)
						return
					}
					s = b
					time.Sleep(50 * time.Millisecond)
				}
			}
		})
	}
	// Kill a while messages are in flight.
	deadline := time.Now().Add(20 * time.Second)
	for {
		r.mu.Lock()
		busy := r.busy
		r.mu.Unlock()
		if busy >= 2 || time.Now().After(deadline) {
			break
		}
		time.Sleep(5 * time.Millisecond)
	}
	killedAt = time.Now()
	r.mu.Lock()
	inFlight := r.busy
	r.mu.Unlock()
	a.signal(syscall.SIGKILL)
	if code := a.wait(10 * time.Second); code != -1 {
		t.Fatalf("SIGKILL: exit status %d", code)
	}
	wg.Wait()
	again := serveAt(ctx, t, env, grpcA, httpA)
	again.waitReady(ctx, 30*time.Second)
	t.Logf("killed replica a with %d messages in flight; it answered again %v later", inFlight, time.Since(killedAt).Round(time.Millisecond))

	// Compare with the history.
	db, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close(context.WithoutCancel(ctx))
	want := map[string]int64{}
	rows, _ := db.Query(ctx, `SELECT 'cases/' || case_id, max(version) FROM case_events GROUP BY case_id`)
	var name string
	var v int64
	if _, err := pgx.ForEachRow(rows, []any{&name, &v}, func() error { want[name] = v; return nil }); err != nil {
		t.Fatal(err)
	}
	total := 0
	for _, v := range want {
		total += int(v)
	}
	if total != cases*(updates+2) {
		t.Fatalf("the history has %d events, want %d", total, cases*(updates+2))
	}
	waitUntil := time.Now().Add(60 * time.Second)
	for {
		r.mu.Lock()
		seen := map[string]bool{}
		for _, m := range r.got {
			seen[m.id] = true
		}
		r.mu.Unlock()
		if len(seen) == total {
			break
		}
		if time.Now().After(waitUntil) {
			t.Fatalf("the receiver got %d of %d messages after 60s", len(seen), total)
		}
		time.Sleep(100 * time.Millisecond)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	bodies := map[string][]byte{}
	next := map[string]int64{}
	dups := 0
	for _, m := range r.got {
		if b, ok := bodies[m.id]; ok {
			dups++
			if !bytes.Equal(b, m.body) {
				t.Errorf("%s sent again with another body", m.id)
			}
			continue
		}
		bodies[m.id] = m.body
		if m.version != next[m.caseName]+1 {
			t.Errorf("%s version %d arrived after version %d", m.caseName, m.version, next[m.caseName])
		}
		next[m.caseName] = m.version
		if !strings.HasPrefix(m.id, "msg_") {
			t.Errorf("webhook-id %q", m.id)
		}
	}
	for c, v := range want {
		if next[c] != v {
			t.Errorf("%s: the receiver got up to version %d, the history has %d", c, next[c], v)
		}
	}
	t.Logf("%d messages, %d identical resends", total, dups)
	again.stop(shutdownTimeout)
	b.stop(shutdownTimeout)
}
