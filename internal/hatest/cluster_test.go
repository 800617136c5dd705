package hatest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"text/template"
	"time"

	"github.com/jackc/pgx/v5"
)

// The cluster's addresses and ports: loopback only. Linux routes all of
// 127.0.0.0/8 to lo, so each node has an address of its own. The ports
// are not the defaults, so that a PostgreSQL or etcd of the machine's own
// is not disturbed.
var hosts = []string{"127.0.0.2", "127.0.0.3", "127.0.0.4"}

const (
	pgPort         = 15432
	restPort       = 18008
	etcdClientPort = 12379
	etcdPeerPort   = 12380
	pgBin          = "/usr/lib/postgresql/15/bin"
	scope          = "mediationd-ha"
)

// started is everything the test started: its processes and its clusters'
// directories, for stopAll.
var started struct {
	sync.Mutex
	procs []*proc
	dirs  []string
}

// stopAll kills every process the test started and every process still
// running from a cluster's directory (PostgreSQL, which Patroni starts in
// a session of its own), each by its pid, and removes the directories.
// The tests' cleanups do the same for their own; this is for an
// interrupted run.
func stopAll() {
	started.Lock()
	procs, dirs := slices.Clone(started.procs), slices.Clone(started.dirs)
	started.Unlock()
	for _, p := range procs {
		if !p.exited() {
			_ = p.signal(syscall.SIGKILL)
		}
	}
	for _, dir := range dirs {
		for attempt := 0; attempt < 50; attempt++ {
			left := leftovers(dir)
			if len(left) == 0 {
				break
			}
			for _, pid := range left {
				_ = syscall.Kill(pid, syscall.SIGKILL)
			}
			time.Sleep(100 * time.Millisecond)
		}
		if os.Getenv("MEDIATION_FAILOVER_KEEP") == "" {
			_ = os.RemoveAll(dir)
		}
	}
}

// proc is a process the test started, in a process group of its own.
type proc struct {
	name string
	cmd  *exec.Cmd
	log  string
	done chan struct{}
}

// start runs argv as cred's user (nil: as the test), in a process group of
// its own, its output in log. The test's cleanup kills the group.
func start(t *testing.T, name, log string, cred *syscall.Credential, env []string, argv ...string) *proc {
	t.Helper()
	f, err := os.OpenFile(log, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Stdout, cmd.Stderr = f, f
	cmd.Env = env
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Credential: cred}
	if err := cmd.Start(); err != nil {
		f.Close()
		t.Fatalf("start %s: %v", name, err)
	}
	p := &proc{name: name, cmd: cmd, log: log, done: make(chan struct{})}
	started.Lock()
	started.procs = append(started.procs, p)
	started.Unlock()
	go func() {
		_ = cmd.Wait()
		f.Close()
		close(p.done)
	}()
	t.Cleanup(func() { p.kill() })
	return p
}

func (p *proc) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// signal sends sig to the process's group.
func (p *proc) signal(sig syscall.Signal) error {
	return syscall.Kill(-p.cmd.Process.Pid, sig)
}

// stop sends SIGTERM to the group and waits up to timeout, then kills it.
func (p *proc) stop(timeout time.Duration) {
	if p.exited() {
		return
	}
	_ = p.signal(syscall.SIGCONT)
	_ = p.signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(timeout):
		p.kill()
	}
}

// kill kills the group and waits for the process.
func (p *proc) kill() {
	if p.exited() {
		return
	}
	_ = p.signal(syscall.SIGKILL)
	select {
	case <-p.done:
	case <-time.After(10 * time.Second):
	}
}

// tail is the end of the process's log, for failure messages.
func (p *proc) tail() string {
	b, _ := os.ReadFile(p.log)
	if len(b) > 3000 {
		b = b[len(b)-3000:]
	}
	return string(b)
}

// node is one member of the cluster: an etcd member and a Patroni-managed
// PostgreSQL.
type node struct {
	name, etcdName, host string
	dir                  string
	etcd, patroni        *proc
}

func (n *node) dataDir() string { return filepath.Join(n.dir, "data") }

func (n *node) restURL(path string) string {
	return fmt.Sprintf("http://%s:%d%s", n.host, restPort, path)
}

// cluster is three nodes, the account they run as, and the passwords.
type cluster struct {
	t        *testing.T
	dir      string
	cred     *syscall.Credential
	uid, gid int
	password string
	nodes    []*node
	// backup: the nodes archive to a pgBackRest repository in dir, with
	// deploy/pgbackrest/patroni/patroni-pgbackrest.yml merged into their
	// Patroni configuration (startClusterWith).
	backup bool
}

