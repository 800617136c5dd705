package bench

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/url"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"

	"github.com/mediationd/mediationd/internal/demo"
	mediationv1 "github.com/mediationd/mediationd/proto/mediation/v1"
)

// The targets of the queries workload: sequential single-client latency
// with ten million cases.
const (
	TargetStatisticsP95 = 50 * time.Millisecond
	TargetListP95       = 20 * time.Millisecond
)

// QueryConfig is one run of the queries workload against a running
// mediationd holding the generated data set (mediation-bench dataset),
// signed in as demo-admin and demo-supervisor.
type QueryConfig struct {
	GRPCAddr    string
	HTTPAddr    string
	DatabaseURL string // the server's database, for the exactness check and the sizes
	// Runs is how many times each query is timed after Warmup runs.
	Runs   int
	Warmup int
	// MaxQueryTime bounds the time spent timing one query: past it, the
	// query stops after at least MinRuns runs (a slow query at the
	// "before" commit would otherwise take hours); the table says n.
	MaxQueryTime time.Duration
	MinRuns      int
	// PageSize of the ListCases calls; DeepPages is how deep the deep
	// walks go (following next_page_token), DeepBudget the most time one
	// walk may take.
	PageSize   int
	DeepPages  int
	DeepBudget time.Duration
	// Only, if set, keeps the queries whose name contains it.
	Only string
	// Groupings, if set, are the statistics groupings asked for, named as
	// in the report (totals, region, organization, ...); empty = all.
	Groupings []string
	Log       io.Writer
}

// QueryResult is the latency of one query.
type QueryResult struct {
	Name      string        `json:"name"`
	Transport string        `json:"transport"`
	N         int           `json:"n"`
	P50       time.Duration `json:"p50_ns"`
	P95       time.Duration `json:"p95_ns"`
	Max       time.Duration `json:"max_ns"`
	Target    time.Duration `json:"target_ns"`
	Note      string        `json:"note,omitempty"`
	Err       string        `json:"error,omitempty"`
}

// QueryReport is a run of the queries workload.
type QueryReport struct {
	Cases      int64         `json:"cases"`
	Open       int64         `json:"open"`
	DBBytes    int64         `json:"database_bytes"`
	CPUs       int           `json:"cpus"`
	Results    []QueryResult `json:"results"`
	Mismatches []string      `json:"mismatches"`
	Checked    int           `json:"statistics_checked"`
}

// querier holds the clients of a run.
type querier struct {
	cfg    QueryConfig
	cases  mediationv1.CaseServiceClient
	http   *http.Client
	tokens map[string]string
	db     *pgxpool.Pool
	logf   func(string, ...any)
	rep    *QueryReport
}

// RunQueries measures the statistics and list queries one at a time and
// checks every statistics answer against an independent recount from the
// rows; it returns an error naming the differing figures if any differs.
func RunQueries(ctx context.Context, cfg QueryConfig) (*QueryReport, error) {
	if cfg.GRPCAddr == "" || cfg.HTTPAddr == "" || cfg.DatabaseURL == "" {
		return nil, errors.New("queries: --grpc-addr, --http-addr and --database-url are all needed")
	}
	for _, a := range []string{cfg.GRPCAddr, cfg.HTTPAddr} {
		if err := checkLoopback(a); err != nil {
			return nil, err
		}
	}
	cfg.Runs = cmpOr(cfg.Runs, 20)
	cfg.Warmup = cmpOr(cfg.Warmup, 2)
	cfg.MinRuns = cmpOr(cfg.MinRuns, 3)
	cfg.PageSize = cmpOr(cfg.PageSize, 50)
	cfg.DeepPages = cmpOr(cfg.DeepPages, 1000)
	if cfg.MaxQueryTime == 0 {
		cfg.MaxQueryTime = 30 * time.Second
	}
	if cfg.DeepBudget == 0 {
		cfg.DeepBudget = 60 * time.Second
	}
	q := &querier{cfg: cfg, tokens: map[string]string{}, http: &http.Client{Timeout: 5 * time.Minute}, logf: func(string, ...any) {}, rep: &QueryReport{CPUs: runtime.NumCPU()}}
	if cfg.Log != nil {
		q.logf = func(format string, args ...any) {
			fmt.Fprintf(cfg.Log, "%s queries: %s\n", time.Now().Format("15:04:05"), fmt.Sprintf(format, args...))
		}
	}
	conn, err := grpc.NewClient(cfg.GRPCAddr, grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithDefaultCallOptions(grpc.MaxCallRecvMsgSize(64<<20)))
	if err != nil {
		return nil, fmt.Errorf("queries: %w", err)
	}
	defer conn.Close()
	q.cases = mediationv1.NewCaseServiceClient(conn)
	for _, u := range []string{"demo-admin", "demo-supervisor"} {
		resp, err := mediationv1.NewAuthServiceClient(conn).CreateSession(ctx, &mediationv1.CreateSessionRequest{Username: u, Password: demo.Password})
		if err != nil {
			return nil, fmt.Errorf("queries: sign in as %s (the data set's demo logins): %w", u, err)
		}
		q.tokens[u] = resp.GetToken()
	}
	if q.db, err = pgxpool.New(ctx, cfg.DatabaseURL); err != nil {
		return nil, fmt.Errorf("queries: %w", err)
	}
	defer q.db.Close()
	if err := q.db.QueryRow(ctx, `SELECT count(*), count(*) FILTER (WHERE state <> 'CLOSED'), pg_database_size(current_database()) FROM cases`).
		Scan(&q.rep.Cases, &q.rep.Open, &q.rep.DBBytes); err != nil {
		return nil, fmt.Errorf("queries: count the cases: %w", err)
	}
	if err := q.statistics(ctx); err != nil {
		return q.rep, err
	}
	if err := q.lists(ctx); err != nil {
		return q.rep, err
	}
	if len(q.rep.Mismatches) > 0 {
		return q.rep, fmt.Errorf("queries: %d statistics answers differ from the recount from the rows:\n  %s", len(q.rep.Mismatches), strings.Join(q.rep.Mismatches, "\n  "))
	}
	return q.rep, nil
}

