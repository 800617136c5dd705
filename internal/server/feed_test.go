package server_test

import (
	"context"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"google.golang.org/grpc/codes"

	"github.com/mediationd/mediationd/internal/casework"
	"github.com/mediationd/mediationd/internal/casework/caseworktest"
	"github.com/mediationd/mediationd/internal/server"
	mediationv1 "github.com/mediationd/mediationd/proto/mediation/v1"
)

func feed(e *env) mediationv1.CaseFeedServiceClient {
	return mediationv1.NewCaseFeedServiceClient(e.conn)
}

// feedReader reads the change feed page by page from where it stopped.
type feedReader struct {
	e      *env
	ctx    context.Context
	filter string
	size   int32
	token  string
	got    []*mediationv1.CaseEvent
}

// poll reads one page and reports how many events it had.
func (r *feedReader) poll(t *testing.T) int {
	t.Helper()
	resp, err := feed(r.e).ListCaseChanges(r.ctx, &mediationv1.ListCaseChangesRequest{PageToken: r.token, PageSize: r.size, Filter: r.filter})
	if err != nil {
		t.Fatalf("ListCaseChanges: %v", err)
	}
	if resp.GetNextPageToken() == "" {
		t.Fatal("a page without next_page_token")
	}
	r.token = resp.GetNextPageToken()
	r.got = append(r.got, resp.GetEvents()...)
	return len(resp.GetEvents())
}

