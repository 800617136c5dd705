// Package webui serves 调解工作台, the web front end of mediationd: a
// single-page application (Vue 3, Element Plus) whose sources live beside
// this file and whose build output (dist/, made by `npm run build`) is
// embedded in the binary.
//
// Hashed assets under /assets/ are cached for a year, and sent gzipped
// (precompressed by the build) to browsers that take it; index.html is never
// cached, so a new release takes effect at the next load. Any other path
// that names no file gets index.html, so that the client's routes
// (/cases/…, /todo) survive a reload or a bookmark; the service's own
// paths (/v1/…, /openapi.json, the probes and /metrics) never do. A binary
// built before the UI was built serves, at every such path, a page that
// says how to build it.
package webui

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"io/fs"
	"mime"
	"net/http"
	"path"
	"strings"
	"time"
)

//go:embed all:dist
var embedded embed.FS

// CSP is the Content-Security-Policy of the workbench's pages: scripts,
// fonts and API calls from the service's own origin only, no inline or
// evaluated script. Element Plus sets inline styles, hence 'unsafe-inline'
// for styles alone. The agreement's print preview is an iframe with srcdoc
// (frame-src 'self' covers it, and it inherits this policy); data: images
// are Element Plus's icons in CSS.
const CSP = "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; " +
	"img-src 'self' data:; font-src 'self' data:; connect-src 'self'; frame-src 'self'; " +
	"object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"

// Cache-Control values: hashed assets never change under their name;
// everything else is revalidated on every load.
const (
	cacheImmutable = "public, max-age=31536000, immutable"
	cacheRevalid   = "no-cache"
)

// notBuiltPage is served when the binary was built without the UI.
const notBuiltPage = `<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8"><title>调解工作台未构建 · workbench not built</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>body{font:18px/1.6 system-ui,sans-serif;max-width:44em;margin:3em auto;padding:0 1em}code,pre{background:#f3f4f6;padding:.1em .3em}</style>
</head><body>
<h1>调解工作台尚未构建</h1>
<p>This mediationd binary was built without its web front end, so there is no workbench to show. The API is up: <a href="/openapi.json">/openapi.json</a>.</p>
<p>Build the front end (Node.js 20 and npm), then build or run mediationd again:</p>
<pre>make webui        # = cd internal/webui &amp;&amp; npm ci &amp;&amp; npm run build
go build ./cmd/mediationd</pre>
<p><code>make run</code> does both.</p>
</body></html>
`

// reserved are the service's own paths, which the SPA fallback must leave
// alone: a mistyped API path gets 404, never the workbench's page.
var reserved = []string{"/v1", "/openapi.json", "/healthz", "/readyz", "/metrics", "/debug"}

// Handler returns the handler of the workbench, for the HTTP mux's "/".
func Handler() http.Handler {
	sub, err := fs.Sub(embedded, "dist")
	if err != nil {
		panic(err) // "dist" is a literal directory of the embed: cannot fail
	}
	return newHandler(sub)
}

// Built reports whether the binary embeds a built workbench.
func Built() bool {
	_, err := fs.Stat(embedded, "dist/index.html")
	return err == nil
}

// acceptsGzip reports whether the request's Accept-Encoding takes gzip
// (and does not refuse it with q=0).
func acceptsGzip(r *http.Request) bool {
	for _, part := range strings.Split(r.Header.Get("Accept-Encoding"), ",") {
		coding, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		if !strings.EqualFold(strings.TrimSpace(coding), "gzip") {
			continue
		}
		q := strings.ReplaceAll(params, " ", "")
		return q != "q=0" && q != "q=0.0" && q != "q=0.00" && q != "q=0.000"
	}
	return false
}

// handler serves one file system holding a Vite build.
type handler struct {
	files   fs.FS
	index   []byte // index.html, nil when the UI is not built
	etag    string // index.html's strong validator
	modTime time.Time
}

func newHandler(files fs.FS) *handler {
	h := &handler{files: files}
	if b, err := fs.ReadFile(files, "index.html"); err == nil {
		h.index = b
		sum := sha256.Sum256(b)
		h.etag = `"` + hex.EncodeToString(sum[:16]) + `"`
	}
	return h
}

func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	p := r.URL.Path
	for _, prefix := range reserved {
		if p == prefix || strings.HasPrefix(p, prefix+"/") {
			http.Error(w, "404 page not found: "+p+" is none of the service's paths; see /openapi.json", http.StatusNotFound)
			return
		}
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "405 method not allowed: the workbench's pages are read with GET", http.StatusMethodNotAllowed)
		return
	}
	hd := w.Header()
	hd.Set("Content-Security-Policy", CSP)
	if h.index == nil {
		hd.Set("Cache-Control", cacheRevalid)
		hd.Set("Content-Type", "text/html; charset=utf-8")
		w.WriteHeader(http.StatusOK)
		if r.Method == http.MethodGet {
			_, _ = w.Write([]byte(notBuiltPage))
		}
		return
	}
	name := strings.TrimPrefix(path.Clean(p), "/")
	if name != "" && name != "index.html" && !strings.HasPrefix(name, ".") {
		if b, err := fs.ReadFile(h.files, name); err == nil {
			if strings.HasPrefix(name, "assets/") {
				hd.Set("Cache-Control", cacheImmutable)
				hd.Add("Vary", "Accept-Encoding")
				if gz, err := fs.ReadFile(h.files, name+".gz"); err == nil && acceptsGzip(r) {
					// The type is the file's, not the .gz's; ServeContent
					// would otherwise sniff the compressed bytes.
					if t := mime.TypeByExtension(path.Ext(name)); t != "" {
						hd.Set("Content-Type", t)
					}
					hd.Set("Content-Encoding", "gzip")
					b = gz
				}
			} else {
				hd.Set("Cache-Control", cacheRevalid)
			}
			http.ServeContent(w, r, name, h.modTime, bytes.NewReader(b))
			return
		}
		// A missing hashed asset is a stale page asking for an old build's
		// file: index.html in its place would only fail to parse as script.
		if strings.HasPrefix(name, "assets/") {
			hd.Set("Cache-Control", cacheRevalid)
			http.Error(w, "404 page not found: no such asset in this build; reload the page", http.StatusNotFound)
			return
		}
	}
	hd.Set("Cache-Control", cacheRevalid)
	hd.Set("ETag", h.etag)
	http.ServeContent(w, r, "index.html", h.modTime, bytes.NewReader(h.index))
}
