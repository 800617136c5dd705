package main

import (
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mediationd/mediationd/internal/pgtest"
)

func TestDemoFlags(t *testing.T) {
	tests := []struct {
		args  []string
		seed  uint64
		cases int
		rest  []string
		err   string
	}{
		{args: nil, seed: 42, cases: 3000},
		{args: []string{"--seed", "7", "--cases=200", "--log-level=debug"}, seed: 7, cases: 200, rest: []string{"--log-level=debug"}},
		{args: []string{"-seed=9", "--database-url", "postgres://x", "-cases", "10"}, seed: 9, cases: 10, rest: []string{"--database-url", "postgres://x"}},
		{args: []string{"--", "--seed", "1"}, seed: 42, cases: 3000, rest: []string{"--", "--seed", "1"}},
		{args: []string{"--seed"}, err: "--seed needs a value"},
		{args: []string{"--seed=-1"}, err: "--seed"},
		{args: []string{"--cases=0"}, err: "--cases"},
		{args: []string{"--cases", "many"}, err: "--cases"},
	}
	for _, tc := range tests {
		seed, cases, rest, err := demoFlags(tc.args)
		switch {
		case tc.err != "":
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("demoFlags(%q) error %v, want one mentioning %q", tc.args, err, tc.err)
			}
		case err != nil:
			t.Errorf("demoFlags(%q): %v", tc.args, err)
		case seed != tc.seed || cases != tc.cases || !slices.Equal(rest, tc.rest):
			t.Errorf("demoFlags(%q) = %d, %d, %q; want %d, %d, %q", tc.args, seed, cases, rest, tc.seed, tc.cases, tc.rest)
		}
	}
}

// TestDemo runs the demo command, and the service with MEDIATION_DEMO set.
func TestDemo(t *testing.T) {
	t.Parallel()
	t.Run("command", func(t *testing.T) {
		t.Parallel()
		env := []string{"DATABASE_URL=" + pgtest.NewDatabase(t)}
		code, stdout, stderr := run(t, 2*time.Minute, env, "demo", "--seed", "5", "--cases", "150")
		if code != 0 {
			t.Fatalf("mediationd demo: exit status %d; stderr:\n%s", code, stderr)
		}
		for _, want := range []string{"cases: 150", "success rate", "巾帼工作室 9", "行业性专业性人民调解委员会 29", "demo logins", "demo-admin", "demo-mediator"} {
			if !strings.Contains(stdout, want) {
				t.Errorf("the report does not mention %q:\n%s", want, stdout)
			}
		}
		if !strings.Contains(stderr, "150/150 cases") {
			t.Errorf("no progress reported:\n%s", stderr)
		}
		code, _, stderr = run(t, time.Minute, env, "demo", "--seed", "5", "--cases", "150")
		if code == 0 || !strings.Contains(stderr, "already holds organizations or cases") {
			t.Errorf("a second mediationd demo: exit status %d, stderr:\n%s\nwant a refusal", code, stderr)
		}
	})

	t.Run("serve", func(t *testing.T) {
		t.Parallel()
		ctx := testContext(t, 4*time.Minute)
		env := []string{"DATABASE_URL=" + pgtest.NewDatabase(t), "MEDIATION_DEMO=7"}
		s := serve(ctx, t, env, "--migrate")
		s.waitReady(ctx, 2*time.Minute)
		// The demo logins work, each seeing its part of the data.
		var counts []int
		for _, username := range []string{"demo-admin", "demo-supervisor", "demo-lead", "demo-mediator", "demo-court"} {
			var session struct {
				Token string `json:"token"`
			}
			s.token = ""
			s.mustCall(ctx, "POST", "/v1/sessions", map[string]string{"username": username, "password": "qingyang-demo-2026"}, http.StatusOK, &session)
			s.token = session.Token
			var list struct {
				Cases []caseJSON `json:"cases"`
			}
			s.mustCall(ctx, "GET", "/v1/cases?pageSize=1000", nil, http.StatusOK, &list)
			counts = append(counts, len(list.Cases))
		}
		if counts[0] != 1000 || counts[1] != 1000 || counts[2] == 0 || counts[2] >= 1000 || counts[3] == 0 || counts[3] > counts[2] || counts[4] == 0 {
			t.Errorf("cases seen by admin, supervisor, lead, mediator, court: %v", counts)
		}
		s.stop(shutdownTimeout)
		if logs := s.logs(); !logged(logs, "loaded demo data") || !logged(logs, "demo login") {
			t.Fatalf("MEDIATION_DEMO=7 on an empty database did not load the demo; logs:\n%s", logs)
		}
		// Started again, the service leaves the data it loaded alone.
		s = serve(ctx, t, env)
		s.waitReady(ctx, 30*time.Second)
		s.stop(shutdownTimeout)
		if logs := s.logs(); !logged(logs, "demo data skipped: the database already holds organizations or cases") || logged(logs, "loading demo data") {
			t.Errorf("MEDIATION_DEMO=7 on a database with data did not skip the demo; logs:\n%s", logs)
		}
	})

	t.Run("bad seed", func(t *testing.T) {
		t.Parallel()
		env := []string{"DATABASE_URL=" + pgtest.NewDatabase(t), "MEDIATION_DEMO=lots"}
		code, _, stderr := run(t, time.Minute, env, "serve", "--migrate", "--grpc-addr="+freeAddr(t), "--http-addr="+freeAddr(t))
		if code == 0 || !strings.Contains(stderr, "MEDIATION_DEMO") {
			t.Errorf("MEDIATION_DEMO=lots: exit status %d, stderr:\n%s\nwant a refusal naming MEDIATION_DEMO", code, stderr)
		}
	})
}
