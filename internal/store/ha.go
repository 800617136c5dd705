package store

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"reflect"
	"strings"
	"sync"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
)

// What the store tells of a database that fails over: a primary that dies,
// is demoted or is replaced. Three answers, each with a different meaning
// for the caller:
//
//   - the database could not be reached, or answered as a standby: nothing
//     was written (Unavailable, without ErrCommitOutcomeUnknown);
//   - the connection was lost after a change was sent, before its answer:
//     the change may or may not be committed (ErrCommitOutcomeUnknown);
//   - anything else is the statement's own answer.

// ErrCommitOutcomeUnknown is wrapped by the error of a change whose
// connection was lost after the change (or its COMMIT) was sent and before
// the database answered: the change may have been committed or not, and
// only reading it again can tell. A retry with the same request id is
// safe: the store returns the first result if there was one.
var ErrCommitOutcomeUnknown = errors.New("the connection to the database was lost while the change was being committed: it may or may not have been made")

// outcomeUnknownError is a change's error whose outcome is unknown.
type outcomeUnknownError struct{ err error }

func (e *outcomeUnknownError) Error() string {
	return ErrCommitOutcomeUnknown.Error() + ": " + e.err.Error()
}

func (e *outcomeUnknownError) Unwrap() []error { return []error{ErrCommitOutcomeUnknown, e.err} }

// notSentError is the error of a change that ended before anything was
// sent (no connection could be had): nothing was written.
type notSentError struct{ err error }

func (e *notSentError) Error() string {
	return "no database connection for the change: " + e.err.Error()
}
func (e *notSentError) Unwrap() error { return e.err }

// codeReadOnlyTransaction is PostgreSQL's "cannot execute … in a
// read-only transaction": a standby, or a primary being demoted, refused a
// change.
const codeReadOnlyTransaction = "25006"

// changeError classifies the error of a statement, or a COMMIT, that
// changes data and commits on success: when the statement was sent and the
// connection was lost before its answer came, it wraps err with
// ErrCommitOutcomeUnknown. Errors that say the change was refused (a
// read-only standby, a failed connection attempt, a statement never sent)
// and every other error come back as they are.
func changeError(err error) error {
	if err == nil || errors.Is(err, ErrCommitOutcomeUnknown) || !outcomeUnknown(err) {
		return err
	}
	return &outcomeUnknownError{err: err}
}

// MaybeChanged classifies the error of a request that may have changed
// data when the store did not tell which of its statements failed: a
// connection lost after any statement was sent makes the outcome unknown
// (ErrCommitOutcomeUnknown). Case registrations and actions are classified
// exactly by the store already; this is for the other writes.
func MaybeChanged(err error) error { return changeError(err) }

// AfterChange wraps the error of a step that follows a committed change
// (the audit row written after a directory change, the record of an
// unmasked read in an action's answer, say) so that the caller is never
// told the change was refused: whatever failed, the change is made, and
// the caller is told to retry with the same request id (which returns the
// first result) or read the result.
func AfterChange(err error) error {
	if err == nil || errors.Is(err, ErrCommitOutcomeUnknown) {
		return err
	}
	return &outcomeUnknownError{err: err}
}

// outcomeUnknown reports whether err ended a change after it was sent,
// with no answer: a lost connection, a server that shut down or crashed
// under it (which may have committed it already: a commit that waits for a
// synchronous standby is committed locally first), a timeout while
// waiting for the answer.
func outcomeUnknown(err error) bool {
	if !Unavailable(err) || ReadOnly(err) {
		return false
	}
	var connectErr *pgconn.ConnectError
	var notSent *notSentError
	if errors.As(err, &connectErr) || errors.As(err, &notSent) || pgconn.SafeToRetry(err) {
		return false // nothing was sent
	}
	if msg := err.Error(); strings.Contains(msg, "closed pool") {
		return false
	}
	return true
}

// ReadOnly reports whether err is a change refused because the database
// is read-only: a standby, or a primary being demoted, answered. Nothing
// was written; a writable primary will take the change.
func ReadOnly(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && pe.Code == codeReadOnlyTransaction
}

// sendChange runs a statement that changes data and commits by itself so
// that the caller's context cannot interrupt it once it is sent.
//
// pgx answers a context that ends during a statement by closing the
// connection and sending PostgreSQL a cancel request. A cancel that
// reaches a commit waiting for its synchronous standby ends the wait: the
// transaction stays committed on the primary, without any standby having
// it ("canceling wait for synchronous replication due to user request"),
// and becomes visible there. A retry with the same request id would then
// be told the first result, and a webhook could carry the change, although
// a failover can still lose it.
//
// So the connection is acquired under the caller's context (nothing is
// sent if that ends first), and query runs on it as detach says. So query
// may set only variables that the caller reads after sendChange returned
// nil.
func (s *Store) sendChange(ctx context.Context, query func(ctx context.Context, conn *pgxpool.Conn) error) error {
	conn, err := s.pool.Acquire(ctx)
	if err != nil {
		return &notSentError{err: err}
	}
	err = s.detach(ctx, func(ctx context.Context) error {
		defer conn.Release()
		return query(ctx, conn)
	})
	var notSent *notSentError
	if errors.As(err, &notSent) {
		conn.Release()
	}
	return err
}

