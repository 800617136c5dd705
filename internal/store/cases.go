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

	"github.com/mediationd/mediationd/internal/casework"
)

// caseColumns are the columns scanCase reads, in order.
const caseColumns = `c.id, c.case_number, c.version, c.state, c.outcome, c.dispute_type, c.source,
	c.summary, c.region_code, c.parties, c.organization, c.mediator, c.agreement,
	c.closing_reason, c.create_time, c.update_time, c.close_time`

func caseScanTargets(c *casework.Case, closeTime **time.Time) []any {
	return []any{&c.ID, &c.Number, &c.Version, &c.State, &c.Outcome, &c.DisputeType, &c.Source,
		&c.Summary, &c.RegionCode, &c.Parties, &c.Organization, &c.Mediator, &c.Agreement,
		&c.ClosingReason, &c.CreateTime, &c.UpdateTime, closeTime}
}

func scanCase(row pgx.Row, extra ...any) (casework.Case, error) {
	var c casework.Case
	var closeTime *time.Time
	if err := row.Scan(append(caseScanTargets(&c, &closeTime), extra...)...); err != nil {
		return casework.Case{}, err
	}
	if closeTime != nil {
		c.CloseTime = *closeTime
	}
	return c, nil
}

// CreateParams is a registration to store.
type CreateParams struct {
	New       casework.NewCase
	ID        uuid.UUID
	Actor     string
	RequestID string // optional UUID; makes the create idempotent
	Now       time.Time
	Year      int // the year of the case number, in the service's time zone
}

// createSQL registers a case in one statement: claim the request id (when
// there is one), take the next number of the region's numbering scheme,
// insert the case, its first history row and its outbox row. When the
// request id was claimed before, nothing is written and no row comes back.
const createSQL = `
WITH claim AS (%s),
scheme AS (
	SELECT region_code, template FROM case_number_schemes
	WHERE region_code = ANY($4::text[])
	ORDER BY array_position($4::text[], region_code)
	LIMIT 1
),
num AS (
	INSERT INTO case_number_counters AS k (scheme_region, year, last_value)
	SELECT scheme.region_code, $5::int, 1 FROM claim, scheme
	ON CONFLICT (scheme_region, year) DO UPDATE SET last_value = k.last_value + 1
	RETURNING last_value
),
c AS (
	INSERT INTO cases (id, case_number, version, state, outcome, dispute_type, source, summary,
		region_code, parties, create_time, update_time)
	SELECT $3::uuid, format_case_number(scheme.template, $6::text, $5::int, num.last_value), 1, 'INTAKE', '',
		$7::text, $8::text, $9::text, $6::text, $10::jsonb, $11::timestamptz, $11::timestamptz
	FROM num, scheme
	RETURNING case_number
),
ev AS (
	INSERT INTO case_events (case_id, version, action, from_state, to_state, outcome, actor, occur_time, request_id, data)
	SELECT $3::uuid, 1, 'create', '', 'INTAKE', '', $12::text, $11::timestamptz, $1::uuid, '{}' FROM c
),
ob AS (
	INSERT INTO outbox (case_id, case_version, topic, payload, create_time)
	SELECT $3::uuid, 1, 'case.create', $13::jsonb || jsonb_build_object('case_number', c.case_number), $11::timestamptz FROM c
)
SELECT case_number FROM c`

const (
	claimRequestSQL = `INSERT INTO case_create_requests (request_id, body_hash, case_id) VALUES ($1, $2, $3)
		ON CONFLICT (request_id) DO NOTHING RETURNING case_id`
	claimNothingSQL = `SELECT $3::uuid AS case_id WHERE $1::uuid IS NULL AND $2::bytea IS NOT NULL`
)

var (
	createWithRequestSQL    = fmt.Sprintf(createSQL, claimRequestSQL)
	createWithoutRequestSQL = fmt.Sprintf(createSQL, claimNothingSQL)
)

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

