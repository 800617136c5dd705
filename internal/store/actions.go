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

// loadForActionSQL reads the case and, when the command carries a request
// id, the history row an earlier call with that id wrote.
const loadForActionSQL = `SELECT ` + caseColumns + `,
	e.version, e.action, e.from_state, e.to_state, e.outcome, e.actor, e.occur_time, e.data
FROM cases c
LEFT JOIN case_events e ON e.case_id = c.id AND e.request_id = $2
WHERE c.id = $1 AND `

// applySQL writes one decided action: compare-and-swap on the version,
// append the history row and the outbox row, and (for some actions) the
// session or follow-up the action recorded. One statement, so one transaction and one
// round trip; no row comes back if the version moved.
const applySQL = `
WITH upd AS (
	UPDATE cases SET version = $2 + 1, state = $3, outcome = $4, organization = $5, mediator = $6,
		agreement = $7, closing_reason = $8, update_time = $9, close_time = $10,
		summary = $18, dispute_type = $19, parties = $20, group_dispute = $21, escalation_risk = $22,
		family_violence = $23, minors_involved = $24, recused_mediators = $25, failure = $26,
		accept_time = $27, deadline = $28, due_time = $29, overdue = $30, confirmation = $31,
		performance_status = $32, follow_up_count = $33, session_count = $34, no_follow_up_reason = $35
	WHERE id = $1 AND version = $2
	RETURNING id, region_code
),
ev AS (
	INSERT INTO case_events (case_id, region_code, version, action, from_state, to_state, outcome, actor, occur_time, request_id, data)
	SELECT id, region_code, $2 + 1, $11::text, $12::text, $3, $4, $13::text, $9, $14::uuid, $15::jsonb FROM upd
),
ob AS (
	INSERT INTO outbox (case_id, region_code, case_version, topic, payload, create_time)
	SELECT id, region_code, $2 + 1, $16::text, $17::jsonb, $9 FROM upd
)%s
SELECT count(*) FROM upd`

// sessionSQL stores the session an action scheduled, recorded or
// cancelled ($36: the session as JSON).
const sessionSQL = `,
ses AS (
	INSERT INTO case_sessions (case_id, region_code, number, kind, start_time, place, online, participants, status,
		minutes, result, cancel_reason, create_time, update_time)
	SELECT upd.id, upd.region_code, s.number, s.kind, s.start_time, coalesce(s.place, ''), coalesce(s.online, false),
		coalesce(s.participants, '[]'), s.status, coalesce(s.minutes, ''), coalesce(s.result, ''),
		coalesce(s.cancel_reason, ''), s.create_time, s.update_time
	FROM upd, jsonb_to_record($36::jsonb) AS s(number int, kind text, start_time timestamptz, place text,
		online boolean, participants jsonb, status text, minutes text, result text, cancel_reason text,
		create_time timestamptz, update_time timestamptz)
	ON CONFLICT (case_id, number, region_code) DO UPDATE SET status = EXCLUDED.status, minutes = EXCLUDED.minutes,
		result = EXCLUDED.result, cancel_reason = EXCLUDED.cancel_reason, update_time = EXCLUDED.update_time
)`

// followUpSQL stores a follow-up visit ($36: the visit as JSON).
const followUpSQL = `,
fu AS (
	INSERT INTO case_follow_ups (case_id, region_code, number, visit_time, visitor, party_ids, purpose, findings,
		performance_status, create_time)
	SELECT upd.id, upd.region_code, f.number, f.visit_time, f.visitor, coalesce(f.party_ids, '[]'), coalesce(f.purpose, ''),
		f.findings, coalesce(f.performance_status, ''), f.create_time
	FROM upd, jsonb_to_record($36::jsonb) AS f(number int, visit_time timestamptz, visitor text, party_ids jsonb,
		purpose text, findings text, performance_status text, create_time timestamptz)
)`

// applyAuditSQL writes the audit row of the change ($n: role, address,
// method, request id, client certificate).
const applyAuditSQL = `,
aud AS (
	INSERT INTO audit_events (event_time, kind, actor, actor_role, client_address, method, resource, request_id, code, client_cert, region_code)
	SELECT $9, 'WRITE', $13::text, $%d::text, $%d::text, $%d::text, 'cases/' || id, $%d::text, 'OK', $%d::text, region_code FROM upd
)`

