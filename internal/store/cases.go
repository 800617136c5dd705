package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/mediationd/mediationd/internal/casework"
	"github.com/mediationd/mediationd/internal/identity"
)

// caseColumns are the columns scanCase reads, in order. needs_reassignment
// is derived: an open case whose mediator or organization was deactivated.
const caseColumns = `c.id, c.case_number, c.version, c.state, c.outcome, c.dispute_type, c.source,
	c.summary, c.region_code, c.parties, c.organization, c.mediator, c.agreement,
	c.closing_reason, c.create_time, c.update_time, c.close_time,
	c.court_referral, c.group_dispute, c.escalation_risk, c.family_violence, c.minors_involved,
	c.accept_time, c.deadline, c.recused_mediators, c.failure, c.confirmation, c.performance_status,
	c.follow_up_count, c.session_count, c.no_follow_up_reason, c.intake_organization, ` + needsReassignment

// caseRow receives the nullable columns of caseColumns.
type caseRow struct {
	c          casework.Case
	closeTime  *time.Time
	acceptTime *time.Time
}

// targets are the scan targets of caseColumns, with room for extra
// columns after them.
func (r *caseRow) targets(extra ...any) []any {
	c := &r.c
	t := append(make([]any, 0, caseColumnCount+len(extra)), &c.ID, &c.Number, &c.Version, &c.State, &c.Outcome, &c.DisputeType, &c.Source,
		&c.Summary, &c.RegionCode, &c.Parties, &c.Organization, &c.Mediator, &c.Agreement,
		&c.ClosingReason, &c.CreateTime, &c.UpdateTime, &r.closeTime,
		&c.CourtReferral, &c.GroupDispute, &c.EscalationRisk, &c.FamilyViolence, &c.MinorsInvolved,
		&r.acceptTime, &c.Deadline, &c.RecusedMediators, &c.Failure, &c.Confirmation, &c.PerformanceStatus,
		&c.FollowUpCount, &c.SessionCount, &c.NoFollowUpReason, &c.IntakeOrganization, &c.NeedsReassignment)
	return append(t, extra...)
}

// caseColumnCount is the number of columns in caseColumns (a capacity
// hint: were it wrong, targets would only allocate twice).
const caseColumnCount = 33

func (r *caseRow) done() casework.Case {
	if r.closeTime != nil {
		r.c.CloseTime = *r.closeTime
	}
	if r.acceptTime != nil {
		r.c.AcceptTime = *r.acceptTime
	}
	return r.c
}

func scanCase(row pgx.Row, extra ...any) (casework.Case, error) {
	var r caseRow
	if err := row.Scan(r.targets(extra...)...); err != nil {
		return casework.Case{}, err
	}
	return r.done(), nil
}

// caseScanner scans row after row of caseColumns (and extra columns)
// into one set of targets, rather than a new one for every row of a page.
type caseScanner struct {
	r       caseRow
	targets []any
}

func newCaseScanner(extra ...any) *caseScanner {
	s := &caseScanner{}
	s.targets = s.r.targets(extra...)
	return s
}

// scan reads the next row. Each row starts from an empty case, so that no
// slice or pointer of one case is reused by the next: pgx decodes JSON
// into what a target holds.
func (s *caseScanner) scan(row pgx.Row) (casework.Case, error) {
	s.r = caseRow{}
	if err := row.Scan(s.targets...); err != nil {
		return casework.Case{}, err
	}
	return s.r.done(), nil
}

// CreateParams is a registration to store.
type CreateParams struct {
	New       casework.NewCase
	ID        uuid.UUID
	Actor     string
	ActorRole identity.Role
	RequestID string // optional UUID; makes the create idempotent
	Now       time.Time
	Year      int // the year of the case number, in the service's time zone
	Policy    casework.Policy
	// IntakeOrganization is the registrant's organization,
	// organizations/{id}; empty if none.
	IntakeOrganization string
	// Audit, when set, writes the audit row in the same statement.
	Audit *AuditContext
}

