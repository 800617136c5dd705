// Command mediation-bench is mediationd's load benchmark. N concurrent
// clients drive registrations, every lifecycle action, reads and lists
// over gRPC and, separately, over REST, with a bearer token; the same run
// measures a baseline that sends the same SQL statements straight to the
// same PostgreSQL through the store package with the same number of
// clients. It prints throughput, p50/p95/p99 latency, the server's peak
// memory and CPU per call, the ratio of each to the baseline, and whether
// the service meets its targets.
//
// By default it starts everything itself: a private PostgreSQL cluster in
// a temporary directory, the mediationd binary (--mediationd, or built with
// go build), an administrator made with `mediationd users add`; and it
// stops and removes all of it at the end. With --grpc-addr, --http-addr and
// --token it drives a running server instead (loopback addresses only),
// and with --database-url it measures the baselines against that server's
// database.
//
// Usage:
//
//	go run ./cmd/mediation-bench --clients 32 --duration 15s [--format markdown]
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime/pprof"
	"strings"
	"syscall"
	"time"

	"github.com/mediationd/mediationd/internal/bench"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	var err error
	switch {
	case len(os.Args) > 1 && os.Args[1] == "dataset":
		err = runDataset(ctx, os.Args[2:], os.Stdout, os.Stderr)
	case len(os.Args) > 1 && os.Args[1] == "queries":
		err = runQueries(ctx, os.Args[2:], os.Stdout, os.Stderr)
	default:
		_, err = run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	}
	stop()
	switch {
	case errors.Is(err, flag.ErrHelp):
	case err != nil:
		fmt.Fprintln(os.Stderr, "mediation-bench:", err)
		os.Exit(1)
	}
}

const usage = `mediation-bench: load benchmark of mediationd with an in-run baseline.

Usage:
  mediation-bench [flags]                    start PostgreSQL and mediationd, measure, stop them
  mediation-bench --grpc-addr A --http-addr B --token T [--database-url URL] [flags]
                                             measure a running server (loopback only)
  mediation-bench dataset --database-url URL --cases N [--open 0.1] [--years 3]
                                             generate a large data set (see mediation-bench dataset -h)
  mediation-bench queries --grpc-addr A --http-addr B --database-url URL
                                             statistics and list latency on that data set, checked
                                             against a recount (see mediation-bench queries -h)

Workloads, in order (each a warm-up, then --duration of measurement; with
--rounds N, N rounds of all workloads, each slice a warm-up and duration/N):
  baseline-lifecycle  the lifecycle's store calls in this process, no gRPC/HTTP/auth
  lifecycle-grpc      create, accept, assign, startMediation, scheduleSession, recordSession,
                      recordAgreement, recordFollowUp, close, each with the last etag
  lifecycle-rest      the same over REST (HTTP/1.1 keep-alive, JSON)
  baseline-mixed      the mixed workload's store calls in this process
  mixed-grpc          20% create, 40% lifecycle actions, 25% GetCase,
                      10% ListCases (filter, page size 50), 5% ListCaseEvents
  mixed-rest          the same over REST
  half-load-grpc      open loop (lifecycle over gRPC) at --half-load × lifecycle-grpc's
                      throughput; latency from each call's scheduled start
  memory              mixed over gRPC with --memory-clients clients: the server's peak RSS

Every phase reports the CPU the service, PostgreSQL and the benchmark spent
per call, and how many cores other processes kept busy meanwhile: on a
shared machine, a phase that competed with them understates the service
(--rounds and --quiet-wait help; the JSON report has a per-second timeline).

Profiling the server: with --debug-addr 127.0.0.1:6060 the service serves
/debug/pprof there (MEDIATION_DEBUG_ADDR); during a phase,
  go tool pprof -seconds 10 http://127.0.0.1:6060/debug/pprof/profile
Without it, the progress output names the service's pid, and
perf record -g -p PID samples it.

Flags:
`

