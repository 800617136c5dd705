package checker_test

import (
	"context"
	"maps"
	"net"
	"os"
	"slices"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"

	"github.com/mediationd/mediationd/internal/auth"
	"github.com/mediationd/mediationd/internal/authn"
	"github.com/mediationd/mediationd/internal/checker"
	"github.com/mediationd/mediationd/internal/pgtest"
	"github.com/mediationd/mediationd/internal/server"
	"github.com/mediationd/mediationd/internal/store"
)

func TestMain(m *testing.M) {
	os.Exit(pgtest.Main(m, func(ctx context.Context, dsn string) error {
		_, err := store.Migrate(ctx, dsn, nil)
		return err
	}))
}

const adminPassword = "correct horse battery staple"

// startServer runs a server on a fresh database, without a rate limit,
// and returns its database, a connection to its gRPC listener and an
// administrator's token.
func startServer(t *testing.T) (dsn string, conns []*grpc.ClientConn, token string) {
	t.Helper()
	dsn = pgtest.NewDatabase(t)
	ctx, cancel := context.WithCancel(context.Background())
	st, err := store.Open(ctx, dsn, store.Options{MaxConns: 20})
	if err != nil {
		t.Fatal(err)
	}
	srv, err := server.New(ctx, server.Config{Store: st, Location: time.UTC, RateLimit: 0, OverdueInterval: -1})
	if err != nil {
		t.Fatal(err)
	}
	grpcLis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	httpLis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx, grpcLis, httpLis) }()
	conns, err = checker.Dial([]string{grpcLis.Addr().String()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		for _, c := range conns {
			c.Close()
		}
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("Serve: %v", err)
			}
		case <-time.After(30 * time.Second):
			t.Error("server did not stop within 30s")
		}
		st.Close()
	})
	u := store.User{Username: "checker-admin", DisplayName: "核查管理员", Role: auth.RoleAdmin}
	if _, err := st.CreateUser(ctx, u, authn.HashPassword(adminPassword), time.Now()); err != nil {
		t.Fatalf("create user: %v", err)
	}
	token, err = checker.SignIn(ctx, conns[0], u.Username, adminPassword)
	if err != nil {
		t.Fatal(err)
	}
	return dsn, conns, token
}

// run runs a small workload to the end and returns its record.
func run(t *testing.T, conns []*grpc.ClientConn, token string, o checker.Options) checker.Record {
	t.Helper()
	ctx, w := setUp(t, conns, token, o)
	if err := w.Run(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := w.Resolve(ctx); err != nil {
		t.Fatal(err)
	}
	return w.Record()
}

// setUp makes a workload with its cases registered, and a context that
// ends with the test or after two minutes.
func setUp(t *testing.T, conns []*grpc.ClientConn, token string, o checker.Options) (context.Context, *checker.Workload) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	t.Cleanup(cancel)
	o.Logf = t.Logf
	w, err := checker.New(conns, token, o)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Setup(ctx); err != nil {
		t.Fatal(err)
	}
	return ctx, w
}

func verify(t *testing.T, dsn string, rec checker.Record) *checker.Report {
	t.Helper()
	rep, err := checker.Verify(t.Context(), dsn, rec, checker.VerifyOptions{AllCases: true})
	if err != nil {
		t.Fatal(err)
	}
	return rep
}

// smallRun are the options of the tests' runs.
var smallRun = checker.Options{Workers: 8, Cases: 20, HotCases: 3, Actions: 1500, Duration: 20 * time.Second, Seed: 1}

// TestWorkloadPasses runs the workload against a correct service: the
// verifier must find nothing, and the run must have exercised what it
// claims to (contention, refusals of every kind, duplicates, unknown
// outcomes).
func TestWorkloadPasses(t *testing.T) {
	dsn, conns, token := startServer(t)
	start := time.Now()
	rec := run(t, conns, token, smallRun)
	t.Logf("workload took %v", time.Since(start).Round(time.Millisecond))
	rep := verify(t, dsn, rec)
	t.Log("\n" + rep.String())
	if !rep.OK() {
		t.Fatalf("violations against a correct service:\n%s", rep)
	}
	if rep.Actions < 300 || rep.Acked < 100 {
		t.Errorf("the run made %d action calls, %d acknowledged; want a busier run", rep.Actions, rep.Acked)
	}
	for _, code := range []string{"FailedPrecondition", "Aborted", "InvalidArgument"} {
		if rep.Refused[code] == 0 {
			t.Errorf("no call was refused with %s; the workload should provoke it", code)
		}
	}
	var duplicates, replays int
	for _, c := range rec.Creates {
		if c.Duplicate && !c.Altered && !c.Resolve {
			duplicates++
		}
	}
	seen := map[string]int64{}
	for _, c := range rec.Calls {
		if c.Outcome != checker.Acked || c.RequestID == "" {
			continue
		}
		key := c.Case + c.RequestID
		if v, ok := seen[key]; ok && v == c.EventVersion {
			replays++
		}
		seen[key] = c.EventVersion
	}
	if duplicates == 0 || replays == 0 {
		t.Errorf("%d duplicate registrations, %d replayed actions; the workload should send both", duplicates, replays)
	}
	if rep.Registrations != rep.Cases || rep.Cases < smallRun.Cases {
		t.Errorf("%d cases, %d registrations accounted for; want at least %d of each, equal", rep.Cases, rep.Registrations, smallRun.Cases)
	}
}