func cmpOr(v, def int) int {
	if v <= 0 {
		return def
	}
	return v
}

func (q *querier) ctx(ctx context.Context, user string) context.Context {
	return metadata.AppendToOutgoingContext(ctx, "authorization", "Bearer "+q.tokens[user])
}

// time runs call Warmup times, then Runs times (fewer past MaxQueryTime,
// but at least MinRuns), and records the latencies.
func (q *querier) time(ctx context.Context, name, transport string, target time.Duration, call func(context.Context) error) error {
	res := QueryResult{Name: name, Transport: transport, Target: target}
	defer func() {
		q.rep.Results = append(q.rep.Results, res)
		q.logf("%-70s %-4s n=%-3d p50 %8s p95 %8s %s", name, transport, res.N, res.P50.Round(10*time.Microsecond), res.P95.Round(10*time.Microsecond), res.Err)
	}()
	start := time.Now()
	for range q.cfg.Warmup {
		if err := call(ctx); err != nil {
			res.Err = err.Error()
			return nil
		}
		if time.Since(start) > q.cfg.MaxQueryTime {
			break
		}
	}
	start = time.Now()
	var ds []time.Duration
	for i := 0; i < q.cfg.Runs; i++ {
		if i >= q.cfg.MinRuns && time.Since(start) > q.cfg.MaxQueryTime {
			res.Note = fmt.Sprintf("stopped after %s", q.cfg.MaxQueryTime)
			break
		}
		t := time.Now()
		if err := call(ctx); err != nil {
			res.Err = err.Error()
			return nil
		}
		ds = append(ds, time.Since(t))
		if err := ctx.Err(); err != nil {
			return err
		}
	}
	s := summarize(ds)
	res.N, res.P50, res.P95, res.Max = s.Count, s.P50, s.P95, s.Max
	return nil
}

// statScope is a set of cases the statistics are asked for.
type statScope struct {
	name   string
	user   string
	filter string // the request's filter
	where  string // the same set for the recount, on cases c
}

var groupings = []mediationv1.StatisticsGrouping{
	mediationv1.StatisticsGrouping_STATISTICS_GROUPING_UNSPECIFIED,
	mediationv1.StatisticsGrouping_STATISTICS_GROUPING_REGION,
	mediationv1.StatisticsGrouping_STATISTICS_GROUPING_ORGANIZATION,
	mediationv1.StatisticsGrouping_STATISTICS_GROUPING_ORGANIZATION_TYPE,
	mediationv1.StatisticsGrouping_STATISTICS_GROUPING_MEDIATOR,
	mediationv1.StatisticsGrouping_STATISTICS_GROUPING_DISPUTE_TYPE,
	mediationv1.StatisticsGrouping_STATISTICS_GROUPING_SOURCE,
	mediationv1.StatisticsGrouping_STATISTICS_GROUPING_CREATE_MONTH,
}

