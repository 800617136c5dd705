package webui

import (
	"bytes"
	"compress/gzip"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"testing/fstest"
)

// built is a file system as a Vite build leaves it.
var built = fstest.MapFS{
	"index.html":              {Data: []byte(`<!doctype html><script type="module" src="/assets/index-abc123.js"></script>`)},
	"assets/index-abc123.js":  {Data: []byte(`console.log("app")`)},
	"assets/index-abc123.css": {Data: []byte(`body{}`)},
	"robots.txt":              {Data: []byte("User-agent: *\n")},
	"assets/big-def456.js":    {Data: []byte("console.log('big')")},
	"assets/big-def456.js.gz": {Data: gzipped("console.log('big')")},
}

func gzipped(s string) []byte {
	var b bytes.Buffer
	zw := gzip.NewWriter(&b)
	_, _ = zw.Write([]byte(s))
	_ = zw.Close()
	return b.Bytes()
}

func get(t *testing.T, h http.Handler, method, path string, header ...string) (*http.Response, string) {
	t.Helper()
	req := httptest.NewRequest(method, path, nil)
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	resp := rec.Result()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

func TestServesBuild(t *testing.T) {
	h := newHandler(built)
	for _, tt := range []struct {
		name, path string
		status     int
		cache      string
		body       string
		typ        string
	}{
		{"root is index.html", "/", 200, cacheRevalid, "<!doctype html>", "text/html"},
		{"client route falls back to index.html", "/cases/0190f3c2-0000-7000-8000-000000000001", 200, cacheRevalid, "<!doctype html>", "text/html"},
		{"deep client route", "/admin/users", 200, cacheRevalid, "<!doctype html>", "text/html"},
		{"index.html by name", "/index.html", 200, cacheRevalid, "<!doctype html>", "text/html"},
		{"hashed script is immutable", "/assets/index-abc123.js", 200, cacheImmutable, `console.log("app")`, "text/javascript"},
		{"hashed style is immutable", "/assets/index-abc123.css", 200, cacheImmutable, "body{}", "text/css"},
		{"top-level file is revalidated", "/robots.txt", 200, cacheRevalid, "User-agent", "text/plain"},
		{"missing asset is 404, not the page", "/assets/index-old999.js", 404, cacheRevalid, "no such asset", "text/plain"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			resp, body := get(t, h, http.MethodGet, tt.path)
			if resp.StatusCode != tt.status {
				t.Fatalf("GET %s = %d, want %d", tt.path, resp.StatusCode, tt.status)
			}
			if got := resp.Header.Get("Cache-Control"); got != tt.cache {
				t.Errorf("Cache-Control = %q, want %q", got, tt.cache)
			}
			if !strings.Contains(body, tt.body) {
				t.Errorf("body %q does not contain %q", body, tt.body)
			}
			if got := resp.Header.Get("Content-Type"); !strings.HasPrefix(got, tt.typ) {
				t.Errorf("Content-Type = %q, want %s", got, tt.typ)
			}
			if got := resp.Header.Get("Content-Security-Policy"); got != CSP {
				t.Errorf("Content-Security-Policy = %q, want the workbench's", got)
			}
		})
	}
}

// The service's own paths never get the workbench's page, also when the
// mux hands them over (e.g. /metrics when the metrics are private).
func TestLeavesServicePathsAlone(t *testing.T) {
	h := newHandler(built)
	for _, p := range []string{"/v1", "/v1/nothing", "/openapi.json", "/healthz", "/readyz", "/metrics", "/debug/pprof/"} {
		resp, body := get(t, h, http.MethodGet, p)
		if resp.StatusCode != http.StatusNotFound || strings.Contains(body, "<!doctype") {
			t.Errorf("GET %s = %d %q, want 404 without the page", p, resp.StatusCode, body)
		}
	}
	// A path that merely starts with the same letters is a client route.
	if resp, _ := get(t, h, http.MethodGet, "/v1x"); resp.StatusCode != 200 {
		t.Errorf("GET /v1x = %d, want the page", resp.StatusCode)
	}
}