// Claims that make a create idempotent, as CTEs named claim: a request id
// (case_create_requests) and a court referral (court_referral_claims).
// With both, the court claim comes first and the request claim is made
// from it, so that a repeated referral stops before claiming anything.
const (
	claimNone    = `claim AS (SELECT @id::uuid AS case_id)`
	claimRequest = `claim AS (
	INSERT INTO case_create_requests (request_id, body_hash, case_id, region_code) VALUES (@request_id::uuid, @hash::bytea, @id::uuid, @region::text)
	ON CONFLICT (request_id) DO NOTHING RETURNING case_id)`
	claimCourt = `claim AS (
	INSERT INTO court_referral_claims (court_code, court_case_number, case_id, body_hash, region_code)
	VALUES (@court_code::text, @court_case_number::text, @id::uuid, @hash::bytea, @region::text)
	ON CONFLICT DO NOTHING RETURNING case_id)`
	claimBoth = `court_claim AS (
	INSERT INTO court_referral_claims (court_code, court_case_number, case_id, body_hash, region_code)
	VALUES (@court_code::text, @court_case_number::text, @id::uuid, @hash::bytea, @region::text)
	ON CONFLICT DO NOTHING RETURNING case_id),
claim AS (
	INSERT INTO case_create_requests (request_id, body_hash, case_id, region_code) SELECT @request_id::uuid, @hash::bytea, case_id, @region::text FROM court_claim
	ON CONFLICT (request_id) DO NOTHING RETURNING case_id)`
)

// createSQL registers a case in one statement: make the claims, take the
// next number of the region's numbering scheme, insert the case, its first
// history row and its outbox row. When a claim was made before, nothing is
// written and no row comes back.
const createSQL = `
WITH %s,
scheme AS (
	SELECT region_code, template FROM case_number_schemes
	WHERE region_code = ANY(@schemes::text[])
	ORDER BY array_position(@schemes::text[], region_code)
	LIMIT 1
),
num AS (
	INSERT INTO case_number_counters AS k (scheme_region, year, last_value)
	SELECT scheme.region_code, @year::int, 1 FROM claim, scheme
	ON CONFLICT (scheme_region, year) DO UPDATE SET last_value = k.last_value + 1
	RETURNING last_value
),
c AS (
	INSERT INTO cases (id, case_number, version, state, outcome, dispute_type, source, summary,
		region_code, parties, create_time, update_time, court_referral, court_code, court_case_number,
		group_dispute, escalation_risk, family_violence, minors_involved, intake_organization)
	SELECT @id::uuid, format_case_number(scheme.template, @region::text, @year::int, num.last_value), 1, 'INTAKE', '',
		@dispute_type::text, @source::text, @summary::text, @region::text, @parties::jsonb, @now::timestamptz, @now::timestamptz,
		@court_referral::jsonb, @court_code::text, @court_case_number::text,
		@group_dispute::boolean, @escalation_risk::boolean, @family_violence::boolean, @minors_involved::boolean,
		@intake_organization::text
	FROM num, scheme
	RETURNING case_number
),
ev AS (
	INSERT INTO case_events (case_id, region_code, version, action, from_state, to_state, outcome, actor, occur_time, request_id, data)
	SELECT @id::uuid, @region::text, 1, 'create', '', 'INTAKE', '', @actor::text, @now::timestamptz, @request_id::uuid, '{}' FROM c
),
ob AS (
	INSERT INTO outbox (case_id, region_code, case_version, topic, payload, create_time)
	SELECT @id::uuid, @region::text, 1, 'case.create', @payload::jsonb || jsonb_build_object('case_number', c.case_number), @now::timestamptz FROM c
)%s
SELECT case_number FROM c`

// createAuditSQL writes the audit row of a registration with it.
const createAuditSQL = `,
aud AS (
	INSERT INTO audit_events (event_time, kind, actor, actor_role, client_address, method, resource, request_id, code, client_cert, region_code)
	SELECT @now::timestamptz, 'WRITE', @actor::text, @actor_role::text, @audit_address::text, @audit_method::text,
		'cases/' || @id::uuid, @audit_request_id::text, 'OK', @audit_client_cert::text, @region::text FROM c
)`

// createStatements holds createSQL for every claim, without and with the
// audit row.
var createStatements = func() map[[2]string]string {
	m := map[[2]string]string{}
	for _, claim := range []string{claimNone, claimRequest, claimCourt, claimBoth} {
		m[[2]string{claim, ""}] = fmt.Sprintf(createSQL, claim, "")
		m[[2]string{claim, "audit"}] = fmt.Sprintf(createSQL, claim, createAuditSQL)
	}
	return m
}()

