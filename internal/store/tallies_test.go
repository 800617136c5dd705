package store_test

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"reflect"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/mediationd/mediationd/internal/casework"
	"github.com/mediationd/mediationd/internal/casework/caseworktest"
	"github.com/mediationd/mediationd/internal/identity"
	"github.com/mediationd/mediationd/internal/store"
)

// TestCaseTalliesEqualARecount drives cases through random actions from
// several goroutines at once (some on the same cases), with the overdue
// job, a deactivation and the folding of the deltas running meanwhile, and
// then requires the statistics answered from the summaries to equal those
// counted case by case, for every grouping and several filters and scopes;
// and the folded summary tables to equal a rebuild from the cases.
func TestCaseTalliesEqualARecount(t *testing.T) {
	st, _ := newCaseStore(t)
	ctx := context.Background()
	rng := rand.New(rand.NewPCG(13, 2026))
	regions := []string{"621002", "621021", "621022", "621027"}
	var ids []uuid.UUID
	for i := range 200 {
		now := caseworktest.T0.AddDate(0, -rng.IntN(15), -rng.IntN(28)).Add(time.Duration(rng.IntN(24*60)) * time.Minute)
		n := caseworktest.NewCase(fmt.Sprintf("纠纷 %d", i))
		n.RegionCode = regions[rng.IntN(len(regions))]
		n.DisputeType = casework.DisputeTypes[rng.IntN(len(casework.DisputeTypes))]
		n.Source = casework.Sources[rng.IntN(len(casework.Sources))]
		if n.Source.IsCourtReferral() {
			n.CourtReferral = &casework.CourtReferral{CourtCode: "甘1002", CourtCaseNumber: fmt.Sprintf("（2026）甘1002民诉前调%d号", i)}
		}
		if rng.IntN(5) == 0 { // a group dispute: five applicants or more
			for j := range 5 {
				n.Parties = append(n.Parties, casework.Party{ID: fmt.Sprintf("a%d", j), Name: fmt.Sprintf("申请人%d", j), Role: casework.RoleApplicant})
			}
		}
		n.EscalationRisk = rng.IntN(4) == 0
		c, _, err := st.CreateCase(ctx, store.CreateParams{New: n, ID: uuid.Must(uuid.NewV7()), Actor: "tester", Now: now, Year: now.Year()})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, c.ID)
	}

	// Each command happens a minute after the one before, whoever sends it.
	var clock atomic.Int64
	act := func(rng *rand.Rand, id uuid.UUID) {
		c, err := st.GetCase(ctx, id)
		if err != nil {
			t.Error(err)
			return
		}
		var allowed []casework.Action
		for a := range caseworktest.Contract[c.State] {
			allowed = append(allowed, a)
		}
		if len(allowed) == 0 {
			return
		}
		a := allowed[rng.IntN(len(allowed))]
		version := c.Version
		for _, step := range append(caseworktest.Setup(a), a) {
			cmd := caseworktest.Command(step, rng.IntN(10))
			cmd.Time = caseworktest.T0.Add(time.Duration(clock.Add(1)) * time.Minute)
			if step == casework.ActionRecordAgreement && rng.IntN(3) == 0 {
				cmd.Agreement.Form = casework.FormOral
			}
			got, _, _, err := applyAction(st, ctx, id, version, cmd)
			var conflict *casework.ConflictError
			if errors.As(err, &conflict) {
				return // another goroutine moved the case first
			}
			if err != nil {
				return // refused by the workflow (a session already recorded, …)
			}
			version = got.Version
		}
	}

	stop := make(chan struct{})
	var folder sync.WaitGroup
	folder.Go(func() {
		for {
			select {
			case <-stop:
				return
			default:
			}
			if _, err := st.FoldCaseTallies(ctx, 7); err != nil {
				t.Error(err)
				return
			}
		}
	})
	var workers sync.WaitGroup
	for w := range 4 {
		workers.Go(func() {
			rng := rand.New(rand.NewPCG(uint64(w), 7))
			for i := range 150 {
				act(rng, ids[rng.IntN(len(ids))])
				switch {
				case w == 0 && i == 70:
					if _, err := st.MarkOverdue(ctx, caseworktest.T0.AddDate(1, 0, 0), 10); err != nil {
						t.Error(err)
					}
				case w == 1 && i == 90:
					m, err := st.GetMediator(ctx, "mediator-3")
					if err == nil {
						_, err = st.SetMediatorActive(ctx, "mediator-3", false, m.Version, caseworktest.T0)
					}
					if err != nil {
						t.Error(err)
					}
				}
			}
		})
	}
	workers.Wait()
	close(stop)
	folder.Wait()
	if t.Failed() {
		return
	}
	// Some more, left as deltas: registrations (each one a delta) and
	// actions.
	for i := range 5 {
		n := caseworktest.NewCase(fmt.Sprintf("未折叠的纠纷 %d", i))
		n.RegionCode = regions[i%len(regions)]
		c, _, err := st.CreateCase(ctx, store.CreateParams{New: n, ID: uuid.Must(uuid.NewV7()), Actor: "tester", Now: caseworktest.T0, Year: caseworktest.T0.Year()})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, c.ID)
	}
	for range 60 {
		act(rng, ids[rng.IntN(len(ids))])
	}

	var closed, inMediation, deltas int
	if err := st.Pool().QueryRow(ctx, `SELECT count(*) FILTER (WHERE state = 'CLOSED'), count(*) FILTER (WHERE state IN ('ASSIGNED', 'MEDIATING')),
		(SELECT count(*) FROM case_tally_deltas) FROM cases`).Scan(&closed, &inMediation, &deltas); err != nil {
		t.Fatal(err)
	}
	if closed < 20 || inMediation < 3 || deltas == 0 {
		t.Fatalf("the random actions left %d cases closed and %d in mediation: and %d deltas not folded: too few to test the figures", closed, inMediation, deltas)
	}
	t.Logf("%d cases closed, %d in mediation, %d deltas not folded yet", closed, inMediation, deltas)

	compareTalliesWithRecount(t, st)
	for {
		n, err := st.FoldCaseTallies(ctx, 1000)
		if err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			break
		}
	}
	compareTalliesWithRecount(t, st)

	// The folded summaries are what a rebuild from the cases gives.
	folded := dumpTallies(t, st)
	if _, err := st.Pool().Exec(ctx, `SELECT case_tallies_rebuild()`); err != nil {
		t.Fatal(err)
	}
	if rebuilt := dumpTallies(t, st); folded != rebuilt {
		t.Errorf("the folded summary tables differ from a rebuild:\nfolded:\n%s\nrebuilt:\n%s", folded, rebuilt)
	}
}

