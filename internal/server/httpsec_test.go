package server

import (
	"crypto/tls"
	"net/http"
	"net/http/httptest"
	"testing"
)

func TestSecurityHeadersByPath(t *testing.T) {
	ok := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusOK) })
	h := securityHeaders(ok)
	for _, tt := range []struct {
		path      string
		csp       string
		cacheable bool
	}{
		{"/v1/cases/0b5e/agreement.html", agreementCSP, false},
		{"/v1/cases/0b5e", apiCSP, false},
		{"/v1/cases/0b5e/agreementDocument", apiCSP, false},
		{"/v1/cases/0b5e/agreement.html/more", apiCSP, false},
		{"/v1/cases//agreement.html", apiCSP, false},
		{"/v1/cases/a/b/agreement.html", apiCSP, false},
		// One escaped segment, which http.ServeMux routes to the page.
		{"/v1/cases/a%2Fb/agreement.html", agreementCSP, false},
		{"/v1/cases/agreement.html", apiCSP, false},
		{"/v2/cases/0b5e/agreement.html", apiCSP, true},
		{"/healthz", apiCSP, true},
		{"/openapi.json", apiCSP, true},
	} {
		for _, overTLS := range []bool{false, true} {
			r := httptest.NewRequest(http.MethodGet, tt.path, nil)
			if overTLS {
				r.TLS = &tls.ConnectionState{}
			}
			w := httptest.NewRecorder()
			h.ServeHTTP(w, r)
			got := w.Result().Header
			want := map[string]string{
				"X-Content-Type-Options":  "nosniff",
				"X-Frame-Options":         "DENY",
				"Referrer-Policy":         "no-referrer",
				"Content-Security-Policy": tt.csp,
				"Cache-Control":           "no-store",
			}
			if tt.cacheable {
				want["Cache-Control"] = ""
			}
			if overTLS {
				want["Strict-Transport-Security"] = "max-age=31536000"
			} else {
				want["Strict-Transport-Security"] = ""
			}
			for k, v := range want {
				if got.Get(k) != v {
					t.Errorf("%s (TLS %v): %s = %q, want %q", tt.path, overTLS, k, got.Get(k), v)
				}
			}
		}
	}
}

func TestCORS(t *testing.T) {
	const app = "https://app.example.gov.cn"
	var reached bool
	next := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { reached = true; w.WriteHeader(http.StatusOK) })
	do := func(h http.Handler, method, origin string, preflight bool) *http.Response {
		t.Helper()
		reached = false
		r := httptest.NewRequest(method, "/v1/cases", nil)
		if origin != "" {
			r.Header.Set("Origin", origin)
		}
		if preflight {
			r.Header.Set("Access-Control-Request-Method", "POST")
			r.Header.Set("Access-Control-Request-Headers", "authorization, content-type")
		}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		return w.Result()
	}
	noCORS := func(what string, resp *http.Response) {
		t.Helper()
		for k := range resp.Header {
			if len(k) > 15 && k[:15] == "Access-Control-" {
				t.Errorf("%s: CORS header %s: %q", what, k, resp.Header.Get(k))
			}
		}
	}
	h := cors([]string{app, "http://localhost:5173"}, next)

	resp := do(h, http.MethodOptions, app, true)
	if resp.StatusCode != http.StatusNoContent || reached {
		t.Errorf("allowed preflight: %d, passed on %v", resp.StatusCode, reached)
	}
	for k, v := range map[string]string{
		"Access-Control-Allow-Origin":  app,
		"Access-Control-Allow-Methods": "GET, POST, PATCH, DELETE",
		"Access-Control-Allow-Headers": "Authorization, Content-Type, X-Request-Id",
		"Access-Control-Max-Age":       "600",
		"Vary":                         "Origin",
	} {
		if got := resp.Header.Get(k); got != v {
			t.Errorf("allowed preflight: %s = %q, want %q", k, got, v)
		}
	}
	if got := resp.Header.Get("Access-Control-Allow-Credentials"); got != "" {
		t.Errorf("credentials mode on: %q", got)
	}

	resp = do(h, http.MethodOptions, "https://evil.example", true)
	if resp.StatusCode != http.StatusForbidden || reached {
		t.Errorf("disallowed preflight: %d, passed on %v", resp.StatusCode, reached)
	}
	noCORS("disallowed preflight", resp)

	resp = do(h, http.MethodGet, app, false)
	if !reached || resp.Header.Get("Access-Control-Allow-Origin") != app ||
		resp.Header.Get("Access-Control-Expose-Headers") != "X-Request-Id, Retry-After" || resp.Header.Get("Vary") != "Origin" {
		t.Errorf("allowed request: passed on %v, headers %v", reached, resp.Header)
	}

	resp = do(h, http.MethodGet, "https://app.example.gov.cn.evil.example", false)
	if !reached {
		t.Error("disallowed request was not passed on")
	}
	noCORS("disallowed request", resp)

	resp = do(h, http.MethodGet, "", false)
	if !reached || resp.Header.Get("Vary") != "" {
		t.Errorf("same-origin request: passed on %v, headers %v", reached, resp.Header)
	}
	noCORS("same-origin request", resp)

	off := cors(nil, next)
	resp = do(off, http.MethodOptions, app, true)
	if !reached {
		t.Error("with CORS off a preflight did not reach the handler")
	}
	noCORS("CORS off", resp)
}