// schemeRegions lists the numbering schemes that may apply to a region, most
// specific first: county, city, province, default.
func schemeRegions(region string) []string {
	out := []string{region}
	if city := region[:4] + "00"; city != region {
		out = append(out, city)
	}
	if prov := region[:2] + "0000"; !strings.HasSuffix(out[len(out)-1], "0000") {
		out = append(out, prov)
	}
	return append(out, "000000")
}

// CreateCase registers a case. It is idempotent twice over: a request id
// used before returns the case created then (or an
// *casework.AlreadyExistsError when that request was different), and a
// court referral sent before (same court, same court case number) returns
// the case it created. replayed says that an earlier case came back.
func (s *Store) CreateCase(ctx context.Context, p CreateParams) (c casework.Case, replayed bool, err error) {
	p.New.Normalize()
	if err := p.New.Validate(p.Now); err != nil {
		return casework.Case{}, false, err
	}
	c, ev := casework.Register(p.New, p.ID, p.Actor, p.RequestID, p.Now, p.Policy)
	c.IntakeOrganization = p.IntakeOrganization
	payload, err := outboxPayload(c, ev)
	if err != nil {
		return casework.Case{}, false, err
	}
	var requestID *uuid.UUID
	if p.RequestID != "" {
		id, err := uuid.Parse(p.RequestID)
		if err != nil {
			return casework.Case{}, false, &casework.FieldError{Field: "request_id", Message: "must be a UUID, e.g. " + uuid.NewString()}
		}
		requestID = &id
	}
	ref := c.CourtReferral
	args := pgx.NamedArgs{
		"id": c.ID, "schemes": schemeRegions(c.RegionCode), "year": p.Year, "region": c.RegionCode,
		"dispute_type": c.DisputeType, "source": c.Source, "summary": c.Summary, "parties": c.Parties,
		"now": c.CreateTime, "actor": p.Actor, "payload": payload, "request_id": requestID, "hash": p.New.Hash(),
		"court_referral": ref, "court_code": nil, "court_case_number": nil,
		"group_dispute": c.GroupDispute, "escalation_risk": c.EscalationRisk,
		"family_violence": c.FamilyViolence, "minors_involved": c.MinorsInvolved,
		"intake_organization": p.IntakeOrganization,
	}
	claim := claimNone
	switch {
	case ref != nil && requestID != nil:
		claim = claimBoth
	case ref != nil:
		claim = claimCourt
	case requestID != nil:
		claim = claimRequest
	}
	audit := ""
	if a := p.Audit; a != nil {
		audit = "audit"
		args["actor_role"], args["audit_address"], args["audit_method"], args["audit_request_id"] = string(p.ActorRole), a.ClientAddress, a.Method, a.RequestID
		args["audit_client_cert"] = a.ClientCert
	}
	sql := createStatements[[2]string{claim, audit}]
	if ref != nil {
		args["court_code"], args["court_case_number"] = ref.CourtCode, ref.CourtCaseNumber
	}
	var number string
	err = s.sendChange(ctx, func(ctx context.Context, conn *pgxpool.Conn) error {
		return conn.QueryRow(ctx, sql, args).Scan(&number)
	})
	switch {
	case err == nil:
		c.Number = number
		if p.Audit != nil {
			p.Audit.Recorded = true
		}
		return c, false, nil
	case errors.Is(err, pgx.ErrNoRows), pgCode(err) == codeForeignKeyViolation && ref != nil && requestID != nil:
		// A claim was made before: by an earlier referral, or (the foreign
		// key of a court claim left without its case) by the request id.
	default:
		return casework.Case{}, false, changeError(fmt.Errorf("create case: %w", err))
	}
	if ref != nil {
		var prevHash []byte
		prev, err := scanCase(s.pool.QueryRow(ctx, `SELECT `+caseColumns+`, r.body_hash
			FROM court_referral_claims r JOIN cases c ON c.id = r.case_id
			WHERE r.court_code = $1 AND r.court_case_number = $2`, ref.CourtCode, ref.CourtCaseNumber), &prevHash)
		if err == nil && prevHash != nil && string(prevHash) != string(p.New.Hash()) {
			return casework.Case{}, false, &casework.AlreadyExistsError{
				Reason: "COURT_REFERRAL_EXISTS",
				Message: fmt.Sprintf("the court %s already referred %s, registered as %s (cases/%s) with other data; "+
					"send the referral unchanged to get that case, or change the registered case with UpdateCase", ref.CourtCode, ref.CourtCaseNumber, prev.Number, prev.ID),
			}
		}
		if err == nil {
			return prev, true, nil
		}
		if !errors.Is(err, pgx.ErrNoRows) {
			return casework.Case{}, false, fmt.Errorf("read case of court referral %s %s: %w", ref.CourtCode, ref.CourtCaseNumber, err)
		}
	}
	if requestID == nil {
		return casework.Case{}, false, errors.New("create case: no case-number scheme applies: the default scheme 000000 is missing from case_number_schemes")
	}
	var prevHash []byte
	prev, err := scanCase(s.pool.QueryRow(ctx, `SELECT `+caseColumns+`, r.body_hash
		FROM case_create_requests r JOIN cases c ON c.id = r.case_id
		WHERE r.request_id = $1`, requestID), &prevHash)
	if err != nil {
		return casework.Case{}, false, fmt.Errorf("read case created by request %s: %w", p.RequestID, err)
	}
	if string(prevHash) != string(p.New.Hash()) {
		return casework.Case{}, false, &casework.AlreadyExistsError{
			Reason:  "REQUEST_ID_REUSED",
			Message: fmt.Sprintf("request_id %s was already used to register a different case (%s); send a new request_id for a new case, or the same request unchanged to get the earlier result", p.RequestID, prev.Number),
		}
	}
	return prev, true, nil
}

