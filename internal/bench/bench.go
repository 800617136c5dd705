// Package bench is mediationd's load benchmark: N concurrent clients drive
// registrations, every lifecycle action, reads and lists over gRPC and,
// separately, over REST, and the same run measures a baseline that sends
// the same SQL statements straight to the same PostgreSQL through the
// store package. It reports throughput, latency percentiles, the server's
// peak memory and CPU per call, the ratio of each to the baseline, and
// whether the service meets its performance targets.
package bench

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"

	"github.com/mediationd/mediationd/internal/auth"
	"github.com/mediationd/mediationd/internal/store"
	mediationv1 "github.com/mediationd/mediationd/proto/mediation/v1"
)

// The workloads, in the order a run measures them.
const (
	BaselineLifecycle = "baseline-lifecycle"
	LifecycleGRPC     = "lifecycle-grpc"
	LifecycleREST     = "lifecycle-rest"
	BaselineMixed     = "baseline-mixed"
	MixedGRPC         = "mixed-grpc"
	MixedREST         = "mixed-rest"
	HalfLoadGRPC      = "half-load-grpc"
	Memory            = "memory"
)

// Workloads lists every workload in run order.
var Workloads = []string{BaselineLifecycle, LifecycleGRPC, LifecycleREST, BaselineMixed, MixedGRPC, MixedREST, HalfLoadGRPC, Memory}

// The targets the service is held to.
const (
	TargetGRPCRatio     = 0.7
	TargetRESTRatio     = 0.6
	TargetHalfLoadP99   = 20 * time.Millisecond
	TargetMemoryBytes   = 150 << 20
	TargetMemoryClients = 256
)

// Config is one benchmark run.
type Config struct {
	// Launch starts a private mediationd; when nil, the run uses the
	// server at GRPCAddr, HTTPAddr with Token (and DatabaseURL for the
	// baselines, if set).
	Launch      *LaunchOptions
	GRPCAddr    string
	HTTPAddr    string
	Token       string
	DatabaseURL string

	// Clients is the number of concurrent clients of every workload but
	// memory, which has MemoryClients.
	Clients       int
	MemoryClients int
	// GRPCConns is how many gRPC connections the clients of a phase share;
	// 0 = one connection per client, as separate callers would have.
	GRPCConns int
	// Duration is how long each workload is measured in all, after a
	// Warmup before each of its slices.
	Duration time.Duration
	Warmup   time.Duration
	// Rounds splits each workload's measurement into this many slices,
	// interleaved with the other workloads' (round 1 runs every workload,
	// then round 2...), so that the load of other processes on a shared
	// machine falls on the service and the baseline alike; 0 = 1.
	Rounds int
	// QuietWait is how long each slice may wait, before it starts, for
	// other processes to leave the machine's processors alone (below a
	// quarter of a core over a second); 0 = do not wait.
	QuietWait time.Duration
	// HalfLoad is the fraction of lifecycle-grpc's throughput the open-loop
	// phase offers; HalfLoadRate, if set, is its rate in calls a second
	// instead.
	HalfLoad     float64
	HalfLoadRate float64
	// DBMaxConns is the baseline's pool size, which should be the
	// service's (MEDIATION_DB_MAX_CONNS); 0 = the service's default,
	// max(4, CPUs).
	DBMaxConns int
	// SeedCases is how many cases, in every state, the setup registers for
	// the mixed workloads to read.
	SeedCases int
	// Workloads selects workloads by name; empty = all.
	Workloads []string
	// Log receives progress lines; nil = none.
	Log io.Writer
}

