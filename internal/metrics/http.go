package metrics

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/grpc-ecosystem/grpc-gateway/v2/runtime"
	"google.golang.org/grpc"
)

// routeOther is the route of a request that matched no pattern outside
// the API (the API's own unmatched requests are under the /v1/ pattern).
const routeOther = "other"

// routeKey is the context key of the *routeNote of an HTTP request.
type routeKey struct{}

// routeNote is where the gateway's gRPC client leaves the path pattern of
// the REST method it called, for the HTTP middleware to read once the
// request is answered. The gateway calls on the request's own goroutine.
type routeNote struct{ pattern string }

// routeCache maps a gateway path pattern to its label form.
type routeCache struct{ m sync.Map }

func (c *routeCache) label(pattern string) string {
	if v, ok := c.m.Load(pattern); ok {
		return v.(string)
	}
	v, _ := c.m.LoadOrStore(pattern, routeLabel(pattern))
	return v.(string)
}

// GatewayRouteInterceptor goes around the REST gateway's calls to the
// services. It notes the google.api.http path pattern of the REST method being
// called (runtime.HTTPPathPattern, set by the generated gateway handler), so
// that InstrumentHTTP can label the request with its pattern instead of its
// path.
func (m *Metrics) GatewayRouteInterceptor() grpc.UnaryClientInterceptor {
	if m == nil {
		return func(ctx context.Context, method string, req, reply any, cc *grpc.ClientConn, invoker grpc.UnaryInvoker, opts ...grpc.CallOption) error {
			return invoker(ctx, method, req, reply, cc, opts...)
		}
	}
	return func(ctx context.Context, method string, req, reply any, cc *grpc.ClientConn, invoker grpc.UnaryInvoker, opts ...grpc.CallOption) error {
		if n, ok := ctx.Value(routeKey{}).(*routeNote); ok {
			if p, ok := runtime.HTTPPathPattern(ctx); ok {
				n.pattern = p
			}
		}
		return invoker(ctx, method, req, reply, cc, opts...)
	}
}

// InstrumentHTTP counts and times the requests of the HTTP listener by
// route and status. It goes outermost, around every other middleware.
//
// The route is bounded, never a raw path: a REST method's HTTP method and
// path pattern ("POST /v1/cases/{case}:accept", see GatewayRouteInterceptor),
// else the http.ServeMux pattern that matched ("GET /healthz", "/v1/"),
// else "/v1/" for any other API path and "other" for the rest.
func (m *Metrics) InstrumentHTTP(next http.Handler) http.Handler {
	if m == nil {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		note := &routeNote{}
		rec := &statusRecorder{ResponseWriter: w}
		r = r.WithContext(context.WithValue(r.Context(), routeKey{}, note))
		next.ServeHTTP(rec, r)
		route := m.route(r, note)
		m.httpRequests.WithLabelValues(route, statusLabel(rec.status)).Inc()
		m.httpDuration.WithLabelValues(route).Observe(time.Since(start).Seconds())
	})
}

// route is the label of an answered request. http.ServeMux sets Pattern on
// the request it routes, which is r unless a middleware replaced it.
func (m *Metrics) route(r *http.Request, note *routeNote) string {
	switch {
	case note.pattern != "":
		// The gateway routed it, so the method is one it serves there.
		return r.Method + " " + m.routes.label(note.pattern)
	case r.Pattern != "":
		return r.Pattern
	case strings.HasPrefix(r.URL.Path, "/v1/"):
		return "/v1/"
	}
	return routeOther
}

// statusLabel is the status as a label: 200 when the handler wrote
// nothing, "other" outside the valid range.
func statusLabel(code int) string {
	switch {
	case code == 0:
		return "200"
	case code < 100 || code > 599:
		return "other"
	}
	return strconv.Itoa(code)
}

// routeLabel renders a google.api.http path template in the form of the
// API's documentation: "/v1/{name=cases/*}:accept" becomes
// "/v1/cases/{case}:accept", each wildcard named after the collection
// before it.
func routeLabel(pattern string) string {
	var b strings.Builder
	for {
		i := strings.IndexByte(pattern, '{')
		if i < 0 {
			break
		}
		j := strings.IndexByte(pattern[i:], '}')
		if j < 0 {
			break
		}
		b.WriteString(pattern[:i])
		field, tmpl, ok := strings.Cut(pattern[i+1:i+j], "=")
		if !ok {
			b.WriteString(pattern[i : i+j+1])
		} else {
			segs := strings.Split(tmpl, "/")
			for k, s := range segs {
				if s != "*" && s != "**" {
					continue
				}
				name := field[strings.LastIndexByte(field, '.')+1:]
				if k > 0 && !strings.Contains(segs[k-1], "{") && segs[k-1] != "*" && segs[k-1] != "**" {
					name = strings.TrimSuffix(segs[k-1], "s")
				}
				segs[k] = "{" + name + "}"
			}
			b.WriteString(strings.Join(segs, "/"))
		}
		pattern = pattern[i+j+1:]
	}
	b.WriteString(pattern)
	return b.String()
}

// statusRecorder remembers the status a handler wrote.
type statusRecorder struct {
	http.ResponseWriter
	status int
}

// WriteHeader records the first final (not 1xx) status and passes it on.
func (s *statusRecorder) WriteHeader(code int) {
	if s.status == 0 && code >= 200 {
		s.status = code
	}
	s.ResponseWriter.WriteHeader(code)
}

// Write records the implicit 200 of a body written without a status.
func (s *statusRecorder) Write(b []byte) (int, error) {
	if s.status == 0 {
		s.status = http.StatusOK
	}
	return s.ResponseWriter.Write(b)
}

// Flush passes a flush on when the underlying writer can flush.
func (s *statusRecorder) Flush() {
	if f, ok := s.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

// Unwrap gives http.ResponseController the underlying writer.
func (s *statusRecorder) Unwrap() http.ResponseWriter { return s.ResponseWriter }
