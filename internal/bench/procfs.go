package bench

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// userHZ is the unit of the CPU times in /proc/PID/stat (USER_HZ, 100 on
// every Linux architecture Go supports).
const userHZ = 100

// rssPollInterval is how often memory samplers look at the server.
const rssPollInterval = 250 * time.Millisecond

// statusKB reads a "Name:  N kB" line of /proc/PID/status, in bytes.
func statusKB(pid int, field string) (int64, error) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, fmt.Errorf("read memory of process %d: %w", pid, err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		name, rest, ok := strings.Cut(sc.Text(), ":")
		if !ok || name != field {
			continue
		}
		kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
		if err != nil {
			return 0, fmt.Errorf("parse %s of process %d: %w", field, pid, err)
		}
		return kb << 10, nil
	}
	if err := sc.Err(); err != nil {
		return 0, fmt.Errorf("read memory of process %d: %w", pid, err)
	}
	return 0, fmt.Errorf("process %d: no %s in /proc/%d/status", pid, field, pid)
}

// resetPeakRSS makes VmHWM start again from the current resident set
// (Linux 4.0 and later), so that it measures the peak of one phase.
func resetPeakRSS(pid int) error {
	if err := os.WriteFile(fmt.Sprintf("/proc/%d/clear_refs", pid), []byte("5"), 0); err != nil {
		return fmt.Errorf("reset peak memory of process %d: %w", pid, err)
	}
	return nil
}

// procStat holds the fields of /proc/PID/stat the benchmark uses.
type procStat struct {
	ppid int
	// cpu is the process's own user and system time; children is that of
	// its children it has waited for.
	cpu, children time.Duration
}

func readProcStat(pid int) (procStat, error) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return procStat{}, fmt.Errorf("read /proc/%d/stat: %w", pid, err)
	}
	// The command name is in parentheses and may hold spaces.
	end := bytes.LastIndexByte(data, ')')
	if end < 0 {
		return procStat{}, fmt.Errorf("parse /proc/%d/stat: no command name", pid)
	}
	f := strings.Fields(string(data[end+1:]))
	// f[0] is field 3 (state): ppid is field 4, utime..cstime 14..17.
	if len(f) < 15 {
		return procStat{}, fmt.Errorf("parse /proc/%d/stat: %d fields", pid, len(f))
	}
	n := make([]int64, 15)
	for _, i := range []int{1, 11, 12, 13, 14} {
		if n[i], err = strconv.ParseInt(f[i], 10, 64); err != nil {
			return procStat{}, fmt.Errorf("parse /proc/%d/stat: %w", pid, err)
		}
	}
	tick := time.Second / userHZ
	return procStat{
		ppid:     int(n[1]),
		cpu:      time.Duration(n[11]+n[12]) * tick,
		children: time.Duration(n[13]+n[14]) * tick,
	}, nil
}

// treeCPU is the CPU time a process and its children have used: its own,
// that of children it has reaped, and that of the children still running.
// For a PostgreSQL postmaster that is the whole server.
func treeCPU(pid int) (time.Duration, error) {
	root, err := readProcStat(pid)
	if err != nil {
		return 0, err
	}
	total := root.cpu + root.children
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return 0, fmt.Errorf("list processes: %w", err)
	}
	for _, e := range entries {
		child, err := strconv.Atoi(e.Name())
		if err != nil || child == pid {
			continue
		}
		st, err := readProcStat(child)
		if err != nil || st.ppid != pid {
			continue // gone, or not a child
		}
		total += st.cpu
	}
	return total, nil
}

// selfCPU is the CPU time this process has used.
func selfCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// postmasterPID reads the first line of PGDATA/postmaster.pid.
func postmasterPID(pgdata string) (int, error) {
	data, err := os.ReadFile(filepath.Join(pgdata, "postmaster.pid"))
	if err != nil {
		return 0, fmt.Errorf("read postmaster.pid: %w", err)
	}
	first, _, _ := strings.Cut(string(data), "\n")
	pid, err := strconv.Atoi(strings.TrimSpace(first))
	if err != nil {
		return 0, fmt.Errorf("postmaster.pid starts with %q, not a pid", first)
	}
	return pid, nil
}