// run parses args, runs the benchmark and writes the report to stdout.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) (*bench.Report, error) {
	fs := flag.NewFlagSet("mediation-bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		_, _ = io.WriteString(stderr, usage)
		fs.PrintDefaults()
	}
	var (
		binary      = fs.String("mediationd", "", "the mediationd binary to start; empty = go build it into the temporary directory")
		pgBin       = fs.String("pg-bin", os.Getenv("MEDIATION_PG_BIN"), "directory of the PostgreSQL server binaries; empty = PATH, then /usr/lib/postgresql/*/bin")
		fastDB      = fs.Bool("fast-db", false, "run the private PostgreSQL without durability (fsync off), as the test suite does")
		grpcAddr    = fs.String("grpc-addr", "", "gRPC address of a running server (loopback); with --http-addr and --token instead of starting one")
		httpAddr    = fs.String("http-addr", "", "HTTP address of a running server (loopback)")
		token       = fs.String("token", "", "bearer token of an administrator of the running server")
		databaseURL = fs.String("database-url", "", "the running server's database, for the baselines; empty = no baselines")
		clients     = fs.Int("clients", 32, "concurrent clients of each workload")
		memClients  = fs.Int("memory-clients", bench.TargetMemoryClients, "concurrent clients of the memory workload")
		grpcConns   = fs.Int("grpc-conns", 4, "gRPC connections the clients share, as a court system or front end multiplexes its calls over a few channels; 0 = one per client")
		duration    = fs.Duration("duration", 15*time.Second, "measurement time of each workload, all rounds together")
		warmup      = fs.Duration("warmup", 3*time.Second, "warm-up before each slice of measurement")
		rounds      = fs.Int("rounds", 3, "measure each workload in this many slices, interleaved with the others' (on a shared machine, spreads others' load over all workloads)")
		quietWait   = fs.Duration("quiet-wait", 0, "before each slice, wait up to this long for other processes to leave the processors alone; 0 = do not wait")
		halfLoad    = fs.Float64("half-load", 0.5, "the open-loop phase's rate as a fraction of lifecycle-grpc's throughput")
		halfRate    = fs.Float64("half-load-rate", 0, "the open-loop phase's rate in calls a second; overrides --half-load")
		dbMaxConns  = fs.Int("db-max-conns", 0, "database pool size of the service (MEDIATION_DB_MAX_CONNS) and of the baseline; 0 = the service's default, max(4, CPUs)")
		seedCases   = fs.Int("seed-cases", 200, "cases, in every state, registered before the workloads for reads")
		workloads   = fs.String("workloads", "", "comma-separated workloads to run; empty = all")
		format      = fs.String("format", "text", "report format: text, markdown or json")
		jsonOut     = fs.String("json-out", "", "also write the JSON report (with per-second timelines) to this file")
		cpuProfile  = fs.String("cpuprofile", "", "write the benchmark's own CPU profile (load generator and baseline) to this file")
		quiet       = fs.Bool("quiet", false, "no progress lines on standard error")
		debugAddr   = fs.String("debug-addr", "", "started service only: serve /debug/pprof on this address (MEDIATION_DEBUG_ADDR), e.g. 127.0.0.1:6060")
	)
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected arguments: %s", strings.Join(fs.Args(), " "))
	}
	switch *format {
	case "text", "markdown", "json":
	default:
		return nil, fmt.Errorf("--format %q: use text, markdown or json", *format)
	}
	cfg := bench.Config{
		Clients: *clients, MemoryClients: *memClients, GRPCConns: *grpcConns,
		Duration: *duration, Warmup: *warmup, Rounds: *rounds, QuietWait: *quietWait, HalfLoad: *halfLoad, HalfLoadRate: *halfRate,
		DBMaxConns: *dbMaxConns, SeedCases: *seedCases,
	}
	if !*quiet {
		cfg.Log = stderr
	}
	if *workloads != "" {
		for w := range strings.SplitSeq(*workloads, ",") {
			if w = strings.TrimSpace(w); w != "" {
				cfg.Workloads = append(cfg.Workloads, w)
			}
		}
	}
	if *grpcAddr != "" || *httpAddr != "" || *token != "" {
		if *binary != "" || *fastDB || *debugAddr != "" {
			return nil, errors.New("--mediationd, --fast-db and --debug-addr are for starting a server; they do not go with --grpc-addr, --http-addr and --token")
		}
		cfg.GRPCAddr, cfg.HTTPAddr, cfg.Token, cfg.DatabaseURL = *grpcAddr, *httpAddr, *token, *databaseURL
	} else {
		if *databaseURL != "" {
			return nil, errors.New("--database-url goes with a running server (--grpc-addr, --http-addr, --token); a started one gets its own database")
		}
		cfg.Launch = &bench.LaunchOptions{Binary: *binary, PGBin: *pgBin, FastDB: *fastDB, DebugAddr: *debugAddr}
	}
	if *cpuProfile != "" {
		stop, err := startCPUProfile(*cpuProfile)
		if err != nil {
			return nil, err
		}
		defer stop()
	}
	rep, err := bench.Run(ctx, cfg)
	if rep != nil && len(rep.Results) > 0 {
		var werr error
		switch *format {
		case "markdown":
			werr = rep.WriteMarkdown(stdout)
		case "json":
			werr = rep.WriteJSON(stdout)
		default:
			werr = rep.WriteText(stdout)
		}
		err = errors.Join(err, werr)
		if *jsonOut != "" {
			err = errors.Join(err, writeJSONFile(*jsonOut, rep))
		}
	}
	return rep, err
}

// startCPUProfile profiles this process into path until stop is called.
func startCPUProfile(path string) (stop func(), err error) {
	f, err := os.Create(path)
	if err != nil {
		return nil, fmt.Errorf("--cpuprofile: %w", err)
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, fmt.Errorf("--cpuprofile: %w", err)
	}
	return func() {
		pprof.StopCPUProfile()
		f.Close()
	}, nil
}

func writeJSONFile(path string, rep *bench.Report) error {
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("--json-out: %w", err)
	}
	if err := rep.WriteJSON(f); err != nil {
		f.Close()
		return fmt.Errorf("--json-out: %w", err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("--json-out: %w", err)
	}
	return nil
}