// Result is what one workload measured.
type Result struct {
	Workload  string `json:"workload"`
	Transport string `json:"transport"`
	Clients   int    `json:"clients"`
	// Baseline names the workload the ratios compare with; empty = none.
	Baseline string `json:"baseline,omitempty"`
	// Rate is the offered rate of an open-loop phase (calls a second);
	// 0 for closed loops.
	Rate      float64          `json:"offered_rate,omitempty"`
	Measured  time.Duration    `json:"measured_ns"`
	Ops       int              `json:"ops"`
	Errors    int              `json:"errors"`
	FirstErr  string           `json:"first_error,omitempty"`
	OpsPerSec float64          `json:"ops_per_sec"`
	Latency   Stats            `json:"latency"`
	ByCall    map[string]Stats `json:"by_call"`
	// PeakRSS is the server's peak resident memory in bytes during the
	// phase, 0 if unknown; RSSSource says how it was measured.
	PeakRSS   int64  `json:"peak_rss_bytes"`
	RSSSource string `json:"rss_source"`
	CPU       CPUUse `json:"cpu"`
	// Timeline has one entry per second of the measurement.
	Timeline []Second `json:"timeline"`
	// Slices is how many interleaved slices the measurement took; Waited
	// how long they waited for a quiet machine in all.
	Slices int           `json:"slices"`
	Waited time.Duration `json:"quiet_wait_ns"`
}

// Second is one second of a measurement: the calls that completed in it
// and the processors busy meanwhile, to tell a slow service from a busy
// machine.
type Second struct {
	Ops        int           `json:"ops"`
	P99        time.Duration `json:"p99_ns"`
	Max        time.Duration `json:"max_ns"`
	Cores      float64       `json:"cores_busy"`
	OtherCores float64       `json:"other_cores_busy"`
}

// Verdict says whether the service met one target.
type Verdict struct {
	Target string `json:"target"`
	// Status is Met, Missed, NotMeasured or Unknown.
	Status string `json:"status"`
	Detail string `json:"detail"`
}

// The statuses of a Verdict.
const (
	Met         = "met"
	Missed      = "missed"
	NotMeasured = "not measured"
	// Unknown: measured, but not in the target's conditions.
	Unknown = "unknown"
)

// Report is a whole run.
type Report struct {
	Mode       string    `json:"mode"`
	CPUs       int       `json:"cpus"`
	Clients    int       `json:"clients"`
	Duration   string    `json:"duration"`
	Rounds     int       `json:"rounds"`
	PoolSize   int       `json:"db_pool_size"`
	Notes      []string  `json:"notes"`
	Results    []Result  `json:"results"`
	Verdicts   []Verdict `json:"verdicts"`
	ServerLogs string    `json:"server_warnings,omitempty"`
}

// Result returns the result of a workload, or nil.
func (r *Report) Result(workload string) *Result {
	for i := range r.Results {
		if r.Results[i].Workload == workload {
			return &r.Results[i]
		}
	}
	return nil
}

// runner holds what the phases of one run share.
type runner struct {
	cfg      Config
	grpcAddr string
	httpAddr string
	token    string
	st       *store.Store // nil without a database URL
	rss      rssSampler
	cpu      cpuMeter
	pool     *casePool
	logf     func(format string, args ...any)
}

