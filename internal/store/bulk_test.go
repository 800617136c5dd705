package store_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/mediationd/mediationd/internal/caseflow"
	"github.com/mediationd/mediationd/internal/casework"
	"github.com/mediationd/mediationd/internal/casework/caseworktest"
	"github.com/mediationd/mediationd/internal/store"
)

// bulkCase is a registration and the actions that follow it.
type bulkCase struct {
	id      uuid.UUID
	new     casework.NewCase
	created time.Time
	year    int
	steps   []casework.Command
}

// bulkCases are cases that between them write every kind of row: sessions
// scheduled, cancelled and held, follow-up visits, a court referral, a
// recusal, an extension, cases of two regions and two years, and one left
// at intake.
func bulkCases() []bulkCase {
	at := func(d time.Duration) time.Time { return caseworktest.T0.Add(d) }
	step := func(a casework.Action, n int, t time.Time) casework.Command {
		cmd := caseworktest.Command(a, n)
		cmd.Time = t
		return cmd
	}
	session := func(a casework.Action, number int, t time.Time) casework.Command {
		cmd := step(a, 0, t)
		cmd.Session.Number = number
		return cmd
	}
	referral := caseworktest.NewCase("法院委派调解的相邻关系纠纷")
	referral.Source = casework.SourceCourtDelegated
	referral.CourtReferral = &casework.CourtReferral{CourtCode: "甘1002", CourtName: "庆阳市西峰区人民法院", CourtCaseNumber: "（2026）甘1002民诉前调88号", Judge: "王法官"}
	zhenyuan := caseworktest.NewCase("镇原县的借款纠纷")
	zhenyuan.RegionCode = "621027"
	h := time.Hour
	return []bulkCase{
		{id: uuid.New(), new: caseworktest.NewCase("去年年底登记、今年才处理的纠纷"), created: at(-70 * 24 * h), year: 2025, steps: []casework.Command{
			step(casework.ActionAccept, 0, at(-69*24*h)),
			step(casework.ActionAssign, 1, at(-69*24*h+h)),
			step(casework.ActionExtendDeadline, 0, at(-45*24*h)),
			step(casework.ActionRecuse, 0, at(-44*24*h)),
			step(casework.ActionAssign, 2, at(-44*24*h+h)),
			step(casework.ActionStartMediation, 0, at(-40*24*h)),
			step(casework.ActionScheduleSession, 0, at(-40*24*h+h)),
			session(casework.ActionCancelSession, 1, at(-39*24*h)),
			step(casework.ActionScheduleSession, 0, at(-39*24*h+h)),
			session(casework.ActionRecordSession, 2, at(-37*24*h)),
			step(casework.ActionUpdate, 1, at(-37*24*h+h)),
			step(casework.ActionRecordAgreement, 0, at(-37*24*h+2*h)),
			step(casework.ActionRequestConfirmation, 0, at(-36*24*h)),
			step(casework.ActionRecordConfirmation, 0, at(-30*24*h)),
			step(casework.ActionRecordFollowUp, 0, at(-20*24*h)),
			step(casework.ActionRecordFollowUp, 0, at(-10*24*h)),
			step(casework.ActionClose, 0, at(-9*24*h)),
		}},
		{id: uuid.New(), new: referral, created: at(h), year: 2026, steps: []casework.Command{
			step(casework.ActionAccept, 0, at(2*h)),
			step(casework.ActionAssign, 3, at(3*h)),
			step(casework.ActionStartMediation, 0, at(4*h)),
			step(casework.ActionScheduleSession, 0, at(5*h)),
			step(casework.ActionRecordFailure, 0, at(6*h)),
		}},
		{id: uuid.New(), new: zhenyuan, created: at(2 * h), year: 2026, steps: []casework.Command{
			step(casework.ActionReject, 0, at(3*h)),
		}},
		{id: uuid.New(), new: caseworktest.NewCase("刚登记的纠纷"), created: at(3 * h), year: 2026},
		{id: uuid.New(), new: caseworktest.NewCase("超过期限未结的纠纷"), created: at(4 * h), year: 2026, steps: []casework.Command{
			step(casework.ActionAccept, 0, at(5*h)),
			step(casework.ActionMarkOverdue, 0, at(40*24*h)),
		}},
	}
}