// machineBusy is the CPU time all processors of the machine have spent
// busy (anything but idle and waiting for I/O), from /proc/stat.
func machineBusy() (time.Duration, error) {
	data, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0, fmt.Errorf("read /proc/stat: %w", err)
	}
	line, _, _ := strings.Cut(string(data), "\n")
	f := strings.Fields(line)
	if len(f) < 8 || f[0] != "cpu" {
		return 0, fmt.Errorf("parse /proc/stat: %q", line)
	}
	var busy int64
	// user nice system idle iowait irq softirq steal: all but idle, iowait.
	for i, v := range f[1:9] {
		if i == 3 || i == 4 {
			continue
		}
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return 0, fmt.Errorf("parse /proc/stat: %w", err)
		}
		busy += n
	}
	return time.Duration(busy) * (time.Second / userHZ), nil
}

// cpuSnapshot is the CPU time used so far by each party and by the whole
// machine.
type cpuSnapshot struct {
	at                      time.Time
	server, postgres, bench time.Duration
	machine                 time.Duration
	serverOK, postgresOK    bool
	machineOK               bool
}

// cpuMeter takes cpuSnapshots; a zero pid is a party it cannot see.
type cpuMeter struct {
	serverPID, postgresPID int
}

func (m cpuMeter) snapshot() cpuSnapshot {
	s := cpuSnapshot{at: time.Now(), bench: selfCPU()}
	if t, err := machineBusy(); err == nil {
		s.machine, s.machineOK = t, true
	}
	if m.serverPID > 0 {
		if st, err := readProcStat(m.serverPID); err == nil {
			s.server, s.serverOK = st.cpu, true
		}
	}
	if m.postgresPID > 0 {
		if t, err := treeCPU(m.postgresPID); err == nil {
			s.postgres, s.postgresOK = t, true
		}
	}
	return s
}

// CPUUse is the CPU time each party spent per successful call during a
// phase's measurement, in microseconds; a negative value is unknown.
type CPUUse struct {
	ServerMicros   float64 `json:"server_us_per_op"`
	PostgresMicros float64 `json:"postgres_us_per_op"`
	BenchMicros    float64 `json:"bench_us_per_op"`
	// Cores is the CPU time of the three over the wall time: how many
	// processors they kept busy.
	Cores float64 `json:"cores_busy"`
	// OtherCores is how many processors other processes of the machine
	// kept busy meanwhile (negative: unknown). Anything but a small
	// fraction of a core means the phase competed with other work and its
	// numbers are low.
	OtherCores float64 `json:"other_cores_busy"`
}

// cpuDelta is the CPU time used between snapshots, summed over the
// slices of a measurement.
type cpuDelta struct {
	wall                             time.Duration
	server, postgres, bench, machine time.Duration
	serverOK, postgresOK, machineOK  bool
}

func deltaOf(a, b cpuSnapshot) cpuDelta {
	return cpuDelta{
		wall: b.at.Sub(a.at), server: b.server - a.server, postgres: b.postgres - a.postgres,
		bench: b.bench - a.bench, machine: b.machine - a.machine,
		serverOK: a.serverOK && b.serverOK, postgresOK: a.postgresOK && b.postgresOK,
		machineOK: a.machineOK && b.machineOK,
	}
}

// add accumulates o into d; d must start as the zero value or a delta.
func (d *cpuDelta) add(o cpuDelta) {
	first := d.wall == 0
	d.wall += o.wall
	d.server += o.server
	d.postgres += o.postgres
	d.bench += o.bench
	d.machine += o.machine
	d.serverOK = o.serverOK && (first || d.serverOK)
	d.postgresOK = o.postgresOK && (first || d.postgresOK)
	d.machineOK = o.machineOK && (first || d.machineOK)
}

// use is the CPU per call of ops successful calls.
func (d cpuDelta) use(ops int) CPUUse {
	per := func(t time.Duration, ok bool) float64 {
		if !ok || ops == 0 {
			return -1
		}
		return float64(t.Microseconds()) / float64(ops)
	}
	u := CPUUse{
		ServerMicros:   per(d.server, d.serverOK),
		PostgresMicros: per(d.postgres, d.postgresOK),
		BenchMicros:    per(d.bench, true),
	}
	u.Cores, u.OtherCores = d.cores()
	return u
}

// cores returns the processors the benchmark's parties kept busy, and
// those other processes did (-1 when it cannot tell).
func (d cpuDelta) cores() (ours, other float64) {
	if d.wall <= 0 {
		return 0, -1
	}
	used := d.server + d.postgres + d.bench
	ours = float64(used) / float64(d.wall)
	if !d.machineOK || !d.serverOK || !d.postgresOK {
		return ours, -1
	}
	// Clock ticks make short intervals coarse; never report below zero.
	return ours, max(0, float64(d.machine-used)/float64(d.wall))
}