// Run runs the benchmark and returns its report. Every phase has a fixed
// length, so the run ends by itself; cancelling ctx ends it early.
func Run(ctx context.Context, cfg Config) (rep *Report, err error) {
	if err := cfg.check(); err != nil {
		return nil, err
	}
	r := &runner{cfg: cfg, pool: &casePool{}, logf: func(string, ...any) {}}
	if cfg.Log != nil {
		r.logf = func(format string, args ...any) { fmt.Fprintf(cfg.Log, format+"\n", args...) }
	}
	poolSize := cfg.DBMaxConns
	if poolSize == 0 {
		poolSize = max(4, runtime.NumCPU())
	}
	rep = &Report{CPUs: runtime.NumCPU(), Clients: cfg.Clients, Duration: cfg.Duration.String(), Rounds: cfg.rounds(), PoolSize: poolSize}
	dsn := cfg.DatabaseURL
	if cfg.Launch != nil {
		rep.Mode = "start"
		lo := *cfg.Launch
		lo.DBMaxConns, lo.Log = cfg.DBMaxConns, cfg.Log
		srv, err := Launch(ctx, lo)
		if err != nil {
			return nil, err
		}
		defer func() {
			rep.ServerLogs = srv.Warnings()
			if serr := srv.Stop(); serr != nil {
				err = errors.Join(err, fmt.Errorf("stop the service: %w", serr))
			}
		}()
		r.grpcAddr, r.httpAddr, r.token, dsn = srv.GRPCAddr, srv.HTTPAddr, srv.Token, srv.DatabaseURL
		r.rss = procRSS(srv.PID)
		r.cpu = cpuMeter{serverPID: srv.PID, postgresPID: srv.PostgresPID}
		rep.Notes = append(rep.Notes,
			fmt.Sprintf("mode start: mediationd (pid %d) against a private %s PostgreSQL cluster, DATABASE_URL=%s", srv.PID, durability(lo.FastDB), srv.DatabaseURL),
			"MEDIATION_RATE_LIMIT=0: the rate limiter (50 calls/s per principal by default) would throttle the benchmark's single principal",
			"MEDIATION_LOG_LEVEL=warn; peak memory is the service's VmHWM, reset at the start of each slice",
		)
	} else {
		rep.Mode = "attach"
		r.grpcAddr, r.httpAddr, r.token = cfg.GRPCAddr, cfg.HTTPAddr, cfg.Token
		r.rss = noRSS{}
		if cfg.HTTPAddr != "" {
			r.rss = metricsRSS(&http.Client{Timeout: 2 * time.Second}, "http://"+cfg.HTTPAddr+"/metrics")
		}
		rep.Notes = append(rep.Notes,
			"mode attach: a running server; its rate limiter must be off (MEDIATION_RATE_LIMIT=0) or calls are refused with RESOURCE_EXHAUSTED",
			"peak memory: process_resident_memory_bytes from /metrics, polled every 250 ms (n/a if the server does not export it; a scrape may cost the server a database query for its backlog gauges); server and PostgreSQL CPU are not visible",
		)
	}
	if dsn != "" && (r.wants(BaselineLifecycle) || r.wants(BaselineMixed)) {
		r.st, err = store.Open(ctx, dsn, store.Options{MaxConns: int32(poolSize)})
		if err != nil {
			return rep, fmt.Errorf("open the baseline's database pool: %w", err)
		}
		defer r.st.Close()
		rep.Notes = append(rep.Notes, fmt.Sprintf(
			"baseline: this process calls the action pipeline and the store as the service's handlers do (caseflow.Create and caseflow.Act with an admin principal and an audit context, automatic assignment after an acceptance included; GetCaseIn, ListCases, ListEventsIn for reads) on the same database with a pool of %d connections, the service's: the same SQL statements per call, without gRPC, HTTP, authentication, masking or encoding", poolSize))
	} else if dsn == "" {
		rep.Notes = append(rep.Notes, "baseline: skipped (no --database-url), so there are no ratios")
	}
	profilePID := "PID"
	if cfg.Launch != nil {
		profilePID = strconv.Itoa(r.cpu.serverPID)
	}
	if cfg.Launch != nil && cfg.Launch.DebugAddr != "" {
		rep.Notes = append(rep.Notes, "server profile: during a phase, go tool pprof -seconds 10 http://"+cfg.Launch.DebugAddr+"/debug/pprof/profile")
	} else {
		rep.Notes = append(rep.Notes, "server profile: run with --debug-addr (the service's MEDIATION_DEBUG_ADDR) and fetch /debug/pprof/profile during a phase, or sample it with `perf record -F 499 -g -p "+profilePID+" -- sleep 10`")
	}

	// Setting up (users, directory, tokens) is quick; a server that does
	// not answer must not hold the run up.
	sctx, cancel := context.WithTimeout(ctx, setupTimeout)
	err = r.setup(sctx)
	cancel()
	if err != nil {
		return rep, err
	}
	accs := map[string]*accumulator{}
	for round := 1; round <= cfg.rounds(); round++ {
		for _, w := range Workloads {
			if !r.wants(w) {
				continue
			}
			p, ok := r.phase(w, accs)
			if !ok {
				continue
			}
			sl, err := r.runSlice(ctx, p, round)
			p.closeAll()
			if err != nil {
				return rep, fmt.Errorf("%s: %w", w, err)
			}
			if accs[w] == nil {
				accs[w] = &accumulator{phase: p}
			}
			accs[w].add(sl)
			r.logf("  %s", accs[w].result().line())
		}
	}
	if r.st != nil {
		var total, open int64
		err := r.st.Pool().QueryRow(ctx, `SELECT count(*), count(*) FILTER (WHERE state IN ('ASSIGNED', 'MEDIATING')) FROM cases`).Scan(&total, &open)
		if err == nil {
			rep.Notes = append(rep.Notes, fmt.Sprintf("database at the end: %d cases, %d of them ASSIGNED or MEDIATING (the mixed workloads leave a backlog, as an office does)", total, open))
		}
	}
	for _, w := range Workloads {
		if a := accs[w]; a != nil {
			res := a.result()
			if res.Baseline != "" && accs[res.Baseline] == nil {
				res.Baseline = ""
			}
			rep.Results = append(rep.Results, res)
		}
	}
	rep.Verdicts = verdicts(rep)
	return rep, nil
}