// GetCase returns a case, or casework.ErrNotFound; it sees every case
// (for the service's own work).
func (s *Store) GetCase(ctx context.Context, id uuid.UUID) (casework.Case, error) {
	return s.GetCaseIn(ctx, id, Internal.Scope)
}

// GetCaseIn returns a case within the scope; a case outside it is
// casework.ErrNotFound, as if it did not exist.
func (s *Store) GetCaseIn(ctx context.Context, id uuid.UUID, scope identity.CaseScope) (casework.Case, error) {
	args := []any{id}
	cond := scopeCondition(scope, &args)
	c, err := scanCase(s.pool.QueryRow(ctx, `SELECT `+caseColumns+` FROM cases c WHERE c.id = $1 AND `+cond, args...))
	if errors.Is(err, pgx.ErrNoRows) {
		return casework.Case{}, casework.ErrNotFound
	}
	if err != nil {
		return casework.Case{}, fmt.Errorf("get case %s: %w", id, err)
	}
	return c, nil
}

// outboxMessage is the message other systems receive for one change.
// It is stored as jsonb, which keeps no key order: the fields are in no
// particular one.
type outboxMessage struct {
	Case       string             `json:"case"`
	Version    int64              `json:"version"`
	Action     casework.Action    `json:"action"`
	From       casework.State     `json:"from_state"`
	To         casework.State     `json:"to_state"`
	Outcome    casework.Outcome   `json:"outcome"`
	Actor      string             `json:"actor"`
	OccurTime  string             `json:"occur_time"`
	Data       casework.EventData `json:"data"`
	RegionCode string             `json:"region_code"`
	Source     casework.Source    `json:"source"`
	CaseNumber string             `json:"case_number,omitempty"`
	RequestID  string             `json:"request_id,omitempty"`
	// ConfirmationDeadline is what a court needs to know of judicial
	// confirmation: by when the parties may apply (人民调解法 第33条); set
	// (even empty) when the case has an agreement.
	ConfirmationDeadline *string `json:"confirmation_deadline,omitempty"`
}

// outboxPayload is the message other systems receive for one change. A
// struct rather than a map: encoding/json writes it without sorting keys
// or boxing values, for every change.
func outboxPayload(c casework.Case, ev casework.Event) ([]byte, error) {
	m := outboxMessage{
		Case:       "cases/" + c.ID.String(),
		Version:    ev.Version,
		Action:     ev.Action,
		From:       ev.From,
		To:         ev.To,
		Outcome:    ev.Outcome,
		Actor:      ev.Actor,
		OccurTime:  ev.Time.UTC().Format(time.RFC3339Nano),
		Data:       ev.Data,
		RegionCode: c.RegionCode,
		Source:     c.Source,
		CaseNumber: c.Number,
		RequestID:  ev.RequestID,
	}
	if a := c.Agreement; a != nil {
		d := a.ConfirmationDeadline()
		m.ConfirmationDeadline = &d
	}
	b, err := json.Marshal(m)
	if err != nil {
		return nil, fmt.Errorf("encode outbox payload: %w", err)
	}
	return b, nil
}