// rssSampler measures the server's peak resident memory during a phase.
type rssSampler interface {
	// start begins a measurement; stop ends it and returns the peak in
	// bytes (0 if unknown) and how it was measured.
	start(ctx context.Context)
	stop() (int64, string)
}

// noRSS is the sampler of a server whose memory cannot be seen.
type noRSS struct{}

func (noRSS) start(context.Context) {}
func (noRSS) stop() (int64, string) { return 0, "n/a" }

// pollingSampler polls a reading every rssPollInterval and keeps the
// largest; finish, if set, contributes a final reading (the kernel's own
// peak).
type pollingSampler struct {
	read   func() (int64, error)
	finish func() (int64, bool)
	source string

	cancel context.CancelFunc
	done   chan struct{}
	mu     sync.Mutex
	max    int64
}

func (p *pollingSampler) start(ctx context.Context) {
	ctx, p.cancel = context.WithCancel(ctx)
	p.done = make(chan struct{})
	p.max = 0
	go func() {
		defer close(p.done)
		t := time.NewTicker(rssPollInterval)
		defer t.Stop()
		for {
			if v, err := p.read(); err == nil {
				p.mu.Lock()
				p.max = max(p.max, v)
				p.mu.Unlock()
			}
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
		}
	}()
}

func (p *pollingSampler) stop() (int64, string) {
	p.cancel()
	<-p.done
	p.mu.Lock()
	peak := p.max
	p.mu.Unlock()
	if p.finish != nil {
		if v, ok := p.finish(); ok {
			peak = max(peak, v)
		}
	}
	if peak == 0 {
		return 0, "n/a"
	}
	return peak, p.source
}

// procRSS samples a local process: VmHWM reset at the start of each phase
// when the kernel allows it, else the largest VmRSS seen.
func procRSS(pid int) rssSampler {
	p := &pollingSampler{read: func() (int64, error) { return statusKB(pid, "VmRSS") }, source: "VmRSS (polled)"}
	return &hwmSampler{pollingSampler: p, pid: pid}
}

type hwmSampler struct {
	*pollingSampler
	pid int
}

func (h *hwmSampler) start(ctx context.Context) {
	h.source, h.finish = "VmRSS (polled)", nil
	if resetPeakRSS(h.pid) == nil {
		h.source = "VmHWM"
		h.finish = func() (int64, bool) {
			v, err := statusKB(h.pid, "VmHWM")
			return v, err == nil
		}
	}
	h.pollingSampler.start(ctx)
}

// metricsRSS samples process_resident_memory_bytes from a Prometheus
// text endpoint.
func metricsRSS(client *http.Client, url string) rssSampler {
	return &pollingSampler{read: func() (int64, error) { return scrapeRSS(client, url) }, source: "/metrics"}
}

// scrapeRSS reads process_resident_memory_bytes from a metrics endpoint.
func scrapeRSS(client *http.Client, url string) (int64, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return 0, fmt.Errorf("scrape %s: %w", url, err)
	}
	resp, err := client.Do(req)
	if err != nil {
		return 0, fmt.Errorf("scrape %s: %w", url, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		_, _ = io.Copy(io.Discard, resp.Body)
		return 0, fmt.Errorf("scrape %s: %s", url, resp.Status)
	}
	return parseRSSMetric(resp.Body)
}

// parseRSSMetric finds process_resident_memory_bytes in the Prometheus
// text exposition format.
func parseRSSMetric(r io.Reader) (int64, error) {
	const name = "process_resident_memory_bytes"
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		rest, ok := strings.CutPrefix(line, name)
		if !ok || (rest != "" && rest[0] != ' ' && rest[0] != '{') {
			continue
		}
		if strings.HasPrefix(rest, "{") {
			if i := strings.IndexByte(rest, '}'); i >= 0 {
				rest = rest[i+1:]
			}
		}
		fields := strings.Fields(rest)
		if len(fields) == 0 {
			continue
		}
		v, err := strconv.ParseFloat(fields[0], 64)
		if err != nil {
			return 0, fmt.Errorf("parse %s: %w", name, err)
		}
		return int64(v), nil
	}
	if err := sc.Err(); err != nil {
		return 0, fmt.Errorf("read metrics: %w", err)
	}
	return 0, fmt.Errorf("no %s in the metrics", name)
}