// CreateCase registers a case. With a request id it is idempotent: if the
// id was used before, it returns the case created then and replayed=true,
// or an *casework.AlreadyExistsError when the earlier request was different.
func (s *Store) CreateCase(ctx context.Context, p CreateParams) (c casework.Case, replayed bool, err error) {
	if err := p.New.Validate(); err != nil {
		return casework.Case{}, false, err
	}
	c, ev := casework.Register(p.New, p.ID, p.Actor, p.RequestID, p.Now)
	payload, err := outboxPayload(c, ev)
	if err != nil {
		return casework.Case{}, false, err
	}
	sql := createWithoutRequestSQL
	var requestID *uuid.UUID
	hash := p.New.Hash()
	if p.RequestID != "" {
		id, err := uuid.Parse(p.RequestID)
		if err != nil {
			return casework.Case{}, false, &casework.FieldError{Field: "request_id", Message: "must be a UUID, e.g. " + uuid.NewString()}
		}
		requestID, sql = &id, createWithRequestSQL
	}
	err = s.pool.QueryRow(ctx, sql,
		requestID, hash, c.ID, schemeRegions(c.RegionCode), p.Year, c.RegionCode,
		c.DisputeType, c.Source, c.Summary, c.Parties, c.CreateTime, p.Actor, payload,
	).Scan(&c.Number)
	switch {
	case err == nil:
		return c, false, nil
	case !errors.Is(err, pgx.ErrNoRows):
		return casework.Case{}, false, fmt.Errorf("create case: %w", err)
	case requestID == nil:
		return casework.Case{}, false, errors.New("create case: no case-number scheme applies: the default scheme 000000 is missing from case_number_schemes")
	}
	// The request id was claimed before: return what it created.
	var prevHash []byte
	c, err = scanCase(s.pool.QueryRow(ctx, `SELECT `+caseColumns+`, r.body_hash
		FROM case_create_requests r JOIN cases c ON c.id = r.case_id
		WHERE r.request_id = $1`, requestID), &prevHash)
	if err != nil {
		return casework.Case{}, false, fmt.Errorf("read case created by request %s: %w", p.RequestID, err)
	}
	if string(prevHash) != string(hash) {
		return casework.Case{}, false, &casework.AlreadyExistsError{
			Reason:  "REQUEST_ID_REUSED",
			Message: fmt.Sprintf("request_id %s was already used to register a different case (%s); send a new request_id for a new case, or the same request unchanged to get the earlier result", p.RequestID, c.Number),
		}
	}
	return c, true, nil
}

// GetCase returns a case, or casework.ErrNotFound.
func (s *Store) GetCase(ctx context.Context, id uuid.UUID) (casework.Case, error) {
	c, err := scanCase(s.pool.QueryRow(ctx, `SELECT `+caseColumns+` FROM cases c WHERE c.id = $1`, id))
	if errors.Is(err, pgx.ErrNoRows) {
		return casework.Case{}, casework.ErrNotFound
	}
	if err != nil {
		return casework.Case{}, fmt.Errorf("get case %s: %w", id, err)
	}
	return c, nil
}

// outboxPayload is the message other systems receive for one change.
func outboxPayload(c casework.Case, ev casework.Event) ([]byte, error) {
	p := map[string]any{
		"case":        "cases/" + c.ID.String(),
		"version":     ev.Version,
		"action":      ev.Action,
		"from_state":  ev.From,
		"to_state":    ev.To,
		"outcome":     ev.Outcome,
		"actor":       ev.Actor,
		"occur_time":  ev.Time.UTC().Format(time.RFC3339Nano),
		"data":        ev.Data,
		"region_code": c.RegionCode,
		"source":      c.Source,
	}
	if c.Number != "" {
		p["case_number"] = c.Number
	}
	if ev.RequestID != "" {
		p["request_id"] = ev.RequestID
	}
	b, err := json.Marshal(p)
	if err != nil {
		return nil, fmt.Errorf("encode outbox payload: %w", err)
	}
	return b, nil
}