func (q *querier) statistics(ctx context.Context) error {
	// The last whole month before the newest registration: an intake
	// cohort.
	var newest time.Time
	if err := q.db.QueryRow(ctx, `SELECT max(create_time) FROM cases`).Scan(&newest); err != nil {
		return fmt.Errorf("queries: %w", err)
	}
	loc := shanghai()
	m := newest.In(loc)
	from := time.Date(m.Year(), m.Month()-1, 1, 0, 0, 0, 0, loc)
	to := from.AddDate(0, 1, 0)
	cohort := fmt.Sprintf(`create_time >= "%s" AND create_time < "%s"`, from.Format(time.RFC3339), to.Format(time.RFC3339))
	scopes := []statScope{
		{"national", "demo-admin", "", "true"},
		{"province 620000", "demo-admin", `region_code = "620000"`, "c.region_code LIKE '62%'"},
		{"city 621000", "demo-admin", `region_code = "621000"`, "c.region_code LIKE '6210%'"},
		{"county 621002", "demo-admin", `region_code = "621002"`, "c.region_code = '621002'"},
		{"supervisor's city", "demo-supervisor", "", "c.region_code LIKE '6210%'"},
		{"intake cohort " + from.Format("2006-01"), "demo-admin", cohort,
			fmt.Sprintf("c.create_time >= '%s' AND c.create_time < '%s'", from.Format(time.RFC3339), to.Format(time.RFC3339))},
	}
	for _, sc := range scopes {
		for _, g := range groupings {
			if !q.selected("GetCaseStatistics "+sc.name) || !q.grouping(g) {
				continue
			}
			name := fmt.Sprintf("GetCaseStatistics %s, %s", sc.name, groupingName(g))
			req := &mediationv1.GetCaseStatisticsRequest{Filter: sc.filter, GroupBy: g}
			var last *mediationv1.GetCaseStatisticsResponse
			if err := q.time(ctx, name, "gRPC", TargetStatisticsP95, func(ctx context.Context) error {
				resp, err := q.cases.GetCaseStatistics(q.ctx(ctx, sc.user), req)
				last = resp
				return err
			}); err != nil {
				return err
			}
			if last != nil {
				if err := q.check(ctx, name, sc, g, last); err != nil {
					return err
				}
			}
		}
	}
	// REST for a couple, as the workbench asks them.
	for _, sc := range scopes[3:5] {
		for _, g := range []string{"", "STATISTICS_GROUPING_DISPUTE_TYPE"} {
			if !q.selected("GET /v1/caseStatistics " + sc.name) {
				continue
			}
			v := url.Values{}
			if sc.filter != "" {
				v.Set("filter", sc.filter)
			}
			if g != "" {
				v.Set("groupBy", g)
			}
			name := fmt.Sprintf("GET /v1/caseStatistics %s, %s", sc.name, orDefault(g, "totals"))
			if err := q.time(ctx, name, "REST", TargetStatisticsP95, func(ctx context.Context) error {
				return q.rest(ctx, sc.user, "/v1/caseStatistics?"+v.Encode())
			}); err != nil {
				return err
			}
		}
	}
	return nil
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

func (q *querier) grouping(g mediationv1.StatisticsGrouping) bool {
	return len(q.cfg.Groupings) == 0 || slices.Contains(q.cfg.Groupings, strings.TrimPrefix(groupingName(g), "by "))
}

func (q *querier) selected(name string) bool {
	return q.cfg.Only == "" || strings.Contains(name, q.cfg.Only)
}

func groupingName(g mediationv1.StatisticsGrouping) string {
	if g == mediationv1.StatisticsGrouping_STATISTICS_GROUPING_UNSPECIFIED {
		return "totals"
	}
	return "by " + strings.ToLower(strings.TrimPrefix(g.String(), "STATISTICS_GROUPING_"))
}

func (q *querier) rest(ctx context.Context, user, path string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+q.cfg.HTTPAddr+path, nil)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+q.tokens[user])
	resp, err := q.http.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: %s: %.300s", path, resp.Status, body)
	}
	return nil
}

