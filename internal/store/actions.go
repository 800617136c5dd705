package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/mediationd/mediationd/internal/casework"
)

// maxActionAttempts bounds how often an action without an etag is decided
// again after losing a race to a concurrent change of the same case.
const maxActionAttempts = 8

// loadForActionSQL reads the case and, when the command carries a request
// id, the history row an earlier call with that id wrote.
const loadForActionSQL = `SELECT ` + caseColumns + `,
	e.version, e.action, e.from_state, e.to_state, e.outcome, e.actor, e.occur_time, e.data
FROM cases c
LEFT JOIN case_events e ON e.case_id = c.id AND e.request_id = $2
WHERE c.id = $1`

// applySQL writes one decided action: compare-and-swap on the version,
// append the history row and the outbox row. One statement, so one
// transaction and one round trip; no row comes back if the version moved.
const applySQL = `
WITH upd AS (
	UPDATE cases SET version = $2 + 1, state = $3, outcome = $4, organization = $5, mediator = $6,
		agreement = $7, closing_reason = $8, update_time = $9, close_time = $10
	WHERE id = $1 AND version = $2
	RETURNING id
),
ev AS (
	INSERT INTO case_events (case_id, version, action, from_state, to_state, outcome, actor, occur_time, request_id, data)
	SELECT id, $2 + 1, $11::text, $12::text, $3, $4, $13::text, $9, $14::uuid, $15::jsonb FROM upd
),
ob AS (
	INSERT INTO outbox (case_id, case_version, topic, payload, create_time)
	SELECT id, $2 + 1, $16::text, $17::jsonb, $9 FROM upd
)
SELECT count(*) FROM upd`

// ApplyAction decides cmd against the case and stores the result in one
// statement. ifVersion > 0 makes it conditional on the case still being at
// that version (the caller's etag); a mismatch is a *casework.ConflictError.
// Without it, losing a race to a concurrent change means the action is
// decided again against the new state, so a retried "accept" that lost to
// another "accept" gets *casework.NotAllowedError, never a second history
// row.
//
// A command with a request id that was already applied to the case returns
// that earlier event and the case as it is now, with replayed=true.
func (s *Store) ApplyAction(ctx context.Context, id uuid.UUID, ifVersion int64, cmd casework.Command) (c casework.Case, ev casework.Event, replayed bool, err error) {
	var requestID *uuid.UUID
	if cmd.RequestID != "" {
		rid, err := uuid.Parse(cmd.RequestID)
		if err != nil {
			return c, ev, false, &casework.FieldError{Field: "request_id", Message: "must be a UUID, e.g. " + uuid.NewString()}
		}
		requestID = &rid
	}
	for attempt := 1; ; attempt++ {
		cur, prior, err := s.loadForAction(ctx, id, requestID)
		if err != nil {
			return c, ev, false, err
		}
		if prior != nil {
			if prior.Action != cmd.Action {
				return c, ev, false, &casework.AlreadyExistsError{
					Reason:  "REQUEST_ID_REUSED",
					Message: fmt.Sprintf("request_id %s was already used for %q on this case (version %d); send a new request_id for a new action", cmd.RequestID, prior.Action, prior.Version),
				}
			}
			prior.CaseID, prior.RequestID = id, cmd.RequestID
			return cur, *prior, true, nil
		}
		if ifVersion > 0 && cur.Version != ifVersion {
			return c, ev, false, staleError(cur)
		}
		next, event, err := casework.Apply(cur, cmd)
		if err != nil {
			return c, ev, false, err
		}
		ok, err := s.writeAction(ctx, cur.Version, next, event)
		if err != nil {
			return c, ev, false, err
		}
		if ok {
			return next, event, false, nil
		}
		if ifVersion > 0 {
			return c, ev, false, staleError(cur)
		}
		if attempt == maxActionAttempts {
			return c, ev, false, &casework.ConflictError{Message: fmt.Sprintf("case %s kept changing under %d attempts to %s it; read it and try again", cur.Number, attempt, cmd.Action)}
		}
	}
}

func staleError(cur casework.Case) error {
	return &casework.ConflictError{Message: fmt.Sprintf("case %s changed since the etag was read (it is now at etag %q, state %s); read it again and decide again", cur.Number, Etag(cur.Version), cur.State)}
}

// Etag renders a case version as the etag clients send back.
func Etag(version int64) string { return fmt.Sprintf("v%d", version) }

func (s *Store) loadForAction(ctx context.Context, id uuid.UUID, requestID *uuid.UUID) (casework.Case, *casework.Event, error) {
	var (
		pVersion   *int64
		pAction    *casework.Action
		pFrom, pTo *casework.State
		pOutcome   *casework.Outcome
		pActor     *string
		pTime      *time.Time
		pData      *casework.EventData
	)
	c, err := scanCase(s.pool.QueryRow(ctx, loadForActionSQL, id, requestID),
		&pVersion, &pAction, &pFrom, &pTo, &pOutcome, &pActor, &pTime, &pData)
	if errors.Is(err, pgx.ErrNoRows) {
		return c, nil, casework.ErrNotFound
	}
	if err != nil {
		return c, nil, fmt.Errorf("read case %s: %w", id, err)
	}
	if pVersion == nil {
		return c, nil, nil
	}
	return c, &casework.Event{
		Version: *pVersion, Action: *pAction, From: *pFrom, To: *pTo, Outcome: *pOutcome,
		Actor: *pActor, Time: *pTime, Data: *pData,
	}, nil
}

func (s *Store) writeAction(ctx context.Context, fromVersion int64, next casework.Case, ev casework.Event) (bool, error) {
	payload, err := outboxPayload(next, ev)
	if err != nil {
		return false, err
	}
	var closeTime *time.Time
	if !next.CloseTime.IsZero() {
		closeTime = &next.CloseTime
	}
	var requestID *string
	if ev.RequestID != "" {
		requestID = &ev.RequestID
	}
	var n int
	err = s.pool.QueryRow(ctx, applySQL,
		next.ID, fromVersion, next.State, next.Outcome, next.Organization, next.Mediator,
		next.Agreement, next.ClosingReason, next.UpdateTime, closeTime,
		ev.Action, ev.From, ev.Actor, requestID, ev.Data, "case."+string(ev.Action), payload,
	).Scan(&n)
	switch {
	case err == nil:
		return n == 1, nil
	case pgCode(err) == codeUniqueViolation, pgCode(err) == codeSerializationFailure, pgCode(err) == codeDeadlockDetected:
		// A concurrent change of the same case won; decide again.
		return false, nil
	default:
		return false, fmt.Errorf("store %s of case %s: %w", ev.Action, next.ID, err)
	}
}
