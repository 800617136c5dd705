package server_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/mediationd/mediationd/internal/webui"
)

// TestWebUIMounted checks the workbench behind the real HTTP listener:
// / and client routes get its page (built or the page saying how to build
// it) with its own Content-Security-Policy and the other security
// headers, while the API's paths keep their JSON answers.
func TestWebUIMounted(t *testing.T) {
	e := startTransport(t, nil)
	for _, path := range []string{"/", "/todo", "/cases/0190f3c2-0000-7000-8000-000000000001"} {
		resp, body := mustRequest(t, e.http, http.MethodGet, e.baseURL+path)
		if resp.StatusCode != http.StatusOK || !strings.Contains(body, "<html") {
			t.Errorf("GET %s = %d %.100q, want the workbench's page", path, resp.StatusCode, body)
		}
		if got := resp.Header.Get("Content-Security-Policy"); got != webui.CSP {
			t.Errorf("GET %s: Content-Security-Policy %q, want the workbench's", path, got)
		}
		if resp.Header.Get("X-Frame-Options") != "DENY" || resp.Header.Get("X-Content-Type-Options") != "nosniff" || resp.Header.Get("X-Request-Id") == "" {
			t.Errorf("GET %s: security headers missing: %v", path, resp.Header)
		}
		if resp.Header.Get("Cache-Control") != "no-cache" {
			t.Errorf("GET %s: Cache-Control %q, want no-cache", path, resp.Header.Get("Cache-Control"))
		}
	}
	resp, body := mustRequest(t, e.http, http.MethodGet, e.baseURL+"/v1/nothing/here")
	if resp.StatusCode != http.StatusNotFound || !strings.Contains(body, `"code"`) || strings.Contains(body, "<html") {
		t.Errorf("GET /v1/nothing/here = %d %.100q, want the API's JSON 404", resp.StatusCode, body)
	}
	if got := resp.Header.Get("Content-Security-Policy"); got == webui.CSP {
		t.Errorf("the API's 404 got the workbench's policy")
	}
	resp, _ = mustRequest(t, e.http, http.MethodPost, e.baseURL+"/todo")
	if resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("POST /todo = %d, want 405", resp.StatusCode)
	}
}
