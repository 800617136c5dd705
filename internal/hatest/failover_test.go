package hatest

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"maps"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"google.golang.org/grpc/codes"

	"github.com/mediationd/mediationd/internal/checker"
)

// binary is the mediationd executable, built once by TestMain.
var binary string

func TestMain(m *testing.M) {
	os.Exit(testMain(m))
}

func testMain(m *testing.M) int {
	if os.Getenv("MEDIATION_FAILOVER") == "" {
		return m.Run() // the test skips, saying why
	}
	dir, err := os.MkdirTemp("", "mediationd-ha-bin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	binary = filepath.Join(dir, "mediationd")
	build := exec.Command("go", "build", "-o", binary, "github.com/mediationd/mediationd/cmd/mediationd")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintf(os.Stderr, "build mediationd: %v\n", err)
		return 1
	}
	_ = os.Chmod(dir, 0o755)
	// Interrupted (Ctrl-C, a CI timeout), the test stops what it started
	// before it exits: t.Cleanup would not run.
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
	go func() {
		s := <-sig
		fmt.Fprintf(os.Stderr, "hatest: %v: stopping every process the test started\n", s)
		stopAll()
		os.RemoveAll(dir)
		os.Exit(2)
	}()
	code := m.Run()
	stopAll()
	return code
}

// fault is one way of losing the primary.
type fault struct {
	name string
	// inject does it and returns once the fault is over (a stopped
	// process continued, stopped members restarted); the cluster then
	// recovers by itself.
	inject func(ctx context.Context, t *testing.T, c *cluster)
}

var faults = []fault{
	{"kill-9-postmaster", func(ctx context.Context, t *testing.T, c *cluster) {
		leader := c.leader(ctx)
		pid, err := leader.postmasterPID()
		if err != nil {
			t.Fatalf("postmaster of %s: %v", leader.name, err)
		}
		t.Logf("kill -9 %d, the postmaster of the primary %s", pid, leader.name)
		if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
	}},
	{"sigstop-patroni", func(ctx context.Context, t *testing.T, c *cluster) {
		leader := c.leader(ctx)
		t.Logf("SIGSTOP to the Patroni of the leader %s", leader.name)
		if err := leader.patroni.cmd.Process.Signal(syscall.SIGSTOP); err != nil {
			t.Fatal(err)
		}
		// Until another node holds the leader key; then SIGCONT, and the
		// old leader finds it has lost the key and demotes its primary.
		deadline := time.Now().Add(time.Minute)
		for {
			ms, err := c.members(ctx)
			if err == nil && slices.ContainsFunc(ms, func(m member) bool { return m.Role == "leader" && m.Name != leader.name }) {
				break
			}
			if time.Now().After(deadline) {
				leader.patroni.cmd.Process.Signal(syscall.SIGCONT)
				t.Fatalf("no new leader a minute after SIGSTOP: %+v (%v)", ms, err)
			}
			time.Sleep(100 * time.Millisecond)
		}
		t.Logf("a new leader took over; SIGCONT to %s", leader.name)
		if err := leader.patroni.cmd.Process.Signal(syscall.SIGCONT); err != nil {
			t.Fatal(err)
		}
	}},
	{"switchover", func(ctx context.Context, t *testing.T, c *cluster) {
		leader, sync := c.roles(ctx)
		if leader == nil || sync == nil {
			t.Fatalf("a switchover needs a leader and a synchronous standby to hand over to; found leader %v, synchronous standby %v (MEDIATION_FAILOVER_UNSAFE=async has none)", leader != nil, sync != nil)
		}
		t.Logf("switchover from %s to %s", leader.name, sync.name)
		body := fmt.Sprintf(`{"leader": %q, "candidate": %q}`, leader.name, sync.name)
		req, _ := http.NewRequestWithContext(ctx, http.MethodPost, leader.restURL("/switchover"), strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatalf("POST /switchover: %v", err)
		}
		var msg bytes.Buffer
		msg.ReadFrom(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("POST /switchover: %s %s", resp.Status, msg.String())
		}
	}},
	{"etcd-quorum-lost", func(ctx context.Context, t *testing.T, c *cluster) {
		stopped := c.nodes[1:]
		for _, n := range stopped {
			n.etcd.stop(10 * time.Second)
		}
		t.Logf("stopped etcd %s and %s; quorum lost for 12s", stopped[0].etcdName, stopped[1].etcdName)
		time.Sleep(12 * time.Second)
		for _, n := range stopped {
			c.restartEtcd(n)
		}
	}},
}