// execChange runs a one-statement change as sendChange does; for the
// statements whose rows nobody reads.
func (s *Store) execChange(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error) {
	var tag pgconn.CommandTag
	err := s.sendChange(ctx, func(ctx context.Context, conn *pgxpool.Conn) error {
		t, err := conn.Exec(ctx, sql, args...)
		tag = t
		return err
	})
	if err != nil {
		return pgconn.CommandTag{}, err // tag is the statement's until it has answered
	}
	return tag, nil
}

// changeRow runs a one-statement change that returns a row as sendChange
// does, when the row is scanned. Scan fills its destinations only when it
// returns nil: the statement scans into values of its own, which are
// copied over once it has answered, so a caller that has left is never
// written to.
func (s *Store) changeRow(ctx context.Context, sql string, args ...any) pgx.Row {
	return changeRow{s: s, ctx: ctx, sql: sql, args: args}
}

type changeRow struct {
	s    *Store
	ctx  context.Context
	sql  string
	args []any
}

func (r changeRow) Scan(dest ...any) error {
	own := make([]any, len(dest))
	for i, d := range dest {
		v := reflect.ValueOf(d)
		if v.Kind() != reflect.Pointer || v.IsNil() {
			return fmt.Errorf("scan destination %d is %T, not a non-nil pointer", i, d)
		}
		own[i] = reflect.New(v.Type().Elem()).Interface()
	}
	err := r.s.sendChange(r.ctx, func(ctx context.Context, conn *pgxpool.Conn) error {
		return conn.QueryRow(ctx, r.sql, r.args...).Scan(own...)
	})
	if err != nil {
		return err
	}
	for i, d := range dest {
		reflect.ValueOf(d).Elem().Set(reflect.ValueOf(own[i]).Elem())
	}
	return nil
}

// detach runs send, which sends a change and waits for its answer, under
// ctx without its cancellation. It ends when the server answers, when
// statement_timeout stops it (before it commits), or when the connection
// dies. The caller does not wait beyond its context: it is told the
// outcome is unknown (ErrCommitOutcomeUnknown) and send goes on. Nothing
// is sent when ctx has ended already, when the store is closing, or when
// too many changes sent before are still waiting with nobody waiting for
// them (half the pool: the database is not finishing commits, a
// synchronous standby is missing most likely, and the rest of the pool is
// kept for reads); then the error is a *notSentError.
func (s *Store) detach(ctx context.Context, send func(ctx context.Context) error) error {
	if err := ctx.Err(); err != nil {
		return &notSentError{err: err}
	}
	c, err := s.changes.start()
	if err != nil {
		return &notSentError{err: err}
	}
	done := make(chan error, 1)
	go func() {
		err := send(context.WithoutCancel(ctx))
		s.changes.finish(c)
		done <- err
	}()
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
		if !s.changes.orphan(c) {
			return <-done // it had just finished
		}
		return &outcomeUnknownError{err: fmt.Errorf("the request ended (%w) while the change was in flight; it goes on and may be made", ctx.Err())}
	}
}

// inFlight counts the changes detach sent, and those of them whose
// callers have left (orphans).
type inFlight struct {
	mu         sync.Mutex
	wg         sync.WaitGroup
	closing    bool
	orphans    int
	maxOrphans int
}

// flight is one change in flight.
type flight struct{ orphaned, finished bool }

// errStoreClosing and errChangesWaiting refuse a change before it is sent.
var (
	errStoreClosing   = errors.New("the service is shutting down")
	errChangesWaiting = errors.New("changes sent earlier still wait for the database to commit them (no synchronous standby confirms commits, most likely)")
)

func (f *inFlight) start() (*flight, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	switch {
	case f.closing:
		return nil, errStoreClosing
	case f.orphans >= f.maxOrphans:
		return nil, fmt.Errorf("%w: %d of them", errChangesWaiting, f.orphans)
	}
	f.wg.Add(1)
	return &flight{}, nil
}

func (f *inFlight) finish(c *flight) {
	f.mu.Lock()
	c.finished = true
	if c.orphaned {
		f.orphans--
	}
	f.mu.Unlock()
	f.wg.Done()
}

// orphan records that c's caller left; false if c had finished.
func (f *inFlight) orphan(c *flight) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	if c.finished {
		return false
	}
	c.orphaned = true
	f.orphans++
	return true
}

