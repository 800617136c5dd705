package store_test

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/mediationd/mediationd/internal/casework"
	"github.com/mediationd/mediationd/internal/casework/caseworktest"
	"github.com/mediationd/mediationd/internal/store"
)

var t0 = time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)

func create(t *testing.T, st *store.Store, n casework.NewCase, requestID string) (casework.Case, bool) {
	t.Helper()
	c, replayed, err := st.CreateCase(context.Background(), store.CreateParams{
		New: n, ID: uuid.Must(uuid.NewV7()), Actor: "tester", RequestID: requestID, Now: t0, Year: 2026,
	})
	if err != nil {
		t.Fatalf("CreateCase: %v", err)
	}
	return c, replayed
}

// counts returns how many cases, events and outbox rows the database holds.
func counts(t *testing.T, st *store.Store) [3]int {
	t.Helper()
	var n [3]int
	err := st.Pool().QueryRow(context.Background(), `SELECT
		(SELECT count(*) FROM cases), (SELECT count(*) FROM case_events), (SELECT count(*) FROM outbox)`).Scan(&n[0], &n[1], &n[2])
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func TestCreateAndGet(t *testing.T) {
	st, _ := newCaseStore(t)
	n := caseworktest.NewCase("楼上漏水，请求赔偿")
	c, replayed := create(t, st, n, "")
	if replayed {
		t.Error("first create reported as replayed")
	}
	got, err := st.GetCase(context.Background(), c.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Number != "西峰调〔2026〕00001号" || got.State != casework.StateIntake || got.Version != 1 ||
		got.Summary != n.Summary || !reflect.DeepEqual(got.Parties, n.Parties) || !got.CreateTime.Equal(t0) {
		t.Errorf("stored case = %+v", got)
	}
	if _, err := st.GetCase(context.Background(), uuid.New()); !errors.Is(err, casework.ErrNotFound) {
		t.Errorf("GetCase(unknown) = %v, want ErrNotFound", err)
	}
	if got := counts(t, st); got != [3]int{1, 1, 1} {
		t.Errorf("cases, events, outbox = %v, want 1 each", got)
	}
}

func TestCaseNumbersPerRegionScheme(t *testing.T) {
	st, _ := newCaseStore(t)
	ctx := context.Background()
	if _, err := st.Pool().Exec(ctx, `INSERT INTO case_number_schemes (region_code, template) VALUES ('110000', '京调字{year}第{seq:3}号')`); err != nil {
		t.Fatal(err)
	}
	tests := []struct{ region, want string }{
		{"621002", "西峰调〔2026〕00001号"},
		{"621002", "西峰调〔2026〕00002号"},
		{"621027", "镇原调〔2026〕00001号"},
		{"621099", "庆阳调〔2026〕00001号"},     // no county scheme: the city's
		{"620102", "620102调〔2026〕00001号"}, // no scheme in the province: the default
		{"440305", "440305调〔2026〕00002号"}, // the default scheme's counter is shared
		{"110105", "京调字2026第001号"},        // the province's
	}
	for _, tt := range tests {
		n := caseworktest.NewCase("x")
		n.RegionCode = tt.region
		if c, _ := create(t, st, n, ""); c.Number != tt.want {
			t.Errorf("region %s: number %q, want %q", tt.region, c.Number, tt.want)
		}
	}
	var wide string
	if err := st.Pool().QueryRow(ctx, `SELECT format_case_number('{seq:3}-{seq}', '621002', 2026, 12345)`).Scan(&wide); err != nil || wide != "12345-12345" {
		t.Errorf("format_case_number overflow = %q, %v", wide, err)
	}
}

func TestCreateIdempotent(t *testing.T) {
	st, _ := newCaseStore(t)
	rid := uuid.NewString()
	n := caseworktest.NewCase("邻里纠纷")
	first, replayed := create(t, st, n, rid)
	if replayed {
		t.Fatal("first create replayed")
	}
	second, replayed := create(t, st, n, rid)
	if !replayed || second.ID != first.ID || second.Number != first.Number {
		t.Fatalf("retry returned %s (%v), want %s replayed", second.ID, replayed, first.ID)
	}
	if got := counts(t, st); got != [3]int{1, 1, 1} {
		t.Errorf("cases, events, outbox = %v, want 1 each", got)
	}
	// The retry took no number: the next case follows without a gap.
	if c, _ := create(t, st, n, ""); c.Number != "西峰调〔2026〕00002号" {
		t.Errorf("next number %q", c.Number)
	}

	// The same request id with a different body is refused, and writes nothing.
	other := caseworktest.NewCase("另一纠纷")
	before := counts(t, st)
	_, _, err := st.CreateCase(context.Background(), store.CreateParams{New: other, ID: uuid.Must(uuid.NewV7()), RequestID: rid, Now: t0, Year: 2026})
	var ae *casework.AlreadyExistsError
	if !errors.As(err, &ae) || ae.Reason != "REQUEST_ID_REUSED" {
		t.Fatalf("reuse = %v, want REQUEST_ID_REUSED", err)
	}
	if after := counts(t, st); after != before {
		t.Errorf("refused create changed counts %v -> %v", before, after)
	}
}

func TestCreateIdempotentConcurrent(t *testing.T) {
	st, _ := newCaseStore(t)
	rid := uuid.NewString()
	n := caseworktest.NewCase("并发重复登记")
	const callers = 20
	ids := make([]uuid.UUID, callers)
	errs := make([]error, callers)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range callers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			c, _, err := st.CreateCase(context.Background(), store.CreateParams{New: n, ID: uuid.Must(uuid.NewV7()), RequestID: rid, Now: t0, Year: 2026})
			ids[i], errs[i] = c.ID, err
		}()
	}
	close(start)
	wg.Wait()
	for i := range callers {
		if errs[i] != nil {
			t.Fatalf("caller %d: %v", i, errs[i])
		}
		if ids[i] != ids[0] {
			t.Errorf("caller %d got case %s, caller 0 got %s", i, ids[i], ids[0])
		}
	}
	if got := counts(t, st); got != [3]int{1, 1, 1} {
		t.Errorf("cases, events, outbox = %v, want exactly one case", got)
	}
	var last int64
	if err := st.Pool().QueryRow(context.Background(), `SELECT last_value FROM case_number_counters WHERE scheme_region = '621002'`).Scan(&last); err != nil || last != 1 {
		t.Errorf("counter = %d (%v): duplicates consumed numbers", last, err)
	}
}

