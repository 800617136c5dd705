package bench

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"
)

// verdicts judges a run against the targets.
func verdicts(rep *Report) []Verdict {
	var out []Verdict
	ratio := func(target string, w string, want float64) {
		v := Verdict{Target: target}
		res, base := rep.Result(w), rep.Result(BaselineLifecycle)
		switch {
		case res == nil || base == nil || base.OpsPerSec == 0:
			v.Status, v.Detail = NotMeasured, "needs "+w+" and "+BaselineLifecycle
		default:
			got := res.OpsPerSec / base.OpsPerSec
			v.Status = judge(got >= want)
			v.Detail = fmt.Sprintf("%s %.0f ops/s = %.2f × baseline %.0f ops/s (target ≥ %.2f ×)%s",
				w, res.OpsPerSec, got, base.OpsPerSec, want, errorNote(res))
		}
		out = append(out, v)
	}
	ratio("lifecycle over gRPC ≥ 0.7 × baseline TPS", LifecycleGRPC, TargetGRPCRatio)
	ratio("lifecycle over REST ≥ 0.6 × baseline TPS", LifecycleREST, TargetRESTRatio)

	v := Verdict{Target: "p99 ≤ 20 ms at half the maximum throughput"}
	if res := rep.Result(HalfLoadGRPC); res != nil && res.Ops > 0 {
		v.Status = judge(res.Latency.P99 <= TargetHalfLoadP99)
		v.Detail = fmt.Sprintf("%s p99 %s ms at %.0f calls/s offered (%.0f achieved)", HalfLoadGRPC, ms(res.Latency.P99), res.Rate, res.OpsPerSec)
		if full := rep.Result(LifecycleGRPC); full != nil && full.OpsPerSec > 0 {
			v.Detail += fmt.Sprintf(", %.0f%% of %s's %.0f ops/s", 100*res.Rate/full.OpsPerSec, LifecycleGRPC, full.OpsPerSec)
		}
		v.Detail += errorNote(res)
	} else {
		v.Status, v.Detail = NotMeasured, "needs "+HalfLoadGRPC
	}
	out = append(out, v)

	v = Verdict{Target: "server RSS ≤ 150 MiB with 256 clients"}
	switch res := rep.Result(Memory); {
	case res == nil:
		v.Status, v.Detail = NotMeasured, "needs "+Memory
	case res.PeakRSS == 0:
		v.Status, v.Detail = Unknown, "the server's memory is not visible ("+res.RSSSource+")"
	default:
		v.Status = judge(res.PeakRSS <= TargetMemoryBytes)
		v.Detail = fmt.Sprintf("peak %s MiB (%s) with %d clients (mixed over gRPC)%s", mib(res.PeakRSS), res.RSSSource, res.Clients, errorNote(res))
		if res.Clients < TargetMemoryClients {
			v.Status = Unknown
			v.Detail += fmt.Sprintf("; the target needs %d clients", TargetMemoryClients)
		}
	}
	return append(out, v)
}

func judge(ok bool) string {
	if ok {
		return Met
	}
	return Missed
}

func errorNote(res *Result) string {
	if res.Errors == 0 {
		return ""
	}
	return fmt.Sprintf("; %d calls failed, first: %s", res.Errors, res.FirstErr)
}

// ms renders a duration in milliseconds.
func ms(d time.Duration) string {
	f := float64(d) / float64(time.Millisecond)
	switch {
	case f >= 100:
		return fmt.Sprintf("%.0f", f)
	case f >= 10:
		return fmt.Sprintf("%.1f", f)
	}
	return fmt.Sprintf("%.2f", f)
}

// mib renders bytes in MiB; 0 is unknown.
func mib(b int64) string {
	if b <= 0 {
		return "n/a"
	}
	return fmt.Sprintf("%.0f", float64(b)/(1<<20))
}

func ratioCell(v, base float64) string {
	if base <= 0 || v <= 0 {
		return "—"
	}
	return fmt.Sprintf("%.2f×", v/base)
}

func coresCell(c float64) string {
	if c < 0 {
		return "n/a"
	}
	return fmt.Sprintf("%.2f", c)
}

func cpuCell(us float64) string {
	if us < 0 {
		return "n/a"
	}
	return fmt.Sprintf("%.0f", us)
}

// table is the main table: one row per workload.
func (rep *Report) table() (header []string, rows [][]string) {
	header = []string{"workload", "clients", "ops/s", "×base", "p50 ms", "×base", "p95 ms", "×base", "p99 ms", "×base", "errors", "peak RSS MiB", "CPU µs/op server", "postgres", "bench", "other load (cores)"}
	for _, res := range rep.Results {
		name := res.Workload
		if res.Rate > 0 {
			name += fmt.Sprintf(" (%.0f/s offered)", res.Rate)
		}
		row := []string{name, fmt.Sprint(res.Clients), fmt.Sprintf("%.0f", res.OpsPerSec), "—",
			ms(res.Latency.P50), "—", ms(res.Latency.P95), "—", ms(res.Latency.P99), "—",
			fmt.Sprint(res.Errors), mib(res.PeakRSS), cpuCell(res.CPU.ServerMicros), cpuCell(res.CPU.PostgresMicros), cpuCell(res.CPU.BenchMicros), coresCell(res.CPU.OtherCores)}
		if base := rep.Result(res.Baseline); base != nil {
			row[3] = ratioCell(res.OpsPerSec, base.OpsPerSec)
			row[5] = ratioCell(float64(res.Latency.P50), float64(base.Latency.P50))
			row[7] = ratioCell(float64(res.Latency.P95), float64(base.Latency.P95))
			row[9] = ratioCell(float64(res.Latency.P99), float64(base.Latency.P99))
		}
		rows = append(rows, row)
	}
	return header, rows
}

