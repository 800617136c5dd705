package server

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"net"
	"net/http"
	"sync"
	"testing"
	"time"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/peer"
	"google.golang.org/grpc/status"

	"github.com/mediationd/mediationd/internal/auth"
	"github.com/mediationd/mediationd/internal/reqinfo"
)

// fakeClock is a settable clock for limiters.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }

func (c *fakeClock) advance(d time.Duration) { c.mu.Lock(); defer c.mu.Unlock(); c.t = c.t.Add(d) }

func testLimiter(t *testing.T, rate float64, burst int) (*limiter, *fakeClock) {
	t.Helper()
	l := newLimiter(rate, burst)
	if l == nil {
		t.Fatalf("newLimiter(%v, %d) = nil", rate, burst)
	}
	clock := &fakeClock{t: time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)}
	l.now = clock.now
	return l, clock
}

func TestLimiterIsATokenBucket(t *testing.T) {
	l, clock := testLimiter(t, 1, 2)
	expect := func(key string, ok bool, wait time.Duration) {
		t.Helper()
		gotOK, gotWait := l.allow(key)
		if gotOK != ok || math.Abs(float64(gotWait-wait)) > float64(time.Millisecond) {
			t.Errorf("allow(%q) = %v, %v; want %v, %v", key, gotOK, gotWait, ok, wait)
		}
	}
	expect("a", true, 0)
	expect("a", true, 0)
	expect("a", false, time.Second)
	expect("b", true, 0)
	clock.advance(500 * time.Millisecond)
	expect("a", false, 500*time.Millisecond)
	clock.advance(500 * time.Millisecond)
	expect("a", true, 0)
	expect("a", false, time.Second)
	// A long pause refills up to the burst, not beyond.
	clock.advance(time.Hour)
	expect("a", true, 0)
	expect("a", true, 0)
	expect("a", false, time.Second)
	// A clock going backwards takes nothing and gives nothing.
	clock.advance(-time.Minute)
	expect("a", false, time.Second)
}

func TestLimiterForgetsIdleBuckets(t *testing.T) {
	l, clock := testLimiter(t, 1, 2)
	for i := range 1000 {
		l.allow(fmt.Sprint("caller-", i))
	}
	clock.advance(sweepEvery)
	l.allow("late")
	if n := len(l.buckets); n != 1 {
		t.Errorf("after a sweep %d buckets are left, want only the new one", n)
	}

	// A bucket that has not refilled yet is kept: forgetting it would
	// hand its caller a full burst.
	slow, clock := testLimiter(t, 0.001, 2)
	slow.allow("a")
	slow.allow("a")
	clock.advance(2 * sweepEvery)
	if ok, _ := slow.allow("a"); ok {
		t.Error("the sweep reset a bucket that was still refilling")
	}
}

func TestLimiterIsBounded(t *testing.T) {
	l, _ := testLimiter(t, 1, 1)
	for i := range maxBuckets + 10 {
		l.allow(fmt.Sprint("caller-", i))
	}
	if n := len(l.buckets); n != maxBuckets {
		t.Errorf("%d buckets, want at most %d", n, maxBuckets)
	}
}

func TestNewLimiterOff(t *testing.T) {
	for _, c := range []struct {
		rate  float64
		burst int
	}{{0, 100}, {50, 0}, {-1, 10}, {math.NaN(), 10}, {math.Inf(1), 10}} {
		if l := newLimiter(c.rate, c.burst); l != nil {
			t.Errorf("newLimiter(%v, %d) is on", c.rate, c.burst)
		}
	}
	called := false
	_, err := rateLimit(nil)(context.Background(), nil, &grpc.UnaryServerInfo{FullMethod: "/x/Y"},
		func(context.Context, any) (any, error) { called = true; return nil, nil })
	if err != nil || !called {
		t.Errorf("rateLimit(nil): %v, handler called %v", err, called)
	}
}

// headerStream records the headers a handler sets with grpc.SetHeader.
type headerStream struct {
	grpc.ServerTransportStream
	header metadata.MD
}

func (s *headerStream) Method() string { return "/mediation.v1.CaseService/GetCase" }

func (s *headerStream) SetHeader(md metadata.MD) error {
	s.header = metadata.Join(s.header, md)
	return nil
}