// result is what one run measured.
type result struct {
	fault string
	run   int
	// outage is the longest time after the fault between two
	// acknowledged writes (longestGap).
	outage time.Duration
	// failed counts the calls made while there was no writable primary
	// (during the outage) that got a failover's answer (failoverCodes),
	// by code and reason.
	failed map[string]int
	report *checker.Report
}

// TestFailover runs the workload through two replicas on the cluster and
// injects each fault in turn, each in runs of its own on a fresh cluster
// (MEDIATION_FAILOVER_RUNS runs per fault, default 1;
// MEDIATION_FAILOVER_FAULTS, comma-separated, picks faults). Every run
// must end with the verifier's "violations: none".
func TestFailover(t *testing.T) {
	if os.Getenv("MEDIATION_FAILOVER") == "" {
		t.Skip("the failover test starts a Patroni cluster on 127.0.0.2-4 and needs root: run it with make failover (MEDIATION_FAILOVER=1)")
	}
	runs := 1
	if v := os.Getenv("MEDIATION_FAILOVER_RUNS"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			t.Fatalf("MEDIATION_FAILOVER_RUNS=%q: want a positive number", v)
		}
		runs = n
	}
	pick := map[string]bool{}
	for _, f := range strings.Split(os.Getenv("MEDIATION_FAILOVER_FAULTS"), ",") {
		if f = strings.TrimSpace(f); f != "" {
			pick[f] = true
		}
	}
	for name := range pick {
		if !slices.ContainsFunc(faults, func(f fault) bool { return f.name == name }) {
			t.Fatalf("MEDIATION_FAILOVER_FAULTS names %q, which is no fault of this test", name)
		}
	}
	var results []result
	for _, f := range faults {
		if len(pick) > 0 && !pick[f.name] {
			continue
		}
		for i := 1; i <= runs; i++ {
			t.Run(fmt.Sprintf("%s/%d", f.name, i), func(t *testing.T) {
				r := runOnce(t, f, i)
				results = append(results, r)
			})
		}
	}
	summary := summarize(results)
	t.Logf("\n%s", summary)
	if path := os.Getenv("MEDIATION_FAILOVER_REPORT"); path != "" {
		if err := os.WriteFile(path, []byte(summary), 0o644); err != nil {
			t.Error(err)
		}
	}
}

