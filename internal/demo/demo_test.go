package demo_test

import (
	"context"
	"encoding/json"
	"errors"
	"math"
	"os"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/mediationd/mediationd/internal/casework"
	"github.com/mediationd/mediationd/internal/demo"
	"github.com/mediationd/mediationd/internal/pgtest"
	"github.com/mediationd/mediationd/internal/store"
)

func TestMain(m *testing.M) {
	os.Exit(pgtest.Main(m, func(ctx context.Context, dsn string) error {
		_, err := store.Migrate(ctx, dsn, nil)
		return err
	}))
}

// now is the time the tests' plans are made for.
var now = time.Date(2026, 3, 18, 15, 4, 5, 0, time.UTC)

func TestGenerateIsDeterministic(t *testing.T) {
	a := demo.Generate(42, 3000, now)
	b := demo.Generate(42, 3000, now)
	if !reflect.DeepEqual(a, b) {
		t.Fatal("two plans of seed 42 differ")
	}
	c := demo.Generate(43, 3000, now)
	if reflect.DeepEqual(a.Cases, c.Cases) {
		t.Fatal("the plans of seeds 42 and 43 are the same")
	}
	if a.Cases[0].New.Summary == c.Cases[0].New.Summary && a.Cases[0].Created.Equal(c.Cases[0].Created) {
		t.Error("the first cases of seeds 42 and 43 are the same")
	}
}

func TestGenerateComposition(t *testing.T) {
	for _, tc := range []struct {
		seed  uint64
		cases int
	}{{42, 3000}, {7, 3000}, {42, 400}, {1, 400}, {2, 400}, {3, 400}} {
		p := demo.Generate(tc.seed, tc.cases, now)
		r := p.Report()
		t.Logf("seed %d, %d cases:\n%s", tc.seed, tc.cases, r)

		if err := p.Check(); err != nil {
			t.Fatalf("seed %d, %d cases: %v", tc.seed, tc.cases, err)
		}
		if r.Organizations[casework.OrgWomenStudio] != 9 || r.Organizations[casework.OrgProfessionalCommittee] != 29 {
			t.Errorf("seed %d: %d women's studios and %d specialised committees, want 9 and 29",
				tc.seed, r.Organizations[casework.OrgWomenStudio], r.Organizations[casework.OrgProfessionalCommittee])
		}
		if r.Organizations[casework.OrgCourtCenter] != 8 || r.Organizations[casework.OrgTownshipCommittee] < 8*3 {
			t.Errorf("seed %d: organizations %v", tc.seed, r.Organizations)
		}
		if r.Mediators < 90 || r.Mediators > 110 {
			t.Errorf("seed %d: %d mediators, want about 100", tc.seed, r.Mediators)
		}
		if r.Cases != tc.cases {
			t.Errorf("seed %d: %d cases, want %d", tc.seed, r.Cases, tc.cases)
		}
		for _, s := range casework.States {
			if r.ByState[s] == 0 {
				t.Errorf("seed %d, %d cases: no case in state %s", tc.seed, tc.cases, s)
			}
		}
		for _, o := range []casework.Outcome{casework.OutcomeAgreement, casework.OutcomeFailed, casework.OutcomeWithdrawn, casework.OutcomeRejected} {
			if r.ByOutcome[o] == 0 {
				t.Errorf("seed %d, %d cases: no case closed with %s", tc.seed, tc.cases, o)
			}
		}
		for _, dt := range casework.DisputeTypes {
			if r.ByDisputeType[dt] == 0 {
				t.Errorf("seed %d, %d cases: no %s dispute", tc.seed, tc.cases, dt)
			}
		}
		if len(r.ByCounty) != 8 {
			t.Errorf("seed %d, %d cases: cases in %d counties, want 8", tc.seed, tc.cases, len(r.ByCounty))
		}
		if got := math.Round(10000*r.SuccessRate) / 10000; got != demo.SuccessRateTarget {
			t.Errorf("seed %d, %d cases: success rate %.2f%% (%d / %d), want %.2f%%", tc.seed, tc.cases, 100*r.SuccessRate, r.Succeeded, r.Concluded, 100*demo.SuccessRateTarget)
		}
		if r.Overdue == 0 || r.GroupDisputes == 0 || r.Confirmations == 0 {
			t.Errorf("seed %d, %d cases: %d overdue, %d group disputes, %d confirmations; want some of each", tc.seed, tc.cases, r.Overdue, r.GroupDisputes, r.Confirmations)
		}
		checkCases(t, p)
	}
}