// applyStatement builds applySQL with the side write (sessionSQL,
// followUpSQL or none, which takes argument 36) and, when audit is set, the
// audit row, whose arguments follow.
func applyStatement(side string, audit bool) string {
	if !audit {
		return fmt.Sprintf(applySQL, side)
	}
	n := 36
	if side != "" {
		n = 37
	}
	return fmt.Sprintf(applySQL, side+fmt.Sprintf(applyAuditSQL, n, n+1, n+2, n+3, n+4))
}

var applyStatements = func() map[[2]any]string {
	m := map[[2]any]string{}
	for _, side := range []string{"", sessionSQL, followUpSQL} {
		for _, audit := range []bool{false, true} {
			m[[2]any{side, audit}] = applyStatement(side, audit)
		}
	}
	return m
}()

// LoadForAction reads a case in scope for deciding an action on it and,
// when requestID is not nil, the history row an earlier call with that
// request id wrote (nil if none). A case outside the scope is
// casework.ErrNotFound.
func (s *Store) LoadForAction(ctx context.Context, id uuid.UUID, requestID *uuid.UUID, scope identity.CaseScope) (casework.Case, *casework.Event, error) {
	var (
		pVersion   *int64
		pAction    *casework.Action
		pFrom, pTo *casework.State
		pOutcome   *casework.Outcome
		pActor     *string
		pTime      *time.Time
		pData      *casework.EventData
	)
	args := []any{id, requestID}
	cond := scopeCondition(scope, &args)
	c, err := scanCase(s.pool.QueryRow(ctx, loadForActionSQL+cond, args...),
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

// WriteAction stores a decided action in one statement: the case moved
// from fromVersion to next, its history row ev, its outbox row, the
// session or follow-up the action recorded, and, with an audit context,
// the audit row. It reports false, writing nothing, when the case is no
// longer at fromVersion (a concurrent change won): the caller decides
// again or reports the conflict.
func (s *Store) WriteAction(ctx context.Context, fromVersion int64, next casework.Case, ev casework.Event, access Access) (bool, error) {
	payload, err := outboxPayload(next, ev)
	if err != nil {
		return false, err
	}
	var closeTime, acceptTime, dueTime *time.Time
	if !next.CloseTime.IsZero() {
		closeTime = &next.CloseTime
	}
	if !next.AcceptTime.IsZero() {
		acceptTime = &next.AcceptTime
	}
	overdue := false
	if dl := next.Deadline; dl != nil {
		dueTime, overdue = &dl.DueTime, dl.Overdue
	}
	var requestID *string
	if ev.RequestID != "" {
		requestID = &ev.RequestID
	}
	recused := next.RecusedMediators
	if recused == nil {
		recused = []string{}
	}
	args := []any{
		next.ID, fromVersion, next.State, next.Outcome, next.Organization, next.Mediator,
		next.Agreement, next.ClosingReason, next.UpdateTime, closeTime,
		ev.Action, ev.From, ev.Actor, requestID, ev.Data, "case." + string(ev.Action), payload,
		next.Summary, next.DisputeType, next.Parties, next.GroupDispute, next.EscalationRisk,
		next.FamilyViolence, next.MinorsInvolved, recused, next.Failure,
		acceptTime, next.Deadline, dueTime, overdue, next.Confirmation,
		next.PerformanceStatus, next.FollowUpCount, next.SessionCount, next.NoFollowUpReason,
	}
	side := ""
	switch {
	case ev.Data.Session != nil:
		side = sessionSQL
		args = append(args, ev.Data.Session)
	case ev.Data.FollowUp != nil:
		side = followUpSQL
		args = append(args, ev.Data.FollowUp)
	}
	a := access.Audit
	if a != nil {
		args = append(args, string(access.Principal.Role), a.ClientAddress, a.Method, a.RequestID, a.ClientCert)
	}
	sql := applyStatements[[2]any{side, a != nil}]
	var n int
	err = s.sendChange(ctx, func(ctx context.Context, conn *pgxpool.Conn) error {
		var got int
		if err := conn.QueryRow(ctx, sql, args...).Scan(&got); err != nil {
			return err
		}
		n = got
		return nil
	})
	switch {
	case err == nil:
		if n == 1 && a != nil {
			a.Recorded = true
		}
		return n == 1, nil
	case pgCode(err) == codeUniqueViolation, pgCode(err) == codeSerializationFailure, pgCode(err) == codeDeadlockDetected:
		// A concurrent change of the same case won; decide again.
		return false, nil
	default:
		return false, changeError(fmt.Errorf("store %s of case %s: %w", ev.Action, next.ID, err))
	}
}