func durability(fast bool) string {
	if fast {
		return "non-durable (fsync off)"
	}
	return "durable"
}

func (c *Config) check() error {
	switch {
	case c.Clients < 1:
		return errors.New("clients must be at least 1")
	case c.Duration <= 0:
		return errors.New("duration must be positive")
	case c.Warmup < 0:
		return errors.New("warm-up must not be negative")
	case c.Rounds < 0 || c.QuietWait < 0:
		return errors.New("rounds and quiet wait must not be negative")
	case c.Duration/time.Duration(c.rounds()) < 100*time.Millisecond:
		return errors.New("each round must measure at least 100ms: lengthen the duration or use fewer rounds")
	case c.MemoryClients < 1 && slices.Contains(c.selected(), Memory):
		return errors.New("memory clients must be at least 1")
	case c.HalfLoad <= 0 && c.HalfLoadRate <= 0 && slices.Contains(c.selected(), HalfLoadGRPC):
		return errors.New("half-load fraction or rate must be positive")
	}
	for _, w := range c.Workloads {
		if !slices.Contains(Workloads, w) {
			return fmt.Errorf("unknown workload %q: choose from %s", w, strings.Join(Workloads, ", "))
		}
	}
	if c.Launch != nil && c.Launch.DebugAddr != "" {
		if err := checkLoopback(c.Launch.DebugAddr); err != nil {
			return fmt.Errorf("debug address: %w", err)
		}
	}
	if c.Launch == nil {
		if c.GRPCAddr == "" || c.HTTPAddr == "" || c.Token == "" {
			return errors.New("a running server needs its gRPC address, HTTP address and a token")
		}
		for _, a := range []string{c.GRPCAddr, c.HTTPAddr} {
			if err := checkLoopback(a); err != nil {
				return err
			}
		}
	}
	return nil
}

func (c *Config) rounds() int { return max(1, c.Rounds) }

func (c *Config) selected() []string {
	if len(c.Workloads) == 0 {
		return Workloads
	}
	return c.Workloads
}

func (r *runner) wants(w string) bool { return slices.Contains(r.cfg.selected(), w) }

// setupTimeout bounds the setup before the workloads.
const setupTimeout = 2 * time.Minute

// checkLoopback refuses addresses off this machine: the benchmark is for
// a server on the same box.
func checkLoopback(addr string) error {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("address %q: %w", addr, err)
	}
	if host == "localhost" {
		return nil
	}
	if ip := net.ParseIP(host); ip == nil || !ip.IsLoopback() {
		return fmt.Errorf("address %q is not a loopback address: the benchmark only drives a server on this machine", addr)
	}
	return nil
}

// dialGRPC connects to the service.
func (r *runner) dialGRPC() (*grpc.ClientConn, error) {
	conn, err := grpc.NewClient("passthrough:///"+r.grpcAddr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		return nil, fmt.Errorf("connect to %s: %w", r.grpcAddr, err)
	}
	return conn, nil
}