// compareTalliesWithRecount asks for the statistics the summaries answer
// and for the same ones counted case by case (a filter term the summaries
// cannot answer, true of every case, sends them there), and requires the
// same figures.
func compareTalliesWithRecount(t *testing.T, st *store.Store) {
	t.Helper()
	ctx := context.Background()
	shanghai, err := time.LoadLocation("Asia/Shanghai")
	if err != nil {
		t.Fatal(err)
	}
	filters := []string{
		``,
		`region_code = "621000"`,
		`region_code = "621021" AND NOT dispute_type = "NEIGHBOR"`,
		`mediator = "mediators/mediator-3" OR source = "WALK_IN"`,
		`create_time >= "2025-10-01T00:00:00+08:00" AND create_time < "2026-01-01T00:00:00+08:00"`,
		`NOT organization = "organizations/room-2" AND create_time >= "2025-06-01T00:00:00+08:00"`,
	}
	scopes := []*identity.CaseScope{nil, {All: true}, {RegionPrefix: "6210"}, {RegionPrefix: "621021"}}
	groupings := []store.Grouping{store.GroupNone, store.GroupRegion, store.GroupOrganization, store.GroupOrganizationType,
		store.GroupMediator, store.GroupDisputeType, store.GroupSource, store.GroupCreateMonth}
	for _, f := range filters {
		for _, sc := range scopes {
			for _, g := range groupings {
				p := store.StatisticsParams{Filter: f, GroupBy: g, Scope: sc, TimeZone: "Asia/Shanghai"}
				if table, _ := store.TallySource(p, shanghai, "Asia/Shanghai"); table == "" {
					t.Errorf("%q by %q: not answered from the summaries", f, g)
					continue
				}
				tallied, err := st.CaseStatistics(ctx, p)
				if err != nil {
					t.Fatalf("%q by %q: %v", f, g, err)
				}
				p.Filter = `case_number != "-"`
				if f != "" {
					p.Filter = "(" + f + `) AND case_number != "-"`
				}
				if table, _ := store.TallySource(p, shanghai, "Asia/Shanghai"); table != "" {
					t.Fatalf("%q by %q: answered from %s, not case by case", p.Filter, g, table)
				}
				counted, err := st.CaseStatistics(ctx, p)
				if err != nil {
					t.Fatalf("%q by %q: %v", p.Filter, g, err)
				}
				sameStatistics(t, fmt.Sprintf("%q by %q in %+v", f, g, sc), tallied, counted)
			}
		}
	}
}

func sameStatistics(t *testing.T, what string, got, want store.Statistics) {
	t.Helper()
	norm := func(s store.Statistics) store.Statistics {
		if math.Abs(s.Total.MeanDaysToClose-want.Total.MeanDaysToClose) < 1e-9 {
			s.Total.MeanDaysToClose = want.Total.MeanDaysToClose
		}
		for i := range s.Groups {
			if i < len(want.Groups) && math.Abs(s.Groups[i].MeanDaysToClose-want.Groups[i].MeanDaysToClose) < 1e-9 {
				s.Groups[i].MeanDaysToClose = want.Groups[i].MeanDaysToClose
			}
		}
		return s
	}
	if g := norm(got); !reflect.DeepEqual(g, want) {
		t.Errorf("%s: the summaries say\n%+v\ncounting the cases says\n%+v", what, g, want)
	}
	if want.Total.Cases == 0 {
		t.Errorf("%s: no case matched, which tests nothing", what)
	}
}

// dumpTallies renders the summary tables in key order.
func dumpTallies(t *testing.T, st *store.Store) string {
	t.Helper()
	var out string
	for _, q := range []string{
		`SELECT string_agg(t::text, E'\n' ORDER BY region_code, create_month, organization, mediator, dispute_type, source) FROM case_tallies t`,
		`SELECT string_agg(t::text, E'\n' ORDER BY dim, region_code, create_month, organization, mediator, dispute_type, source) FROM case_tally_rollups t`,
	} {
		var s *string
		if err := st.Pool().QueryRow(context.Background(), q).Scan(&s); err != nil {
			t.Fatal(err)
		}
		if s == nil {
			t.Fatal("a summary table is empty")
		}
		out += *s + "\n"
	}
	return out
}