// recountKeys are the groupings' keys in the recount, on cases c (o the
// case's organization), spelled as the API spells them.
var recountKeys = map[mediationv1.StatisticsGrouping]string{
	mediationv1.StatisticsGrouping_STATISTICS_GROUPING_UNSPECIFIED:       "''",
	mediationv1.StatisticsGrouping_STATISTICS_GROUPING_REGION:            "c.region_code",
	mediationv1.StatisticsGrouping_STATISTICS_GROUPING_ORGANIZATION:      "c.organization",
	mediationv1.StatisticsGrouping_STATISTICS_GROUPING_ORGANIZATION_TYPE: "coalesce('ORGANIZATION_TYPE_' || o.type, '')",
	mediationv1.StatisticsGrouping_STATISTICS_GROUPING_MEDIATOR:          "c.mediator",
	mediationv1.StatisticsGrouping_STATISTICS_GROUPING_DISPUTE_TYPE:      "'DISPUTE_TYPE_' || c.dispute_type",
	mediationv1.StatisticsGrouping_STATISTICS_GROUPING_SOURCE:            "'CASE_SOURCE_' || c.source",
	mediationv1.StatisticsGrouping_STATISTICS_GROUPING_CREATE_MONTH:      "to_char(c.create_time AT TIME ZONE 'Asia/Shanghai', 'YYYY-MM')",
}

// recountSQL counts the figures of every group with a plain GROUP BY over
// the case rows, written here rather than taken from the store, so that
// it checks the store's answer (and its summary tables) independently.
const recountSQL = `SELECT %s AS key,
	count(*),
	count(*) FILTER (WHERE c.state = 'INTAKE'), count(*) FILTER (WHERE c.state = 'ACCEPTED'),
	count(*) FILTER (WHERE c.state = 'ASSIGNED'), count(*) FILTER (WHERE c.state = 'MEDIATING'),
	count(*) FILTER (WHERE c.state = 'AGREED'), count(*) FILTER (WHERE c.state = 'CLOSED'),
	count(*) FILTER (WHERE c.overdue AND c.state IN ('ACCEPTED', 'ASSIGNED', 'MEDIATING')),
	count(*) FILTER (WHERE c.state IN ('ASSIGNED', 'MEDIATING') AND (m.active IS FALSE OR o.active IS FALSE)),
	count(*) FILTER (WHERE c.accept_time IS NOT NULL),
	count(*) FILTER (WHERE c.accept_time IS NOT NULL AND (c.state = 'AGREED' OR c.outcome = 'AGREEMENT')),
	count(*) FILTER (WHERE c.outcome = 'FAILED'),
	count(*) FILTER (WHERE c.outcome = 'WITHDRAWN' AND c.accept_time IS NOT NULL),
	count(*) FILTER (WHERE c.outcome = 'WITHDRAWN' AND c.accept_time IS NULL),
	count(*) FILTER (WHERE c.outcome = 'REJECTED'),
	coalesce(sum((SELECT sum((x->>'amount')::numeric) FROM jsonb_array_elements(c.agreement->'obligations') x WHERE x->>'amount' <> ''))
		FILTER (WHERE c.accept_time IS NOT NULL AND (c.state = 'AGREED' OR c.outcome = 'AGREEMENT') AND jsonb_typeof(c.agreement->'obligations') = 'array'), 0)::numeric(20,2)::text,
	count(*) FILTER (WHERE c.confirmation IS NOT NULL AND jsonb_typeof(c.confirmation) = 'object'),
	count(*) FILTER (WHERE c.confirmation->>'decision' = 'CONFIRMED'),
	count(*) FILTER (WHERE c.confirmation->>'decision' = 'REFUSED'),
	count(*) FILTER (WHERE c.performance_status = 'PERFORMED'),
	count(*) FILTER (WHERE c.performance_status = 'PARTLY_PERFORMED'),
	count(*) FILTER (WHERE c.performance_status = 'NOT_PERFORMED'),
	count(*) FILTER (WHERE c.group_dispute), count(*) FILTER (WHERE c.escalation_risk),
	count(*) FILTER (WHERE c.court_code IS NOT NULL),
	count(*) FILTER (WHERE c.accept_time IS NOT NULL AND (c.state = 'AGREED' OR c.outcome = 'AGREEMENT') AND c.agreement->>'form' = 'ORAL'),
	count(*) FILTER (WHERE c.accept_time IS NOT NULL AND (c.state = 'AGREED' OR c.outcome = 'AGREEMENT') AND c.agreement IS NOT NULL AND coalesce(c.agreement->>'form', '') <> 'ORAL'),
	count(*) FILTER (WHERE c.accept_time IS NOT NULL AND (c.state = 'AGREED' OR c.outcome = 'AGREEMENT') AND c.escalation_risk),
	coalesce(sum(jsonb_array_length(c.parties)) FILTER (WHERE c.accept_time IS NOT NULL AND (c.state = 'AGREED' OR c.outcome = 'AGREEMENT') AND c.escalation_risk), 0),
	count(*) FILTER (WHERE c.accept_time IS NOT NULL AND (c.state = 'AGREED' OR c.outcome = 'AGREEMENT') AND c.group_dispute),
	coalesce(sum(jsonb_array_length(c.parties)) FILTER (WHERE c.accept_time IS NOT NULL AND (c.state = 'AGREED' OR c.outcome = 'AGREEMENT') AND c.group_dispute), 0),
	coalesce(avg(extract(epoch FROM c.close_time - c.accept_time) / 86400) FILTER (WHERE c.state = 'CLOSED' AND c.accept_time IS NOT NULL), 0)::float8
FROM cases c
	LEFT JOIN organizations o ON c.organization = 'organizations/' || o.id
	LEFT JOIN mediators m ON c.mediator = 'mediators/' || m.id
WHERE %s
GROUP BY 1`