// tamper runs one statement on the database with triggers off (as
// replication does), so that it can do what the service's triggers
// forbid. It skips the test when the role may not do that.
func tamper(t *testing.T, dsn, sql string, args ...any) {
	t.Helper()
	ctx := t.Context()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "SET session_replication_role = replica"); err != nil {
		t.Skipf("cannot turn triggers off (needs a superuser): %v", err)
	}
	tag, err := conn.Exec(ctx, sql, args...)
	if err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
	if tag.RowsAffected() != 1 {
		t.Fatalf("%s changed %d rows, want 1", sql, tag.RowsAffected())
	}
}

// lastAcked returns the last acknowledged call of rec, for tampering with
// its case.
func lastAcked(t *testing.T, rec checker.Record, pred func(checker.Call) bool) checker.Call {
	t.Helper()
	for i := len(rec.Calls) - 1; i >= 0; i-- {
		if c := rec.Calls[i]; c.Outcome == checker.Acked && pred(c) {
			return c
		}
	}
	t.Fatal("no acknowledged call to tamper with")
	return checker.Call{}
}

// lastAckedAlone is the last acknowledged call whose request id no other
// call of the run carried.
func lastAckedAlone(t *testing.T, rec checker.Record) checker.Call {
	t.Helper()
	uses := map[string]int{}
	for _, c := range rec.Calls {
		uses[c.Case+" "+c.RequestID]++
	}
	return lastAcked(t, rec, func(c checker.Call) bool { return c.RequestID != "" && uses[c.Case+" "+c.RequestID] == 1 })
}

// withCalls returns a copy of rec in which change has rewritten every call
// with the case and request id of real.
func withCalls(rec checker.Record, real checker.Call, change func(*checker.Call)) checker.Record {
	forged := rec
	forged.Calls = nil
	for _, c := range rec.Calls {
		if c.Case == real.Case && c.RequestID == real.RequestID {
			change(&c)
		}
		forged.Calls = append(forged.Calls, c)
	}
	return forged
}

// reported holds the violations already seen, so that each step of a
// test looks only at what it added.
type reported map[string]bool

// checkNew fails the test unless the violations of rep that were not
// reported before fall in exactly the classes want.
func (seen reported) checkNew(t *testing.T, rep *checker.Report, want ...checker.Class) {
	t.Helper()
	classes := map[checker.Class]bool{}
	for _, v := range rep.Violations {
		if !seen[v.String()] {
			seen[v.String()] = true
			classes[v.Class] = true
		}
	}
	got := slices.Sorted(maps.Keys(classes))
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("new violation classes %v, want exactly %v:\n%s", got, want, rep)
	}
}

