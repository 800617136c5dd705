package store_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"

	"github.com/mediationd/mediationd/internal/api"
	"github.com/mediationd/mediationd/internal/casework"
	"github.com/mediationd/mediationd/internal/casework/caseworktest"
	"github.com/mediationd/mediationd/internal/store"
)

// reason is the ErrorInfo reason of the status err maps to, with its code.
func reason(err error) (codes.Code, string) {
	st := api.ToStatus(err)
	for _, d := range st.Details() {
		if info, ok := d.(*errdetails.ErrorInfo); ok {
			return st.Code(), info.GetReason()
		}
	}
	return st.Code(), ""
}

// pgProxy forwards TCP connections to a PostgreSQL server and can cut a
// connection right after a change was sent, once the server had time to
// commit it, without passing the answer on: the client sees its
// connection lost with the change committed.
type pgProxy struct {
	ln              net.Listener
	network, target string
	// cutOn, when set, is text: the next client message carrying it (as
	// SQL or a parameter's value) and an Execute is forwarded, its answer swallowed, and the
	// connection closed.
	cutOn atomic.Pointer[string]
	cut   chan struct{} // receives once per cut

	mu    sync.Mutex
	conns []net.Conn
}

func newPGProxy(t *testing.T, network, target string) *pgProxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &pgProxy{ln: ln, network: network, target: target, cut: make(chan struct{}, 1)}
	go p.serve()
	t.Cleanup(func() {
		ln.Close()
		p.closeAll()
	})
	return p
}

// waitCut waits for the cut the call that returned err should have made.
func (p *pgProxy) waitCut(t *testing.T, err error) {
	t.Helper()
	select {
	case <-p.cut:
	case <-time.After(5 * time.Second):
		t.Fatalf("the proxy cut no connection; the call returned %v", err)
	}
}

func (p *pgProxy) addr() string { return p.ln.Addr().String() }

// closeAll drops every connection, as a primary that dies does.
func (p *pgProxy) closeAll() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, c := range p.conns {
		c.Close()
	}
	p.conns = nil
}

func (p *pgProxy) serve() {
	for {
		client, err := p.ln.Accept()
		if err != nil {
			return
		}
		server, err := net.Dial(p.network, p.target)
		if err != nil {
			client.Close()
			continue
		}
		p.mu.Lock()
		p.conns = append(p.conns, client, server)
		p.mu.Unlock()
		var swallow atomic.Bool
		go func() {
			// Server to client, unless the answer is to be swallowed.
			buf := make([]byte, 32<<10)
			for {
				n, err := server.Read(buf)
				if n > 0 && !swallow.Load() {
					if _, werr := client.Write(buf[:n]); werr != nil {
						return
					}
				}
				if err != nil {
					client.Close()
					return
				}
			}
		}()
		go func() {
			// Client to server, message by message after the startup
			// message, so that the change to cut on is recognised.
			defer server.Close()
			var hdr [4]byte
			if _, err := io.ReadFull(client, hdr[:]); err != nil {
				return
			}
			startup := make([]byte, binary.BigEndian.Uint32(hdr[:])-4)
			if _, err := io.ReadFull(client, startup); err != nil {
				return
			}
			if _, err := server.Write(append(hdr[:], startup...)); err != nil {
				return
			}
			var batch bytes.Buffer
			for {
				var h [5]byte
				if _, err := io.ReadFull(client, h[:]); err != nil {
					return
				}
				body := make([]byte, binary.BigEndian.Uint32(h[1:])-4)
				if _, err := io.ReadFull(client, body); err != nil {
					return
				}
				batch.Write(h[:])
				batch.Write(body)
				if h[0] != 'S' && h[0] != 'Q' && h[0] != 'X' && h[0] != 'H' {
					continue // the batch goes out at its Sync
				}
				msg := batch.Bytes()
				cutOn := p.cutOn.Load()
				cutting := cutOn != nil && bytes.Contains(msg, []byte(*cutOn)) && bytes.Contains(msg, []byte{'E', 0, 0, 0, 9, 0})
				if cutting {
					p.cutOn.Store(nil)
					swallow.Store(true)
				}
				if _, err := server.Write(msg); err != nil {
					return
				}
				batch.Reset()
				if cutting {
					time.Sleep(500 * time.Millisecond) // the server commits meanwhile
					client.Close()
					p.cut <- struct{}{}
					return
				}
			}
		}()
	}
}