// figureNames name the recount's columns after the key, in order.
var figureNames = []string{"cases", "INTAKE", "ACCEPTED", "ASSIGNED", "MEDIATING", "AGREED", "CLOSED", "overdue",
	"needs_reassignment", "accepted", "succeeded", "failed", "withdrawn_after_acceptance", "withdrawn_before_acceptance",
	"rejected", "agreement_amount", "confirmation_requested", "confirmation_confirmed", "confirmation_refused",
	"performed", "partly_performed", "not_performed", "group_disputes", "escalation_risks", "court_referrals",
	"oral_agreements", "written_agreements", "escalation_prevented", "escalation_prevented_people", "petition_prevented",
	"petition_prevented_people", "mean_days_to_close"}

// figures spells an answer's figures as the recount's columns.
func figures(f *mediationv1.CaseFigures) []string {
	states := map[string]int64{}
	for _, s := range f.GetStates() {
		states[strings.TrimPrefix(s.GetState().String(), "CASE_STATE_")] = s.GetCount()
	}
	out := []string{strconv.FormatInt(f.GetCases(), 10)}
	for _, s := range []string{"INTAKE", "ACCEPTED", "ASSIGNED", "MEDIATING", "AGREED", "CLOSED"} {
		out = append(out, strconv.FormatInt(states[s], 10))
	}
	for _, n := range []int64{f.GetOverdue(), f.GetNeedsReassignment(), f.GetAccepted(), f.GetSucceeded(), f.GetFailed(),
		f.GetWithdrawnAfterAcceptance(), f.GetWithdrawnBeforeAcceptance(), f.GetRejected()} {
		out = append(out, strconv.FormatInt(n, 10))
	}
	out = append(out, normalAmount(f.GetAgreementAmount()))
	for _, n := range []int64{f.GetConfirmationRequested(), f.GetConfirmationConfirmed(), f.GetConfirmationRefused(),
		f.GetPerformed(), f.GetPartlyPerformed(), f.GetNotPerformed(), f.GetGroupDisputes(), f.GetEscalationRisks(), f.GetCourtReferrals(),
		f.GetOralAgreements(), f.GetWrittenAgreements(), f.GetEscalationPrevented(), f.GetEscalationPreventedPeople(),
		f.GetPetitionPrevented(), f.GetPetitionPreventedPeople()} {
		out = append(out, strconv.FormatInt(n, 10))
	}
	return append(out, strconv.FormatFloat(f.GetMeanDaysToClose(), 'f', 4, 64))
}

func normalAmount(s string) string {
	f, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return s
	}
	return strconv.FormatFloat(f, 'f', 2, 64)
}

// check compares an answer with the recount and records every
// difference.
func (q *querier) check(ctx context.Context, name string, sc statScope, g mediationv1.StatisticsGrouping, resp *mediationv1.GetCaseStatisticsResponse) error {
	diffs, err := RecountStatistics(ctx, q.db, name, sc.where, g, resp)
	if err != nil {
		return err
	}
	q.rep.Checked++
	q.rep.Mismatches = append(q.rep.Mismatches, diffs...)
	return nil
}

