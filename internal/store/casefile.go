package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/mediationd/mediationd/internal/casework"
	"github.com/mediationd/mediationd/internal/identity"
)

const sessionColumns = `number, kind, start_time, place, online, participants, status, minutes, result,
	cancel_reason, create_time, update_time`

func scanSession(row pgx.Row) (casework.Session, error) {
	var s casework.Session
	err := row.Scan(&s.Number, &s.Kind, &s.StartTime, &s.Place, &s.Online, &s.Participants, &s.Status,
		&s.Minutes, &s.Result, &s.CancelReason, &s.CreateTime, &s.UpdateTime)
	return s, err
}

// Session returns one session of a case, or casework.ErrNotFound.
func (s *Store) Session(ctx context.Context, caseID uuid.UUID, number int) (casework.Session, error) {
	ses, err := scanSession(s.pool.QueryRow(ctx, `SELECT `+sessionColumns+` FROM case_sessions WHERE case_id = $1 AND number = $2`, caseID, number))
	if errors.Is(err, pgx.ErrNoRows) {
		return ses, fmt.Errorf("cases/%s/sessions/%d: %w", caseID, number, casework.ErrNotFound)
	}
	if err != nil {
		return ses, fmt.Errorf("read session %d of case %s: %w", number, caseID, err)
	}
	return ses, nil
}

// caseExists distinguishes a case without rows in a sub-collection from a
// case that does not exist (or is outside the scope).
func (s *Store) caseExists(ctx context.Context, caseID uuid.UUID, scope identity.CaseScope) error {
	var one int
	args := []any{caseID}
	cond := scopeCondition(scope, &args)
	err := s.pool.QueryRow(ctx, `SELECT 1 FROM cases c WHERE c.id = $1 AND `+cond, args...).Scan(&one)
	if errors.Is(err, pgx.ErrNoRows) {
		return casework.ErrNotFound
	}
	if err != nil {
		return fmt.Errorf("read case %s: %w", caseID, err)
	}
	return nil
}

// ListSessions returns a case's sessions in order; a case that does not
// exist, or is outside the scope, is casework.ErrNotFound.
func (s *Store) ListSessions(ctx context.Context, caseID uuid.UUID, scope identity.CaseScope) ([]casework.Session, error) {
	if err := s.caseExists(ctx, caseID, scope); err != nil {
		return nil, err
	}
	rows, err := s.pool.Query(ctx, `SELECT `+sessionColumns+` FROM case_sessions WHERE case_id = $1 ORDER BY number`, caseID)
	if err != nil {
		return nil, fmt.Errorf("list sessions of case %s: %w", caseID, err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (casework.Session, error) { return scanSession(r) })
	if err != nil {
		return nil, fmt.Errorf("list sessions of case %s: %w", caseID, err)
	}
	return out, nil
}

// ListFollowUps returns a case's follow-up visits in order; a case that
// does not exist, or is outside the scope, is casework.ErrNotFound.
func (s *Store) ListFollowUps(ctx context.Context, caseID uuid.UUID, scope identity.CaseScope) ([]casework.FollowUp, error) {
	if err := s.caseExists(ctx, caseID, scope); err != nil {
		return nil, err
	}
	rows, err := s.pool.Query(ctx, `SELECT number, visit_time, visitor, party_ids, purpose, findings, performance_status, create_time
		FROM case_follow_ups WHERE case_id = $1 ORDER BY number`, caseID)
	if err != nil {
		return nil, fmt.Errorf("list follow-ups of case %s: %w", caseID, err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (casework.FollowUp, error) {
		var f casework.FollowUp
		err := r.Scan(&f.Number, &f.VisitTime, &f.Visitor, &f.PartyIDs, &f.Purpose, &f.Findings, &f.PerformanceStatus, &f.CreateTime)
		return f, err
	})
	if err != nil {
		return nil, fmt.Errorf("list follow-ups of case %s: %w", caseID, err)
	}
	return out, nil
}

// markOverdueSQL marks up to $2 open cases whose due time is before $1 as
// overdue, each with its history and outbox row. FOR UPDATE SKIP LOCKED
// lets several replicas run it at once: a case another run has locked is
// skipped, and one it has marked no longer matches, so each case is marked
// once.
const markOverdueSQL = `
WITH due AS (
	SELECT id FROM cases
	WHERE due_time < $1 AND NOT overdue AND state IN ('ACCEPTED', 'ASSIGNED', 'MEDIATING')
	ORDER BY due_time
	LIMIT $2
	FOR UPDATE SKIP LOCKED
),
upd AS (
	UPDATE cases c SET overdue = true, deadline = jsonb_set(c.deadline, '{overdue}', 'true'),
		version = c.version + 1, update_time = $1
	FROM due WHERE c.id = due.id
	RETURNING c.id, c.version, c.state, c.deadline, c.case_number, c.region_code, c.source
),
ev AS (
	INSERT INTO case_events (case_id, region_code, version, action, from_state, to_state, outcome, actor, occur_time, data)
	SELECT id, region_code, version, 'markOverdue', state, state, '', $3, $1, jsonb_build_object('deadline', deadline) FROM upd
),
ob AS (
	INSERT INTO outbox (case_id, region_code, case_version, topic, payload, create_time)
	SELECT id, region_code, version, 'case.markOverdue', jsonb_build_object(
		'case', 'cases/' || id, 'case_number', case_number, 'version', version, 'action', 'markOverdue',
		'from_state', state, 'to_state', state, 'outcome', '', 'actor', $3, 'occur_time', $4::text,
		'data', jsonb_build_object('deadline', deadline), 'region_code', region_code, 'source', source), $1
	FROM upd
)
SELECT count(*) FROM upd`

// SystemActor is the actor the service records for what it does itself.
const SystemActor = "system"

// MarkOverdue marks the open cases past their due time at now as overdue,
// up to batch of them, and returns how many it marked.
func (s *Store) MarkOverdue(ctx context.Context, now time.Time, batch int) (int, error) {
	var n int
	// The outbox message's time is written as outboxPayload writes it.
	occurTime := now.UTC().Format(time.RFC3339Nano)
	err := s.sendChange(ctx, func(ctx context.Context, conn *pgxpool.Conn) error {
		return conn.QueryRow(ctx, markOverdueSQL, now, batch, SystemActor, occurTime).Scan(&n)
	})
	if err != nil {
		return 0, changeError(fmt.Errorf("mark overdue cases: %w", err))
	}
	return n, nil
}