func TestRateLimitInterceptor(t *testing.T) {
	l, clock := testLimiter(t, 1, 2)
	intercept := rateLimit(l)
	ok := func(context.Context, any) (any, error) { return "done", nil }
	call := func(ctx context.Context, method string) (*headerStream, error) {
		t.Helper()
		hs := &headerStream{}
		_, err := intercept(grpc.NewContextWithServerTransportStream(ctx, hs), nil, &grpc.UnaryServerInfo{FullMethod: method}, ok)
		return hs, err
	}
	user := func(name string) context.Context {
		return auth.WithPrincipal(context.Background(), auth.Principal{Name: name, Role: auth.RoleMediator})
	}
	const getCase = "/mediation.v1.CaseService/GetCase"
	alice, bob := user("users/alice"), user("apiKeys/court-1")

	for range 2 {
		if _, err := call(alice, getCase); err != nil {
			t.Fatalf("within the burst: %v", err)
		}
	}
	hs, err := call(alice, getCase)
	st := status.Convert(err)
	if st.Code() != codes.ResourceExhausted {
		t.Fatalf("third call: %v, want RESOURCE_EXHAUSTED", err)
	}
	var retry *errdetails.RetryInfo
	for _, d := range st.Details() {
		if r, ok := d.(*errdetails.RetryInfo); ok {
			retry = r
		}
	}
	if retry == nil || retry.GetRetryDelay().AsDuration() != time.Second {
		t.Errorf("RetryInfo = %v, want a delay of 1s (details %v)", retry, st.Details())
	}
	if got := hs.header.Get(mdRetryAfter); len(got) != 1 || got[0] != "1" {
		t.Errorf("retry-after header = %q, want [1]", got)
	}

	if _, err := call(bob, getCase); err != nil {
		t.Errorf("another principal is limited too: %v", err)
	}
	if _, err := call(alice, "/grpc.health.v1.Health/Check"); err != nil {
		t.Errorf("health check limited: %v", err)
	}
	clock.advance(time.Second)
	if _, err := call(alice, getCase); err != nil {
		t.Errorf("after a second the bucket has not refilled: %v", err)
	}

	// Without a principal the caller is its host, whatever its port; a name
	// that did not authenticate is counted by address too, not as that name.
	from := func(addr string, p auth.Principal) context.Context {
		ctx := reqinfo.With(context.Background(), reqinfo.Info{Peer: addr})
		return auth.WithPrincipal(ctx, p)
	}
	for _, port := range []string{"4001", "4002"} {
		if _, err := call(from("192.0.2.7:"+port, auth.Anonymous), getCase); err != nil {
			t.Fatalf("anonymous call within the burst: %v", err)
		}
	}
	if _, err := call(from("192.0.2.7:4003", auth.Principal{Name: "users/carol"}), getCase); status.Code(err) != codes.ResourceExhausted {
		t.Errorf("third call from one host, claiming a name: %v, want RESOURCE_EXHAUSTED", err)
	}
	if _, err := call(user("users/carol"), getCase); err != nil {
		t.Errorf("the authenticated users/carol paid for an unauthenticated claim of her name: %v", err)
	}
	if _, err := call(from("192.0.2.8:4001", auth.Anonymous), getCase); err != nil {
		t.Errorf("another host is limited too: %v", err)
	}
	// Without request info, the connection's peer address counts.
	pctx := peer.NewContext(context.Background(), &peer.Peer{Addr: &net.TCPAddr{IP: net.IPv4(198, 51, 100, 1), Port: 5}})
	if got := rateKey(pctx); got != "addr:198.51.100.1" {
		t.Errorf("rateKey from the peer = %q", got)
	}
}

func TestRateLimitOverREST(t *testing.T) {
	l, clock := testLimiter(t, 1, 2)
	st := startREST(t, Config{}, rateLimit(l))
	get := func(token, path string) *http.Response {
		t.Helper()
		resp, _ := st.mustGet(t, path, "Authorization", "Bearer "+token)
		return resp
	}
	for range 2 {
		if resp := get("alice", "/v1/workflow"); resp.StatusCode != http.StatusOK {
			t.Fatalf("within the burst: %d", resp.StatusCode)
		}
	}
	resp, body := st.mustGet(t, "/v1/workflow", "Authorization", "Bearer alice")
	if resp.StatusCode != http.StatusTooManyRequests || resp.Header.Get("Retry-After") != "1" {
		t.Errorf("third call: %d, Retry-After %q; want 429, 1", resp.StatusCode, resp.Header.Get("Retry-After"))
	}
	var e struct {
		Code    int    `json:"code"`
		Message string `json:"message"`
	}
	if err := json.Unmarshal([]byte(body), &e); err != nil || e.Code != int(codes.ResourceExhausted) {
		t.Errorf("body %s, want a RESOURCE_EXHAUSTED status", body)
	}
	if resp := get("alice", "/v1/cases/c1/agreement.html"); resp.StatusCode != http.StatusTooManyRequests || resp.Header.Get("Retry-After") != "1" {
		t.Errorf("agreement page: %d, Retry-After %q; want 429, 1", resp.StatusCode, resp.Header.Get("Retry-After"))
	}
	if resp := get("bob", "/v1/workflow"); resp.StatusCode != http.StatusOK {
		t.Errorf("another principal: %d", resp.StatusCode)
	}
	if resp := get("bob", "/v1/workflow"); resp.Header.Get("Retry-After") != "" || resp.Header.Get("Grpc-Metadata-X-Request-Id") != "" {
		t.Errorf("other gRPC headers leak into the response: %v", resp.Header)
	}
	clock.advance(time.Second)
	if resp := get("alice", "/v1/workflow"); resp.StatusCode != http.StatusOK {
		t.Errorf("after a second: %d", resp.StatusCode)
	}
}