// runOnce is one run of one fault on a fresh cluster.
func runOnce(t *testing.T, f fault, run int) result {
	ctx, cancel := context.WithTimeout(context.Background(), 6*time.Minute)
	defer cancel()
	begin := time.Now()
	c := startCluster(ctx, t)
	t.Logf("cluster up in %v", time.Since(begin).Round(100*time.Millisecond))
	dsn := c.appDSN()

	first := startReplica(ctx, t, c, dsn, "--migrate")
	second := startReplica(ctx, t, c, dsn)
	// Each replica's metric says whether commits wait for the synchronous
	// standby, as the cluster is set up.
	wantReplicated := "1"
	if os.Getenv("MEDIATION_FAILOVER_UNSAFE") == "async" {
		wantReplicated = "0"
	}
	for _, r := range []*replica{first, second} {
		if got := r.metric(ctx, t, "mediationd_database_commits_replicated"); got != wantReplicated {
			t.Fatalf("replica %s: mediationd_database_commits_replicated = %q, want %s", r.httpAddr, got, wantReplicated)
		}
	}
	token := signIn(ctx, t, c, dsn, first)
	conns, err := checker.Dial([]string{first.grpcAddr, second.grpcAddr})
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		for _, conn := range conns {
			conn.Close()
		}
	}()
	w, err := checker.New(conns, token, checker.Options{
		Workers: 6, Cases: 12, HotCases: 3, Actions: 1 << 30, Duration: 10 * time.Minute,
		Seed: int64(run)*1000 + int64(len(f.name)), CallTimeout: 3 * time.Second,
		Logf: t.Logf,
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Setup(ctx); err != nil {
		t.Fatal(err)
	}
	runCtx, stopRun := context.WithCancel(ctx)
	ran := make(chan struct{})
	go func() {
		defer close(ran)
		_ = w.Run(runCtx)
	}()
	defer func() { stopRun(); <-ran }()

	time.Sleep(4 * time.Second)
	faultAt := time.Now()
	f.inject(ctx, t, c)
	// Until a write is acknowledged again and the cluster has all its
	// members back (the old primary rejoined as a standby), then a while
	// longer.
	deadline := time.Now().Add(2 * time.Minute)
	for firstAck(w.Record(), faultAt).IsZero() {
		if time.Now().After(deadline) {
			t.Fatalf("no write acknowledged within two minutes of the fault")
		}
		time.Sleep(100 * time.Millisecond)
	}
	time.Sleep(2 * time.Second)
	c.waitHealthy(ctx, 2*time.Minute)
	healthyAt := time.Now()
	time.Sleep(3 * time.Second)
	stopRun()
	<-ran

	rctx, rcancel := context.WithTimeout(ctx, 90*time.Second)
	st, err := w.Resolve(rctx)
	rcancel()
	if err != nil || st.Unresolved > 0 {
		t.Errorf("resolve: %+v, %v", st, err)
	}
	rec := w.Record()
	rep, err := checker.Verify(ctx, dsn, rec, checker.VerifyOptions{AllCases: true})
	if err != nil {
		t.Fatal(err)
	}
	r := result{fault: f.name, run: run, failed: map[string]int{}, report: rep}
	gapFrom, gapTo := longestGap(rec, faultAt)
	r.outage = gapTo.Sub(gapFrom)
	for _, call := range calls(rec) {
		if call.code == codes.Internal || call.code == codes.Unknown {
			t.Errorf("a call got %v: %+v", call.code, call)
		}
		if call.end.Before(gapFrom) || call.start.After(gapTo) || !slices.Contains(failoverCodes, call.code) {
			continue
		}
		key := call.code.String()
		if call.reason != "" {
			key += " " + call.reason
		}
		r.failed[key]++
	}
	t.Logf("%s run %d: no writable primary for %v (all members back after %v); calls refused or failed meanwhile: %v\n%s",
		f.name, run, r.outage.Round(time.Millisecond), healthyAt.Sub(faultAt).Round(time.Millisecond), r.failed, rep)
	if !rep.OK() {
		t.Errorf("the verifier found violations after %s", f.name)
	}
	// A commit whose wait for the synchronous standby was cancelled is
	// visible on its primary alone: the service must never cancel one.
	for _, n := range c.nodes {
		b, err := os.ReadFile(n.patroni.log)
		if err != nil {
			t.Fatal(err)
		}
		if k := bytes.Count(b, []byte("canceling wait for synchronous replication")); k > 0 {
			t.Errorf("%s logged %d commits whose wait for the synchronous standby was cancelled (see %s)", n.name, k, n.patroni.log)
		}
	}
	for _, rp := range []*replica{first, second} {
		rp.proc.stop(10 * time.Second)
		if strings.Contains(rp.proc.tail(), `"level":"ERROR"`) && strings.Contains(rp.proc.tail(), `"code":"Internal"`) {
			t.Errorf("replica %s answered INTERNAL:\n%s", rp.grpcAddr, rp.proc.tail())
		}
	}
	return r
}

// failoverCodes are the answers a failover may cause; the workload's
// deliberate mistakes get other refusals (stale etags, actions the state
// does not allow, malformed fields), which the measure leaves out.
var failoverCodes = []codes.Code{codes.Unavailable, codes.DeadlineExceeded, codes.Canceled, codes.Internal, codes.Unknown}

// call is an action or a registration, as the measures need it.
type call struct {
	start, end time.Time
	outcome    checker.Outcome
	code       codes.Code
	reason     string
}

// calls are the run's calls, without those Resolve made after it.
func calls(rec checker.Record) []call {
	var out []call
	for _, c := range rec.Calls {
		if !c.Resolve {
			out = append(out, call{c.Start, c.End, c.Outcome, c.Code, c.Reason})
		}
	}
	for _, c := range rec.Creates {
		if !c.Resolve {
			out = append(out, call{c.Start, c.End, c.Outcome, c.Code, c.Reason})
		}
	}
	return out
}

// firstAck is the end of the first acknowledged call started at or after
// from, zero if none.
func firstAck(rec checker.Record, from time.Time) time.Time {
	var first time.Time
	for _, c := range calls(rec) {
		if c.outcome == checker.Acked && !c.start.Before(from) && (first.IsZero() || c.end.Before(first)) {
			first = c.end
		}
	}
	return first
}

// longestGap is the longest time, ending after the fault, between two
// acknowledged writes that followed each other (by the time their answers
// came): the time without a writable primary, as the clients saw it. With
// six workers writing all the time, gaps are milliseconds otherwise.
func longestGap(rec checker.Record, fault time.Time) (from, to time.Time) {
	var acks []time.Time
	for _, c := range calls(rec) {
		if c.outcome == checker.Acked {
			acks = append(acks, c.end)
		}
	}
	slices.SortFunc(acks, func(a, b time.Time) int { return a.Compare(b) })
	for i := 1; i < len(acks); i++ {
		if acks[i].After(fault) && acks[i].Sub(acks[i-1]) > to.Sub(from) {
			from, to = acks[i-1], acks[i]
		}
	}
	return from, to
}

// replica is one mediationd process.
type replica struct {
	proc               *proc
	grpcAddr, httpAddr string
}

// startReplica starts mediationd on free loopback ports and waits until it
// is ready.
func startReplica(ctx context.Context, t *testing.T, c *cluster, dsn string, args ...string) *replica {
	t.Helper()
	r := &replica{grpcAddr: freeAddr(t), httpAddr: freeAddr(t)}
	env := append(serviceEnv(dsn), "MEDIATION_GRPC_ADDR="+r.grpcAddr, "MEDIATION_HTTP_ADDR="+r.httpAddr)
	log := filepath.Join(c.dir, "mediationd-"+strings.ReplaceAll(r.grpcAddr, ":", "-")+".log")
	r.proc = start(t, "mediationd", log, nil, env, append([]string{binary, "serve"}, args...)...)
	deadline := time.Now().Add(time.Minute)
	for {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+r.httpAddr+"/readyz", nil)
		if resp, err := http.DefaultClient.Do(req); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return r
			}
		}
		if r.proc.exited() || time.Now().After(deadline) {
			t.Fatalf("mediationd is not ready:\n%s", r.proc.tail())
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// metric reads one unlabelled series from the replica's /metrics ("" if
// it is not there).
func (r *replica) metric(ctx context.Context, t *testing.T, name string) string {
	t.Helper()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+r.httpAddr+"/metrics", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("scrape %s: %v", r.httpAddr, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("scrape %s: %v", r.httpAddr, err)
	}
	for line := range strings.Lines(string(body)) {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), name+" "); ok {
			return v
		}
	}
	return ""
}