// days are plan times that try the demo's dependence on the day: the
// turn of a year and a 29 February in Shanghai, a time before the spring
// of 2023 (when plans start a year back), today, and years ahead.
func days() []time.Time {
	loc, err := time.LoadLocation("Asia/Shanghai")
	if err != nil {
		loc = time.FixedZone("CST", 8*60*60)
	}
	return []time.Time{
		time.Date(2026, 12, 31, 23, 40, 0, 0, loc),
		time.Date(2027, 1, 1, 0, 20, 0, 0, loc),
		time.Date(2028, 2, 29, 9, 15, 0, 0, loc),
		time.Date(2023, 2, 10, 16, 0, 0, 0, loc),
		time.Now(),
		time.Date(2041, 6, 15, 11, 0, 0, 0, loc),
	}
}

// TestGenerateSameFiguresAnyDay shows that the city-wide figures of a
// plan depend on its number of cases only, whatever the day it is made
// for and whatever the seed: the default demo always holds 3000 cases,
// 2931 accepted, 2640 succeeded of 2883 concluded (91.57%). The plans of
// the days TestREADMEFiguresOnAnyDay does not load are also replayed.
func TestGenerateSameFiguresAnyDay(t *testing.T) {
	type figures struct {
		Cases, Accepted, Succeeded, Failed, WithdrawnAfterAcceptance, Concluded int
		ByState                                                                 map[casework.State]int
		ByOutcome                                                               map[casework.Outcome]int
	}
	want := figures{Cases: 3000, Accepted: 2931, Succeeded: 2640, Concluded: 2883}
	d := days()
	var first *figures
	for _, tc := range []struct {
		seed  uint64
		day   time.Time
		check bool
	}{
		{42, d[0], false}, {42, d[1], true}, {42, d[3], true}, {7, d[2], false}, {7, d[5], false},
	} {
		p := demo.Generate(tc.seed, demo.DefaultCases, tc.day)
		if tc.check {
			if err := p.Check(); err != nil {
				t.Fatalf("seed %d, plan for %s: %v", tc.seed, tc.day, err)
			}
		}
		r := p.Report()
		got := figures{r.Cases, r.Accepted, r.Succeeded, r.Failed, r.WithdrawnAfterAcceptance, r.Concluded, r.ByState, r.ByOutcome}
		if got.Cases != want.Cases || got.Accepted != want.Accepted || got.Succeeded != want.Succeeded || got.Concluded != want.Concluded {
			t.Errorf("seed %d, plan for %s: %d cases, %d accepted, %d succeeded of %d concluded; want %d, %d, %d of %d",
				tc.seed, tc.day, got.Cases, got.Accepted, got.Succeeded, got.Concluded, want.Cases, want.Accepted, want.Succeeded, want.Concluded)
		}
		if first == nil {
			first = &got
		} else if !reflect.DeepEqual(got, *first) {
			t.Errorf("seed %d, plan for %s: figures %+v, but the first plan had %+v", tc.seed, tc.day, got, *first)
		}
	}
}

