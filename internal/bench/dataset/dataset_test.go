package dataset_test

import (
	"context"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/mediationd/mediationd/internal/bench"
	"github.com/mediationd/mediationd/internal/bench/dataset"
	"github.com/mediationd/mediationd/internal/casework"
	"github.com/mediationd/mediationd/internal/pgtest"
	"github.com/mediationd/mediationd/internal/store"
	mediationv1 "github.com/mediationd/mediationd/proto/mediation/v1"
)

func TestMain(m *testing.M) {
	os.Exit(pgtest.Main(m, func(ctx context.Context, dsn string) error {
		_, err := store.Migrate(ctx, dsn, nil)
		return err
	}))
}

// now is the time the test's data set is made for.
var now = time.Date(2026, 11, 20, 10, 30, 0, 0, time.UTC)

// TestLoadSmall generates 1,000 cases into a fresh database and reads every
// case and its history back through the store: each history runs 1..n
// along the lifecycle and ends where the case stands.
func TestLoadSmall(t *testing.T) {
	ctx := context.Background()
	dsn := pgtest.NewDatabase(t)
	rep, err := dataset.Load(ctx, dsn, dataset.Options{Cases: 1000, Open: 0.1, Years: 3, Seed: 7, Now: now,
		Templates: 3000, Workers: 2, Batch: 150, Recent: 60 * 24 * time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%+v", rep)
	if rep.Cases != 1000 || rep.Copied+rep.StoreWritten != 1000 {
		t.Fatalf("loaded %d cases (%d copied, %d through the store), want 1000", rep.Cases, rep.Copied, rep.StoreWritten)
	}
	if rep.Copied == 0 || rep.StoreWritten == 0 {
		t.Errorf("%d copied and %d through the store: want both paths taken", rep.Copied, rep.StoreWritten)
	}
	if rep.Open < 70 || rep.Open > 130 {
		t.Errorf("%d open cases of 1000, want about 100", rep.Open)
	}
	if rep.Outbox == 0 {
		t.Error("no outbox rows for the recent cases")
	}

	st, err := store.Open(ctx, dsn, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	states := map[casework.State]int{}
	outcomes := map[casework.Outcome]int{}
	types := map[casework.DisputeType]bool{}
	from := now.AddDate(-3, 0, 0)
	seen := 0
	var after int64
	for {
		page, err := st.ListCases(ctx, store.ListCasesParams{After: after, Limit: 100})
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range page.Cases {
			seen++
			states[c.State]++
			outcomes[c.Outcome]++
			types[c.DisputeType] = true
			if c.CreateTime.Before(from) || !c.UpdateTime.Before(now) {
				t.Errorf("case %s registered %s, last changed %s: outside %s to %s", c.Number, c.CreateTime, c.UpdateTime, from, now)
			}
			got, err := st.GetCase(ctx, c.ID)
			if err != nil {
				t.Fatalf("GetCase(%s): %v", c.ID, err)
			}
			evs, more, err := st.ListEvents(ctx, c.ID, 0, 1000)
			if err != nil || more {
				t.Fatalf("ListEvents(%s) = %d events, more %t, %v", c.ID, len(evs), more, err)
			}
			if int64(len(evs)) != got.Version {
				t.Errorf("case %s at version %d has %d events", c.Number, got.Version, len(evs))
			}
			state := casework.State("")
			for i, ev := range evs {
				if ev.Version != int64(i+1) {
					t.Fatalf("case %s: event %d has version %d", c.Number, i+1, ev.Version)
				}
				if i > 0 && (ev.From != state || !casework.Allowed(state, ev.Action)) {
					t.Errorf("case %s version %d: %s from %s after the case was %s", c.Number, ev.Version, ev.Action, ev.From, state)
				}
				state = ev.To
			}
			if last := evs[len(evs)-1]; last.To != got.State || last.Outcome != got.Outcome {
				t.Errorf("case %s is %s/%s, its history ends %s/%s", c.Number, got.State, got.Outcome, last.To, last.Outcome)
			}
			if got.Open() && got.Deadline != nil && got.Deadline.DueTime.Before(now) && !got.Deadline.Overdue {
				t.Errorf("case %s is open past its due time %s and not overdue", c.Number, got.Deadline.DueTime)
			}
		}
		if page.Next == 0 {
			break
		}
		after = page.Next
	}
	if seen != 1000 {
		t.Errorf("listed %d cases, want 1000", seen)
	}
	for _, s := range casework.States {
		if states[s] == 0 {
			t.Errorf("no case in state %s: %v", s, states)
		}
	}
	for _, o := range []casework.Outcome{casework.OutcomeAgreement, casework.OutcomeFailed, casework.OutcomeWithdrawn, casework.OutcomeRejected} {
		if outcomes[o] == 0 {
			t.Errorf("no case closed with %s: %v", o, outcomes)
		}
	}
	if len(types) < 12 {
		t.Errorf("%d dispute types, want most of the %d", len(types), len(casework.DisputeTypes))
	}

	checkRecount(t, dsn, st)

	// The indexes dropped for the load are back, as the migrations made
	// them.
	fresh := pgtest.NewDatabase(t)
	if a, b := indexDefs(t, dsn), indexDefs(t, fresh); !slices.Equal(a, b) {
		t.Errorf("indexes after the load:\n%v\nin a freshly migrated database:\n%v", a, b)
	}
	// Loading again into a database with cases is refused.
	if _, err := dataset.Load(ctx, dsn, dataset.Options{Cases: 10, Open: 0.1, Years: 3, Now: now}); err == nil {
		t.Error("a second load into the same database was not refused")
	}
}

func indexDefs(t *testing.T, dsn string) []string {
	t.Helper()
	conn, err := pgx.Connect(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	rows, err := conn.Query(context.Background(), `SELECT indexdef FROM pg_indexes WHERE schemaname = 'public' ORDER BY indexname`)
	if err != nil {
		t.Fatal(err)
	}
	defs, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	return defs
}

// checkRecount holds the benchmark's exactness check to the store's
// statistics on the generated data: the recount agrees with them, and a
// figure changed by one is reported, naming the group and the figure.
func checkRecount(t *testing.T, dsn string, st *store.Store) {
	t.Helper()
	ctx := context.Background()
	db, err := pgxpool.New(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for _, g := range []struct {
		store store.Grouping
		proto mediationv1.StatisticsGrouping
	}{
		{store.GroupNone, mediationv1.StatisticsGrouping_STATISTICS_GROUPING_UNSPECIFIED},
		{store.GroupRegion, mediationv1.StatisticsGrouping_STATISTICS_GROUPING_REGION},
		{store.GroupMediator, mediationv1.StatisticsGrouping_STATISTICS_GROUPING_MEDIATOR},
		{store.GroupCreateMonth, mediationv1.StatisticsGrouping_STATISTICS_GROUPING_CREATE_MONTH},
	} {
		stats, err := st.CaseStatistics(ctx, store.StatisticsParams{Filter: `region_code = "621000"`, GroupBy: g.store, TimeZone: "Asia/Shanghai"})
		if err != nil {
			t.Fatal(err)
		}
		resp := &mediationv1.GetCaseStatisticsResponse{Total: toProto(stats.Total)}
		for _, grp := range stats.Groups {
			resp.Groups = append(resp.Groups, &mediationv1.CaseStatisticsGroup{Key: grp.Key, Figures: toProto(grp.Figures)})
		}
		diffs, err := bench.RecountStatistics(ctx, db, string(g.store), "c.region_code LIKE '6210%'", g.proto, resp)
		if err != nil {
			t.Fatal(err)
		}
		if len(diffs) > 0 {
			t.Errorf("the recount differs from the store's statistics grouped by %q:\n%v", g.store, diffs)
		}
		f := resp.Total
		if len(resp.Groups) > 0 {
			f = resp.Groups[len(resp.Groups)-1].Figures
		}
		f.Failed++
		diffs, err = bench.RecountStatistics(ctx, db, string(g.store), "c.region_code LIKE '6210%'", g.proto, resp)
		if err != nil {
			t.Fatal(err)
		}
		if len(diffs) == 0 {
			t.Errorf("grouped by %q, one more failed case was not reported", g.store)
		}
		for _, d := range diffs {
			if !strings.Contains(d, "failed is") {
				t.Errorf("grouped by %q, one more failed case reported as %q", g.store, d)
			}
		}
	}
}

// toProto spells the store's figures as the API does, for the figures the
// recount compares.
func toProto(f store.Figures) *mediationv1.CaseFigures {
	out := &mediationv1.CaseFigures{Cases: f.Cases, Open: f.Open, Overdue: f.Overdue, NeedsReassignment: f.NeedsReassignment,
		Accepted: f.Accepted, Succeeded: f.Succeeded, Failed: f.Failed, WithdrawnAfterAcceptance: f.WithdrawnAfterAcceptance,
		WithdrawnBeforeAcceptance: f.WithdrawnBeforeAcceptance, Rejected: f.Rejected, MeanDaysToClose: f.MeanDaysToClose,
		AgreementAmount: f.AgreementAmount, ConfirmationRequested: f.ConfirmationRequested, ConfirmationConfirmed: f.ConfirmationConfirmed,
		ConfirmationRefused: f.ConfirmationRefused, Performed: f.Performed, PartlyPerformed: f.PartlyPerformed, NotPerformed: f.NotPerformed,
		GroupDisputes: f.GroupDisputes, EscalationRisks: f.EscalationRisks, CourtReferrals: f.CourtReferrals,
		OralAgreements: f.OralAgreements, WrittenAgreements: f.WrittenAgreements, EscalationPrevented: f.EscalationPrevented,
		EscalationPreventedPeople: f.EscalationPreventedPeople, PetitionPrevented: f.PetitionPrevented, PetitionPreventedPeople: f.PetitionPreventedPeople}
	for _, s := range casework.States {
		out.States = append(out.States, &mediationv1.CaseStateCount{State: mediationv1.CaseState(mediationv1.CaseState_value["CASE_STATE_"+string(s)]), Count: f.ByState[s]})
	}
	return out
}
