package store

import (
	"context"
	"errors"
	"net"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
)

// The database's error codes are read here and nowhere else: the API maps
// errors to statuses by asking these questions, never by SQLSTATE.

// ViolatedConstraint names the check constraint a statement broke, if err
// is such a refusal (SQLSTATE 23514): input the code above the store let
// through, which the schema caught.
func ViolatedConstraint(err error) (string, bool) {
	var pe *pgconn.PgError
	if errors.As(err, &pe) && pe.Code == "23514" {
		return pe.ConstraintName, true
	}
	return "", false
}

// Unavailable reports errors that mean the database could not be reached,
// is shutting down, or is a standby that cannot take changes (no writable
// primary, as during a failover), as opposed to a refused statement: the
// caller may retry later. A change whose outcome is unknown is Unavailable
// too, and wraps ErrCommitOutcomeUnknown besides.
func Unavailable(err error) bool {
	var connectErr *pgconn.ConnectError
	var netErr net.Error
	var pgErr *pgconn.PgError
	var notSent *notSentError
	switch {
	case errors.As(err, &connectErr), errors.As(err, &netErr), pgconn.Timeout(err), errors.As(err, &notSent):
		return true
	case errors.As(err, &pgErr):
		// Class 08: connection exception; 57P01-57P03: shutdown, crash, cannot
		// connect now; 25006: a read-only transaction refused a change (a
		// standby, or a primary being demoted, answered).
		return strings.HasPrefix(pgErr.Code, "08") || pgErr.Code == "57P01" || pgErr.Code == "57P02" || pgErr.Code == "57P03" ||
			pgErr.Code == codeReadOnlyTransaction
	}
	msg := err.Error()
	return strings.Contains(msg, "closed pool") || strings.Contains(msg, "conn closed") || strings.Contains(msg, "unexpected EOF")
}

// StatementTimeout bounds every statement the service runs (PostgreSQL's
// statement_timeout on its connections, unless the database URL sets
// one): a query that cannot be answered fast ends with a clear error
// instead of holding a connection and its caller.
const StatementTimeout = 10 * time.Second

// ErrTooSlow is a query that ran longer than StatementTimeout; ListCases
// and CaseStatistics return it wrapped with what would make them fast.
var ErrTooSlow = errors.New("the query ran longer than the statement timeout")

// tooSlow reports whether err is PostgreSQL's statement timeout, not the
// caller's own cancellation.
func tooSlow(ctx context.Context, err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && pe.Code == "57014" && ctx.Err() == nil
}