// checkCases checks the personal data and the variety of the cases.
func checkCases(t *testing.T, p demo.Plan) {
	t.Helper()
	sources := map[casework.Source]int{}
	failures := map[casework.FailureReason]int{}
	actions := map[casework.Action]int{}
	referrals := map[string]bool{}
	procedures := map[casework.CourtProcedure]int{}
	for _, c := range p.Cases {
		sources[c.New.Source]++
		if r := c.New.CourtReferral; r != nil {
			key := r.CourtCode + " " + r.CourtCaseNumber
			if referrals[key] {
				t.Errorf("court case number %s is used twice", key)
			}
			referrals[key] = true
			procedures[r.Procedure]++
		}
		for _, party := range c.New.Parties {
			if party.IDType == casework.IDResidentCard {
				if err := casework.CheckResidentID(party.IDNumber, c.Created); err != nil {
					t.Fatalf("%s: %v", party.IDNumber, err)
				}
				if !strings.HasPrefix(party.IDNumber, "6210") || party.IDNumber[6:14] != strings.ReplaceAll(party.BirthDate, "-", "") {
					t.Fatalf("resident ID %s does not fit region 6210xx and birth date %s", party.IDNumber, party.BirthDate)
				}
				odd := (party.IDNumber[16]-'0')%2 == 1
				if odd != (party.Gender == casework.GenderMale) {
					t.Fatalf("resident ID %s does not fit gender %s", party.IDNumber, party.Gender)
				}
			}
			if party.IDType == casework.IDUnifiedSocialCreditCode {
				if err := casework.CheckUnifiedSocialCreditCode(party.IDNumber); err != nil {
					t.Fatalf("%s: %v", party.IDNumber, err)
				}
			}
			if party.Phone != "" {
				if err := casework.CheckMobilePhone(party.Phone); err != nil {
					t.Fatalf("%s: %v", party.Phone, err)
				}
			}
		}
		for _, s := range c.Steps {
			actions[s.Action]++
			if s.Action == casework.ActionRecordFailure {
				failures[s.FailureReason]++
			}
		}
	}
	for _, s := range casework.Sources {
		if sources[s] == 0 {
			t.Errorf("no case from source %s", s)
		}
	}
	if len(p.Cases) >= 3000 {
		for _, a := range casework.Actions {
			if actions[a] == 0 {
				t.Errorf("no case went through %s", a)
			}
		}
		if len(failures) != 8 {
			t.Errorf("failure reasons %v, want all 8", failures)
		}
		if procedures[casework.ProcedureOrdinary] == 0 || procedures[casework.ProcedureSummary] == 0 {
			t.Errorf("court procedures %v, want both", procedures)
		}
	}
	for _, m := range p.Mediators {
		i := slices.IndexFunc(p.Organizations, func(o casework.Organization) bool { return o.ID == m.OrganizationID })
		if i < 0 {
			t.Fatalf("%s belongs to no planned organization", m.ID)
		}
		if o := p.Organizations[i]; len(o.DisputeTypes) > 0 && !slices.Equal(m.Specialties, o.DisputeTypes) {
			t.Errorf("%s of %s specialises in %v, not in its organization's %v", m.ID, o.ID, m.Specialties, o.DisputeTypes)
		}
	}
}

func TestLoad(t *testing.T) {
	ctx := t.Context()
	dsn := pgtest.NewDatabase(t)
	st, err := store.Open(ctx, dsn, store.Options{MaxConns: 12})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(st.Close)

	p := demo.Generate(42, 400, now)
	var calls, last int
	start := time.Now()
	got, err := demo.Load(ctx, st, p, func(done, total int) {
		calls++
		if done < last || total != 400 {
			t.Errorf("progress(%d, %d) after %d", done, total, last)
		}
		last = done
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("loaded 400 cases in %s:\n%s", time.Since(start).Round(time.Millisecond), got)
	if want := p.Report(); !reflect.DeepEqual(got, want) {
		t.Errorf("loaded:\n%s\nplanned:\n%s", got, want)
	}
	if last != 400 || calls < 2 {
		t.Errorf("progress ended at %d after %d calls, want 400", last, calls)
	}

	if _, err := demo.Load(ctx, st, p, nil); !errors.Is(err, demo.ErrNotEmpty) {
		t.Errorf("second Load: %v, want ErrNotEmpty", err)
	}

	pool := st.Pool()
	var gaps int
	err = pool.QueryRow(ctx, `SELECT count(*) FROM cases c
		JOIN (SELECT case_id, count(*) AS n, min(version) AS lo, max(version) AS hi FROM case_events GROUP BY case_id) e
			ON e.case_id = c.id
		WHERE NOT (e.n = c.version AND e.lo = 1 AND e.hi = c.version)`).Scan(&gaps)
	if err != nil {
		t.Fatal(err)
	}
	if gaps > 0 {
		t.Errorf("%d cases have a history with gaps", gaps)
	}
	var overdue, unmarked int
	err = pool.QueryRow(ctx, `SELECT
			count(*) FILTER (WHERE overdue),
			count(*) FILTER (WHERE NOT overdue AND due_time < $1)
		FROM cases WHERE state IN ('ACCEPTED', 'ASSIGNED', 'MEDIATING')`, p.Now).Scan(&overdue, &unmarked)
	if err != nil {
		t.Fatal(err)
	}
	if overdue == 0 || unmarked > 0 {
		t.Errorf("%d open cases marked overdue, %d past due but not marked; want some and none", overdue, unmarked)
	}
	// Case numbers follow registration times within a county and year.
	var disordered int
	err = pool.QueryRow(ctx, `SELECT count(*) FROM (
			SELECT case_number, lag(case_number) OVER (
				PARTITION BY region_code, extract(year FROM create_time AT TIME ZONE 'Asia/Shanghai') ORDER BY create_time, seq) AS prev
			FROM cases) x
		WHERE prev > case_number`).Scan(&disordered)
	if err != nil {
		t.Fatal(err)
	}
	if disordered > 0 {
		t.Errorf("%d case numbers are out of registration order", disordered)
	}
}

func TestLoadRefusesChangedSettings(t *testing.T) {
	for _, tc := range []struct {
		name, sql, want string
	}{
		{"deadline rules", `UPDATE deadline_rules SET days = 20 WHERE id = 'peoples-mediation'`, "deadline rules"},
		{"automatic assignment", `UPDATE regions SET auto_assign = true WHERE code = '621000'`, "assigns accepted cases automatically"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := t.Context()
			st := open(t)
			if _, err := st.Pool().Exec(ctx, tc.sql); err != nil {
				t.Fatal(err)
			}
			_, err := demo.Load(ctx, st, demo.Generate(1, 50, now), nil)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Load after %s: %v, want a refusal saying %q", tc.sql, err, tc.want)
			}
			var orgs int
			if err := st.Pool().QueryRow(ctx, `SELECT count(*) FROM organizations`).Scan(&orgs); err != nil {
				t.Fatal(err)
			}
			if orgs > 0 {
				t.Errorf("a refused Load wrote %d organizations", orgs)
			}
		})
	}
}