// viaProxy is the test database's DSN through the proxy, and the proxy.
func viaProxy(t *testing.T, dsn string) (string, *pgProxy) {
	t.Helper()
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		t.Fatal(err)
	}
	network, target := "tcp", net.JoinHostPort(cfg.Host, fmt.Sprint(cfg.Port))
	if strings.HasPrefix(cfg.Host, "/") {
		network, target = "unix", fmt.Sprintf("%s/.s.PGSQL.%d", cfg.Host, cfg.Port)
	}
	p := newPGProxy(t, network, target)
	u.Host = p.addr()
	q := u.Query()
	q.Set("sslmode", "disable")
	q.Del("host")
	q.Del("port")
	u.RawQuery = q.Encode()
	return u.String(), p
}

func openStore(t *testing.T, dsn string, maxConns int32) *store.Store {
	t.Helper()
	st, err := store.Open(context.Background(), dsn, store.Options{MaxConns: maxConns})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(st.Close)
	return st
}

// TestCommitOutcomeUnknownAndRetry: a connection lost after an action was
// sent and committed is reported as COMMIT_OUTCOME_UNKNOWN (UNAVAILABLE),
// and a retry with the same request id returns the first result instead
// of acting again; the same for a registration.
func TestCommitOutcomeUnknownAndRetry(t *testing.T) {
	direct, dsn := newCaseStore(t)
	ctx := context.Background()
	proxied, proxy := viaProxy(t, dsn)
	st := openStore(t, proxied, 1)

	warm, target := bring(t, direct, casework.StateIntake), bring(t, direct, casework.StateIntake)
	// The first action on the connection prepares the statements; the cut
	// must fall on the execution of the one that changes the case.
	if _, _, _, err := applyAction(st, ctx, warm.ID, 0, caseworktest.Command(casework.ActionAccept, 0)); err != nil {
		t.Fatal(err)
	}

	cmd := caseworktest.Command(casework.ActionAccept, 0)
	cmd.RequestID = uuid.NewString()
	marker := "case.accept" // the outbox topic: a value only the change sends
	proxy.cutOn.Store(&marker)
	_, _, _, err := applyAction(st, ctx, target.ID, 0, cmd)
	proxy.waitCut(t, err)
	if !errors.Is(err, store.ErrCommitOutcomeUnknown) {
		t.Fatalf("action whose connection was cut after it was sent: %v, want ErrCommitOutcomeUnknown", err)
	}
	if code, r := reason(err); code != codes.Unavailable || r != "COMMIT_OUTCOME_UNKNOWN" {
		t.Errorf("maps to %v %s, want UNAVAILABLE COMMIT_OUTCOME_UNKNOWN", code, r)
	}
	if msg := api.ToStatus(err).Message(); !strings.Contains(msg, "same requestId is safe") {
		t.Errorf("message %q does not say a retry with the same requestId is safe", msg)
	}
	got, err := direct.GetCase(ctx, target.ID)
	if err != nil || got.State != casework.StateAccepted || got.Version != 2 {
		t.Fatalf("the cut action was committed: case %v version %d (%v), want ACCEPTED version 2", got.State, got.Version, err)
	}
	// The pool replaces the lost connection by itself; the retry returns
	// the first result.
	_, ev, replayed, err := applyAction(st, ctx, target.ID, 0, cmd)
	if err != nil || !replayed || ev.Version != 2 || ev.Action != casework.ActionAccept {
		t.Fatalf("retry with the same request id: %v replayed=%v event %+v, want the first result (version 2)", err, replayed, ev)
	}
	var events int
	if err := direct.Pool().QueryRow(ctx, `SELECT count(*) FROM case_events WHERE case_id = $1`, target.ID).Scan(&events); err != nil || events != 2 {
		t.Errorf("events of the case = %d (%v), want 2: applied once", events, err)
	}

	// A registration cut the same way.
	rid := uuid.NewString()
	n := caseworktest.NewCase("楼上漏水，请求赔偿")
	marker = n.Summary
	proxy.cutOn.Store(&marker)
	_, _, err = st.CreateCase(ctx, store.CreateParams{New: n, ID: uuid.Must(uuid.NewV7()), Actor: "tester", RequestID: rid, Now: t0, Year: 2026})
	proxy.waitCut(t, err)
	if code, r := reason(err); !errors.Is(err, store.ErrCommitOutcomeUnknown) || code != codes.Unavailable || r != "COMMIT_OUTCOME_UNKNOWN" {
		t.Fatalf("registration cut after it was sent: %v (%v %s), want COMMIT_OUTCOME_UNKNOWN", err, code, r)
	}
	c, replayed, err := st.CreateCase(ctx, store.CreateParams{New: n, ID: uuid.Must(uuid.NewV7()), Actor: "tester", RequestID: rid, Now: t0, Year: 2026})
	if err != nil || !replayed {
		t.Fatalf("registration retried: %v replayed=%v, want the first case", err, replayed)
	}
	var made int
	if err := direct.Pool().QueryRow(ctx, `SELECT count(*) FROM case_create_requests r JOIN cases c ON c.id = r.case_id WHERE r.request_id = $1 AND c.id = $2`,
		rid, c.ID).Scan(&made); err != nil || made != 1 {
		t.Errorf("the retry returned %s, which the request id did not make (%d, %v)", c.ID, made, err)
	}
}