// setup creates the directory entries assignments name and the seed
// cases the mixed workloads read.
func (r *runner) setup(ctx context.Context) error {
	if r.grpcAddr == "" {
		return nil
	}
	conn, err := r.dialGRPC()
	if err != nil {
		return err
	}
	defer conn.Close()
	d := newGRPCDriver(conn, r.token)
	dir := mediationv1.NewDirectoryServiceClient(conn)
	actx := d.ctx(ctx)
	for i := 1; i <= organizations; i++ {
		_, err := dir.CreateOrganization(actx, &mediationv1.CreateOrganizationRequest{
			OrganizationId: organizationID(i),
			Organization: &mediationv1.Organization{
				DisplayName: fmt.Sprintf("西峰区基准测试调解室%d", i),
				Type:        mediationv1.OrganizationType_ORGANIZATION_TYPE_TOWNSHIP_COMMITTEE,
				RegionCode:  regionCode,
			},
		})
		if err != nil && status.Code(err) != codes.AlreadyExists {
			return fmt.Errorf("create organization %s: %w", organizationID(i), err)
		}
		for j := 1; j <= mediatorsPerOrganization; j++ {
			_, err := dir.CreateMediator(actx, &mediationv1.CreateMediatorRequest{
				MediatorId: mediatorID(i, j),
				Mediator: &mediationv1.Mediator{
					DisplayName:  fmt.Sprintf("调解员%d-%d", i, j),
					Organization: "organizations/" + organizationID(i),
				},
			})
			if err != nil && status.Code(err) != codes.AlreadyExists {
				return fmt.Errorf("create mediator %s: %w", mediatorID(i, j), err)
			}
		}
	}
	if r.cfg.SeedCases <= 0 {
		return nil
	}
	r.logf("setup: %d organizations, %d mediators; registering %d seed cases in every state", organizations, organizations*mediatorsPerOrganization, r.cfg.SeedCases)
	workers := min(r.cfg.Clients, 16, r.cfg.SeedCases)
	var (
		wg       sync.WaitGroup
		mu       sync.Mutex
		firstErr error
	)
	for w := range workers {
		wg.Go(func() {
			for i := w; i < r.cfg.SeedCases; i += workers {
				c, err := d.create(ctx, i)
				if err == nil {
					// Case i stops after i mod 9 steps: every state is represented.
					for k := 1; k <= i%len(lifecycle) && err == nil; k++ {
						err = d.act(ctx, &c, lifecycle[k])
					}
				}
				if err != nil {
					mu.Lock()
					firstErr = cmp.Or(firstErr, err)
					mu.Unlock()
					return
				}
				r.pool.add(c.name)
			}
		})
	}
	wg.Wait()
	if firstErr != nil {
		return fmt.Errorf("seed cases: %w", firstErr)
	}
	return nil
}

// phase is one measured workload.
type phase struct {
	name, transport, baseline string
	clients                   int
	// rate > 0 makes an open loop with this many calls a second.
	rate float64
	// newWorker makes client i's worker.
	newWorker func(i int) worker
	closeAll  func()
}

// phase builds the next slice of workload w; ok is false when the run
// cannot measure it (no database for a baseline, no rate for half-load).
func (r *runner) phase(w string, accs map[string]*accumulator) (p phase, ok bool) {
	switch w {
	case BaselineLifecycle, BaselineMixed:
		if r.st == nil {
			return p, false
		}
		p = r.storePhase(w, w == BaselineMixed)
	case LifecycleGRPC:
		p = r.grpcPhase(w, r.cfg.Clients, false)
		p.baseline = BaselineLifecycle
	case MixedGRPC:
		p = r.grpcPhase(w, r.cfg.Clients, true)
		p.baseline = BaselineMixed
	case LifecycleREST:
		p = r.restPhase(w, false)
		p.baseline = BaselineLifecycle
	case MixedREST:
		p = r.restPhase(w, true)
		p.baseline = BaselineMixed
	case HalfLoadGRPC:
		rate := r.cfg.HalfLoadRate
		if rate <= 0 {
			full := accs[LifecycleGRPC]
			if full == nil || full.result().OpsPerSec <= 0 {
				r.logf("%s: skipped: needs lifecycle-grpc's throughput (or --half-load-rate)", w)
				return p, false
			}
			// What lifecycle-grpc has measured so far, all rounds together.
			rate = r.cfg.HalfLoad * full.result().OpsPerSec
		}
		p = r.grpcPhase(w, r.cfg.Clients, false)
		p.rate = rate
	case Memory:
		p = r.grpcPhase(w, r.cfg.MemoryClients, true)
	}
	return p, true
}