// RecountStatistics compares a GetCaseStatistics answer (of the cases
// matching where, a SQL condition on cases c, grouped by g) with a recount
// from the rows, group by group and figure by figure, and returns every
// difference, each starting with name.
func RecountStatistics(ctx context.Context, db *pgxpool.Pool, name, where string, g mediationv1.StatisticsGrouping, resp *mediationv1.GetCaseStatisticsResponse) ([]string, error) {
	key, ok := recountKeys[g]
	if !ok {
		return nil, fmt.Errorf("queries: no recount for grouping %s", g)
	}
	rows, err := db.Query(ctx, fmt.Sprintf(recountSQL, key, where))
	if err != nil {
		return nil, fmt.Errorf("queries: recount for %s: %w", name, err)
	}
	want := map[string][]string{}
	total := make([]float64, len(figureNames))
	var totalAmount float64
	for rows.Next() {
		vals := make([]any, 1+len(figureNames))
		var key string
		ints := make([]int64, len(figureNames))
		var amount string
		var mean float64
		vals[0] = &key
		for i := range figureNames {
			switch figureNames[i] {
			case "agreement_amount":
				vals[1+i] = &amount
			case "mean_days_to_close":
				vals[1+i] = &mean
			default:
				vals[1+i] = &ints[i]
			}
		}
		if err := rows.Scan(vals...); err != nil {
			rows.Close()
			return nil, fmt.Errorf("queries: recount for %s: %w", name, err)
		}
		out := make([]string, len(figureNames))
		for i, n := range figureNames {
			switch n {
			case "agreement_amount":
				out[i] = normalAmount(amount)
				a, _ := strconv.ParseFloat(amount, 64)
				totalAmount += a
			case "mean_days_to_close":
				out[i] = strconv.FormatFloat(mean, 'f', 4, 64)
			default:
				out[i] = strconv.FormatInt(ints[i], 10)
				total[i] += float64(ints[i])
			}
		}
		want[key] = out
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("queries: recount for %s: %w", name, err)
	}
	var diffs []string
	differ := func(what string, got, exp []string) {
		for i := range figureNames {
			if got[i] == exp[i] {
				continue
			}
			if figureNames[i] == "mean_days_to_close" {
				a, _ := strconv.ParseFloat(got[i], 64)
				b, _ := strconv.ParseFloat(exp[i], 64)
				if math.Abs(a-b) < 1e-3 {
					continue
				}
			}
			diffs = append(diffs, fmt.Sprintf("%s, %s: %s is %s, the rows give %s", name, what, figureNames[i], got[i], exp[i]))
		}
	}
	if g == mediationv1.StatisticsGrouping_STATISTICS_GROUPING_UNSPECIFIED {
		w, ok := want[""]
		switch {
		case ok:
			differ("totals", figures(resp.GetTotal()), w)
		case resp.GetTotal().GetCases() != 0:
			diffs = append(diffs, fmt.Sprintf("%s: %d cases, the rows have none", name, resp.GetTotal().GetCases()))
		}
		return diffs, nil
	}
	got := map[string]bool{}
	for _, grp := range resp.GetGroups() {
		got[grp.GetKey()] = true
		exp, ok := want[grp.GetKey()]
		if !ok {
			diffs = append(diffs, fmt.Sprintf("%s: group %q, which the rows do not have", name, grp.GetKey()))
			continue
		}
		differ("group "+strconv.Quote(grp.GetKey()), figures(grp.GetFigures()), exp)
	}
	for _, k := range slices.Sorted(func(yield func(string) bool) {
		for k := range want {
			if !yield(k) {
				return
			}
		}
	}) {
		if !got[k] {
			diffs = append(diffs, fmt.Sprintf("%s: no group %q, which the rows have (%s cases)", name, k, want[k][0]))
		}
	}
	// The totals of a grouped answer: the sum of the groups' counts.
	tf := figures(resp.GetTotal())
	for i, n := range figureNames {
		if n == "agreement_amount" || n == "mean_days_to_close" {
			continue
		}
		if tf[i] != strconv.FormatFloat(total[i], 'f', 0, 64) {
			diffs = append(diffs, fmt.Sprintf("%s, totals: %s is %s, the rows give %.0f", name, n, tf[i], total[i]))
		}
	}
	if a, _ := strconv.ParseFloat(tf[15], 64); math.Abs(a-totalAmount) > 0.005*float64(len(want)) {
		diffs = append(diffs, fmt.Sprintf("%s, totals: agreement_amount is %s, the rows give %.2f", name, tf[15], totalAmount))
	}
	return diffs, nil
}

