package server

import (
	"net/http"
	"strings"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// The Content-Security-Policy of HTTP responses. The API's responses are
// JSON and need nothing loaded or framed. The agreement page is HTML
// whose only resource is its own inline <style> block (it has no scripts,
// images or external fonts: see casework's agreementTemplate), so it may
// apply inline styles and nothing else.
const (
	apiCSP       = "default-src 'none'; frame-ancestors 'none'"
	agreementCSP = "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'"
)

// The CORS answer for allowed origins. Tokens travel in the Authorization
// header, never in cookies, so credentials mode stays off.
const (
	corsAllowMethods  = "GET, POST, PATCH, DELETE"
	corsAllowHeaders  = "Authorization, Content-Type, X-Request-Id"
	corsExposeHeaders = "X-Request-Id, Retry-After"
	corsMaxAge        = "600"
)

// withHTTPSecurity puts the security headers on every response of the
// HTTP listener and, when origins are configured, answers CORS. It goes
// outermost, so that refusals of the inner middleware carry the headers
// too.
func (s *Server) withHTTPSecurity(next http.Handler) http.Handler {
	return securityHeaders(cors(s.cfg.CORSOrigins, next))
}

// securityHeaders sets the headers that keep browsers from sniffing,
// framing or caching what the service returns: Cache-Control: no-store on
// /v1/ (its responses carry personal data), a Content-Security-Policy by
// path (isAgreementPage), and Strict-Transport-Security on connections
// that arrived over TLS.
func securityHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Referrer-Policy", "no-referrer")
		if isAgreementPage(r) {
			h.Set("Content-Security-Policy", agreementCSP)
		} else {
			h.Set("Content-Security-Policy", apiCSP)
		}
		if strings.HasPrefix(r.URL.Path, "/v1/") {
			h.Set("Cache-Control", "no-store")
		}
		if r.TLS != nil {
			h.Set("Strict-Transport-Security", "max-age=31536000")
		}
		next.ServeHTTP(w, r)
	})
}

// isAgreementPage reports whether r is for /v1/cases/{case}/agreement.html,
// judged on the escaped path as http.ServeMux routes it.
func isAgreementPage(r *http.Request) bool {
	rest, ok := strings.CutPrefix(r.URL.EscapedPath(), "/v1/cases/")
	if !ok {
		return false
	}
	id, ok := strings.CutSuffix(rest, "/agreement.html")
	return ok && id != "" && !strings.Contains(id, "/")
}

// cors answers cross-origin requests from the given exact origins (scheme,
// host and port, as browsers send them in Origin). An allowed origin's
// preflight gets 204 with the methods and headers the API takes; its
// actual requests get Access-Control-Allow-Origin (the origin itself, not
// *) and the response headers a script may read. Other origins get no
// CORS headers, and their preflights 403. Without origins, CORS is off and
// requests pass untouched.
func cors(origins []string, next http.Handler) http.Handler {
	if len(origins) == 0 {
		return next
	}
	allowed := make(map[string]bool, len(origins))
	for _, o := range origins {
		allowed[o] = true
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		origin := r.Header.Get("Origin")
		if origin == "" {
			next.ServeHTTP(w, r)
			return
		}
		// The answer depends on Origin, so caches must key on it.
		w.Header().Add("Vary", "Origin")
		preflight := r.Method == http.MethodOptions && r.Header.Get("Access-Control-Request-Method") != ""
		switch {
		case preflight && !allowed[origin]:
			writeStatus(w, http.StatusForbidden, status.Newf(codes.PermissionDenied,
				"origin %s may not call this API from a browser", origin))
		case preflight:
			h := w.Header()
			h.Set("Access-Control-Allow-Origin", origin)
			h.Set("Access-Control-Allow-Methods", corsAllowMethods)
			h.Set("Access-Control-Allow-Headers", corsAllowHeaders)
			h.Set("Access-Control-Max-Age", corsMaxAge)
			w.WriteHeader(http.StatusNoContent)
		default:
			if allowed[origin] {
				w.Header().Set("Access-Control-Allow-Origin", origin)
				w.Header().Set("Access-Control-Expose-Headers", corsExposeHeaders)
			}
			next.ServeHTTP(w, r)
		}
	})
}