// settle pauses between slices, so that one slice's stragglers (and the
// database's background work) do not spill into the next.
func (r *runner) settle(ctx context.Context) error {
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(min(time.Second, r.cfg.Duration/5)):
		return nil
	}
}

// waitQuiet waits, up to QuietWait, until other processes keep less than
// noisyCores busy over a second, and returns how long it waited.
func (r *runner) waitQuiet(ctx context.Context, name string) time.Duration {
	if r.cfg.QuietWait <= 0 {
		return 0
	}
	start := time.Now()
	said := false
	for time.Since(start) < r.cfg.QuietWait && ctx.Err() == nil {
		a := r.cpu.snapshot()
		sleepUntil(ctx, a.at.Add(time.Second))
		_, other := deltaOf(a, r.cpu.snapshot()).cores()
		if other < noisyCores {
			break
		}
		if !said {
			r.logf("%s: waiting up to %v for a quieter machine (other processes keep %.2f cores busy)", name, r.cfg.QuietWait, other)
			said = true
		}
	}
	return time.Since(start)
}

func (r *runner) newWorker(d driver, mixed bool, i int) worker {
	if mixed {
		return newMixedWorker(d, r.pool, uint64(i)+1)
	}
	return &lifecycleWorker{d: d, pool: r.pool}
}

func (r *runner) storePhase(name string, mixed bool) phase {
	p := auth.Principal{Name: "users/" + benchUser, Role: auth.RoleAdmin}
	return phase{name: name, transport: "store", clients: r.cfg.Clients, closeAll: func() {},
		newWorker: func(i int) worker { return r.newWorker(newStoreDriver(r.st, p), mixed, i) }}
}

func (r *runner) grpcPhase(name string, clients int, mixed bool) phase {
	nconns := r.cfg.GRPCConns
	if nconns <= 0 || nconns > clients {
		nconns = clients
	}
	conns := make([]*grpc.ClientConn, nconns)
	var dialErr error
	for i := range conns {
		if conns[i], dialErr = r.dialGRPC(); dialErr != nil {
			break
		}
	}
	return phase{name: name, transport: "grpc", clients: clients,
		newWorker: func(i int) worker {
			if dialErr != nil {
				return failing{dialErr}
			}
			return r.newWorker(newGRPCDriver(conns[i%nconns], r.token), mixed, i)
		},
		closeAll: func() {
			for _, c := range conns {
				if c != nil {
					c.Close()
				}
			}
		}}
}