// dieOn installs a trigger that ends its own backend, as a crash or a
// fast shutdown would, when a row goes into table: at once, or at COMMIT
// (deferred).
func dieOn(t *testing.T, st *store.Store, table string, atCommit bool) {
	t.Helper()
	ctx := context.Background()
	timing := ""
	if atCommit {
		timing = "DEFERRABLE INITIALLY DEFERRED"
	}
	for _, sql := range []string{
		`CREATE OR REPLACE FUNCTION test_die() RETURNS trigger LANGUAGE plpgsql AS $$
		BEGIN PERFORM pg_terminate_backend(pg_backend_pid()); PERFORM pg_sleep(5); RETURN NULL; END $$`,
		`DROP TRIGGER IF EXISTS test_die ON ` + table,
		`CREATE CONSTRAINT TRIGGER test_die AFTER INSERT ON ` + table + ` ` + timing + ` FOR EACH ROW EXECUTE FUNCTION test_die()`,
	} {
		if _, err := st.Pool().Exec(ctx, sql); err != nil {
			t.Fatal(err)
		}
	}
}

// TestBackendKilledDuringChange: a backend killed while a change runs
// (inside a transaction, at its COMMIT, or in a one-statement action) never
// gives INTERNAL: before the COMMIT nothing was written, which the caller
// is told (DATABASE_UNAVAILABLE); at the COMMIT or in the action's own
// statement the outcome is unknown (COMMIT_OUTCOME_UNKNOWN), and the retry
// with the request id acts once.
func TestBackendKilledDuringChange(t *testing.T) {
	st, _ := newCaseStore(t)
	ctx := context.Background()
	if _, err := st.Pool().Exec(ctx, `CREATE TABLE test_t (x int)`); err != nil {
		t.Fatal(err)
	}

	dieOn(t, st, "test_t", false)
	err := st.InTx(ctx, func(tx pgx.Tx) error {
		_, err := tx.Exec(ctx, `INSERT INTO test_t VALUES (1)`)
		return err
	})
	if code, r := reason(err); errors.Is(err, store.ErrCommitOutcomeUnknown) || code != codes.Unavailable || r != "DATABASE_UNAVAILABLE" {
		t.Errorf("backend killed by a statement inside a transaction: %v (%v %s), want DATABASE_UNAVAILABLE", err, code, r)
	}

	dieOn(t, st, "test_t", true)
	err = st.InTx(ctx, func(tx pgx.Tx) error {
		_, err := tx.Exec(ctx, `INSERT INTO test_t VALUES (2)`)
		return err
	})
	if code, r := reason(err); !errors.Is(err, store.ErrCommitOutcomeUnknown) || code != codes.Unavailable || r != "COMMIT_OUTCOME_UNKNOWN" {
		t.Errorf("backend killed at COMMIT: %v (%v %s), want COMMIT_OUTCOME_UNKNOWN", err, code, r)
	}
	var rows int
	if err := st.Pool().QueryRow(ctx, `SELECT count(*) FROM test_t`).Scan(&rows); err != nil || rows != 0 {
		t.Errorf("test_t holds %d rows (%v), want 0", rows, err)
	}

	c := bring(t, st, casework.StateIntake)
	dieOn(t, st, "case_events", false)
	cmd := caseworktest.Command(casework.ActionAccept, 0)
	cmd.RequestID = uuid.NewString()
	_, _, _, err = applyAction(st, ctx, c.ID, 0, cmd)
	if code, r := reason(err); !errors.Is(err, store.ErrCommitOutcomeUnknown) || code != codes.Unavailable || r != "COMMIT_OUTCOME_UNKNOWN" {
		t.Errorf("backend killed in an action's statement: %v (%v %s), want COMMIT_OUTCOME_UNKNOWN", err, code, r)
	}
	if _, err := st.Pool().Exec(ctx, `DROP TRIGGER test_die ON case_events`); err != nil {
		t.Fatal(err)
	}
	_, ev, replayed, err := applyAction(st, ctx, c.ID, 0, cmd)
	if err != nil || replayed || ev.Version != 2 {
		t.Fatalf("retry of an action that was not committed: %v replayed=%v version %d, want it applied now as version 2", err, replayed, ev.Version)
	}
	if _, ev2, replayed, err := applyAction(st, ctx, c.ID, 0, cmd); err != nil || !replayed || ev2.Version != 2 {
		t.Errorf("second retry: %v replayed=%v version %d, want the first result", err, replayed, ev2.Version)
	}
}

