package server_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/mediationd/mediationd/internal/casework"
	"github.com/mediationd/mediationd/internal/casework/caseworktest"
	"github.com/mediationd/mediationd/internal/delivery"
	"github.com/mediationd/mediationd/internal/pgtest"
	"github.com/mediationd/mediationd/internal/server"
	mediationv1 "github.com/mediationd/mediationd/proto/mediation/v1"
)

// loopback is the network the tests' receivers listen on.
var loopback = []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}

func testKeyring(t *testing.T) *delivery.Keyring {
	t.Helper()
	key := make([]byte, 32)
	rand.Read(key)
	k, err := delivery.NewKeyring(key)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// startWebhooks starts a server that delivers webhooks quickly, to
// receivers on loopback; tweak adjusts the options.
func startWebhooks(t *testing.T, tweak func(*server.WebhookOptions)) *env {
	t.Helper()
	e := startWith(t, pgtest.NewDatabase(t), func(cfg *server.Config) {
		cfg.Webhooks = server.WebhookOptions{
			Deliver:         true,
			Keys:            testKeyring(t),
			AllowedNetworks: loopback,
			Schedule:        []time.Duration{50 * time.Millisecond, 100 * time.Millisecond, 100 * time.Millisecond},
			Timeout:         2 * time.Second,
			PollInterval:    20 * time.Millisecond,
		}
		if tweak != nil {
			tweak(&cfg.Webhooks)
		}
	})
	for _, n := range []int{0, 1} {
		seedAssignee(t, e, n)
	}
	return e
}

// message is one request a receiver got.
type message struct {
	id       string
	header   http.Header
	body     []byte
	status   int // what the receiver answered; 0 = no answer
	at       time.Time
	typ      string
	caseName string
	version  int64
	data     map[string]any
}

// receiver is a court's system on loopback: it checks every signature and
// records what it got. answer decides each answer (nil: 204).
type receiver struct {
	t      *testing.T
	srv    *httptest.Server
	mu     sync.Mutex
	secret string
	got    []message
	// inFlight counts requests being handled per message id, to catch a
	// message sent twice at once.
	inFlight map[string]int
	requests int
	// answer writes the n-th answer (from 0) and returns its status;
	// release marks the request as abandoned by the sender (it timed
	// out), so that a retry is not taken for a concurrent send.
	answer func(n int, m message, w http.ResponseWriter, release func()) int
}

func newReceiver(t *testing.T) *receiver {
	r := &receiver{t: t, inFlight: map[string]int{}}
	r.srv = httptest.NewServer(http.HandlerFunc(r.serve))
	t.Cleanup(r.srv.Close)
	return r
}

func (r *receiver) setSecret(s string) { r.mu.Lock(); r.secret = s; r.mu.Unlock() }

func (r *receiver) serve(w http.ResponseWriter, req *http.Request) {
	body, _ := io.ReadAll(req.Body)
	r.mu.Lock()
	secret := r.secret
	m := message{id: req.Header.Get(delivery.HeaderID), header: req.Header.Clone(), body: body, at: time.Now()}
	r.inFlight[m.id]++
	if r.inFlight[m.id] > 1 {
		r.t.Errorf("message %s is being sent twice at once", m.id)
	}
	n := r.requests
	r.requests++
	r.mu.Unlock()
	var once sync.Once
	release := func() { once.Do(func() { r.mu.Lock(); r.inFlight[m.id]--; r.mu.Unlock() }) }
	defer release()
	if err := delivery.Verify(secret, req.Header, body, time.Now(), 5*time.Minute); err != nil {
		r.t.Errorf("message %s: signature: %v", m.id, err)
	}
	var parsed struct {
		Type      string         `json:"type"`
		Timestamp string         `json:"timestamp"`
		Data      map[string]any `json:"data"`
	}
	if err := json.Unmarshal(body, &parsed); err != nil {
		r.t.Errorf("message %s: body %q: %v", m.id, body, err)
	}
	m.typ, m.data = parsed.Type, parsed.Data
	m.caseName, _ = parsed.Data["case"].(string)
	v, _ := parsed.Data["version"].(float64)
	m.version = int64(v)
	status := http.StatusNoContent
	if r.answer != nil {
		status = r.answer(n, m, w, release)
	} else {
		w.WriteHeader(status)
	}
	m.status = status
	r.mu.Lock()
	r.got = append(r.got, m)
	r.mu.Unlock()
}

func (r *receiver) messages() []message {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.got)
}

