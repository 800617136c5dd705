package main

import (
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/mediationd/mediationd/internal/pgtest"
)

// TestDebugListener: with MEDIATION_DEBUG_ADDR the metrics and pprof move to
// that listener, and the public HTTP listener no longer serves /metrics.
func TestDebugListener(t *testing.T) {
	t.Parallel()
	ctx := testContext(t, 2*time.Minute)
	debug := freeAddr(t)
	s := serve(ctx, t, []string{"DATABASE_URL=" + pgtest.NewDatabase(t), "MEDIATION_DEBUG_ADDR=" + debug}, "--migrate")
	s.waitReady(ctx, 30*time.Second)
	get := func(url string) (int, string) {
		resp, err := http.Get(url)
		if err != nil {
			t.Fatalf("GET %s: %v", url, err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	if code, body := get("http://" + debug + "/metrics"); code != http.StatusOK || !strings.Contains(body, "mediationd_build_info") {
		t.Errorf("debug /metrics: %d", code)
	}
	if code, body := get("http://" + debug + "/debug/pprof/"); code != http.StatusOK || !strings.Contains(body, "goroutine") {
		t.Errorf("debug /debug/pprof/: %d", code)
	}
	if code, _ := get(s.baseURL + "/metrics"); code == http.StatusOK {
		t.Error("the public HTTP listener still serves /metrics")
	}
	s.stop(shutdownTimeout)
}