// TestStandbyAndMultiHostURL: a database that answers read-only (a
// standby, or a demoted primary) refuses changes with UNAVAILABLE and
// writes nothing; a multi-host URL with target_session_attrs=read-write
// skips a dead host and a read-only one, reports UNAVAILABLE while no host
// is writable, and the same pool reconnects by itself once one is,
// also after every connection it had was dropped.
func TestStandbyAndMultiHostURL(t *testing.T) {
	direct, dsn := newCaseStore(t)
	ctx := context.Background()
	cfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		t.Fatal(err)
	}
	var dead net.ListenConfig
	ln, err := dead.Listen(ctx, "tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	deadAddr := ln.Addr().String()
	ln.Close() // nothing listens there now

	proxied, proxy := viaProxy(t, dsn)
	u, _ := url.Parse(proxied)
	u.Host = deadAddr + "," + u.Host
	q := u.Query()
	q.Set("target_session_attrs", "read-write")
	q.Set("connect_timeout", "2")
	u.RawQuery = q.Encode()
	st := openStore(t, u.String(), 2)
	n := caseworktest.NewCase("楼上漏水，请求赔偿")
	newCase := func() (casework.Case, error) {
		c, _, err := st.CreateCase(ctx, store.CreateParams{New: n, ID: uuid.Must(uuid.NewV7()), Actor: "tester", Now: t0, Year: 2026})
		return c, err
	}
	if _, err := newCase(); err != nil {
		t.Fatalf("a multi-host URL whose first host is dead: %v", err)
	}

	// The database turns read-only under the open connections: a demoted
	// primary. (direct's connections opened from then on are read-only
	// too: what the test writes through it, it writes before, or in a
	// READ WRITE transaction.)
	c := bring(t, direct, casework.StateIntake)
	dbName := pgx.Identifier{cfg.Database}.Sanitize()
	readWrite := func(sql string) error {
		return pgx.BeginTxFunc(context.Background(), direct.Pool(), pgx.TxOptions{AccessMode: pgx.ReadWrite}, func(tx pgx.Tx) error {
			_, err := tx.Exec(context.Background(), sql)
			return err
		})
	}
	if err := readWrite(`ALTER DATABASE ` + dbName + ` SET default_transaction_read_only = on`); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { readWrite(`ALTER DATABASE ` + dbName + ` RESET default_transaction_read_only`) })
	ro := openStore(t, proxied, 1) // no target_session_attrs: it connects to the "standby"
	before := counts(t, direct)
	_, _, err = ro.CreateCase(ctx, store.CreateParams{New: n, ID: uuid.Must(uuid.NewV7()), Actor: "tester", Now: t0, Year: 2026})
	if code, r := reason(err); !store.ReadOnly(err) || errors.Is(err, store.ErrCommitOutcomeUnknown) || code != codes.Unavailable || r != "DATABASE_UNAVAILABLE" {
		t.Errorf("a change on a read-only database: %v (%v %s), want UNAVAILABLE DATABASE_UNAVAILABLE", err, code, r)
	} else if msg := api.ToStatus(err).Message(); !strings.Contains(msg, "read-only standby") || !strings.Contains(msg, "nothing was written") {
		t.Errorf("message %q does not say a standby answered and nothing was written", msg)
	}
	before = counts(t, direct)
	_, _, _, err = applyAction(ro, ctx, c.ID, 0, caseworktest.Command(casework.ActionAccept, 0))
	if code, r := reason(err); code != codes.Unavailable || r != "DATABASE_UNAVAILABLE" {
		t.Errorf("an action on a read-only database: %v (%v %s), want UNAVAILABLE DATABASE_UNAVAILABLE", err, code, r)
	}
	if got := counts(t, direct); got != before {
		t.Errorf("refused changes wrote: cases, events, outbox %v, then %v", before, got)
	}

	// Every connection dies: with no writable host left, the multi-host
	// store refuses with UNAVAILABLE, never INTERNAL. The first change
	// goes out on a connection whose server is gone without a word (the
	// pool cannot know before it writes): its outcome is unknown to the
	// store, and the pool drops its other connections; after that, nothing
	// is sent, and the answer is that nothing was written.
	proxy.closeAll()
	for i := 0; i < 4; i++ {
		_, err := newCase()
		code, r := reason(err)
		if code != codes.Unavailable || (r != "DATABASE_UNAVAILABLE" && (i > 0 || r != "COMMIT_OUTCOME_UNKNOWN")) {
			t.Fatalf("attempt %d with no writable host: %v (%v %s), want UNAVAILABLE DATABASE_UNAVAILABLE", i+1, err, code, r)
		}
	}
	if _, err := st.GetCase(ctx, c.ID); err == nil {
		t.Error("a read through target_session_attrs=read-write with no writable host succeeded")
	} else if code, _ := reason(err); code != codes.Unavailable {
		t.Errorf("a read with no writable host: %v, want UNAVAILABLE", code)
	}

	// A writable primary again: the same pool gets there by itself.
	if err := readWrite(`ALTER DATABASE ` + dbName + ` RESET default_transaction_read_only`); err != nil {
		t.Fatal(err)
	}
	if _, err := newCase(); err != nil {
		t.Fatalf("after the database is writable again: %v", err)
	}
}