// webhooks is the WebhookService client of e.
func webhooks(e *env) mediationv1.WebhookServiceClient {
	return mediationv1.NewWebhookServiceClient(e.conn)
}

// register registers an endpoint of court to r as the administrator.
func register(t *testing.T, e *env, court string, r *receiver) *mediationv1.WebhookEndpoint {
	t.Helper()
	resp, err := webhooks(e).CreateWebhookEndpoint(context.Background(), &mediationv1.CreateWebhookEndpointRequest{
		WebhookEndpoint: &mediationv1.WebhookEndpoint{CourtCode: court, Url: r.srv.URL + "/hooks", Description: "测试接收端"}})
	if err != nil {
		t.Fatalf("register an endpoint of %s: %v", court, err)
	}
	if !strings.HasPrefix(resp.GetSecret(), "whsec_") {
		t.Fatalf("secret %q", resp.GetSecret())
	}
	r.setSecret(resp.GetSecret())
	return resp.GetWebhookEndpoint()
}

// referCase registers a case referred by court and returns its name.
func referCase(t *testing.T, e *env, court string, n int) string {
	t.Helper()
	c := newCase(fmt.Sprintf("%s 诉前委派 %d", court, n))
	c.Source = mediationv1.CaseSource_CASE_SOURCE_COURT_DELEGATED
	c.CourtReferral = &mediationv1.CourtReferral{CourtCode: court, CourtCaseNumber: fmt.Sprintf("（2026）%s民诉前调%d号", court, n)}
	resp, err := e.cases.CreateCase(context.Background(), &mediationv1.CreateCaseRequest{Case: c})
	if err != nil {
		t.Fatalf("refer a case from %s: %v", court, err)
	}
	return resp.GetCase().GetName()
}

// toAgreement runs a case through acceptance, assignment, mediation and
// agreement.
func toAgreement(t *testing.T, e *env, name string) {
	t.Helper()
	for _, a := range caseworktest.PathTo(casework.StateAgreed) {
		if r := (grpcClient{e}).act(t, name, caseworktest.Command(a, 0), ""); r.st != nil {
			t.Errorf("%s %s: %v", name, a, r.st)
			return
		}
	}
}

// history lists a case's versions as the service recorded them.
func history(t *testing.T, e *env, name string) []*mediationv1.CaseEvent {
	t.Helper()
	return (grpcClient{e}).events(t, name)
}