func TestMethods(t *testing.T) {
	h := newHandler(built)
	resp, body := get(t, h, http.MethodHead, "/cases")
	if resp.StatusCode != 200 || body != "" {
		t.Errorf("HEAD /cases = %d %q, want 200 without a body", resp.StatusCode, body)
	}
	resp, _ = get(t, h, http.MethodPost, "/cases")
	if resp.StatusCode != http.StatusMethodNotAllowed || resp.Header.Get("Allow") != "GET, HEAD" {
		t.Errorf("POST /cases = %d Allow %q, want 405 GET, HEAD", resp.StatusCode, resp.Header.Get("Allow"))
	}
}

func TestIndexRevalidates(t *testing.T) {
	h := newHandler(built)
	resp, _ := get(t, h, http.MethodGet, "/")
	etag := resp.Header.Get("ETag")
	if etag == "" {
		t.Fatal("index.html has no ETag")
	}
	resp, body := get(t, h, http.MethodGet, "/todo", "If-None-Match", etag)
	if resp.StatusCode != http.StatusNotModified || body != "" {
		t.Errorf("conditional GET = %d %q, want 304", resp.StatusCode, body)
	}
}

func TestNotBuilt(t *testing.T) {
	h := newHandler(fstest.MapFS{".keep": {Data: []byte("placeholder")}})
	for _, p := range []string{"/", "/todo", "/assets/index-abc123.js"} {
		resp, body := get(t, h, http.MethodGet, p)
		if resp.StatusCode != http.StatusOK || !strings.Contains(body, "make webui") || !strings.Contains(body, "npm run build") {
			t.Errorf("GET %s without a build = %d %.80q, want the page saying how to build", p, resp.StatusCode, body)
		}
		if resp.Header.Get("Cache-Control") != cacheRevalid {
			t.Errorf("GET %s without a build: Cache-Control %q", p, resp.Header.Get("Cache-Control"))
		}
	}
	if resp, _ := get(t, h, http.MethodGet, "/v1/cases"); resp.StatusCode != http.StatusNotFound {
		t.Errorf("GET /v1/cases without a build = %d, want 404", resp.StatusCode)
	}
}

// The embedded directory is the build's, and Built says whether it holds
// one: the binary of a fresh clone has only the placeholder.
func TestEmbedded(t *testing.T) {
	h := Handler()
	resp, body := get(t, h, http.MethodGet, "/")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET / = %d", resp.StatusCode)
	}
	if Built() != strings.Contains(body, `<div id="app">`) {
		t.Errorf("Built() = %v, but / serves %.100q", Built(), body)
	}
}

// A precompressed asset goes to browsers that take gzip, with the file's
// own type; others get the plain bytes.
func TestGzipAssets(t *testing.T) {
	h := newHandler(built)
	for _, tt := range []struct {
		accept string
		gzip   bool
	}{
		{"gzip, deflate, br", true},
		{"br;q=1.0, gzip;q=0.8", true},
		{"gzip;q=0", false},
		{"identity", false},
		{"", false},
	} {
		resp, body := get(t, h, http.MethodGet, "/assets/big-def456.js", "Accept-Encoding", tt.accept)
		if got := resp.Header.Get("Content-Encoding") == "gzip"; got != tt.gzip {
			t.Errorf("Accept-Encoding %q: gzip %v, want %v", tt.accept, got, tt.gzip)
		}
		if !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/javascript") || resp.Header.Get("Vary") != "Accept-Encoding" {
			t.Errorf("Accept-Encoding %q: Content-Type %q Vary %q", tt.accept, resp.Header.Get("Content-Type"), resp.Header.Get("Vary"))
		}
		plain := body
		if tt.gzip {
			zr, err := gzip.NewReader(strings.NewReader(body))
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(zr)
			plain = string(b)
		}
		if plain != "console.log('big')" {
			t.Errorf("Accept-Encoding %q: body %q", tt.accept, plain)
		}
	}
	// An asset without a .gz is sent as it is.
	if resp, body := get(t, h, http.MethodGet, "/assets/index-abc123.js", "Accept-Encoding", "gzip"); resp.Header.Get("Content-Encoding") != "" || body != `console.log("app")` {
		t.Errorf("asset without .gz: %q %q", resp.Header.Get("Content-Encoding"), body)
	}
}