// appPassword is the password of the role mediationd connects as.
func (c *cluster) appDSN() string {
	var hp []string
	for _, h := range hosts {
		hp = append(hp, fmt.Sprintf("%s:%d", h, pgPort))
	}
	return fmt.Sprintf("postgres://mediation:%s@%s/mediation?target_session_attrs=read-write&connect_timeout=2&sslmode=disable",
		c.password, strings.Join(hp, ","))
}

// minPatroni is the oldest Patroni the cluster may run: 3.0.2 (Debian 12's)
// overwrites the leader key of the node that replaced it when its lease has
// expired, so a stalled leader's Patroni takes the key back from a promoted
// standby (deploy/install-patroni.sh).
var minPatroni = [3]int{3, 0, 3}

// patroniVersionOK checks the installed Patroni against minPatroni.
func patroniVersionOK() error {
	out, err := exec.Command("patroni", "--version").Output()
	if err != nil {
		return fmt.Errorf("patroni --version: %v", err)
	}
	v, ok := parseVersion(string(out))
	if !ok {
		return fmt.Errorf("patroni --version printed %q, not \"patroni X.Y.Z\"", strings.TrimSpace(string(out)))
	}
	if slices.Compare(v[:], minPatroni[:]) < 0 {
		return fmt.Errorf("Patroni %d.%d.%d is installed; the failover test needs %d.%d.%d or later, as production does (3.0.2 can take the leader key back from a promoted standby): run bash deploy/install-patroni.sh",
			v[0], v[1], v[2], minPatroni[0], minPatroni[1], minPatroni[2])
	}
	return nil
}

// parseVersion reads "patroni X.Y.Z" (a suffix after Z is ignored).
func parseVersion(s string) ([3]int, bool) {
	var v [3]int
	f := strings.Fields(s)
	if len(f) != 2 || f[0] != "patroni" {
		return v, false
	}
	parts := strings.SplitN(f[1], ".", 3)
	if len(parts) != 3 {
		return v, false
	}
	for i, p := range parts {
		end := strings.IndexFunc(p, func(r rune) bool { return r < '0' || r > '9' })
		if end == 0 {
			return v, false
		}
		if end > 0 {
			if i < 2 {
				return v, false
			}
			p = p[:end]
		}
		n, err := strconv.Atoi(p)
		if err != nil {
			return v, false
		}
		v[i] = n
	}
	return v, true
}

func (c *cluster) superDSN(host string) string {
	return fmt.Sprintf("postgres://postgres:%s@%s:%d/postgres?sslmode=disable&connect_timeout=2", c.password, host, pgPort)
}

// prerequisites fails the test with what to install or how to run it
// when this machine cannot run the cluster.
func prerequisites(t *testing.T) (*syscall.Credential, int, int) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Fatal("the failover test runs PostgreSQL, Patroni and etcd as the postgres account and must start as root")
	}
	var missing []string
	for _, bin := range []string{"patroni", "etcd", "etcdctl"} {
		if _, err := exec.LookPath(bin); err != nil {
			missing = append(missing, bin)
		}
	}
	if _, err := os.Stat(filepath.Join(pgBin, "postgres")); err != nil {
		missing = append(missing, "PostgreSQL 15 ("+pgBin+")")
	}
	if len(missing) > 0 {
		t.Fatalf("missing %s: run bash deploy/ensure-ha.sh (make failover does)", strings.Join(missing, ", "))
	}
	if err := patroniVersionOK(); err != nil {
		t.Fatal(err)
	}
	u, err := user.Lookup("postgres")
	if err != nil {
		t.Fatalf("no postgres account to run the cluster as: %v", err)
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	for _, h := range hosts {
		ln, err := net.Listen("tcp", net.JoinHostPort(h, "0"))
		if err != nil {
			t.Fatalf("cannot listen on %s (Linux routes 127.0.0.0/8 to lo; is this Linux?): %v", h, err)
		}
		ln.Close()
	}
	return &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}, uid, gid
}

// startCluster starts three etcd members and three Patroni nodes in a new
// temporary directory, waits for a leader with a synchronous standby, and
// creates mediationd's role and database. Everything is stopped and
// removed when the test ends.
func startCluster(ctx context.Context, t *testing.T) *cluster {
	t.Helper()
	return startClusterWith(ctx, t, false)
}

