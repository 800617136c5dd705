package bench

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"
)

func TestPercentiles(t *testing.T) {
	var ds []time.Duration
	for i := 100; i >= 1; i-- {
		ds = append(ds, time.Duration(i)*time.Millisecond)
	}
	s := summarize(ds)
	if s.Count != 100 || s.P50 != 50*time.Millisecond || s.P95 != 95*time.Millisecond || s.P99 != 99*time.Millisecond || s.Max != 100*time.Millisecond {
		t.Errorf("summarize(1..100 ms) = %+v", s)
	}
	if s := summarize([]time.Duration{7}); s.P50 != 7 || s.P99 != 7 {
		t.Errorf("summarize of one = %+v", s)
	}
	if s := summarize(nil); s.Count != 0 {
		t.Errorf("summarize(nil) = %+v", s)
	}
	all, by := summarizeSamples([]sample{{d: 3, kind: opGet}, {d: 1, kind: opCreate}, {d: 2, kind: opGet}})
	if all.Count != 3 || by["get"].Count != 2 || by["get"].Max != 3 || by["create"].P50 != 1 {
		t.Errorf("summarizeSamples = %+v, %+v", all, by)
	}
}

func TestParseRSSMetric(t *testing.T) {
	text := `# HELP process_resident_memory_bytes Resident memory size in bytes.
# TYPE process_resident_memory_bytes gauge
process_resident_memory_bytes_extra 1
process_resident_memory_bytes 4.5678592e+07
`
	got, err := parseRSSMetric(strings.NewReader(text))
	if err != nil || got != 45678592 {
		t.Errorf("parseRSSMetric = %d, %v; want 45678592", got, err)
	}
	if _, err := parseRSSMetric(strings.NewReader("go_goroutines 12\n")); err == nil {
		t.Error("parseRSSMetric without the metric: no error")
	}
}

func TestProcfs(t *testing.T) {
	pid := os.Getpid()
	rss, err := statusKB(pid, "VmRSS")
	if err != nil || rss <= 0 {
		t.Fatalf("VmRSS of this process = %d, %v", rss, err)
	}
	st, err := readProcStat(pid)
	if err != nil || st.ppid != os.Getppid() {
		t.Fatalf("readProcStat = %+v, %v; want ppid %d", st, err, os.Getppid())
	}
	if _, err := treeCPU(pid); err != nil {
		t.Fatal(err)
	}
	s := procRSS(pid)
	s.start(context.Background())
	time.Sleep(2 * rssPollInterval)
	if peak, source := s.stop(); peak <= 0 || source == "n/a" {
		t.Errorf("peak RSS of this process = %d (%s)", peak, source)
	}
}

func TestAssignees(t *testing.T) {
	seen := map[string]bool{}
	for n := range organizations * mediatorsPerOrganization {
		org, med := assignee(n)
		// A mediator belongs to the organization it is assigned with.
		if !strings.HasPrefix(strings.TrimPrefix(med, "mediators/bench-med-"), strings.TrimPrefix(org, "organizations/bench-room-")+"-") {
			t.Errorf("assignment %d: %s with %s", n, org, med)
		}
		seen[med] = true
	}
	if len(seen) != organizations*mediatorsPerOrganization {
		t.Errorf("assignments reach %d mediators, want all %d", len(seen), organizations*mediatorsPerOrganization)
	}
	for _, k := range lifecycle[1:] {
		if _, err := domainCommand(k, 0); err != nil {
			t.Error(err)
		}
		if _, err := restAction(k, "cases/x", "v1", 0); err != nil {
			t.Error(err)
		}
		if restVerb[k] == "" || grpcMethod[k] == "" {
			t.Errorf("%s has no REST verb or gRPC method", k)
		}
	}
}

func TestCheckLoopback(t *testing.T) {
	for addr, ok := range map[string]bool{
		"127.0.0.1:9090": true, "[::1]:9090": true, "localhost:8080": true,
		"10.0.0.1:9090": false, "example.org:80": false, ":9090": false, "nonsense": false,
	} {
		if err := checkLoopback(addr); (err == nil) != ok {
			t.Errorf("checkLoopback(%q) = %v", addr, err)
		}
	}
}

// TestDebugAddrOnLoopback: the started service's pprof listener stays on
// this machine.
func TestDebugAddrOnLoopback(t *testing.T) {
	for addr, ok := range map[string]bool{"127.0.0.1:6060": true, "0.0.0.0:6060": false, ":6060": false} {
		cfg := Config{Clients: 1, Duration: time.Second, Workloads: []string{LifecycleGRPC}, Launch: &LaunchOptions{DebugAddr: addr}}
		if err := cfg.check(); (err == nil) != ok {
			t.Errorf("debug address %q: %v", addr, err)
		}
	}
}

// TestAttach starts a service, then measures it as a running server: the
// path a benchmark of an existing deployment takes, with its database for
// the baselines.
func TestAttach(t *testing.T) {
	ctx, cancel := context.WithTimeout(t.Context(), 3*time.Minute)
	defer cancel()
	srv, err := Launch(ctx, LaunchOptions{PGBin: os.Getenv("MEDIATION_PG_BIN"), FastDB: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := srv.Stop(); err != nil {
			t.Error(err)
		}
	})
	rep, err := Run(ctx, Config{
		GRPCAddr: srv.GRPCAddr, HTTPAddr: srv.HTTPAddr, Token: srv.Token, DatabaseURL: srv.DatabaseURL,
		Clients: 2, Duration: 500 * time.Millisecond, Warmup: 100 * time.Millisecond, SeedCases: 4,
		Workloads: []string{BaselineLifecycle, LifecycleGRPC, MixedREST},
	})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Mode != "attach" || len(rep.Results) != 3 {
		t.Fatalf("report: mode %s, %d results", rep.Mode, len(rep.Results))
	}
	for _, res := range rep.Results {
		if res.Ops == 0 || res.Errors > 0 {
			t.Errorf("%s: %d calls, %d errors (%s)", res.Workload, res.Ops, res.Errors, res.FirstErr)
		}
		// The service exports no metrics (yet), so its memory is unknown.
		if res.PeakRSS < 0 {
			t.Errorf("%s: peak RSS %d", res.Workload, res.PeakRSS)
		}
	}
	if g := rep.Result(LifecycleGRPC); g.Baseline != BaselineLifecycle {
		t.Errorf("lifecycle-grpc compares with %q, want %s", g.Baseline, BaselineLifecycle)
	}
	if v := rep.Verdicts[0]; v.Status == NotMeasured {
		t.Errorf("gRPC ratio not measured: %s", v.Detail)
	}
}
