package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mediationd/mediationd/internal/bench"
)

// mediationd is the service binary built by TestMain.
var mediationd string

func TestMain(m *testing.M) {
	os.Exit(testMain(m))
}

func testMain(m *testing.M) int {
	dir, err := os.MkdirTemp("", "mediation-bench-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	mediationd = filepath.Join(dir, "mediationd")
	build := exec.Command("go", "build", "-o", mediationd, "github.com/mediationd/mediationd/cmd/mediationd")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintf(os.Stderr, "build mediationd: %v\n", err)
		return 1
	}
	return m.Run()
}

// TestTinyRun runs every workload end to end with two clients and short
// phases against a service the benchmark starts, and checks that the
// report has each workload with throughput and ordered percentiles. It
// checks behaviour, not speed.
func TestTinyRun(t *testing.T) {
	ctx, cancel := context.WithTimeout(t.Context(), 3*time.Minute)
	defer cancel()
	var stdout, stderr bytes.Buffer
	rep, err := run(ctx, []string{
		"--mediationd", mediationd, "--fast-db",
		"--clients", "2", "--memory-clients", "4", "--seed-cases", "12",
		"--duration", "1s", "--rounds", "2", "--warmup", "200ms", "--format", "json",
	}, &stdout, &stderr)
	if err != nil {
		t.Fatalf("run: %v\nstderr:\n%s", err, stderr.String())
	}

	var decoded bench.Report
	if err := json.Unmarshal(stdout.Bytes(), &decoded); err != nil {
		t.Fatalf("the JSON report does not decode: %v\n%s", err, stdout.String())
	}
	if len(decoded.Results) != len(bench.Workloads) {
		t.Errorf("the JSON report has %d results, want %d", len(decoded.Results), len(bench.Workloads))
	}
	for _, w := range bench.Workloads {
		res := rep.Result(w)
		if res == nil {
			t.Errorf("no result for %s", w)
			continue
		}
		l := res.Latency
		if res.Ops == 0 || res.OpsPerSec <= 0 {
			t.Errorf("%s: %d calls, %.1f/s; want some", w, res.Ops, res.OpsPerSec)
		}
		if l.P50 <= 0 || l.P50 > l.P95 || l.P95 > l.P99 || l.P99 > l.Max {
			t.Errorf("%s: percentiles out of order: p50 %v, p95 %v, p99 %v, max %v", w, l.P50, l.P95, l.P99, l.Max)
		}
		if res.Errors > 0 {
			t.Errorf("%s: %d calls failed, first: %s", w, res.Errors, res.FirstErr)
		}
		wantClients := 2
		if w == bench.Memory {
			wantClients = 4
		}
		if res.Clients != wantClients {
			t.Errorf("%s: %d clients, want %d", w, res.Clients, wantClients)
		}
		if res.Slices != 2 || res.Measured != time.Second || len(res.Timeline) == 0 {
			t.Errorf("%s: %d slices measuring %v with %d seconds of timeline; want 2 slices, 1s", w, res.Slices, res.Measured, len(res.Timeline))
		}
		if res.Transport != "store" && res.PeakRSS <= 0 {
			t.Errorf("%s: no peak RSS of the started server (%s)", w, res.RSSSource)
		}
	}
	for _, w := range []string{bench.LifecycleGRPC, bench.LifecycleREST} {
		calls := rep.Result(w).ByCall
		for _, k := range []string{"create", "accept", "assign", "startMediation", "scheduleSession", "recordSession", "recordAgreement", "recordFollowUp", "close"} {
			if calls[k].Count == 0 {
				t.Errorf("%s made no %s call", w, k)
			}
		}
	}
	for _, w := range []string{bench.MixedGRPC, bench.MixedREST, bench.BaselineMixed} {
		calls := rep.Result(w).ByCall
		for _, k := range []string{"create", "get", "list"} {
			if calls[k].Count == 0 {
				t.Errorf("%s made no %s call", w, k)
			}
		}
	}
	if hl := rep.Result(bench.HalfLoadGRPC); hl != nil {
		// Each round offers half of what lifecycle-grpc has measured so far.
		full := rep.Result(bench.LifecycleGRPC).OpsPerSec
		if hl.Rate < 0.25*full || hl.Rate > 0.75*full {
			t.Errorf("half-load offered %.1f calls/s, want about half of lifecycle-grpc's %.1f", hl.Rate, full)
		}
	}
	if len(rep.Verdicts) != 4 {
		t.Errorf("%d verdicts, want 4: %+v", len(rep.Verdicts), rep.Verdicts)
	}
	for _, v := range rep.Verdicts {
		if v.Status == bench.NotMeasured {
			t.Errorf("verdict %q not measured: %s", v.Target, v.Detail)
		}
	}
	if !strings.Contains(stderr.String(), "mediationd (pid ") {
		t.Errorf("progress output does not name the service's pid:\n%s", stderr.String())
	}

	for name, write := range map[string]func(*bytes.Buffer) error{
		"text":     func(b *bytes.Buffer) error { return rep.WriteText(b) },
		"markdown": func(b *bytes.Buffer) error { return rep.WriteMarkdown(b) },
	} {
		var b bytes.Buffer
		if err := write(&b); err != nil {
			t.Fatalf("%s report: %v", name, err)
		}
		for _, want := range append([]string{"MEDIATION_RATE_LIMIT=0", "baseline:", "lifecycle over gRPC"}, bench.Workloads...) {
			if !strings.Contains(b.String(), want) {
				t.Errorf("%s report does not mention %q:\n%s", name, want, b.String())
			}
		}
	}
}

// TestBadFlags checks that mistakes stop the benchmark before it starts
// anything.
func TestBadFlags(t *testing.T) {
	for _, args := range [][]string{
		{"--format", "xml"},
		{"--workloads", "lifecycle-grpc,nonsense"},
		{"--clients", "0"},
		{"--grpc-addr", "192.0.2.1:9090", "--http-addr", "192.0.2.1:8080", "--token", "x"},
		{"--grpc-addr", "127.0.0.1:9090"},
		{"--database-url", "postgres://localhost/x"},
		{"now"},
	} {
		var stdout, stderr bytes.Buffer
		if _, err := run(t.Context(), args, &stdout, &stderr); err == nil {
			t.Errorf("run %q: no error", args)
		}
		if stdout.Len() > 0 {
			t.Errorf("run %q wrote a report:\n%s", args, stdout.String())
		}
	}
}