// close refuses new changes and waits for those in flight.
func (f *inFlight) close() {
	f.mu.Lock()
	f.closing = true
	f.mu.Unlock()
	f.wg.Wait()
}

// InTx runs fn in one transaction, committing if fn returns nil and rolling
// back otherwise. The COMMIT is sent as detach says: cancelling it while
// it waits for the synchronous standby would make the transaction visible
// on the primary alone. A connection lost while the COMMIT was in flight,
// or the caller's context ended then, is reported with
// ErrCommitOutcomeUnknown; one lost before it means the transaction was
// not committed, and is reported as it is.
func (s *Store) InTx(ctx context.Context, fn func(pgx.Tx) error) error {
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return fmt.Errorf("begin transaction: %w", err)
	}
	if err := fn(tx); err != nil {
		_ = tx.Rollback(context.WithoutCancel(ctx))
		return err
	}
	err = s.detach(ctx, func(ctx context.Context) error { return tx.Commit(ctx) })
	var notSent *notSentError
	if errors.As(err, &notSent) {
		_ = tx.Rollback(context.WithoutCancel(ctx))
		return err
	}
	if err != nil {
		return changeError(fmt.Errorf("commit: %w", err))
	}
	return nil
}

// Durability is what the database does with a commit before acknowledging
// it.
type Durability struct {
	// SynchronousCommit and SynchronousStandbyNames are the settings as the
	// service's connections see them.
	SynchronousCommit       string
	SynchronousStandbyNames string
	// Replicated: a commit is acknowledged only once a synchronous standby
	// has it (synchronous_commit on, remote_write or remote_apply, and a
	// synchronous standby named). Patroni's synchronous_mode names the
	// standby; synchronous_mode_strict keeps a name there, so commits wait,
	// when no standby is left.
	Replicated bool
}

// Durability reads the settings that decide whether a commit the database
// acknowledges is on a standby too.
func (s *Store) Durability(ctx context.Context) (Durability, error) {
	var d Durability
	err := s.pool.QueryRow(ctx, `SELECT current_setting('synchronous_commit'), current_setting('synchronous_standby_names')`).
		Scan(&d.SynchronousCommit, &d.SynchronousStandbyNames)
	if err != nil {
		return Durability{}, fmt.Errorf("read synchronous_commit and synchronous_standby_names: %w", err)
	}
	d.Replicated = d.replicated()
	return d, nil
}

// replicated reports whether these settings make a commit wait for a
// synchronous standby.
func (d Durability) replicated() bool {
	switch d.SynchronousCommit {
	case "on", "remote_write", "remote_apply":
		return strings.TrimSpace(d.SynchronousStandbyNames) != ""
	}
	return false
}

// Advice says, for an operator, what loses acknowledged commits in a
// failover with these settings and how to fix it; "" when commits wait for
// a standby.
func (d Durability) Advice() string {
	if d.Replicated {
		return ""
	}
	why := "synchronous_standby_names is empty, so no standby has to confirm a commit"
	if d.SynchronousStandbyNames != "" {
		why = fmt.Sprintf("synchronous_commit is %q, so commits do not wait for the synchronous standby", d.SynchronousCommit)
	}
	return "the database acknowledges commits that no standby has (" + why + "): a failover after the primary is lost " +
		"may lose changes the service already acknowledged. With Patroni, set synchronous_mode: true and " +
		"synchronous_mode_strict: true in the cluster's dynamic configuration (patronictl edit-config) and " +
		"postgresql.parameters.synchronous_commit: on; do not lower synchronous_commit in DATABASE_URL"
}

// failoverTracer drops the pool's idle connections when a statement finds
// its server gone or read-only: in a failover, every connection to the old
// primary is dead or useless, and a change sent on one would end with its
// outcome unknown although it never reached a server. After the reset the
// pool connects afresh, which (with target_session_attrs=read-write) finds
// the new primary or fails before sending anything.
type failoverTracer struct{ s *Store }

func (failoverTracer) TraceQueryStart(ctx context.Context, _ *pgx.Conn, _ pgx.TraceQueryStartData) context.Context {
	return ctx
}

func (t failoverTracer) TraceQueryEnd(_ context.Context, _ *pgx.Conn, data pgx.TraceQueryEndData) {
	if data.Err != nil && serverGone(data.Err) && t.s.pool != nil {
		t.s.pool.Reset()
	}
}

// serverGone reports whether err says the connection's server is gone,
// shutting down, or read-only, rather than that a statement failed or the
// caller gave up.
func serverGone(err error) bool {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		return strings.HasPrefix(pgErr.Code, "08") || pgErr.Code == "57P01" || pgErr.Code == "57P02" || pgErr.Code == "57P03" ||
			pgErr.Code == codeReadOnlyTransaction
	}
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, net.ErrClosed) {
		return true
	}
	var netErr net.Error
	return errors.As(err, &netErr) && !netErr.Timeout()
}
