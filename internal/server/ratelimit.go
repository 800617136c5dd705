package server

import (
	"context"
	"math"
	"net"
	"strconv"
	"strings"
	"sync"
	"time"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/peer"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/durationpb"

	"github.com/mediationd/mediationd/internal/auth"
	"github.com/mediationd/mediationd/internal/reqinfo"
)

// mdRetryAfter is the response header of a refused call: how many whole
// seconds to wait. The gateway forwards it as HTTP Retry-After.
const mdRetryAfter = "retry-after"

const (
	// sweepEvery is how often the limiter drops the buckets it no longer
	// needs.
	sweepEvery = time.Minute
	// maxBuckets bounds the limiter's memory whatever the number of
	// callers (about 100 bytes a bucket).
	maxBuckets = 100_000
)

// limiter is a token bucket per caller: each holds up to burst tokens,
// refills at rate tokens a second, and a call takes one. The buckets live
// in this process, so with N replicas behind a load balancer a caller may
// make up to N times the configured rate; that is accepted, as the limit
// protects each replica and the database from one runaway client rather
// than metering use.
//
// Memory stays bounded: every sweepEvery, buckets that have had time to
// refill completely are dropped (a new bucket starts full, so dropping
// them changes nothing), and at maxBuckets an arbitrary bucket makes room,
// which can only be lenient to its caller.
type limiter struct {
	rate  float64 // tokens a second
	burst float64
	now   func() time.Time

	mu        sync.Mutex
	buckets   map[string]*bucket
	lastSweep time.Time
}

type bucket struct {
	tokens float64
	last   time.Time // when tokens was computed
}

// newLimiter returns a limiter of rate calls a second with bursts of
// burst calls, or nil (no limit) when rate or burst is not positive.
func newLimiter(rate float64, burst int) *limiter {
	if !(rate > 0) || burst <= 0 || math.IsInf(rate, 0) {
		return nil
	}
	return &limiter{rate: rate, burst: float64(burst), now: time.Now, buckets: map[string]*bucket{}}
}

// allow takes a token from key's bucket. When there is none it returns
// false and how long until there will be one.
func (l *limiter) allow(key string) (bool, time.Duration) {
	now := l.now()
	l.mu.Lock()
	defer l.mu.Unlock()
	if now.Sub(l.lastSweep) >= sweepEvery {
		l.sweep(now)
		l.lastSweep = now
	}
	b, ok := l.buckets[key]
	if !ok {
		if len(l.buckets) >= maxBuckets {
			for k := range l.buckets {
				delete(l.buckets, k)
				break
			}
		}
		b = &bucket{tokens: l.burst, last: now}
		l.buckets[key] = b
	} else if elapsed := now.Sub(b.last); elapsed > 0 {
		b.tokens = math.Min(l.burst, b.tokens+elapsed.Seconds()*l.rate)
		b.last = now
	}
	if b.tokens >= 1 {
		b.tokens--
		return true, 0
	}
	return false, time.Duration((1 - b.tokens) / l.rate * float64(time.Second))
}

// sweep drops the buckets that are full again by now.
func (l *limiter) sweep(now time.Time) {
	full := time.Duration(l.burst / l.rate * float64(time.Second))
	for k, b := range l.buckets {
		if now.Sub(b.last) >= full {
			delete(l.buckets, k)
		}
	}
}

// rateLimit refuses calls beyond the caller's rate with RESOURCE_EXHAUSTED,
// a google.rpc.RetryInfo detail, and a retry-after response header in
// whole seconds (at least 1), which the REST gateway turns into HTTP 429
// with Retry-After. A nil limiter lets every call through.
//
// The caller is the authenticated principal (auth.FromContext), so a user
// or an API key has one bucket wherever it calls from; a caller that did
// not authenticate is counted by its address (reqinfo's peer, which for
// REST is the HTTP client's address). A name that was not authenticated
// does not get a bucket of its own, so nobody can use up another's bucket
// by claiming its name. It therefore belongs in the interceptor chain
// right after authentication (and after requestInfo), before validation
// and the handlers. Health checks are never limited, so that probes keep
// working under load.
func rateLimit(l *limiter) grpc.UnaryServerInterceptor {
	return func(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
		if l == nil || strings.HasPrefix(info.FullMethod, "/grpc.health.v1.Health/") {
			return handler(ctx, req)
		}
		ok, wait := l.allow(rateKey(ctx))
		if ok {
			return handler(ctx, req)
		}
		secs := int64(math.Ceil(wait.Seconds()))
		if secs < 1 {
			secs = 1
		}
		_ = grpc.SetHeader(ctx, metadata.Pairs(mdRetryAfter, strconv.FormatInt(secs, 10)))
		st := status.Newf(codes.ResourceExhausted, "too many requests: at most %g a second (bursts of %g); retry in %d s",
			l.rate, l.burst, secs)
		if d, err := st.WithDetails(&errdetails.RetryInfo{RetryDelay: durationpb.New(wait)}); err == nil {
			st = d
		}
		return nil, st.Err()
	}
}

// rateKey names the bucket of the call in ctx: the authenticated
// principal's name, else the client's host.
func rateKey(ctx context.Context) string {
	if p := auth.FromContext(ctx); p.Authenticated() {
		return "principal:" + p.Name
	}
	addr := reqinfo.From(ctx).Peer
	if addr == "" {
		if p, ok := peer.FromContext(ctx); ok && p.Addr != nil {
			addr = p.Addr.String()
		}
	}
	if host, _, err := net.SplitHostPort(addr); err == nil {
		addr = host
	}
	return "addr:" + addr
}