// drain polls until a page comes back empty once every event written so
// far lies below the feed's horizon. The horizon is the cluster's oldest
// running transaction: other tests' transactions on the same PostgreSQL
// server hold it back for a while, and an empty page until it passes
// means "not yet", not "nothing more".
func (r *feedReader) drain(t *testing.T) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for {
		if r.poll(t) > 0 {
			continue
		}
		var passed bool
		if err := r.e.store.Pool().QueryRow(context.Background(),
			`SELECT coalesce(max(txid) < pg_snapshot_xmin(pg_current_snapshot()), true) FROM case_events`).Scan(&passed); err != nil {
			t.Fatal(err)
		}
		if passed {
			if r.poll(t) > 0 { // what the horizon let through since the empty page
				continue
			}
			return
		}
		if time.Now().After(deadline) {
			t.Fatal("the feed's horizon did not pass the events written within a minute: a transaction is still running")
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// checkExactlyOnce compares the events read with the history in the
// database: each (case, version) once, a case's versions in order.
func checkExactlyOnce(t *testing.T, e *env, got []*mediationv1.CaseEvent, where string, args ...any) {
	t.Helper()
	rows, err := e.store.Pool().Query(context.Background(), `SELECT 'cases/' || case_id || '/events/' || version FROM case_events e WHERE `+where, args...)
	if err != nil {
		t.Fatal(err)
	}
	want, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]int{}
	last := map[string]int64{}
	for _, ev := range got {
		seen[ev.GetName()]++
		c := ev.GetName()[:strings.Index(ev.GetName(), "/events/")]
		if ev.GetVersion() <= last[c] {
			t.Errorf("%s came after version %d of its case", ev.GetName(), last[c])
		}
		last[c] = ev.GetVersion()
	}
	for _, n := range want {
		if seen[n] != 1 {
			t.Errorf("%s read %d times, want once", n, seen[n])
		}
		delete(seen, n)
	}
	for n := range seen {
		t.Errorf("%s read but not in scope", n)
	}
	if len(want) == 0 {
		t.Error("the history is empty: the test proves nothing")
	}
}

// TestCaseChangesFeedScopeAndTokens: a court reads the events of the
// cases it referred, oldest first, in small pages; every page has a token,
// also an empty one; a bad token or one made for another filter is
// INVALID_ARGUMENT.
func TestCaseChangesFeedScopeAndTokens(t *testing.T) {
	e := startWebhooks(t, func(o *server.WebhookOptions) { o.Deliver = false })
	var ours []string
	for n := range 3 {
		ours = append(ours, referCase(t, e, "甘1002", n))
		referCase(t, e, "甘1027", n)
	}
	for _, c := range ours {
		toAgreement(t, e, c)
	}
	desk := courtKey(t, e, "甘1002")
	r := &feedReader{e: e, ctx: as(context.Background(), desk), size: 4}
	r.drain(t)
	checkExactlyOnce(t, e, r.got, `case_id IN (SELECT id FROM cases WHERE court_code = '甘1002')`)
	// Nothing new: an empty page, and a token to poll with again.
	if n := r.poll(t); n != 0 {
		t.Errorf("a poll with nothing new read %d events", n)
	}
	// New events come after the token, also while an older transaction
	// (one that took its transaction id before the event's) is still
	// running: the feed holds them back until it ends, then returns them.
	before := len(r.got)
	older, err := e.store.Pool().Begin(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := older.Exec(context.Background(), `SELECT pg_current_xact_id()`); err != nil {
		t.Fatal(err)
	}
	if res := (grpcClient{e}).act(t, ours[0], caseworktest.Command(casework.ActionRequestConfirmation, 0), ""); res.st != nil {
		t.Fatal(res.st)
	}
	if n := r.poll(t); n != 0 {
		t.Errorf("the feed returned %d events while a transaction older than them was running", n)
	}
	time.AfterFunc(300*time.Millisecond, func() { _ = older.Rollback(context.Background()) })
	r.drain(t)
	if got := r.got[before:]; len(got) != 1 || got[0].GetAction() != mediationv1.CaseAction_CASE_ACTION_REQUEST_CONFIRMATION {
		t.Errorf("after a new event the feed read %v", got)
	}
	checkExactlyOnce(t, e, r.got, `case_id IN (SELECT id FROM cases WHERE court_code = '甘1002')`)

	// A filter; its token is refused with another filter.
	f := &feedReader{e: e, ctx: context.Background(), size: 2, filter: "action = RECORD_AGREEMENT"}
	f.drain(t)
	checkExactlyOnce(t, e, f.got, `action = 'recordAgreement'`)
	for _, bad := range []struct{ token, filter string }{
		{"not-a-token", ""},
		{f.token, ""},
		{r.token, "action = ACCEPT"},
		{"eyJ0IjoieCJ9", ""},
	} {
		_, err := feed(e).ListCaseChanges(context.Background(), &mediationv1.ListCaseChangesRequest{PageToken: bad.token, Filter: bad.filter})
		if code(err) != codes.InvalidArgument || !strings.Contains(err.Error(), "page_token") {
			t.Errorf("token %q with filter %q: %v, want INVALID_ARGUMENT naming page_token", bad.token, bad.filter, err)
		}
	}
	if _, err := feed(e).ListCaseChanges(context.Background(), &mediationv1.ListCaseChangesRequest{Filter: "phone = 1"}); code(err) != codes.InvalidArgument {
		t.Errorf("a filter on an unknown field: %v, want INVALID_ARGUMENT", err)
	}
}

// TestCaseChangesFeedUnderRacingWriters: a reader polling while 32
// writers race, some of whose transactions take their id early, sleep,
// and commit after later ones, reads every event exactly once.
func TestCaseChangesFeedUnderRacingWriters(t *testing.T) {
	e := startWebhooks(t, func(o *server.WebhookOptions) { o.Deliver = false })
	const writers = 32
	cases := make([]string, writers)
	for i := range cases {
		cases[i] = referCase(t, e, "甘1002", i)
	}
	reader := &feedReader{e: e, ctx: context.Background(), size: 7}
	var done atomic.Bool
	var wg sync.WaitGroup
	readerDone := make(chan struct{})
	go func() {
		defer close(readerDone)
		for !done.Load() {
			reader.poll(t)
		}
	}()
	var late atomic.Int32
	for i := range writers {
		wg.Go(func() {
			ctx := context.Background()
			for step, a := range caseworktest.PathTo(casework.StateAgreed) {
				if i%4 == 0 && step%2 == 1 {
					// A long transaction: it takes its id now, lets the others
					// write and commit, and commits its own event last.
					if err := slowChange(ctx, e, cases[i], time.Duration(100+20*(i%5))*time.Millisecond); err != nil {
						t.Errorf("slow change of %s: %v", cases[i], err)
						return
					}
					late.Add(1)
				}
				if res := (grpcClient{e}).act(t, cases[i], caseworktest.Command(a, 0), ""); res.st != nil {
					t.Errorf("%s %s: %v", cases[i], a, res.st)
					return
				}
			}
		})
	}
	wg.Wait()
	done.Store(true)
	<-readerDone
	reader.drain(t)
	if late.Load() == 0 {
		t.Fatal("no long transaction ran")
	}
	checkExactlyOnce(t, e, reader.got, `TRUE`)
}

// slowChange writes an update event on the case in a transaction that
// takes its transaction id first, sleeps, and then writes and commits:
// its event commits after events of transactions that began later.
func slowChange(ctx context.Context, e *env, name string, sleep time.Duration) error {
	return pgx.BeginFunc(ctx, e.store.Pool(), func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT pg_current_xact_id()`); err != nil {
			return err
		}
		time.Sleep(sleep)
		_, err := tx.Exec(ctx, `WITH upd AS (
				UPDATE cases SET version = version + 1, update_time = now() WHERE id = $1::uuid RETURNING id, region_code, version, state, outcome
			)
			INSERT INTO case_events (case_id, region_code, version, action, from_state, to_state, outcome, actor, occur_time, data)
			SELECT id, region_code, version, 'update', state, state, outcome, 'system', now(), '{"changed_fields": ["summary"]}' FROM upd`,
			strings.TrimPrefix(name, "cases/"))
		return err
	})
}