// callTable shows p50 / p99 of each kind of call in each workload.
func (rep *Report) callTable() (header []string, rows [][]string) {
	header = []string{"call (p50 / p99 ms)"}
	for _, res := range rep.Results {
		header = append(header, res.Workload)
	}
	for k := range numOpKinds {
		row := []string{opKind(k).String()}
		seen := false
		for _, res := range rep.Results {
			s, ok := res.ByCall[opKind(k).String()]
			if !ok {
				row = append(row, "—")
				continue
			}
			seen = true
			row = append(row, ms(s.P50)+" / "+ms(s.P99))
		}
		if seen {
			rows = append(rows, row)
		}
	}
	return header, rows
}

func (rep *Report) header() string {
	return fmt.Sprintf("%s mode, %d CPUs, %d clients, %s measured per workload in %d round(s), database pool %d",
		rep.Mode, rep.CPUs, rep.Clients, rep.Duration, rep.Rounds, rep.PoolSize)
}

// WriteText writes the report as aligned plain text.
func (rep *Report) WriteText(w io.Writer) error {
	var b strings.Builder
	fmt.Fprintf(&b, "mediation-bench: %s\n\n", rep.header())
	writeAligned(&b, rep.table)
	b.WriteString("\n")
	writeAligned(&b, rep.callTable)
	b.WriteString("\n")
	rep.writeVerdicts(&b)
	b.WriteString("\nNotes:\n")
	for _, n := range rep.Notes {
		fmt.Fprintf(&b, "- %s\n", n)
	}
	rep.writeErrors(&b)
	_, err := io.WriteString(w, b.String())
	return err
}

func writeAligned(b *strings.Builder, table func() ([]string, [][]string)) {
	header, rows := table()
	tw := tabwriter.NewWriter(b, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, strings.Join(header, "\t")+"\t")
	for _, r := range rows {
		fmt.Fprintln(tw, strings.Join(r, "\t")+"\t")
	}
	_ = tw.Flush()
}

// WriteMarkdown writes the report as Markdown tables, for the README.
func (rep *Report) WriteMarkdown(w io.Writer) error {
	var b strings.Builder
	fmt.Fprintf(&b, "%s\n\n", rep.header())
	writeMarkdownTable(&b, rep.table)
	b.WriteString("\n")
	writeMarkdownTable(&b, rep.callTable)
	b.WriteString("\n")
	rep.writeVerdicts(&b)
	b.WriteString("\n")
	for _, n := range rep.Notes {
		fmt.Fprintf(&b, "- %s\n", n)
	}
	rep.writeErrors(&b)
	_, err := io.WriteString(w, b.String())
	return err
}

func writeMarkdownTable(b *strings.Builder, table func() ([]string, [][]string)) {
	header, rows := table()
	b.WriteString("| " + strings.Join(header, " | ") + " |\n|")
	for i := range header {
		if i == 0 {
			b.WriteString("---|")
		} else {
			b.WriteString("--:|")
		}
	}
	b.WriteString("\n")
	for _, r := range rows {
		b.WriteString("| " + strings.Join(r, " | ") + " |\n")
	}
}

func (rep *Report) writeVerdicts(b *strings.Builder) {
	for _, v := range rep.Verdicts {
		fmt.Fprintf(b, "%s: %s — %s\n", v.Target, strings.ToUpper(v.Status), v.Detail)
	}
}

// noisyCores is how much CPU other processes may use during a phase
// before the report warns that the phase competed with them.
const noisyCores = 0.25

func (rep *Report) writeErrors(b *strings.Builder) {
	for _, res := range rep.Results {
		if res.CPU.OtherCores > noisyCores {
			worst := 0.0
			for _, s := range res.Timeline {
				worst = max(worst, s.OtherCores)
			}
			fmt.Fprintf(b, "- %s competed with other processes: they kept %.2f cores busy on average, %.2f at worst, of %d; its numbers understate the service\n",
				res.Workload, res.CPU.OtherCores, worst, rep.CPUs)
		}
	}
	for _, res := range rep.Results {
		if res.Errors > 0 {
			fmt.Fprintf(b, "- %s: %d calls failed; first: %s\n", res.Workload, res.Errors, res.FirstErr)
		}
	}
	if rep.ServerLogs != "" {
		lines := strings.Split(rep.ServerLogs, "\n")
		fmt.Fprintf(b, "- the service logged %d warnings or errors; the last: %s\n", len(lines), lines[len(lines)-1])
	}
}

// WriteJSON writes the report as JSON.
func (rep *Report) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	if err := enc.Encode(rep); err != nil {
		return fmt.Errorf("encode report: %w", err)
	}
	return nil
}