// open opens a store on a fresh database with the connections Load uses.
func open(t *testing.T) *store.Store {
	t.Helper()
	st, err := store.Open(t.Context(), pgtest.NewDatabase(t), store.Options{MaxConns: demo.Conns})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(st.Close)
	return st
}

// dump renders what the database holds of the directory, the cases and
// their number counters, table by table in a fixed order, without the
// identity columns (a case's seq, an outbox row's id).
func dump(t *testing.T, st *store.Store) []string {
	t.Helper()
	var out []string
	for _, q := range []string{
		`SELECT jsonb_agg(to_jsonb(o) ORDER BY o.id) FROM organizations o`,
		`SELECT jsonb_agg(to_jsonb(m) ORDER BY m.id) FROM mediators m`,
		`SELECT jsonb_agg(to_jsonb(c) - 'seq' ORDER BY c.id) FROM cases c`,
		`SELECT jsonb_agg(to_jsonb(e) - 'txid' ORDER BY e.case_id, e.version) FROM case_events e`,
		`SELECT jsonb_agg(to_jsonb(o) - 'id' ORDER BY o.case_id, o.case_version) FROM outbox o`,
		`SELECT jsonb_agg(to_jsonb(s) ORDER BY s.case_id, s.number) FROM case_sessions s`,
		`SELECT jsonb_agg(to_jsonb(f) ORDER BY f.case_id, f.number) FROM case_follow_ups f`,
		`SELECT jsonb_agg(to_jsonb(r) ORDER BY r.case_id) FROM court_referral_claims r`,
		`SELECT jsonb_agg(to_jsonb(k) ORDER BY k.scheme_region, k.year) FROM case_number_counters k`,
		`SELECT jsonb_agg(to_jsonb(a)) FROM audit_events a`,
	} {
		var rows json.RawMessage
		if err := st.Pool().QueryRow(t.Context(), q).Scan(&rows); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		out = append(out, string(rows))
	}
	return out
}

// TestLoadWritesAsTheService loads one plan twice: with Load, and case by
// case through the store's CreateCase and caseflow's Act, as requests
// would have written it; every row of every table is the same.
func TestLoadWritesAsTheService(t *testing.T) {
	ctx := t.Context()
	p := demo.Generate(1, 200, now)
	seen := map[casework.Action]bool{}
	for _, c := range p.Cases {
		for _, s := range c.Steps {
			seen[s.Action] = true
		}
	}
	for _, a := range casework.Actions {
		if !seen[a] {
			t.Fatalf("the plan has no %s: choose a plan that takes every action", a)
		}
	}
	one, bulk := open(t), open(t)
	want, err := demo.LoadOneByOne(ctx, one, p)
	if err != nil {
		t.Fatal(err)
	}
	got, err := demo.Load(ctx, bulk, p, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Load:\n%s\ncase by case:\n%s", got, want)
	}
	a, b := dump(t, one), dump(t, bulk)
	for i := range a {
		if a[i] != b[i] {
			t.Errorf("the rows differ.\ncase by case:\n%s\nLoad:\n%s", a[i], b[i])
		}
	}
}

// readmeFigures are the demo's city-wide totals as README.md quotes them.
type readmeFigures struct {
	cases, accepted, succeeded, concluded int
	// successRate and successRateOfAccepted are as quoted, to four places.
	successRate, successRateOfAccepted float64
}