// awaitDelivered waits until r acknowledged every version of each case.
func awaitDelivered(t *testing.T, e *env, r *receiver, cases []string, within time.Duration) {
	t.Helper()
	want := 0
	for _, c := range cases {
		want += len(history(t, e, c))
	}
	deadline := time.Now().Add(within)
	for {
		acked := map[string]bool{}
		for _, m := range r.messages() {
			if m.status/100 == 2 {
				acked[m.id] = true
			}
		}
		if len(acked) >= want {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("after %s the receiver acknowledged %d of %d messages", within, len(acked), want)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// checkDelivered compares what r got with the history of cases: every
// version of each case arrived, identically on every try, nothing of
// another case, and version n+1 only after n was acknowledged.
func checkDelivered(t *testing.T, e *env, r *receiver, cases []string) {
	t.Helper()
	got := r.messages()
	bodies := map[string][]byte{}
	acked := map[string]map[int64]bool{}
	for _, m := range got {
		if b, ok := bodies[m.id]; ok && !bytes.Equal(b, m.body) {
			t.Errorf("message %s sent again with another body:\n%s\n%s", m.id, b, m.body)
		}
		bodies[m.id] = m.body
		if !slices.Contains(cases, m.caseName) {
			t.Errorf("the receiver got %s of %s, a case not of its court", m.typ, m.caseName)
			continue
		}
		if want := fmt.Sprintf("msg_%s_%d", strings.TrimPrefix(m.caseName, "cases/"), m.version); m.id != want {
			t.Errorf("webhook-id %s, want %s", m.id, want)
		}
		if acked[m.caseName] == nil {
			acked[m.caseName] = map[int64]bool{}
		}
		if m.version > 1 && !acked[m.caseName][m.version-1] {
			t.Errorf("%s version %d was sent before version %d was acknowledged", m.caseName, m.version, m.version-1)
		}
		if m.status/100 == 2 {
			acked[m.caseName][m.version] = true
		}
	}
	for _, c := range cases {
		for _, ev := range history(t, e, c) {
			if !acked[c][ev.GetVersion()] {
				t.Errorf("%s version %d (%s) was never delivered", c, ev.GetVersion(), ev.GetAction())
			}
		}
	}
	for _, m := range got {
		if m.typ == "" || !strings.HasPrefix(m.typ, "case.") {
			t.Errorf("message %s has type %q", m.id, m.typ)
		}
	}
}

// TestWebhooksDeliverEveryEventOfTheCourtsCasesInOrder: a receiver that
// checks signatures gets every event of its court's referred cases, once
// per version (duplicates only as identical retries), in version order
// per case, and none of another court's or of cases no court referred.
func TestWebhooksDeliverEveryEventOfTheCourtsCasesInOrder(t *testing.T) {
	e := startWebhooks(t, nil)
	xifeng, zhenyuan := newReceiver(t), newReceiver(t)
	register(t, e, "甘1002", xifeng)
	register(t, e, "甘1027", zhenyuan)
	var ours, theirs []string
	for n := range 5 {
		ours = append(ours, referCase(t, e, "甘1002", n))
	}
	for n := range 2 {
		theirs = append(theirs, referCase(t, e, "甘1027", n))
	}
	walkIn, err := e.cases.CreateCase(context.Background(), &mediationv1.CreateCaseRequest{Case: newCase("来访")})
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for _, c := range append(append(slices.Clone(ours), theirs...), walkIn.GetCase().GetName()) {
		wg.Go(func() { toAgreement(t, e, c) })
	}
	wg.Wait()
	awaitDelivered(t, e, xifeng, ours, 30*time.Second)
	awaitDelivered(t, e, zhenyuan, theirs, 30*time.Second)
	checkDelivered(t, e, xifeng, ours)
	checkDelivered(t, e, zhenyuan, theirs)

	// What the court needs of each event is in the message.
	for _, m := range xifeng.messages() {
		d := m.data
		if d["court_code"] != "甘1002" || !strings.Contains(fmt.Sprint(d["court_case_number"]), "民诉前调") || d["case_number"] == "" || d["state"] == nil {
			t.Errorf("%s: data %v lacks the court, its case number, the case number or the state", m.typ, d)
		}
		switch m.typ {
		case "case.recordAgreement":
			agreement, _ := d["agreement"].(map[string]any)
			if d["state"] != "AGREED" || !strings.Contains(fmt.Sprint(agreement["terms"]), "5000") {
				t.Errorf("agreement message data %v: want state AGREED and the terms", d)
			}
			signed, err := time.Parse(time.DateOnly, fmt.Sprint(agreement["sign_date"]))
			if err != nil || d["confirmation_deadline"] != signed.AddDate(0, 0, 30).Format(time.DateOnly) {
				t.Errorf("agreement message data %v: want the confirmation deadline, 30 days after signing", d)
			}
		}
		if _, ok := d["actor"]; ok {
			t.Errorf("message data names the actor: %v", d)
		}
	}

	// The delivery log shows each message delivered.
	eps, err := webhooks(e).ListWebhookEndpoints(context.Background(), &mediationv1.ListWebhookEndpointsRequest{})
	if err != nil || len(eps.GetWebhookEndpoints()) != 2 {
		t.Fatalf("list endpoints: %v, %v", eps, err)
	}
	for _, ep := range eps.GetWebhookEndpoints() {
		log, err := webhooks(e).ListWebhookDeliveries(context.Background(), &mediationv1.ListWebhookDeliveriesRequest{Parent: ep.GetName(), PageSize: 1000})
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range log.GetWebhookDeliveries() {
			if d.GetStatus() != mediationv1.WebhookDeliveryStatus_WEBHOOK_DELIVERY_STATUS_DELIVERED || d.GetLastHttpStatus() != 204 || d.GetAttempts() < 1 {
				t.Errorf("delivery %v", d)
			}
		}
		filtered, err := webhooks(e).ListWebhookDeliveries(context.Background(), &mediationv1.ListWebhookDeliveriesRequest{
			Parent: ep.GetName(), Filter: fmt.Sprintf("case = %q AND status = DELIVERED", ours[0])})
		if err != nil {
			t.Fatal(err)
		}
		want := 0
		if ep.GetCourtCode() == "甘1002" {
			want = len(history(t, e, ours[0]))
		}
		if len(filtered.GetWebhookDeliveries()) != want {
			t.Errorf("%s: %d deliveries of %s, want %d", ep.GetCourtCode(), len(filtered.GetWebhookDeliveries()), ours[0], want)
		}
	}
}

// TestWebhooksRideOutAFlakyReceiver: the receiver answers 500 for a while,
// then times out, then answers 429 with Retry-After, then is down for an
// outage window, then comes back: every event arrives, in order, none
// lost, and the retry after the 429 waited as asked.
func TestWebhooksRideOutAFlakyReceiver(t *testing.T) {
	schedule := make([]time.Duration, 60)
	for i := range schedule {
		schedule[i] = 50 * time.Millisecond
	}
	schedule[len(schedule)-1] = 3 * time.Second // the longest delay bounds Retry-After
	e := startWebhooks(t, func(o *server.WebhookOptions) {
		o.Schedule = schedule
		o.Timeout = 300 * time.Millisecond
	})
	r := newReceiver(t)
	register(t, e, "甘1002", r)
	var (
		mu          sync.Mutex
		outageStart time.Time
		throttled   = map[string]time.Time{}
		phases      = map[string]int{}
	)
	const outage = 1500 * time.Millisecond
	r.answer = func(n int, m message, w http.ResponseWriter, release func()) int {
		mu.Lock()
		defer mu.Unlock()
		switch {
		case n < 5:
			phases["500"]++
			w.WriteHeader(http.StatusInternalServerError)
			io.WriteString(w, "temporarily broken")
			return 500
		case n < 7:
			phases["timeout"]++
			release()
			mu.Unlock()
			time.Sleep(500 * time.Millisecond)
			mu.Lock()
			w.WriteHeader(http.StatusNoContent)
			return 0 // the sender gave up before this answer
		case n < 8:
			phases["429"]++
			throttled[m.id] = time.Now()
			w.Header().Set("Retry-After", "1")
			w.WriteHeader(http.StatusTooManyRequests)
			return 429
		}
		if outageStart.IsZero() {
			outageStart = time.Now()
		}
		if time.Since(outageStart) < outage {
			phases["down"]++
			panic(http.ErrAbortHandler) // the connection drops without an answer
		}
		if at, ok := throttled[m.id]; ok {
			if waited := time.Since(at); waited < 900*time.Millisecond {
				t.Errorf("%s retried %s after a 429 with Retry-After: 1", m.id, waited)
			}
			delete(throttled, m.id)
		}
		w.WriteHeader(http.StatusOK)
		return 200
	}
	var cases []string
	for n := range 4 {
		cases = append(cases, referCase(t, e, "甘1002", n))
	}
	var wg sync.WaitGroup
	for _, c := range cases {
		wg.Go(func() { toAgreement(t, e, c) })
	}
	wg.Wait()
	awaitDelivered(t, e, r, cases, 60*time.Second)
	checkDelivered(t, e, r, cases)
	mu.Lock()
	defer mu.Unlock()
	for _, p := range []string{"500", "timeout", "429", "down"} {
		if phases[p] == 0 {
			t.Errorf("the phase %s never happened: %v", p, phases)
		}
	}
}

// code is the gRPC code of err.
func code(err error) codes.Code { return status.Code(err) }

// TestWebhookRegistrationRefusesPrivateTargets: http to a private address,
// https to loopback and a name that resolves to loopback are refused
// unless the operator allowed the network; a redirect is never followed.
func TestWebhookRegistrationRefusesPrivateTargets(t *testing.T) {
	strict := startWebhooks(t, func(o *server.WebhookOptions) { o.AllowedNetworks = nil })
	create := func(e *env, url string) error {
		_, err := webhooks(e).CreateWebhookEndpoint(context.Background(), &mediationv1.CreateWebhookEndpointRequest{
			WebhookEndpoint: &mediationv1.WebhookEndpoint{CourtCode: "甘1002", Url: url}})
		return err
	}
	for _, url := range []string{"http://10.0.0.1/", "https://10.0.0.1/", "https://127.0.0.1/", "https://localhost/hooks", "https://[::1]/", "https://169.254.169.254/latest", "http://8.8.8.8/", "ftp://court.example/"} {
		err := create(strict, url)
		if code(err) != codes.InvalidArgument || !strings.Contains(status.Convert(err).Message(), "url") {
			t.Errorf("register %s without allowed networks: %v, want INVALID_ARGUMENT naming the url", url, err)
		}
	}
	if err := create(strict, "https://8.8.8.8/hooks"); err != nil {
		t.Errorf("register https to a public address: %v", err)
	}

	allowed := startWebhooks(t, nil) // 127.0.0.0/8 allowed
	for _, url := range []string{"https://127.0.0.1/", "http://127.0.0.1:9/hooks", "https://localhost/hooks"} {
		if err := create(allowed, url); err != nil {
			t.Errorf("register %s with 127.0.0.0/8 allowed: %v", url, err)
		}
	}
	if err := create(allowed, "http://10.0.0.1/"); code(err) != codes.InvalidArgument {
		t.Errorf("register http://10.0.0.1/ with only 127.0.0.0/8 allowed: %v, want INVALID_ARGUMENT", err)
	}

	// A receiver that redirects: the redirect is a failed attempt, and its
	// target never hears from the service.
	target := newReceiver(t)
	r := newReceiver(t)
	r.answer = func(_ int, _ message, w http.ResponseWriter, _ func()) int {
		w.Header().Set("Location", target.srv.URL+"/elsewhere")
		w.WriteHeader(http.StatusFound)
		return 302
	}
	ep := register(t, allowed, "甘1002", r)
	referCase(t, allowed, "甘1002", 1)
	deadline := time.Now().Add(20 * time.Second)
	for {
		log, err := webhooks(allowed).ListWebhookDeliveries(context.Background(), &mediationv1.ListWebhookDeliveriesRequest{Parent: ep.GetName()})
		if err != nil {
			t.Fatal(err)
		}
		if ds := log.GetWebhookDeliveries(); len(ds) == 1 && ds[0].GetStatus() == mediationv1.WebhookDeliveryStatus_WEBHOOK_DELIVERY_STATUS_FAILED {
			if d := ds[0]; d.GetLastHttpStatus() != 302 || !strings.Contains(d.GetLastError(), "redirect not followed") || d.GetAttempts() != 4 {
				t.Errorf("redirected delivery %v: want 4 attempts, last status 302 and the error saying the redirect was not followed", d)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the redirected delivery did not fail: %v", log)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if n := len(target.messages()); n != 0 {
		t.Errorf("the redirect's target got %d requests", n)
	}
}

// TestWebhookRegistrationWithoutSecretKey: with no key to encrypt secrets
// (DATABASE_URL set, MEDIATION_SECRET_KEY not), registering is refused
// with FAILED_PRECONDITION saying how to configure the key.
func TestWebhookRegistrationWithoutSecretKey(t *testing.T) {
	e := startWebhooks(t, func(o *server.WebhookOptions) { o.Keys = nil })
	_, err := webhooks(e).CreateWebhookEndpoint(context.Background(), &mediationv1.CreateWebhookEndpointRequest{
		WebhookEndpoint: &mediationv1.WebhookEndpoint{CourtCode: "甘1002", Url: "https://127.0.0.1/hooks"}})
	if code(err) != codes.FailedPrecondition || !strings.Contains(status.Convert(err).Message(), "MEDIATION_SECRET_KEY") {
		t.Errorf("register without a key: %v, want FAILED_PRECONDITION naming MEDIATION_SECRET_KEY", err)
	}
	list, err := webhooks(e).ListWebhookEndpoints(context.Background(), &mediationv1.ListWebhookEndpointsRequest{})
	if err != nil || len(list.GetWebhookEndpoints()) != 0 {
		t.Errorf("after the refusal: %v, %v; want no endpoint", list, err)
	}
}