// dump renders what the database holds of the cases, with their number
// counters, in a fixed order; the identity columns (a case's seq, an
// outbox row's id) are left out.
func dump(t *testing.T, st *store.Store) string {
	t.Helper()
	var b strings.Builder
	for _, q := range []string{
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
		if err := st.Pool().QueryRow(context.Background(), q).Scan(&rows); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		b.WriteString(string(rows) + "\n")
	}
	return b.String()
}

// compare reports the tables whose rows differ in two dumps.
func compare(t *testing.T, aName, a, bName, b string) {
	t.Helper()
	as, bs := strings.Split(a, "\n"), strings.Split(b, "\n")
	for i := range as {
		if as[i] != bs[i] {
			t.Errorf("rows differ:\n%s:\n%s\n%s:\n%s", aName, as[i], bName, bs[i])
		}
	}
}

// TestWriteCaseHistoriesAsActions writes the same changes once through
// CreateCase and the action pipeline (caseflow's Act, which writes with
// WriteAction), once through WriteCaseHistories, into two databases, and
// finds every row the same.
func TestWriteCaseHistoriesAsActions(t *testing.T) {
	ctx := context.Background()
	one, _ := newCaseStore(t)
	bulk, _ := newCaseStore(t)
	// A case registered before, so that a counter exists already.
	earlier := store.CreateParams{New: caseworktest.NewCase("先前登记的纠纷"), ID: uuid.New(), Actor: "tester", Now: caseworktest.T0.Add(-time.Hour), Year: 2026}
	for _, st := range []*store.Store{one, bulk} {
		if _, _, err := st.CreateCase(ctx, earlier); err != nil {
			t.Fatal(err)
		}
	}

	cases, histories := liveHistories(t, one, func(int, *store.CreateParams) {}, func() caseflow.Caller { return caseflow.System })
	var numbers []string
	for _, c := range cases {
		numbers = append(numbers, c.Number)
	}

	got, err := bulk.WriteCaseHistories(ctx, histories)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(got, " ") != strings.Join(numbers, " ") {
		t.Errorf("numbers %q, want %q", got, numbers)
	}
	compare(t, "CreateCase and ApplyAction", dump(t, one), "WriteCaseHistories", dump(t, bulk))
}

// liveHistories registers bulkCases() through st and acts their steps
// through the action pipeline (adjust sets each registration's further
// parameters, caller gives each action's caller), and returns the cases
// as registered and the histories WriteCaseHistories would write for them.
func liveHistories(t *testing.T, st *store.Store, adjust func(i int, p *store.CreateParams), caller func() caseflow.Caller) ([]casework.Case, []store.CaseHistory) {
	t.Helper()
	ctx := context.Background()
	flow := caseflow.New(st, nil, casework.Policy{}, nil)
	var cases []casework.Case
	var histories []store.CaseHistory
	for i, bc := range bulkCases() {
		p := store.CreateParams{New: bc.new, ID: bc.id, Actor: "tester", Now: bc.created, Year: bc.year}
		adjust(i, &p)
		c, _, err := st.CreateCase(ctx, p)
		if err != nil {
			t.Fatalf("CreateCase: %v", err)
		}
		cases = append(cases, c)
		n := bc.new
		n.Normalize()
		reg, ev := casework.Register(n, bc.id, "tester", "", bc.created, casework.Policy{})
		h := store.CaseHistory{Year: bc.year, RegistrationHash: n.Hash(), Changes: []store.CaseChange{{Case: reg, Event: ev}}}
		for j, cmd := range bc.steps {
			r, err := flow.Act(ctx, caller(), bc.id, int64(j+1), cmd)
			if err != nil {
				t.Fatalf("%s: step %d, %s: %v", c.Number, j+1, cmd.Action, err)
			}
			h.Changes = append(h.Changes, store.CaseChange{Case: r.Case, Event: r.Event})
		}
		histories = append(histories, h)
	}
	return cases, histories
}