// readREADME reads the demo's figures from README.md: the sentence of the
// Statistics section that quotes the city's totals, and the figures the
// first start announces, which must agree with it.
func readREADME(t *testing.T) readmeFigures {
	t.Helper()
	b, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	text := string(b)
	_, stats, ok := strings.Cut(text, "\n## Statistics\n")
	if !ok {
		t.Fatal("README.md has no Statistics section")
	}
	stats, _, _ = strings.Cut(stats, "\n## ")
	stats = strings.Join(strings.Fields(stats), " ") // sentences wrap
	m := regexp.MustCompile("([0-9]+) cases, ([0-9]+) accepted, ([0-9]+) succeeded of ([0-9]+) concluded, `successRate` (0\\.[0-9]{4}) \\(the report's ([0-9]+\\.[0-9]+)%[^)]*\\) and `successRateOfAccepted` (0\\.[0-9]{4})").FindStringSubmatch(stats)
	if m == nil {
		t.Fatal("README.md's Statistics section does not quote the demo's totals as \"N cases, N accepted, N succeeded of N concluded, `successRate` 0.NNNN (the report's NN.NN%...) and `successRateOfAccepted` 0.NNNN\"")
	}
	atoi := func(s string) int { n, _ := strconv.Atoi(s); return n }
	atof := func(s string) float64 { x, _ := strconv.ParseFloat(s, 64); return x }
	f := readmeFigures{atoi(m[1]), atoi(m[2]), atoi(m[3]), atoi(m[4]), atof(m[5]), atof(m[7])}
	if percent := atof(m[6]); percent != math.Round(10000*f.successRate)/100 {
		t.Errorf("README.md quotes successRate %v as %v%%", f.successRate, percent)
	}
	intro := regexp.MustCompile(`([0-9]+) cases in every state, success rate ([0-9]+\.[0-9]+)%`).FindStringSubmatch(strings.Join(strings.Fields(text), " "))
	switch {
	case intro == nil:
		t.Error("README.md does not announce the demo's cases and success rate as \"N cases in every state, success rate NN.NN%\"")
	case atoi(intro[1]) != f.cases || atof(intro[2]) != math.Round(10000*f.successRate)/100:
		t.Errorf("README.md announces %s cases at %s%% but quotes %d cases at %v in its Statistics section", intro[1], intro[2], f.cases, f.successRate)
	}
	return f
}

// TestREADMEFiguresOnAnyDay loads the demo that `make run` loads (seed
// 42, DefaultCases cases) as if on several days (the turn of a year, a 29
// February, today and years ahead), and holds the city-wide totals the
// service's statistics measure (the store's CaseStatistics, which
// GetCaseStatistics returns) to those README.md quotes.
func TestREADMEFiguresOnAnyDay(t *testing.T) {
	want := readREADME(t)
	today := time.Now()
	for _, day := range []time.Time{days()[0], days()[2], today, days()[5]} {
		t.Run(day.Format(time.DateOnly), func(t *testing.T) {
			ctx := t.Context()
			st := open(t)
			p := demo.Generate(42, demo.DefaultCases, day)
			start := time.Now()
			if _, err := demo.Load(ctx, st, p, nil); err != nil {
				t.Fatal(err)
			}
			t.Logf("loaded %d cases in %s", len(p.Cases), time.Since(start).Round(time.Millisecond))
			stats, err := st.CaseStatistics(ctx, store.StatisticsParams{})
			if err != nil {
				t.Fatal(err)
			}
			tot := stats.Total
			got := readmeFigures{int(tot.Cases), int(tot.Accepted), int(tot.Succeeded), int(tot.Concluded()),
				math.Round(10000*tot.SuccessRate()) / 10000, math.Round(10000*tot.SuccessRateOfAccepted()) / 10000}
			if got != want {
				t.Errorf("loaded for %s: %+v; README.md quotes %+v", day.Format(time.DateTime), got, want)
			}
		})
	}
}

// BenchmarkLoad loads the demo of `make run` (seed 42, DefaultCases
// cases) into a fresh database.
func BenchmarkLoad(b *testing.B) {
	p := demo.Generate(42, demo.DefaultCases, time.Now())
	for b.Loop() {
		b.StopTimer()
		st, err := store.Open(b.Context(), pgtest.NewDatabase(b), store.Options{MaxConns: demo.Conns})
		if err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		if _, err := demo.Load(b.Context(), st, p, nil); err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		st.Close()
		b.StartTimer()
	}
}
