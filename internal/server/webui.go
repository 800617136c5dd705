package server

import (
	"net/http"

	"github.com/mediationd/mediationd/internal/webui"
)

// handleWebUI mounts 调解工作台, the web front end, at "/": every path the
// mux routes nowhere else. Its handler keeps its hands off the service's
// own paths (/v1/…, the probes, /metrics) and sets its own
// Content-Security-Policy over the API's (see webui.CSP).
func (s *Server) handleWebUI(mux *http.ServeMux) {
	mux.Handle("/", webui.Handler())
}