// listFilter is one ListCases filter of the workload.
type listFilter struct{ field, filter string }

// lists measures ListCases for every documented filter field, alone and
// with a region, first page and deep.
func (q *querier) lists(ctx context.Context) error {
	filters, err := q.listFilters(ctx)
	if err != nil {
		return err
	}
	const region = `region_code = "621002"`
	for _, f := range filters {
		for _, filter := range []string{f.filter, f.filter + " AND " + region} {
			if f.field == "region_code" && filter != f.filter {
				continue
			}
			if f.field == "" && filter != f.filter {
				filter = region
				if slices.ContainsFunc(filters, func(x listFilter) bool { return x.field == "region_code" }) {
					continue
				}
			}
			label := orDefault(filter, "no filter")
			if !q.selected("ListCases " + label) {
				continue
			}
			req := &mediationv1.ListCasesRequest{Filter: filter, PageSize: int32(q.cfg.PageSize)}
			if err := q.time(ctx, "ListCases first page, "+label, "gRPC", TargetListP95, func(ctx context.Context) error {
				_, err := q.cases.ListCases(q.ctx(ctx, "demo-admin"), req)
				return err
			}); err != nil {
				return err
			}
			if err := q.deep(ctx, label, filter); err != nil {
				return err
			}
		}
	}
	// REST for a couple.
	for _, filter := range []string{"", `state = "MEDIATING" AND ` + region} {
		v := url.Values{"pageSize": {strconv.Itoa(q.cfg.PageSize)}}
		if filter != "" {
			v.Set("filter", filter)
		}
		if !q.selected("GET /v1/cases " + orDefault(filter, "no filter")) {
			continue
		}
		if err := q.time(ctx, "GET /v1/cases first page, "+orDefault(filter, "no filter"), "REST", TargetListP95, func(ctx context.Context) error {
			return q.rest(ctx, "demo-supervisor", "/v1/cases?"+v.Encode())
		}); err != nil {
			return err
		}
	}
	return nil
}

// deep follows next_page_token DeepPages pages deep, timing every page,
// then times the deepest page reached again Runs times.
func (q *querier) deep(ctx context.Context, label, filter string) error {
	req := &mediationv1.ListCasesRequest{Filter: filter, PageSize: int32(q.cfg.PageSize)}
	var ds []time.Duration
	start := time.Now()
	token, deepest := "", ""
	pages := 0
	for pages < q.cfg.DeepPages && time.Since(start) < q.cfg.DeepBudget {
		req.PageToken = token
		t := time.Now()
		resp, err := q.cases.ListCases(q.ctx(ctx, "demo-admin"), req)
		if err != nil {
			q.rep.Results = append(q.rep.Results, QueryResult{Name: "ListCases walk, " + label, Transport: "gRPC", Err: err.Error()})
			return nil
		}
		ds = append(ds, time.Since(t))
		pages++
		deepest = token
		if token = resp.GetNextPageToken(); token == "" {
			break
		}
	}
	s := summarize(ds)
	note := fmt.Sprintf("%d pages", pages)
	switch {
	case token == "" && pages < q.cfg.DeepPages:
		note += " (the last)"
	case pages < q.cfg.DeepPages:
		note += fmt.Sprintf(" in the %s budget", q.cfg.DeepBudget)
	}
	q.rep.Results = append(q.rep.Results, QueryResult{Name: "ListCases every page of the walk, " + label, Transport: "gRPC",
		N: s.Count, P50: s.P50, P95: s.P95, Max: s.Max, Target: TargetListP95, Note: note})
	q.logf("%-70s gRPC n=%-4d p50 %8s p95 %8s %s", "ListCases walk, "+label, s.Count, s.P50.Round(10*time.Microsecond), s.P95.Round(10*time.Microsecond), note)
	if pages < 2 {
		return nil
	}
	deepReq := &mediationv1.ListCasesRequest{Filter: filter, PageSize: int32(q.cfg.PageSize), PageToken: deepest}
	return q.time(ctx, fmt.Sprintf("ListCases page %d, %s", pages, label), "gRPC", TargetListP95, func(ctx context.Context) error {
		_, err := q.cases.ListCases(q.ctx(ctx, "demo-admin"), deepReq)
		return err
	})
}