// TestWriteCaseHistoriesRefuses shows the histories refused, and that a
// refusal writes nothing.
func TestWriteCaseHistoriesRefuses(t *testing.T) {
	ctx := context.Background()
	st, _ := newCaseStore(t)
	// A court referral already registered.
	taken := bulkCases()[1].new
	if _, _, err := st.CreateCase(ctx, store.CreateParams{New: taken, ID: uuid.New(), Actor: "tester", Now: caseworktest.T0, Year: 2026}); err != nil {
		t.Fatal(err)
	}
	before := dump(t, st)

	// history decides the steps of a case in memory.
	history := func(bc bulkCase) store.CaseHistory {
		t.Helper()
		reg, ev := casework.Register(bc.new, bc.id, "tester", "", bc.created, casework.Policy{})
		h := store.CaseHistory{Year: bc.year, Changes: []store.CaseChange{{Case: reg, Event: ev}}}
		c := reg
		for _, cmd := range bc.steps {
			switch cmd.Action {
			case casework.ActionAssign:
				org, med, err := st.Assignee(ctx, cmd.Organization, cmd.Mediator)
				if err != nil {
					t.Fatal(err)
				}
				cmd.Assignee = &casework.Assignee{Organization: org, Mediator: med}
			}
			next, ev, err := casework.Apply(c, cmd)
			if err != nil {
				t.Fatalf("%s: %v", cmd.Action, err)
			}
			h.Changes = append(h.Changes, store.CaseChange{Case: next, Event: ev})
			c = next
		}
		return h
	}
	cases := bulkCases()
	good := history(cases[3])

	lying := history(cases[2]) // rejected
	last := &lying.Changes[len(lying.Changes)-1].Case
	last.State, last.Outcome = casework.StateClosed, casework.OutcomeWithdrawn

	gap := history(cases[2])
	gap.Changes[1].Case.Version, gap.Changes[1].Event.Version = 3, 3

	requested := history(cases[3])
	requested.Changes[0].Event.RequestID = uuid.NewString()

	notFirst := history(cases[2])
	notFirst.Changes = notFirst.Changes[1:]

	for _, tc := range []struct {
		name string
		hs   []store.CaseHistory
		want string
	}{
		{"a case row that disagrees with its history", []store.CaseHistory{good, lying}, "has no matching history row"},
		{"a court referral registered before", []store.CaseHistory{good, history(cases[1])}, "甘1002民诉前调88号"},
		{"a court referral twice", []store.CaseHistory{history(cases[1]), history(cases[1])}, "甘1002民诉前调88号"},
		{"a gap in the versions", []store.CaseHistory{good, gap}, "want 2"},
		{"a registration with a request id", []store.CaseHistory{requested}, "CreateCase"},
		{"a history without its registration", []store.CaseHistory{notFirst}, "not the registration"},
		{"an empty history", []store.CaseHistory{good, {Year: 2026}}, "history 2 of 2: no changes"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.name == "a court referral twice" {
				tc.hs[1].Changes[0].Case.ID = uuid.New()
				for i := range tc.hs[1].Changes {
					tc.hs[1].Changes[i].Case.ID, tc.hs[1].Changes[i].Event.CaseID = tc.hs[1].Changes[0].Case.ID, tc.hs[1].Changes[0].Case.ID
				}
			}
			_, err := st.WriteCaseHistories(ctx, tc.hs)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("WriteCaseHistories: %v, want an error mentioning %q", err, tc.want)
			}
			compare(t, "before", before, "after a refused write", dump(t, st))
		})
	}

	if _, err := st.WriteCaseHistories(ctx, []store.CaseHistory{good}); err != nil {
		t.Errorf("the good history alone: %v", err)
	}
}