// TestVerifierFails proves that the verifier can fail: after a clean run,
// each kind of damage done to the database, or a fabricated
// acknowledgement, is reported as exactly its violation class.
func TestVerifierFails(t *testing.T) {
	dsn, conns, token := startServer(t)
	o := smallRun
	o.Actions, o.Seed = 600, 2
	rec := run(t, conns, token, o)
	if rep := verify(t, dsn, rec); !rep.OK() {
		t.Fatalf("violations before tampering:\n%s", rep)
	}

	t.Run("acknowledged action never happened", func(t *testing.T) {
		real := lastAcked(t, rec, func(checker.Call) bool { return true })
		fake := real
		fake.Seq, fake.EventVersion, fake.RequestID = 1<<40, real.EventVersion+1000, ""
		forged := rec
		forged.Calls = append(slices.Clone(rec.Calls), fake)
		rep := verify(t, dsn, forged)
		reported{}.checkNew(t, rep, checker.ClassAckLost)
	})

	t.Run("two calls told of one event", func(t *testing.T) {
		real := lastAcked(t, rec, func(c checker.Call) bool { return c.RequestID == "" })
		twin := real
		twin.Seq = 1 << 41
		forged := rec
		forged.Calls = append(slices.Clone(rec.Calls), twin)
		rep := verify(t, dsn, forged)
		reported{}.checkNew(t, rep, checker.ClassAckShared)
	})

	t.Run("a refused request left a trace", func(t *testing.T) {
		real := lastAckedAlone(t, rec)
		forged := withCalls(rec, real, func(c *checker.Call) {
			c.Outcome, c.Code, c.EventVersion = checker.Refused, 9, 0 // FAILED_PRECONDITION
		})
		rep := verify(t, dsn, forged)
		reported{}.checkNew(t, rep, checker.ClassRefusedTrace)
	})

	t.Run("an applied change said to have written nothing", func(t *testing.T) {
		// What a service that told a connection lost at COMMIT from one lost
		// before it would be caught saying: UNAVAILABLE with
		// DATABASE_UNAVAILABLE for an action that was made.
		real := lastAckedAlone(t, rec)
		forge := func(reason string) checker.Record {
			return withCalls(rec, real, func(c *checker.Call) {
				c.Outcome, c.Code, c.Reason, c.EventVersion = checker.Refused, codes.Unavailable, reason, 0
				if reason == checker.ReasonOutcomeUnknown {
					c.Outcome = checker.Unknown
				}
			})
		}
		reported{}.checkNew(t, verify(t, dsn, forge(checker.ReasonNothingWritten)), checker.ClassRefusedTrace)
		// Told as of unknown outcome, the same call is no violation.
		if rep := verify(t, dsn, forge(checker.ReasonOutcomeUnknown)); !rep.OK() || rep.UnknownLanded == 0 {
			t.Errorf("a change of unknown outcome that landed: want no violation and it counted as landed:\n%s", rep)
		}
	})

	t.Run("a change said to have written nothing, then replayed by a retry", func(t *testing.T) {
		// The call that made the change is told DATABASE_UNAVAILABLE; a
		// retry with its request id after the run gets the first result.
		// The retry's acknowledgement must not hide the first answer.
		real := lastAckedAlone(t, rec)
		forged := withCalls(rec, real, func(c *checker.Call) {
			c.Outcome, c.Code, c.Reason, c.EventVersion = checker.Refused, codes.Unavailable, checker.ReasonNothingWritten, 0
		})
		retry := real
		retry.Seq, retry.Worker, retry.Resolve = 1<<42, -1, true
		retry.Start, retry.End = real.End.Add(time.Second), real.End.Add(time.Second+time.Millisecond)
		forged.Calls = append(forged.Calls, retry)
		reported{}.checkNew(t, verify(t, dsn, forged), checker.ClassRefusedTrace)

		// The same for a registration.
		var made checker.CreateCall
		for _, c := range rec.Creates {
			if c.Outcome == checker.Acked && !c.Altered && !c.Duplicate && !c.Concurrent {
				made = c
			}
		}
		if made.RequestID == "" {
			t.Fatal("no acknowledged registration to forge")
		}
		forged = rec
		forged.Creates = nil
		for _, c := range rec.Creates {
			if c.RequestID == made.RequestID {
				c.Outcome, c.Code, c.Reason = checker.Refused, codes.Unavailable, checker.ReasonNothingWritten
			}
			forged.Creates = append(forged.Creates, c)
		}
		again := made
		again.Seq, again.Worker, again.Resolve = 1<<42, -1, true
		again.Start, again.End = made.End.Add(time.Second), made.End.Add(time.Second+time.Millisecond)
		forged.Creates = append(forged.Creates, again)
		reported{}.checkNew(t, verify(t, dsn, forged), checker.ClassRefusedTrace)
	})

	// The remaining cases change the database, each on a case of its own.
	used := map[string]bool{}
	seen := reported{}
	fresh := func(c checker.Call) bool { return !used[c.Case] }

	t.Run("outbox row deleted", func(t *testing.T) {
		c := lastAcked(t, rec, fresh)
		used[c.Case] = true
		tamper(t, dsn, `DELETE FROM outbox WHERE case_id = $1::uuid AND case_version = $2`, c.Case[len("cases/"):], c.EventVersion)
		seen.checkNew(t, verify(t, dsn, rec), checker.ClassOutbox)
	})

	t.Run("case state changed behind the history", func(t *testing.T) {
		c := lastAcked(t, rec, fresh)
		used[c.Case] = true
		// Each change keeps the table's check constraints.
		tamper(t, dsn, `UPDATE cases SET
			state = CASE WHEN state = 'CLOSED' THEN state WHEN state = 'INTAKE' THEN 'CLOSED' ELSE 'INTAKE' END,
			outcome = CASE WHEN outcome = 'WITHDRAWN' THEN 'REJECTED' WHEN outcome <> '' THEN 'WITHDRAWN' WHEN state = 'INTAKE' THEN 'WITHDRAWN' ELSE '' END,
			close_time = CASE WHEN state = 'INTAKE' THEN now() ELSE close_time END
			WHERE id = $1::uuid`, c.Case[len("cases/"):])
		seen.checkNew(t, verify(t, dsn, rec), checker.ClassFold)
	})

	t.Run("extra event version", func(t *testing.T) {
		var open []string
		for _, c := range rec.Calls {
			if c.Outcome == checker.Acked && !used[c.Case] {
				open = append(open, c.Case[len("cases/"):])
			}
		}
		var id string
		conn, err := pgx.Connect(t.Context(), dsn)
		if err != nil {
			t.Fatal(err)
		}
		err = conn.QueryRow(t.Context(), `SELECT id::text FROM cases WHERE state <> 'CLOSED' AND id = ANY($1::text[]::uuid[]) LIMIT 1`, open).Scan(&id)
		conn.Close(t.Context())
		if err != nil {
			t.Fatalf("find an open case: %v", err)
		}
		used["cases/"+id] = true
		tamper(t, dsn, `INSERT INTO case_events (case_id, region_code, version, action, from_state, to_state, outcome, actor, occur_time)
			SELECT id, region_code, version + 1, 'update', state, state, outcome, 'users/mallory', now() FROM cases
			WHERE id = $1::uuid`, id)
		seen.checkNew(t, verify(t, dsn, rec), checker.ClassVersions, checker.ClassOutbox, checker.ClassUnaccounted, checker.ClassAudit)
	})

	t.Run("duplicate registration", func(t *testing.T) {
		var rid string
		for _, c := range rec.Creates {
			if c.Outcome == checker.Acked && !used[c.Case] {
				rid = c.RequestID
				used[c.Case] = true
				break
			}
		}
		if rid == "" {
			t.Fatal("no acknowledged registration")
		}
		// A second case carrying the same registration request id, with a
		// history and outbox row of its own.
		ctx := t.Context()
		conn, err := pgx.Connect(ctx, dsn)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close(ctx)
		if _, err := conn.Exec(ctx, "SET session_replication_role = replica"); err != nil {
			t.Skipf("cannot turn triggers off (needs a superuser): %v", err)
		}
		copyID := "0190a000-0000-7000-8000-000000000001"
		for _, step := range []struct {
			sql  string
			args []any
		}{
			{`INSERT INTO cases (id, case_number, version, state, dispute_type, source, summary, region_code, parties, create_time, update_time)
				SELECT $1::uuid, case_number || '-copy', 1, 'INTAKE', dispute_type, source, summary, region_code, parties, create_time, update_time
				FROM cases WHERE id = (SELECT case_id FROM case_create_requests WHERE request_id = $2::uuid)`, []any{copyID, rid}},
			{`INSERT INTO case_events (case_id, region_code, version, action, from_state, to_state, outcome, actor, occur_time, request_id)
				SELECT $1::uuid, region_code, 1, 'create', '', 'INTAKE', '', actor, occur_time, request_id FROM case_events
				WHERE request_id = $2::uuid AND version = 1`, []any{copyID, rid}},
			{`INSERT INTO outbox (case_id, region_code, case_version, topic, payload, create_time)
				SELECT id, region_code, 1, 'case.create', '{}', now() FROM cases WHERE id = $1::uuid`, []any{copyID}},
			{`INSERT INTO audit_events (event_time, kind, actor, method, resource, region_code)
				SELECT now(), 'WRITE', actor, '/mediation.v1.CaseService/CreateCase', 'cases/' || $1::text, region_code FROM case_events
				WHERE request_id = $2::uuid AND version = 1 AND case_id <> $1::text::uuid`, []any{copyID, rid}},
		} {
			if tag, err := conn.Exec(ctx, step.sql, step.args...); err != nil || tag.RowsAffected() != 1 {
				t.Fatalf("%s: %v (%d rows)", step.sql, err, tag.RowsAffected())
			}
		}
		seen.checkNew(t, verify(t, dsn, rec), checker.ClassCreate)
	})

	// Everything found above, and only that.
	rep := verify(t, dsn, rec)
	t.Logf("after tampering:\n%s", rep)
	if got := len(rep.Violations); got < 5 {
		t.Errorf("%d violations after tampering with four cases and adding one; want them all reported", got)
	}
}