// startClusterWith is startCluster; with backup, every node also archives
// its WAL to one pgBackRest repository (stanza mediationd) and Patroni
// creates replicas from it, as deploy/pgbackrest/patroni/ configures.
func startClusterWith(ctx context.Context, t *testing.T, backup bool) *cluster {
	t.Helper()
	cred, uid, gid := prerequisites(t)
	if backup {
		if _, err := exec.LookPath("pgbackrest"); err != nil {
			t.Fatal("missing pgbackrest: run bash deploy/apt-install.sh pgbackrest (make failover does)")
		}
	}
	for _, h := range hosts {
		for _, port := range []int{pgPort, restPort, etcdClientPort, etcdPeerPort} {
			if conn, err := net.DialTimeout("tcp", net.JoinHostPort(h, fmt.Sprint(port)), 200*time.Millisecond); err == nil {
				conn.Close()
				t.Fatalf("%s:%d is in use: another failover test or cluster runs on this machine; stop it first", h, port)
			}
		}
	}
	dir, err := os.MkdirTemp("", "mediationd-ha-")
	if err != nil {
		t.Fatal(err)
	}
	var b [12]byte
	_, _ = rand.Read(b[:])
	c := &cluster{t: t, dir: dir, cred: cred, uid: uid, gid: gid, password: hex.EncodeToString(b[:]), backup: backup}
	started.Lock()
	started.dirs = append(started.dirs, dir)
	started.Unlock()
	t.Cleanup(func() { c.teardown() })
	if err := os.Chown(dir, uid, gid); err != nil {
		t.Fatal(err)
	}
	tmpl, err := template.ParseFiles(filepath.Join(repoRoot(t), "deploy", "patroni", "patroni.yml"))
	if err != nil {
		t.Fatal(err)
	}
	var initial, endpoints []string
	for i, h := range hosts {
		n := &node{name: fmt.Sprintf("pg%d", i+1), etcdName: fmt.Sprintf("e%d", i+1), host: h, dir: filepath.Join(dir, fmt.Sprintf("pg%d", i+1))}
		c.nodes = append(c.nodes, n)
		initial = append(initial, fmt.Sprintf("%s=http://%s:%d", n.etcdName, h, etcdPeerPort))
		endpoints = append(endpoints, fmt.Sprintf("%s:%d", h, etcdClientPort))
		if err := os.MkdirAll(n.dir, 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.Chown(n.dir, uid, gid); err != nil {
			t.Fatal(err)
		}
	}
	if backup {
		c.writeBackupConfigs()
	}
	for _, n := range c.nodes {
		n.etcd = c.startEtcd(n, strings.Join(initial, ","))
	}
	c.waitEtcd(ctx)
	for _, n := range c.nodes {
		var conf strings.Builder
		err = tmpl.Execute(&conf, map[string]any{
			"Scope": scope, "Name": n.name, "Host": n.host, "RESTPort": restPort, "PGPort": pgPort,
			"EtcdHosts": strings.Join(endpoints, ","), "DataDir": n.dataDir(), "BinDir": pgBin, "Dir": n.dir,
			"Password": c.password, "ReplicationUser": "replicator",
		})
		if err != nil {
			t.Fatal(err)
		}
		text := conf.String()
		if os.Getenv("MEDIATION_FAILOVER_UNSAFE") == "async" {
			// To show that the checker catches what asynchronous
			// replication loses; never in a real deployment.
			text = strings.Replace(text, "synchronous_mode: true", "synchronous_mode: false", 1)
			text = strings.Replace(text, "synchronous_mode_strict: true", "synchronous_mode_strict: false", 1)
		}
		if backup {
			text = c.withBackupSettings(text)
		}
		path := filepath.Join(n.dir, "patroni.yml")
		if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
		_ = os.Chown(path, uid, gid)
		n.patroni = c.startPatroni(n)
	}
	c.waitHealthy(ctx, 3*time.Minute)

	leader := c.leader(ctx)
	db, err := pgx.Connect(ctx, c.superDSN(leader.host))
	if err != nil {
		t.Fatalf("connect to the primary: %v", err)
	}
	defer db.Close(context.WithoutCancel(ctx))
	for _, sql := range []string{
		"CREATE ROLE mediation LOGIN PASSWORD '" + c.password + "'",
		"CREATE DATABASE mediation OWNER mediation",
	} {
		if _, err := db.Exec(ctx, sql); err != nil {
			t.Fatalf("%s: %v", strings.SplitN(sql, " PASSWORD", 2)[0], err)
		}
	}
	// pgx stops at a host that says the database does not exist, rather
	// than try the next: wait until every standby has replayed it.
	for _, n := range c.nodes {
		deadline := time.Now().Add(30 * time.Second)
		for {
			conn, err := pgx.Connect(ctx, strings.Replace(c.superDSN(n.host), "/postgres?", "/mediation?", 1))
			if err == nil {
				conn.Close(ctx)
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("the database mediation did not reach %s: %v", n.name, err)
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
	return c
}

// env is the environment of the cluster's processes.
func (c *cluster) env() []string {
	return []string{"PATH=/usr/bin:/bin:" + pgBin, "HOME=" + c.dir, "LANG=C.UTF-8", "LC_ALL=C.UTF-8"}
}

func (c *cluster) startEtcd(n *node, initial string) *proc {
	return start(c.t, "etcd "+n.etcdName, filepath.Join(n.dir, "etcd.log"), c.cred, c.env(),
		"etcd", "--name", n.etcdName, "--data-dir", filepath.Join(n.dir, "etcd"),
		"--listen-client-urls", fmt.Sprintf("http://%s:%d", n.host, etcdClientPort),
		"--advertise-client-urls", fmt.Sprintf("http://%s:%d", n.host, etcdClientPort),
		"--listen-peer-urls", fmt.Sprintf("http://%s:%d", n.host, etcdPeerPort),
		"--initial-advertise-peer-urls", fmt.Sprintf("http://%s:%d", n.host, etcdPeerPort),
		"--initial-cluster", initial, "--initial-cluster-state", "new", "--initial-cluster-token", scope,
		"--heartbeat-interval", "100", "--election-timeout", "1000", "--log-level", "warn")
}

func (c *cluster) startPatroni(n *node) *proc {
	return start(c.t, "patroni "+n.name, filepath.Join(n.dir, "patroni.log"), c.cred, c.nodeEnv(n),
		"patroni", filepath.Join(n.dir, "patroni.yml"))
}

// nodeEnv is the environment of a node's Patroni, and so of its
// PostgreSQL and the archive and restore commands PostgreSQL runs: with
// backups, the node's pgBackRest configuration.
func (c *cluster) nodeEnv(n *node) []string {
	env := c.env()
	if c.backup {
		env = append(env, "PGBACKREST_CONFIG="+n.backupConfig())
	}
	return env
}

// restartEtcd starts a stopped member again on its data.
func (c *cluster) restartEtcd(n *node) {
	var initial []string
	for _, m := range c.nodes {
		initial = append(initial, fmt.Sprintf("%s=http://%s:%d", m.etcdName, m.host, etcdPeerPort))
	}
	n.etcd = c.startEtcd(n, strings.Join(initial, ","))
}

// waitEtcd waits until every member reports itself healthy.
func (c *cluster) waitEtcd(ctx context.Context) {
	c.t.Helper()
	deadline := time.Now().Add(time.Minute)
	for _, n := range c.nodes {
		for {
			var h struct {
				Health string `json:"health"`
			}
			if err := getJSON(ctx, fmt.Sprintf("http://%s:%d/health", n.host, etcdClientPort), &h); err == nil && h.Health == "true" {
				break
			}
			if n.etcd.exited() || time.Now().After(deadline) {
				c.t.Fatalf("etcd %s is not healthy:\n%s", n.etcdName, n.etcd.tail())
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
}

// member is one node as Patroni's /cluster reports it.
type member struct {
	Name  string `json:"name"`
	Role  string `json:"role"`
	State string `json:"state"`
	Host  string `json:"host"`
}

// members asks the nodes' REST APIs, in turn, for the cluster.
func (c *cluster) members(ctx context.Context) ([]member, error) {
	var errs []error
	for _, n := range c.nodes {
		var cl struct {
			Members []member `json:"members"`
		}
		if err := getJSON(ctx, n.restURL("/cluster"), &cl); err != nil {
			errs = append(errs, err)
			continue
		}
		return cl.Members, nil
	}
	return nil, errors.Join(errs...)
}

// healthy reports whether the cluster has a running leader, a synchronous
// standby, and all three members running.
func healthy(ms []member) bool {
	leaders, syncs, running := 0, 0, 0
	for _, m := range ms {
		switch m.Role {
		case "leader", "master", "primary":
			leaders++
		case "sync_standby":
			syncs++
		}
		if m.State == "running" || m.State == "streaming" {
			running++
		}
	}
	if os.Getenv("MEDIATION_FAILOVER_UNSAFE") == "async" {
		syncs = 1
	}
	return leaders == 1 && syncs >= 1 && running == len(hosts) && len(ms) == len(hosts)
}

// waitHealthy waits until the cluster is healthy.
func (c *cluster) waitHealthy(ctx context.Context, timeout time.Duration) {
	c.t.Helper()
	deadline := time.Now().Add(timeout)
	var last []member
	for {
		ms, err := c.members(ctx)
		if err == nil && healthy(ms) {
			return
		}
		if err == nil {
			last = ms
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			var logs strings.Builder
			for _, n := range c.nodes {
				fmt.Fprintf(&logs, "--- %s ---\n%s\n", n.name, n.patroni.tail())
			}
			c.t.Fatalf("the cluster is not healthy after %v: members %+v (%v)\n%s", timeout, last, err, logs.String())
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// leader returns the node Patroni names leader, waiting for one.
func (c *cluster) leader(ctx context.Context) *node {
	c.t.Helper()
	n, _ := c.roles(ctx)
	return n
}

// roles returns the leader and the synchronous standby.
func (c *cluster) roles(ctx context.Context) (leader, sync *node) {
	c.t.Helper()
	deadline := time.Now().Add(time.Minute)
	for {
		ms, err := c.members(ctx)
		if err == nil {
			for _, m := range ms {
				switch m.Role {
				case "leader", "master", "primary":
					leader = c.node(m.Name)
				case "sync_standby":
					sync = c.node(m.Name)
				}
			}
			if leader != nil && (sync != nil || os.Getenv("MEDIATION_FAILOVER_UNSAFE") == "async") {
				return leader, sync
			}
		}
		if time.Now().After(deadline) {
			c.t.Fatalf("no leader with a synchronous standby: %+v (%v)", ms, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func (c *cluster) node(name string) *node {
	for _, n := range c.nodes {
		if n.name == name {
			return n
		}
	}
	return nil
}

// postmasterPID reads the postmaster's pid of a node.
func (n *node) postmasterPID() (int, error) {
	b, err := os.ReadFile(filepath.Join(n.dataDir(), "postmaster.pid"))
	if err != nil {
		return 0, err
	}
	line, _, _ := strings.Cut(string(b), "\n")
	return strconv.Atoi(strings.TrimSpace(line))
}

// teardown stops everything the cluster started: the Patroni and etcd
// process groups, then each node's PostgreSQL (which Patroni starts in a
// session of its own), then any process still running from the cluster's
// directory, each by its pid; then it removes the directory.
func (c *cluster) teardown() {
	for _, n := range c.nodes {
		if n.patroni != nil {
			n.patroni.kill()
		}
	}
	for _, n := range c.nodes {
		if pid, err := n.postmasterPID(); err == nil && pid > 0 && ownedBy(pid, c.dir) {
			_ = syscall.Kill(pid, syscall.SIGKILL)
		}
	}
	for _, n := range c.nodes {
		if n.etcd != nil {
			n.etcd.kill()
		}
	}
	// Whatever is left (a postgres backend, pg_rewind, a basebackup)
	// names the directory on its command line.
	deadline := time.Now().Add(10 * time.Second)
	for {
		left := leftovers(c.dir)
		if len(left) == 0 {
			break
		}
		for _, pid := range left {
			_ = syscall.Kill(pid, syscall.SIGKILL)
		}
		if time.Now().After(deadline) {
			c.t.Errorf("processes %v of the cluster in %s would not die", left, c.dir)
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	if os.Getenv("MEDIATION_FAILOVER_KEEP") == "" {
		_ = os.RemoveAll(c.dir)
	} else {
		c.t.Logf("kept the cluster's directory %s", c.dir)
	}
}

// ownedBy reports whether process pid runs from dir (its command line or
// working directory names it).
func ownedBy(pid int, dir string) bool {
	cmdline, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
	cwd, _ := os.Readlink(fmt.Sprintf("/proc/%d/cwd", pid))
	return strings.Contains(string(cmdline), dir) || strings.HasPrefix(cwd, dir)
}

// leftovers lists the processes that run from dir.
func leftovers(dir string) []int {
	entries, _ := os.ReadDir("/proc")
	var out []int
	self := os.Getpid()
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || pid == self {
			continue
		}
		if ownedBy(pid, dir) {
			out = append(out, pid)
		}
	}
	slices.Sort(out)
	return out
}

// getJSON GETs url into out, with a short timeout.
func getJSON(ctx context.Context, url string, out any) error {
	ctx, cancel := context.WithTimeout(ctx, time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	if resp.StatusCode >= 500 {
		return fmt.Errorf("GET %s: %s", url, resp.Status)
	}
	return json.Unmarshal(b, out)
}

// repoRoot is the repository's top directory (where go.mod is).
func repoRoot(t *testing.T) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for d := dir; ; d = filepath.Dir(d) {
		if _, err := os.Stat(filepath.Join(d, "go.mod")); err == nil {
			return d
		}
		if filepath.Dir(d) == d {
			t.Fatalf("no go.mod above %s", dir)
		}
	}
}