func TestCreateValidates(t *testing.T) {
	st, _ := newCaseStore(t)
	n := caseworktest.NewCase("x")
	n.Parties = n.Parties[1:] // no applicant
	_, _, err := st.CreateCase(context.Background(), store.CreateParams{New: n, ID: uuid.New(), Now: t0, Year: 2026})
	var fe *casework.FieldError
	if !errors.As(err, &fe) || fe.Field != "case.parties" {
		t.Fatalf("CreateCase = %v, want FieldError on case.parties", err)
	}
	if got := counts(t, st); got != [3]int{} {
		t.Errorf("refused create wrote %v", got)
	}
}

// snapshot is everything an action may touch, for checking that a refused
// action changed nothing.
func snapshot(t *testing.T, st *store.Store, id uuid.UUID) string {
	t.Helper()
	var s string
	err := st.Pool().QueryRow(context.Background(), `SELECT row_to_json(c)::text
		|| (SELECT coalesce(json_agg(e ORDER BY version)::text, '') FROM case_events e WHERE e.case_id = c.id)
		|| (SELECT coalesce(json_agg(o ORDER BY id)::text, '') FROM outbox o WHERE o.case_id = c.id)
		FROM cases c WHERE c.id = $1`, id).Scan(&s)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// bring creates a case and drives it to state along the contract's path.
func bring(t *testing.T, st *store.Store, state casework.State) casework.Case {
	t.Helper()
	c, _ := create(t, st, caseworktest.NewCase("path"), "")
	for i, a := range caseworktest.PathTo(state) {
		cmd := caseworktest.Command(a, i)
		cmd.Actor, cmd.Time = "tester", t0.Add(time.Duration(i+1)*time.Minute)
		next, _, _, err := applyAction(st, context.Background(), c.ID, 0, cmd)
		if err != nil {
			t.Fatalf("path to %s: %s: %v", state, a, err)
		}
		c = next
	}
	return c
}

func TestEveryStateEveryAction(t *testing.T) {
	st, _ := newCaseStore(t)
	ctx := context.Background()
	for _, state := range casework.States {
		for _, action := range casework.Actions {
			t.Run(string(state)+"/"+string(action), func(t *testing.T) {
				c := bring(t, st, state)
				if _, allowed := caseworktest.Contract[state][action]; allowed {
					for _, a := range caseworktest.Setup(action) {
						next, _, _, err := applyAction(st, ctx, c.ID, c.Version, caseworktest.Command(a, 98))
						if err != nil {
							t.Fatalf("setup %s: %v", a, err)
						}
						c = next
					}
				}
				before := snapshot(t, st, c.ID)
				cmd := caseworktest.Command(action, 99)
				cmd.Actor = "mediators/wang"
				if action != casework.ActionMarkOverdue {
					cmd.Time = t0.Add(time.Hour)
				}
				next, ev, _, err := applyAction(st, ctx, c.ID, c.Version, cmd)
				want, allowed := caseworktest.Contract[state][action]
				if !allowed {
					var na *casework.NotAllowedError
					if !errors.As(err, &na) {
						t.Fatalf("ApplyAction = %v, want NotAllowedError", err)
					}
					if after := snapshot(t, st, c.ID); after != before {
						t.Errorf("refused action changed the database:\nbefore %s\nafter  %s", before, after)
					}
					return
				}
				if err != nil {
					t.Fatalf("ApplyAction: %v", err)
				}
				stored, err := st.GetCase(ctx, c.ID)
				if err != nil {
					t.Fatal(err)
				}
				if stored.State != want.To || stored.Outcome != want.Outcome || stored.Version != c.Version+1 || next.Version != stored.Version {
					t.Errorf("stored %s/%q v%d, want %s/%q v%d", stored.State, stored.Outcome, stored.Version, want.To, want.Outcome, c.Version+1)
				}
				events, _, err := st.ListEvents(ctx, c.ID, 0, 100)
				if err != nil {
					t.Fatal(err)
				}
				last := events[len(events)-1]
				if len(events) != int(stored.Version) || last.Version != stored.Version || last.Action != action ||
					last.From != state || last.To != want.To || last.Outcome != want.Outcome || last.Actor != "mediators/wang" || !last.Time.Equal(cmd.Time) {
					t.Errorf("history has %d events, last %+v (returned %+v)", len(events), last, ev)
				}
				var topic string
				if err := st.Pool().QueryRow(ctx, `SELECT topic FROM outbox WHERE case_id = $1 AND case_version = $2`, c.ID, stored.Version).Scan(&topic); err != nil || topic != "case."+string(action) {
					t.Errorf("outbox row: %q, %v", topic, err)
				}
			})
		}
	}
}

func TestStaleEtagChangesNothing(t *testing.T) {
	st, _ := newCaseStore(t)
	ctx := context.Background()
	c := bring(t, st, casework.StateAccepted)
	before := snapshot(t, st, c.ID)
	cmd := caseworktest.Command(casework.ActionAssign, 1)
	_, _, _, err := applyAction(st, ctx, c.ID, c.Version-1, cmd)
	var ce *casework.ConflictError
	if !errors.As(err, &ce) {
		t.Fatalf("stale etag: %v, want ConflictError", err)
	}
	if after := snapshot(t, st, c.ID); after != before {
		t.Error("stale action changed the database")
	}
	if _, _, _, err := applyAction(st, ctx, c.ID, c.Version, cmd); err != nil {
		t.Fatalf("current etag: %v", err)
	}
	if _, _, _, err := applyAction(st, ctx, uuid.New(), 0, cmd); !errors.Is(err, casework.ErrNotFound) {
		t.Errorf("unknown case: %v", err)
	}
}

func TestActionRequestIDReplays(t *testing.T) {
	st, _ := newCaseStore(t)
	ctx := context.Background()
	c := bring(t, st, casework.StateIntake)
	cmd := caseworktest.Command(casework.ActionAccept, 0)
	cmd.RequestID = uuid.NewString()
	_, first, replayed, err := applyAction(st, ctx, c.ID, 0, cmd)
	if err != nil || replayed {
		t.Fatalf("first: %v replayed=%v", err, replayed)
	}
	got, again, replayed, err := applyAction(st, ctx, c.ID, c.Version, cmd) // the old etag too: a retry
	if err != nil || !replayed || again.Version != first.Version || again.Action != casework.ActionAccept || got.State != casework.StateAccepted {
		t.Fatalf("retry: %v replayed=%v event %+v", err, replayed, again)
	}
	if got := counts(t, st); got != [3]int{1, 2, 2} {
		t.Errorf("cases, events, outbox = %v", got)
	}
	other := caseworktest.Command(casework.ActionWithdraw, 0)
	other.RequestID = cmd.RequestID
	var ae *casework.AlreadyExistsError
	if _, _, _, err := applyAction(st, ctx, c.ID, 0, other); !errors.As(err, &ae) {
		t.Errorf("same request id, other action: %v", err)
	}
}

// TestRaceOneWinnerPerStep fires every step of a case's life from 20
// goroutines at once, half with the etag they read and half without: each
// step has exactly one winner, the losers are refused as stale (etag) or
// not allowed / already done (no etag), and the history has no gap and no
// duplicate.
func TestRaceOneWinnerPerStep(t *testing.T) {
	st, _ := newCaseStore(t)
	ctx := context.Background()
	c, _ := create(t, st, caseworktest.NewCase("race"), "")
	steps := []casework.Action{casework.ActionAccept, casework.ActionAssign, casework.ActionStartMediation, casework.ActionRecordAgreement, casework.ActionClose}
	const racers = 20
	for _, action := range steps {
		read, err := st.GetCase(ctx, c.ID)
		if err != nil {
			t.Fatal(err)
		}
		var wg sync.WaitGroup
		var mu sync.Mutex
		wins, stale, refused := 0, 0, 0
		start := make(chan struct{})
		for i := range racers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				cmd := caseworktest.Command(action, 0) // the same assignee for all
				cmd.Actor, cmd.Time = fmt.Sprintf("racer-%d", i), t0
				var ifVersion int64
				if i%2 == 0 {
					ifVersion = read.Version
				}
				<-start
				_, _, _, err := applyAction(st, ctx, c.ID, ifVersion, cmd)
				var ce *casework.ConflictError
				var na *casework.NotAllowedError
				var pe *casework.PreconditionError
				mu.Lock()
				defer mu.Unlock()
				switch {
				case err == nil:
					wins++
				case errors.As(err, &ce) && ifVersion != 0:
					stale++
				case errors.As(err, &na), errors.As(err, &pe):
					refused++
				default:
					t.Errorf("%s by racer %d: unexpected %v", action, i, err)
				}
			}()
		}
		close(start)
		wg.Wait()
		if wins != 1 || wins+stale+refused != racers {
			t.Errorf("%s: %d winners, %d stale, %d refused", action, wins, stale, refused)
		}
	}
	events, _, err := st.ListEvents(ctx, c.ID, 0, 1000)
	if err != nil {
		t.Fatal(err)
	}
	want := append([]casework.Action{casework.ActionCreate}, steps...)
	if len(events) != len(want) {
		t.Fatalf("history has %d events, want %d", len(events), len(want))
	}
	for i, ev := range events {
		if ev.Version != int64(i+1) || ev.Action != want[i] {
			t.Errorf("event %d: version %d action %s, want %d %s", i, ev.Version, ev.Action, i+1, want[i])
		}
		if i > 0 && ev.From != events[i-1].To {
			t.Errorf("event %d starts in %s, previous ended in %s", i, ev.From, events[i-1].To)
		}
	}
	if got := counts(t, st); got != [3]int{1, len(want), len(want)} {
		t.Errorf("cases, events, outbox = %v", got)
	}
}