// TestDurability: the service reads whether commits wait for a standby;
// the test server has none, and the advice says what to set.
func TestDurability(t *testing.T) {
	st, _ := newStore(t)
	d, err := st.Durability(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if d.Replicated || d.SynchronousStandbyNames != "" || d.SynchronousCommit == "" {
		t.Errorf("the test server: %+v, want no standby names, not replicated", d)
	}
	for _, want := range []string{"synchronous_standby_names is empty", "synchronous_mode: true", "synchronous_mode_strict: true", "synchronous_commit: on"} {
		if !strings.Contains(d.Advice(), want) {
			t.Errorf("advice %q does not say %q", d.Advice(), want)
		}
	}
	local := store.Durability{SynchronousCommit: "local", SynchronousStandbyNames: `"node2"`}
	if !strings.Contains(local.Advice(), `synchronous_commit is "local"`) {
		t.Errorf("advice for synchronous_commit=local: %q", local.Advice())
	}
	if (store.Durability{Replicated: true}).Advice() != "" {
		t.Error("advice given where commits wait for a standby")
	}
}

// TestDeadlineDoesNotCancelASentChange: a request whose deadline passes
// while its change waits in the database is told the outcome is unknown,
// and the change is not cancelled: it goes on and is made once the
// database can (here, once a row lock is released). A cancel would reach
// a commit waiting for its synchronous standby too, and make it visible on
// the primary alone. The retry with the request id then returns the first
// result.
func TestDeadlineDoesNotCancelASentChange(t *testing.T) {
	st, _ := newCaseStore(t)
	ctx := context.Background()
	c := bring(t, st, casework.StateIntake)
	lock := lockCase(t, st, c.ID)

	cmd := caseworktest.Command(casework.ActionAccept, 0)
	cmd.RequestID = uuid.NewString()
	err := acceptPastDeadline(st, c.ID, cmd)
	if code, r := reason(err); !errors.Is(err, store.ErrCommitOutcomeUnknown) || code != codes.Unavailable || r != "COMMIT_OUTCOME_UNKNOWN" {
		t.Fatalf("deadline passed while the action waited for a lock: %v (%v %s), want COMMIT_OUTCOME_UNKNOWN", err, code, r)
	}

	// The action's statement still waits for the lock: nothing cancelled it.
	time.Sleep(500 * time.Millisecond) // longer than a cancel request takes to land
	var waiting int
	if err := lock.QueryRow(ctx, `SELECT count(*) FROM pg_stat_activity
		WHERE datname = current_database() AND pid <> pg_backend_pid() AND wait_event_type = 'Lock' AND query LIKE '%case_events%'`).Scan(&waiting); err != nil {
		t.Fatal(err)
	}
	if waiting != 1 {
		t.Fatalf("%d action statements wait for the lock after the caller's deadline, want 1 (it was cancelled)", waiting)
	}
	if err := lock.Rollback(ctx); err != nil {
		t.Fatal(err)
	}
	eventually(t, caseAt(st, c.ID, 2))
	if _, ev, replayed, err := applyAction(st, ctx, c.ID, 0, cmd); err != nil || !replayed || ev.Version != 2 {
		t.Errorf("retry with the request id: %v replayed=%v version %d, want the first result (version 2)", err, replayed, ev.Version)
	}
}

// caseAt is a condition for eventually: the case is at version.
func caseAt(st *store.Store, id uuid.UUID, version int64) func() (bool, string) {
	return func() (bool, string) {
		got, err := st.GetCase(context.Background(), id)
		return err == nil && got.Version == version, fmt.Sprintf("case at version %d (%v), want %d: the change left waiting made once the lock went", got.Version, err, version)
	}
}

// TestCloseLeavesAWaitingChangeToTheDatabase: Close waits a while for a
// change in flight, then returns without cancelling it (the process's exit
// closes its connection, which does not cancel the statement); the change
// is made once the database can.
func TestCloseLeavesAWaitingChangeToTheDatabase(t *testing.T) {
	direct, dsn := newCaseStore(t)
	ctx := context.Background()
	c := bring(t, direct, casework.StateIntake)
	st, err := store.Open(ctx, dsn, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	store.SetCloseWait(st, 200*time.Millisecond)
	lock := lockCase(t, direct, c.ID)
	if err := acceptPastDeadline(st, c.ID, caseworktest.Command(casework.ActionAccept, 0)); !errors.Is(err, store.ErrCommitOutcomeUnknown) {
		t.Fatalf("deadline passed while the action waited for a lock: %v, want ErrCommitOutcomeUnknown", err)
	}
	closed := make(chan struct{})
	go func() { st.Close(); close(closed) }()
	select {
	case <-closed:
	case <-time.After(5 * time.Second):
		t.Fatal("Close still waits 5 s later for the change in flight (it should give up after 200 ms)")
	}
	if err := lock.Rollback(ctx); err != nil {
		t.Fatal(err)
	}
	eventually(t, caseAt(direct, c.ID, 2))
}

// TestCommitOfATransactionIsNotCancelled: InTx's COMMIT is not cancelled
// by the caller's deadline either (here a deferred trigger makes the
// COMMIT wait for an advisory lock, as a commit waits for its standby).
func TestCommitOfATransactionIsNotCancelled(t *testing.T) {
	st, _ := newCaseStore(t)
	ctx := context.Background()
	if _, err := st.Pool().Exec(ctx, `CREATE TABLE test_c (x int);
		CREATE FUNCTION test_wait() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN PERFORM pg_advisory_xact_lock(4242); RETURN NULL; END $$;
		CREATE CONSTRAINT TRIGGER test_wait AFTER INSERT ON test_c DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION test_wait()`); err != nil {
		t.Fatal(err)
	}
	lock, err := st.Pool().Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer lock.Rollback(ctx)
	if _, err := lock.Exec(ctx, `SELECT pg_advisory_xact_lock(4242)`); err != nil {
		t.Fatal(err)
	}
	short, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
	err = st.InTx(short, func(tx pgx.Tx) error {
		_, err := tx.Exec(short, `INSERT INTO test_c VALUES (1)`)
		return err
	})
	cancel()
	if code, r := reason(err); !errors.Is(err, store.ErrCommitOutcomeUnknown) || code != codes.Unavailable || r != "COMMIT_OUTCOME_UNKNOWN" {
		t.Fatalf("deadline passed while the COMMIT waited: %v (%v %s), want COMMIT_OUTCOME_UNKNOWN", err, code, r)
	}
	time.Sleep(500 * time.Millisecond) // longer than a cancel request takes to land
	if err := lock.Rollback(ctx); err != nil {
		t.Fatal(err)
	}
	eventually(t, func() (bool, string) {
		var n int
		err := st.Pool().QueryRow(ctx, `SELECT count(*) FROM test_c`).Scan(&n)
		return err == nil && n == 1, fmt.Sprintf("test_c holds %d rows (%v), want the transaction committed once the lock went (1 row)", n, err)
	})
}

// TestChangesLeftWaitingAreBounded: changes whose callers left while the
// database did not finish them take at most half the pool; past that a
// change is refused before it is sent (DATABASE_UNAVAILABLE, nothing
// written), and reads still get connections. Once the database finishes
// them, changes are taken again.
func TestChangesLeftWaitingAreBounded(t *testing.T) {
	direct, dsn := newCaseStore(t)
	ctx := context.Background()
	stuck := bring(t, direct, casework.StateIntake)
	other := bring(t, direct, casework.StateIntake)
	st, err := store.Open(ctx, dsn, store.Options{MaxConns: 2}) // room for one change left waiting
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()

	lock := lockCase(t, direct, stuck.ID)
	if err := acceptPastDeadline(st, stuck.ID, caseworktest.Command(casework.ActionAccept, 0)); !errors.Is(err, store.ErrCommitOutcomeUnknown) {
		t.Fatalf("deadline passed while the action waited for a lock: %v, want ErrCommitOutcomeUnknown", err)
	}

	_, _, _, err = applyAction(st, ctx, other.ID, 0, caseworktest.Command(casework.ActionAccept, 0))
	if code, r := reason(err); code != codes.Unavailable || r != "DATABASE_UNAVAILABLE" || !strings.Contains(err.Error(), "still wait") {
		t.Fatalf("a change while one is left waiting with a pool of 2: %v (%v %s), want DATABASE_UNAVAILABLE saying changes still wait", err, code, r)
	}
	if got, err := st.GetCase(ctx, other.ID); err != nil || got.Version != 1 {
		t.Fatalf("the refused change's case: version %d (%v), want 1 (nothing written) and the read answered", got.Version, err)
	}

	if err := lock.Rollback(ctx); err != nil {
		t.Fatal(err)
	}
	eventually(t, func() (bool, string) {
		_, _, _, err := applyAction(st, ctx, other.ID, 0, caseworktest.Command(casework.ActionAccept, 0))
		return err == nil, fmt.Sprintf("changes still refused once the waiting one could finish: %v", err)
	})
	eventually(t, caseAt(st, stuck.ID, 2))
}

// lockCase holds a row lock on the case in a transaction of st's until
// the test releases it (Rollback) or ends.
func lockCase(t *testing.T, st *store.Store, id uuid.UUID) pgx.Tx {
	t.Helper()
	ctx := context.Background()
	lock, err := st.Pool().Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { lock.Rollback(ctx) })
	if _, err := lock.Exec(ctx, `SELECT 1 FROM cases WHERE id = $1 FOR UPDATE`, id); err != nil {
		t.Fatal(err)
	}
	return lock
}

// acceptPastDeadline sends the accept action with a 300 ms deadline; the
// case is locked, so the deadline passes while the change waits.
func acceptPastDeadline(st *store.Store, id uuid.UUID, cmd casework.Command) error {
	short, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	_, _, _, err := applyAction(st, short, id, 0, cmd)
	return err
}

// eventually polls cond every 50 ms for 5 s and fails the test with what
// it says when it never holds.
func eventually(t *testing.T, cond func() (bool, string)) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		ok, what := cond()
		if ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("5 s on: %s", what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestDirectoryChangeNotCancelled: a one-statement change that returns a
// row (here an organization's update) is not cancelled by its caller's
// deadline either, and the caller, told the outcome is unknown, gets
// nothing half-scanned; the change is made once the database can.
func TestDirectoryChangeNotCancelled(t *testing.T) {
	st, _ := newCaseStore(t)
	ctx := context.Background()
	lock, err := st.Pool().Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer lock.Rollback(ctx)
	if _, err := lock.Exec(ctx, `SELECT 1 FROM organizations WHERE id = 'room-0' FOR UPDATE`); err != nil {
		t.Fatal(err)
	}
	short, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
	o, err := st.UpdateOrganization(short, "room-0", store.OrganizationChange{Phone: dirPtr("0934-8200000")}, 0, t0)
	cancel()
	if !errors.Is(err, store.ErrCommitOutcomeUnknown) || o.ID != "" {
		t.Fatalf("deadline passed while the update waited for a lock: %+v, %v; want nothing and ErrCommitOutcomeUnknown", o, err)
	}
	time.Sleep(500 * time.Millisecond) // longer than a cancel request takes to land
	if err := lock.Rollback(ctx); err != nil {
		t.Fatal(err)
	}
	eventually(t, func() (bool, string) {
		got, err := st.GetOrganization(ctx, "room-0")
		return err == nil && got.Phone == "0934-8200000", fmt.Sprintf("room-0's phone is %q (%v), want the update made once the lock went", got.Phone, err)
	})
}