func (r *runner) restPhase(name string, mixed bool) phase {
	n := r.cfg.Clients
	tr := &http.Transport{
		MaxIdleConns: 2 * n, MaxIdleConnsPerHost: 2 * n, IdleConnTimeout: 90 * time.Second,
		DialContext: (&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
	}
	client := &http.Client{Transport: tr, Timeout: 60 * time.Second}
	return phase{name: name, transport: "rest", clients: n, closeAll: tr.CloseIdleConnections,
		newWorker: func(i int) worker { return r.newWorker(newRESTDriver(client, r.httpAddr, r.token), mixed, i) }}
}

// failing is the worker of a phase that could not connect.
type failing struct{ err error }

func (f failing) next(context.Context) (opKind, error) {
	time.Sleep(10 * time.Millisecond)
	return opCreate, f.err
}

// clientResult is what one client of a slice recorded.
type clientResult struct {
	samples  []sample
	errors   int
	firstErr error
}

// slice is one measured stretch of a workload.
type slice struct {
	measured time.Duration
	samples  []sample
	errors   int
	firstErr string
	cpu      cpuDelta
	seconds  []Second
	peak     int64
	source   string
	rate     float64
	waited   time.Duration
}

// runSlice measures one slice of a phase: a quiet-machine wait and a
// pause, a warm-up, then Duration/Rounds of measurement. A closed loop
// counts the calls that complete inside the measurement window and times
// each from its start. An open loop schedules calls at a fixed rate spread
// over the clients, counts every call scheduled inside the window and
// times each from its scheduled start, so that queueing behind slow calls
// shows in the latency.
func (r *runner) runSlice(ctx context.Context, p phase, round int) (slice, error) {
	if err := r.settle(ctx); err != nil {
		return slice{}, err
	}
	waited := r.waitQuiet(ctx, p.name)
	if err := ctx.Err(); err != nil {
		return slice{}, fmt.Errorf("interrupted: %w", err)
	}
	length := r.cfg.Duration / time.Duration(r.cfg.rounds())
	workers := make([]worker, p.clients)
	for i := range workers {
		workers[i] = p.newWorker(i)
	}
	mode := "closed loop"
	if p.rate > 0 {
		mode = fmt.Sprintf("open loop at %.0f calls/s", p.rate)
	}
	r.logf("%s (round %d/%d): %d clients over %s, %s; warm-up %v, measuring %v", p.name, round, r.cfg.rounds(), p.clients, p.transport, mode, r.cfg.Warmup, length)
	begin := time.Now()
	mStart := begin.Add(r.cfg.Warmup)
	mEnd := mStart.Add(length)
	// Calls are not cancelled at the end of the window (a cancelled call
	// would cost the server a database connection); a late one gets this
	// long to finish.
	opCtx, cancel := context.WithDeadline(ctx, mEnd.Add(30*time.Second))
	defer cancel()

	rss := r.rss
	if p.transport == "store" {
		rss = noRSS{} // the server has nothing to do
	}
	rss.start(opCtx)
	var snaps []cpuSnapshot
	cpuDone := make(chan struct{})
	go func() {
		defer close(cpuDone)
		for t := mStart; t.Before(mEnd); t = t.Add(time.Second) {
			sleepUntil(opCtx, t)
			snaps = append(snaps, r.cpu.snapshot())
		}
		sleepUntil(opCtx, mEnd)
		snaps = append(snaps, r.cpu.snapshot())
	}()

	results := make([]clientResult, p.clients)
	var wg sync.WaitGroup
	for i, w := range workers {
		wg.Go(func() {
			res := &results[i]
			record := func(k opKind, err error, latency, at time.Duration) {
				if err != nil {
					res.errors++
					if res.firstErr == nil {
						res.firstErr = err
					}
					return
				}
				res.samples = append(res.samples, sample{d: latency, kind: k, at: at})
			}
			if p.rate > 0 {
				r.openLoop(opCtx, w, p, i, begin, mStart, mEnd, record)
				return
			}
			for opCtx.Err() == nil {
				t0 := time.Now()
				if t0.After(mEnd) {
					return
				}
				k, err := w.next(opCtx)
				if t1 := time.Now(); !t1.Before(mStart) && !t1.After(mEnd) {
					record(k, err, t1.Sub(t0), t1.Sub(mStart))
				}
			}
		})
	}
	wg.Wait()
	<-cpuDone
	sl := slice{measured: length, rate: p.rate, waited: waited}
	sl.peak, sl.source = rss.stop()
	for _, c := range results {
		sl.samples = append(sl.samples, c.samples...)
		sl.errors += c.errors
		if c.firstErr != nil && sl.firstErr == "" {
			sl.firstErr = c.firstErr.Error()
		}
	}
	if len(snaps) >= 2 {
		sl.cpu = deltaOf(snaps[0], snaps[len(snaps)-1])
	}
	sl.seconds = timeline(sl.samples, snaps)
	return sl, nil
}

// timeline splits a slice into seconds.
func timeline(samples []sample, snaps []cpuSnapshot) []Second {
	n := len(snaps) - 1
	if n < 1 {
		return nil
	}
	per := make([][]time.Duration, n)
	for _, s := range samples {
		i := min(max(int(s.at/time.Second), 0), n-1)
		per[i] = append(per[i], s.d)
	}
	out := make([]Second, n)
	for i := range out {
		st := summarize(per[i])
		out[i] = Second{Ops: st.Count, P99: st.P99, Max: st.Max}
		out[i].Cores, out[i].OtherCores = deltaOf(snaps[i], snaps[i+1]).cores()
	}
	return out
}

// accumulator gathers the slices of one workload.
type accumulator struct {
	phase  phase
	slices []slice
}

func (a *accumulator) add(s slice) { a.slices = append(a.slices, s) }

// result merges the slices measured so far.
func (a *accumulator) result() Result {
	p := a.phase
	res := Result{Workload: p.name, Transport: p.transport, Clients: p.clients, Baseline: p.baseline, Slices: len(a.slices), RSSSource: "n/a"}
	var (
		all  []sample
		cpu  cpuDelta
		rate float64
	)
	for _, s := range a.slices {
		res.Measured += s.measured
		res.Errors += s.errors
		res.Waited += s.waited
		if res.FirstErr == "" {
			res.FirstErr = s.firstErr
		}
		if s.peak > res.PeakRSS {
			res.PeakRSS, res.RSSSource = s.peak, s.source
		}
		all = append(all, s.samples...)
		cpu.add(s.cpu)
		rate += s.rate
		res.Timeline = append(res.Timeline, s.seconds...)
	}
	res.Rate = rate / float64(max(1, len(a.slices)))
	res.Ops = len(all)
	if res.Measured > 0 {
		res.OpsPerSec = float64(res.Ops) / res.Measured.Seconds()
	}
	res.Latency, res.ByCall = summarizeSamples(all)
	res.CPU = cpu.use(res.Ops)
	return res
}

// openLoop is client i's share of an open-loop phase: calls scheduled
// every clients/rate seconds, offset so that the clients' calls
// interleave evenly. Every call scheduled inside the measurement window
// counts, however late it finishes, and its latency runs from its
// scheduled start.
func (r *runner) openLoop(ctx context.Context, w worker, p phase, i int, begin, mStart, mEnd time.Time,
	record func(opKind, error, time.Duration, time.Duration)) {
	interval := time.Duration(float64(p.clients) / p.rate * float64(time.Second))
	offset := time.Duration(float64(i) / p.rate * float64(time.Second))
	// A server that cannot keep up leaves a backlog; past this point the
	// rest of it is abandoned (its calls would only add to a p99 that
	// has already failed).
	giveUp := mEnd.Add(r.cfg.Duration)
	for k := 0; ctx.Err() == nil; k++ {
		sched := begin.Add(offset + time.Duration(k)*interval)
		if sched.After(mEnd) || time.Now().After(giveUp) {
			return
		}
		sleepUntil(ctx, sched)
		kind, err := w.next(ctx)
		if !sched.Before(mStart) {
			end := time.Now()
			record(kind, err, end.Sub(sched), end.Sub(mStart))
		}
	}
}

func sleepUntil(ctx context.Context, t time.Time) {
	d := time.Until(t)
	if d <= 0 {
		return
	}
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-ctx.Done():
	case <-timer.C:
	}
}

// line is a one-line summary for progress output.
func (res Result) line() string {
	return fmt.Sprintf("%s: %.0f ops/s, p50 %s, p95 %s, p99 %s, %d errors, peak RSS %s",
		res.Workload, res.OpsPerSec, ms(res.Latency.P50), ms(res.Latency.P95), ms(res.Latency.P99), res.Errors, mib(res.PeakRSS))
}
