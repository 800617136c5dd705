// Package store keeps mediationd's data in PostgreSQL: hand-written SQL over
// a pgx pool, one statement (or one transaction) per change. It knows
// nothing of gRPC; it speaks the domain types of package casework and
// returns its errors.
package store

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Store is the database behind the service.
type Store struct {
	pool     *pgxpool.Pool
	settings settingsCache

	tallyMu  sync.Mutex
	tallyLoc *time.Location // the tallies' zone, once read

	// changes are the changes sent that their callers may have left
	// (sendChange, InTx's COMMIT); Close waits for them up to closeWait.
	changes   inFlight
	closeWait time.Duration
}

// Options tune the connection pool.
type Options struct {
	MaxConns int32 // 0 = pgx's default (the larger of 4 and the number of CPUs)
	MinConns int32
}

// Open connects to the database at dsn. It does not wait for the server:
// the first query does.
func Open(ctx context.Context, dsn string, o Options) (*Store, error) {
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		return nil, fmt.Errorf("parse database URL: %w", err)
	}
	if o.MaxConns > 0 {
		cfg.MaxConns = o.MaxConns
	}
	if o.MinConns > 0 {
		cfg.MinConns = o.MinConns
	}
	if cfg.ConnConfig.ConnectTimeout == 0 {
		cfg.ConnConfig.ConnectTimeout = 5 * time.Second
	}
	if _, ok := cfg.ConnConfig.RuntimeParams["statement_timeout"]; !ok {
		cfg.ConnConfig.RuntimeParams["statement_timeout"] = fmt.Sprint(StatementTimeout.Milliseconds())
	}
	if _, ok := cfg.ConnConfig.RuntimeParams["application_name"]; !ok {
		cfg.ConnConfig.RuntimeParams["application_name"] = "mediationd"
	}
	cfg.AfterConnect = func(_ context.Context, conn *pgx.Conn) error {
		registerUUID(conn.TypeMap())
		registerJSONB(conn.TypeMap())
		return nil
	}
	s := &Store{}
	cfg.ConnConfig.Tracer = failoverTracer{s: s}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("open database pool: %w", err)
	}
	s.pool = pool
	s.closeWait = closeWait
	s.changes.maxOrphans = max(1, int(pool.Config().MaxConns)/2)
	return s, nil
}

// Close closes every connection.
//
// It refuses new changes, then waits up to 10 s for the changes in
// flight (sendChange, InTx's COMMIT). One still waiting then, for a
// synchronous standby most likely, is left to the database: the pool is
// not closed, and the process's exit closes its connection without
// cancelling the statement, which the server completes (or rolls back)
// by itself.
func (s *Store) Close() {
	done := make(chan struct{})
	go func() { s.changes.close(); close(done) }()
	select {
	case <-done:
		s.pool.Close()
	case <-time.After(s.closeWait):
	}
}

// closeWait is how long Close waits for changes in flight.
const closeWait = 10 * time.Second

// Pool exposes the pool for health checks and metrics.
func (s *Store) Pool() *pgxpool.Pool { return s.pool }

// Ping checks that the database answers.
func (s *Store) Ping(ctx context.Context) error {
	if err := s.pool.Ping(ctx); err != nil {
		return fmt.Errorf("ping database: %w", err)
	}
	return nil
}

// SQLSTATE codes the store reacts to.
const (
	codeUniqueViolation      = "23505"
	codeSerializationFailure = "40001"
	codeDeadlockDetected     = "40P01"
)

func pgCode(err error) string {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return pe.Code
	}
	return ""
}
