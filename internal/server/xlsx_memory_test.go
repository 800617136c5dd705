package server_test

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/mediationd/mediationd/internal/casework"
	"github.com/mediationd/mediationd/internal/casework/caseworktest"
	"github.com/mediationd/mediationd/internal/store"
)

// TestCasesWorkbookMemory exports many cases and measures the memory the
// export takes: the Go heap's peak above what it was before, sampled every
// 10 ms, and the process's peak resident set (VmHWM, reset before the
// export). The cases are loaded with the store's bulk loader. By default
// 2,000 cases (four pages); MEDIATION_EXPORT_ROWS=100000 measures the
// README's figure. The bound asserted is generous (256 MiB of heap, the
// size of nothing an export should ever hold), so that a busy machine
// cannot make it fail; the figures are logged.
func TestCasesWorkbookMemory(t *testing.T) {
	n := 2000
	if v := os.Getenv("MEDIATION_EXPORT_ROWS"); v != "" {
		var err error
		if n, err = strconv.Atoi(v); err != nil || n <= 0 {
			t.Fatalf("MEDIATION_EXPORT_ROWS=%q is not a positive number", v)
		}
	}
	e := start(t)
	ctx := context.Background()
	loadStart := time.Now()
	t0 := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	for done := 0; done < n; {
		batch := min(5000, n-done)
		hs := make([]store.CaseHistory, batch)
		for i := range hs {
			nc := caseworktest.NewCase(fmt.Sprintf("导出内存测量%d：邻里之间因排水沟渠堵塞发生纠纷，双方多次协商未果", done+i))
			nc.Parties[0].Phone = "13909341234"
			nc.Normalize()
			c, ev := casework.Register(nc, uuid.New(), "users/root", "", t0.Add(time.Duration(done+i)*time.Minute), casework.Policy{})
			hs[i] = store.CaseHistory{Year: 2025, RegistrationHash: nc.Hash(), Changes: []store.CaseChange{{Case: c, Event: ev}}}
		}
		if _, err := e.store.WriteCaseHistories(ctx, hs); err != nil {
			t.Fatal(err)
		}
		done += batch
	}
	t.Logf("loaded %d cases in %v", n, time.Since(loadStart).Round(time.Millisecond))

	runtime.GC()
	var before runtime.MemStats
	runtime.ReadMemStats(&before)
	resetPeakRSS := os.WriteFile("/proc/self/clear_refs", []byte("5"), 0) == nil
	rssBefore := procStatusKB(t, "VmRSS")
	var peak atomic.Uint64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		var m runtime.MemStats
		for {
			runtime.ReadMemStats(&m)
			if m.HeapInuse > peak.Load() {
				peak.Store(m.HeapInuse)
			}
			select {
			case <-stop:
				return
			case <-time.After(10 * time.Millisecond):
			}
		}
	}()
	exportStart := time.Now()
	req, err := http.NewRequest(http.MethodGet, e.baseURL+"/v1/cases.xlsx", nil)
	if err != nil {
		t.Fatal(err)
	}
	client := &http.Client{Timeout: 30 * time.Minute, Transport: tokenTransport{e}}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	size, err := io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	close(stop)
	wg.Wait()
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("cases.xlsx: %d, %v", resp.StatusCode, err)
	}
	took := time.Since(exportStart)
	heapGrowth := int64(peak.Load()) - int64(before.HeapInuse)
	rss := "not measured (no /proc/self/clear_refs)"
	if resetPeakRSS {
		rss = fmt.Sprintf("peak RSS %d MiB (%+d MiB over the RSS before)", procStatusKB(t, "VmHWM")/1024, (procStatusKB(t, "VmHWM")-rssBefore)/1024)
	}
	t.Logf("exported %d cases: %.1f MiB file in %v; heap in use before %d MiB, peak %+d MiB over it; %s",
		n, float64(size)/(1<<20), took.Round(time.Millisecond), before.HeapInuse>>20, heapGrowth>>20, rss)
	if row := lastExport(t, e); row.GetResource() != fmt.Sprintf("rows=%d; order_by=; filter=", n) {
		t.Errorf("the export's audit row says %q, want %d rows", row.GetResource(), n)
	}
	if heapGrowth > 256<<20 {
		t.Errorf("the export took %d MiB of heap over the %d before: the rows are held in memory", heapGrowth>>20, before.HeapInuse>>20)
	}
}

// procStatusKB reads a figure in kB of /proc/self/status, 0 where there is
// none.
func procStatusKB(t *testing.T, field string) int64 {
	t.Helper()
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), field+":"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			return kb
		}
	}
	return 0
}