// serviceEnv is mediationd's environment: the test's, without its
// mediationd settings, and the database.
func serviceEnv(dsn string) []string {
	var env []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		if k == "DATABASE_URL" || strings.HasPrefix(k, "MEDIATION_") {
			continue
		}
		env = append(env, kv)
	}
	return append(env, "DATABASE_URL="+dsn, "MEDIATION_RATE_LIMIT=0", "MEDIATION_SHUTDOWN_TIMEOUT=5s", "MEDIATION_LOG_FORMAT=json")
}

// signIn adds an administrator and returns a session token for it.
func signIn(ctx context.Context, t *testing.T, c *cluster, dsn string, r *replica) string {
	t.Helper()
	const password = "failover-admin-password"
	cmd := exec.CommandContext(ctx, binary, "users", "add", "--username", "admin", "--role", "admin", "--password-stdin")
	cmd.Env = serviceEnv(dsn)
	cmd.Stdin = strings.NewReader(password + "\n")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("mediationd users add: %v\n%s", err, out)
	}
	conns, err := checker.Dial([]string{r.grpcAddr})
	if err != nil {
		t.Fatal(err)
	}
	defer conns[0].Close()
	sctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	token, err := checker.SignIn(sctx, conns[0], "admin", password)
	if err != nil {
		t.Fatal(err)
	}
	return token
}

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// summarize renders the results as the README's table: per fault, the
// runs, the time without a writable primary (p50 and max), the calls
// refused or failed meanwhile, and the verdicts.
func summarize(results []result) string {
	var b strings.Builder
	b.WriteString("| fault | runs | no writable primary p50 | max | calls refused or failed meanwhile (all runs) | verdict |\n")
	b.WriteString("|---|---|---|---|---|---|\n")
	byFault := map[string][]result{}
	var order []string
	for _, r := range results {
		if _, ok := byFault[r.fault]; !ok {
			order = append(order, r.fault)
		}
		byFault[r.fault] = append(byFault[r.fault], r)
	}
	for _, f := range order {
		rs := byFault[f]
		var outages []time.Duration
		failed := map[string]int{}
		clean := 0
		for _, r := range rs {
			outages = append(outages, r.outage)
			for k, v := range r.failed {
				failed[k] += v
			}
			if r.report != nil && r.report.OK() {
				clean++
			}
		}
		slices.Sort(outages)
		var parts []string
		for _, k := range slices.Sorted(maps.Keys(failed)) {
			parts = append(parts, fmt.Sprintf("%s %d", k, failed[k]))
		}
		verdict := fmt.Sprintf("violations: none ×%d", clean)
		if clean < len(rs) {
			verdict = fmt.Sprintf("**%d of %d runs with violations**", len(rs)-clean, len(rs))
		}
		fmt.Fprintf(&b, "| %s | %d | %.1f s | %.1f s | %s | %s |\n", f, len(rs),
			outages[(len(outages)-1)/2].Seconds(), outages[len(outages)-1].Seconds(), strings.Join(parts, ", "), verdict)
	}
	return b.String()
}