// TestRaceMixedActions fires random actions, valid and invalid, from 20
// goroutines at one case, and checks the history against the case.
func TestRaceMixedActions(t *testing.T) {
	st, _ := newCaseStore(t)
	ctx := context.Background()
	c, _ := create(t, st, caseworktest.NewCase("mixed"), "")
	var wg sync.WaitGroup
	var mu sync.Mutex
	wins := 0
	for i := range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range 15 {
				action := casework.Actions[(i*7+j*3)%len(casework.Actions)]
				cmd := caseworktest.Command(action, (i+j)%10)
				cmd.Actor, cmd.Time = fmt.Sprintf("racer-%d", i), t0
				_, _, _, err := applyAction(st, ctx, c.ID, 0, cmd)
				var na *casework.NotAllowedError
				var ce *casework.ConflictError
				var pe *casework.PreconditionError
				var fe *casework.FieldError
				switch {
				case err == nil:
					mu.Lock()
					wins++
					mu.Unlock()
				case errors.As(err, &na), errors.As(err, &ce), errors.As(err, &pe), errors.As(err, &fe):
				default:
					t.Errorf("unexpected %v", err)
				}
			}
		}()
	}
	wg.Wait()
	final, err := st.GetCase(ctx, c.ID)
	if err != nil {
		t.Fatal(err)
	}
	events, _, err := st.ListEvents(ctx, c.ID, 0, 1000)
	if err != nil {
		t.Fatal(err)
	}
	if int64(len(events)) != final.Version || wins != len(events)-1 {
		t.Fatalf("%d wins, %d events, version %d", wins, len(events), final.Version)
	}
	state := casework.State("")
	for i, ev := range events {
		if ev.Version != int64(i+1) || ev.From != state {
			t.Fatalf("event %d: version %d from %s, expected from %s", i, ev.Version, ev.From, state)
		}
		state = ev.To
	}
	if state != final.State {
		t.Errorf("history ends in %s, case is %s", state, final.State)
	}
}

func TestHistoryCannotDisagree(t *testing.T) {
	st, _ := newCaseStore(t)
	ctx := context.Background()
	c := bring(t, st, casework.StateAccepted)
	for _, sql := range []string{
		`UPDATE case_events SET actor = 'forger' WHERE case_id = $1`,
		`DELETE FROM case_events WHERE case_id = $1`,
		`UPDATE cases SET state = 'CLOSED', outcome = 'REJECTED', close_time = now(), version = version + 1 WHERE id = $1`,
		`UPDATE cases SET summary = 'rewritten' WHERE id = $1`,
	} {
		if _, err := st.Pool().Exec(ctx, sql, c.ID); err == nil {
			t.Errorf("%s: accepted", sql)
		}
	}
	got, err := st.GetCase(ctx, c.ID)
	if err != nil || got.State != casework.StateAccepted || got.Summary != c.Summary {
		t.Errorf("case after refused writes: %+v, %v", got, err)
	}
}