// listFilters is one filter for every field ListCases documents, with
// values read from the data (an organization, a mediator, a case number,
// a party's name that occur).
func (q *querier) listFilters(ctx context.Context) ([]listFilter, error) {
	var org, med, number, courtCode, courtNumber, party string
	var newest time.Time
	err := q.db.QueryRow(ctx, `SELECT c.organization, c.mediator, c.case_number, max(create_time) OVER (),
			(SELECT court_code FROM cases WHERE court_code IS NOT NULL ORDER BY seq DESC LIMIT 1),
			(SELECT court_case_number FROM cases WHERE court_code IS NOT NULL ORDER BY seq DESC LIMIT 1),
			c.parties->0->>'name'
		FROM cases c WHERE c.mediator <> '' ORDER BY c.seq DESC LIMIT 1`).Scan(&org, &med, &number, &newest, &courtCode, &courtNumber, &party)
	if err != nil {
		return nil, fmt.Errorf("queries: pick filter values: %w", err)
	}
	loc := shanghai()
	m := newest.In(loc)
	month := time.Date(m.Year(), m.Month()-1, 1, 0, 0, 0, 0, loc)
	rng := func(field string) string {
		return fmt.Sprintf(`%s >= "%s" AND %s < "%s"`, field, month.Format(time.RFC3339), field, month.AddDate(0, 1, 0).Format(time.RFC3339))
	}
	return []listFilter{
		{"", ""},
		{"state", `state = "MEDIATING"`},
		{"outcome", `outcome = "FAILED"`},
		{"dispute_type", `dispute_type = "ENVIRONMENT"`},
		{"source", `source = "POLICE"`},
		{"region_code", `region_code = "621002"`},
		{"organization", fmt.Sprintf(`organization = %q`, org)},
		{"mediator", fmt.Sprintf(`mediator = %q`, med)},
		{"case_number", fmt.Sprintf(`case_number = %q`, number)},
		{"create_time", rng("create_time")},
		{"update_time", rng("update_time")},
		{"court_code", fmt.Sprintf(`court_code = %q`, courtCode)},
		{"court_case_number", fmt.Sprintf(`court_case_number = %q`, courtNumber)},
		{"accept_time", rng("accept_time")},
		{"due_time", rng("due_time")},
		{"close_time", rng("close_time")},
		{"overdue", `overdue = true`},
		{"group_dispute", `group_dispute = true`},
		{"escalation_risk", `escalation_risk = true`},
		{"family_violence", `family_violence = true`},
		{"minors_involved", `minors_involved = true`},
		{"performance_status", `performance_status = "NOT_PERFORMED"`},
		{"needs_reassignment", `needs_reassignment = true`},
		{"party_name", fmt.Sprintf(`party_name = %q`, party)},
	}, nil
}

func shanghai() *time.Location {
	if loc, err := time.LoadLocation("Asia/Shanghai"); err == nil {
		return loc
	}
	return time.FixedZone("CST", 8*60*60)
}

// WriteMarkdown writes the report as a table like the issue's.
func (r *QueryReport) WriteMarkdown(w io.Writer, command string) error {
	var b strings.Builder
	fmt.Fprintf(&b, "%d cases (%d open), database %.1f GB, %d CPUs; `%s`\n\n", r.Cases, r.Open, float64(r.DBBytes)/1e9, r.CPUs, command)
	fmt.Fprintf(&b, "| query | transport | n | p50 ms | p95 ms | max ms | target p95 | note |\n|---|---|--:|--:|--:|--:|--:|---|\n")
	for _, x := range r.Results {
		note := x.Note
		if x.Err != "" {
			note = "error: " + x.Err
		}
		mark := ""
		if x.Target > 0 && x.N > 0 && x.P95 > x.Target {
			mark = " ✗"
		}
		fmt.Fprintf(&b, "| %s | %s | %d | %s | %s%s | %s | %s | %s |\n", strings.ReplaceAll(x.Name, "|", "\\|"), x.Transport, x.N,
			msOrDash(x.P50), msOrDash(x.P95), mark, msOrDash(x.Max), msOrDash(x.Target), strings.ReplaceAll(note, "|", "\\|"))
	}
	fmt.Fprintf(&b, "\nExactness: %d statistics answers compared with a recount from the rows, %d differences.\n", r.Checked, len(r.Mismatches))
	_, err := io.WriteString(w, b.String())
	return err
}

// WriteJSON writes the report as JSON.
func (r *QueryReport) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}

func msOrDash(d time.Duration) string {
	if d == 0 {
		return "—"
	}
	return ms(d)
}
