package store

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/mediationd/mediationd/internal/aipfilter"
	"github.com/mediationd/mediationd/internal/casework"
)

// WebhookEndpoint is a court's receiver of case events.
type WebhookEndpoint struct {
	ID         uuid.UUID
	CourtCode  string
	URL        string
	EventTypes []string // case.<action>; empty = every event
	// Description is the registrant's note.
	Description string
	// DisabledReason is why the endpoint is disabled; "" = active.
	DisabledReason string
	Version        int64
	CreateTime     time.Time
	UpdateTime     time.Time
}

// Delivery statuses.
const (
	DeliveryPending   = "PENDING"
	DeliveryDelivered = "DELIVERED"
	DeliveryFailed    = "FAILED"
)

// WebhookDelivery is one message to one endpoint: the event of a case
// version, its frozen body, and how sending it went.
type WebhookDelivery struct {
	ID          int64
	EndpointID  uuid.UUID
	CaseID      uuid.UUID
	CaseVersion int64
	MessageID   string
	EventType   string
	Body        string
	Status      string
	Attempts    int
	// NextAttemptTime is when the delivery is due; zero while it waits
	// behind an earlier version of its case.
	NextAttemptTime time.Time
	LastHTTPStatus  int
	LastError       string
	CreateTime      time.Time
	UpdateTime      time.Time
	DeliverTime     time.Time // zero until delivered
}

// ClaimedDelivery is a delivery leased to one sender, with what sending
// it needs.
type ClaimedDelivery struct {
	WebhookDelivery
	URL string
	// Secrets are the endpoint's sealed signing secrets still valid,
	// newest first.
	Secrets [][]byte
	// LeaseUntil identifies the lease: the result is recorded only while
	// it holds.
	LeaseUntil time.Time
}

const endpointColumns = `id, court_code, url, event_types, description, disabled_reason, version, create_time, update_time`

func scanEndpoint(r pgx.Row) (WebhookEndpoint, error) {
	var e WebhookEndpoint
	err := r.Scan(&e.ID, &e.CourtCode, &e.URL, &e.EventTypes, &e.Description, &e.DisabledReason, &e.Version, &e.CreateTime, &e.UpdateTime)
	return e, err
}

// courtCond limits endpoints to a court; "" = every court.
func courtCond(court string, args *[]any) string {
	if court == "" {
		return "TRUE"
	}
	*args = append(*args, court)
	return fmt.Sprintf("court_code = $%d", len(*args))
}

var errEndpointNotFound = fmt.Errorf("webhook endpoint: %w", casework.ErrNotFound)

// CreateWebhookEndpoint stores a new endpoint with its first (sealed)
// signing secret, in one transaction.
func (s *Store) CreateWebhookEndpoint(ctx context.Context, e WebhookEndpoint, sealedSecret []byte) (WebhookEndpoint, error) {
	if e.EventTypes == nil {
		e.EventTypes = []string{}
	}
	var out WebhookEndpoint
	err := s.InTx(ctx, func(tx pgx.Tx) error {
		var err error
		out, err = scanEndpoint(tx.QueryRow(ctx, `INSERT INTO webhook_endpoints (id, court_code, url, event_types, description, create_time, update_time)
			VALUES ($1, $2, $3, $4, $5, $6, $6) RETURNING `+endpointColumns, e.ID, e.CourtCode, e.URL, e.EventTypes, e.Description, e.CreateTime))
		if err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `INSERT INTO webhook_secrets (endpoint_id, secret, create_time) VALUES ($1, $2, $3)`, e.ID, sealedSecret, e.CreateTime)
		return err
	})
	if err != nil {
		return out, fmt.Errorf("create webhook endpoint: %w", err)
	}
	return out, nil
}

// GetWebhookEndpoint reads an endpoint of court ("" = any court).
func (s *Store) GetWebhookEndpoint(ctx context.Context, id uuid.UUID, court string) (WebhookEndpoint, error) {
	args := []any{id}
	e, err := scanEndpoint(s.pool.QueryRow(ctx, `SELECT `+endpointColumns+` FROM webhook_endpoints WHERE id = $1 AND `+courtCond(court, &args), args...))
	if errors.Is(err, pgx.ErrNoRows) {
		return e, errEndpointNotFound
	}
	if err != nil {
		return e, fmt.Errorf("read webhook endpoint %s: %w", id, err)
	}
	return e, nil
}

// ListWebhookEndpoints lists the endpoints of court ("" = every court) by
// id after the cursor after (uuid.Nil = from the start), and whether more
// follow.
func (s *Store) ListWebhookEndpoints(ctx context.Context, court string, after uuid.UUID, limit int) ([]WebhookEndpoint, bool, error) {
	args := []any{after, limit + 1}
	rows, err := s.pool.Query(ctx, `SELECT `+endpointColumns+` FROM webhook_endpoints WHERE id > $1 AND `+courtCond(court, &args)+` ORDER BY id LIMIT $2`, args...)
	if err != nil {
		return nil, false, fmt.Errorf("list webhook endpoints: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (WebhookEndpoint, error) { return scanEndpoint(r) })
	if err != nil {
		return nil, false, fmt.Errorf("list webhook endpoints: %w", err)
	}
	if len(out) > limit {
		return out[:limit], true, nil
	}
	return out, false, nil
}

// endpointChanged reads the outcome of a compare-and-swap on an
// endpoint: the row as changed, or why nothing changed.
func (s *Store) endpointChanged(ctx context.Context, r pgx.Row, id uuid.UUID, court string) (WebhookEndpoint, error) {
	e, err := scanEndpoint(r)
	if err == nil {
		return e, nil
	}
	if !errors.Is(err, pgx.ErrNoRows) {
		return e, fmt.Errorf("change webhook endpoint %s: %w", id, err)
	}
	cur, gerr := s.GetWebhookEndpoint(ctx, id, court)
	if gerr != nil {
		return e, gerr
	}
	return e, &casework.ConflictError{Message: "the webhook endpoint changed since it was read: read it again and retry with its etag", Version: cur.Version}
}

// UpdateWebhookEndpoint stores the url, event types and description of e
// if the endpoint (of court, "" = any) is still at version fromVersion (0
// = any).
func (s *Store) UpdateWebhookEndpoint(ctx context.Context, e WebhookEndpoint, fromVersion int64, court string, now time.Time) (WebhookEndpoint, error) {
	if e.EventTypes == nil {
		e.EventTypes = []string{}
	}
	args := []any{e.ID, fromVersion, e.URL, e.EventTypes, e.Description, now}
	return s.endpointChanged(ctx, s.changeRow(ctx, `UPDATE webhook_endpoints SET url = $3, event_types = $4, description = $5,
		version = version + 1, update_time = $6
		WHERE id = $1 AND ($2 = 0 OR version = $2) AND `+courtCond(court, &args)+` RETURNING `+endpointColumns, args...), e.ID, court)
}

// SetWebhookEndpointDisabled disables an endpoint with a reason, or
// enables it (reason ""), if still at fromVersion (0 = any).
func (s *Store) SetWebhookEndpointDisabled(ctx context.Context, id uuid.UUID, reason string, fromVersion int64, court string, now time.Time) (WebhookEndpoint, error) {
	state := "ACTIVE"
	if reason != "" {
		state = "DISABLED"
	}
	args := []any{id, fromVersion, state, reason, now}
	return s.endpointChanged(ctx, s.changeRow(ctx, `UPDATE webhook_endpoints SET state = $3, disabled_reason = $4,
		version = version + 1, update_time = $5
		WHERE id = $1 AND ($2 = 0 OR version = $2) AND `+courtCond(court, &args)+` RETURNING `+endpointColumns, args...), id, court)
}

// DeleteWebhookEndpoint deletes an endpoint with its secrets and
// deliveries, if still at fromVersion (0 = any).
func (s *Store) DeleteWebhookEndpoint(ctx context.Context, id uuid.UUID, fromVersion int64, court string) error {
	args := []any{id, fromVersion}
	_, err := s.endpointChanged(ctx, s.changeRow(ctx, `DELETE FROM webhook_endpoints
		WHERE id = $1 AND ($2 = 0 OR version = $2) AND `+courtCond(court, &args)+` RETURNING `+endpointColumns, args...), id, court)
	return err
}

// RotateWebhookSecret adds a new signing secret to an endpoint: the
// secrets it had keep signing until now+grace, and secrets already
// expired are deleted.
func (s *Store) RotateWebhookSecret(ctx context.Context, id uuid.UUID, court string, sealed []byte, now time.Time, grace time.Duration) (WebhookEndpoint, error) {
	var out WebhookEndpoint
	err := s.InTx(ctx, func(tx pgx.Tx) error {
		args := []any{id, now}
		var err error
		out, err = scanEndpoint(tx.QueryRow(ctx, `UPDATE webhook_endpoints SET version = version + 1, update_time = $2
			WHERE id = $1 AND `+courtCond(court, &args)+` RETURNING `+endpointColumns, args...))
		if errors.Is(err, pgx.ErrNoRows) {
			return errEndpointNotFound
		}
		if err != nil {
			return err
		}
		until := now.Add(grace)
		if _, err := tx.Exec(ctx, `UPDATE webhook_secrets SET expire_time = $2
			WHERE endpoint_id = $1 AND (expire_time IS NULL OR expire_time > $2)`, id, until); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `DELETE FROM webhook_secrets WHERE endpoint_id = $1 AND expire_time <= $2`, id, now); err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `INSERT INTO webhook_secrets (endpoint_id, secret, create_time) VALUES ($1, $2, $3)`, id, sealed, now)
		return err
	})
	if err != nil && !errors.Is(err, casework.ErrNotFound) {
		return out, fmt.Errorf("rotate the secret of webhook endpoint %s: %w", id, err)
	}
	return out, err
}

const deliveryColumns = `d.id, d.endpoint_id, d.case_id, d.case_version, d.message_id, d.event_type, d.body, d.status,
	d.attempts, nullif(d.next_attempt_time, 'infinity'), d.last_http_status, d.last_error, d.create_time, d.update_time, d.deliver_time`

func scanDelivery(r pgx.Row, extra ...any) (WebhookDelivery, error) {
	var d WebhookDelivery
	var deliverTime, nextTime *time.Time
	err := r.Scan(append([]any{&d.ID, &d.EndpointID, &d.CaseID, &d.CaseVersion, &d.MessageID, &d.EventType, &d.Body, &d.Status,
		&d.Attempts, &nextTime, &d.LastHTTPStatus, &d.LastError, &d.CreateTime, &d.UpdateTime, &deliverTime}, extra...)...)
	if deliverTime != nil {
		d.DeliverTime = *deliverTime
	}
	if nextTime != nil {
		d.NextAttemptTime = *nextTime
	}
	return d, err
}

var deliveryStatuses = []string{DeliveryPending, DeliveryDelivered, DeliveryFailed}

var casePattern = regexp.MustCompile(`^cases/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`)

// deliveryFilter is what ListWebhookDeliveries' filter may name.
var deliveryFilter = aipfilter.Schema{
	"case": {Column: "('cases/' || d.case_id::text)", Type: aipfilter.String, Validate: func(lit string) error {
		if !casePattern.MatchString(lit) {
			return errors.New("a case is cases/{uuid}, as in Case.name")
		}
		return nil
	}},
	"status":       enumField("d.status", deliveryStatuses),
	"event_type":   {Column: "d.event_type", Type: aipfilter.String},
	"case_version": {Column: "d.case_version", Type: aipfilter.Int},
}

// ListWebhookDeliveries lists an endpoint's deliveries newest first,
// filtered (AIP-160 over case, status, event_type, case_version), before
// the cursor before (0 = from the newest), and the next cursor (0 at the
// end).
func (s *Store) ListWebhookDeliveries(ctx context.Context, endpoint uuid.UUID, filter string, spell aipfilter.Spelling, before int64, limit int) ([]WebhookDelivery, int64, error) {
	where, args, err := compileFilter(filter, spell, deliveryFilter, 2)
	if err != nil {
		return nil, 0, err
	}
	args = append([]any{endpoint}, args...)
	if before > 0 {
		args = append(args, before)
		where = fmt.Sprintf("(%s) AND d.id < $%d", where, len(args))
	}
	args = append(args, limit+1)
	rows, err := s.pool.Query(ctx, fmt.Sprintf(`SELECT `+deliveryColumns+` FROM webhook_deliveries d
		WHERE d.endpoint_id = $1 AND %s ORDER BY d.id DESC LIMIT $%d`, where, len(args)), args...)
	if err != nil {
		return nil, 0, fmt.Errorf("list webhook deliveries: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (WebhookDelivery, error) { return scanDelivery(r) })
	if err != nil {
		return nil, 0, fmt.Errorf("list webhook deliveries: %w", err)
	}
	var next int64
	if len(out) > limit {
		out = out[:limit]
		next = out[limit-1].ID
	}
	return out, next, nil
}

// RedeliverWebhookDelivery queues a delivery of the endpoint to be sent
// again now, with a fresh retry schedule. A FAILED delivery, which held
// back its case's later deliveries to the endpoint, releases them once it
// is delivered.
func (s *Store) RedeliverWebhookDelivery(ctx context.Context, endpoint uuid.UUID, id int64, now time.Time) (WebhookDelivery, error) {
	d, err := scanDelivery(s.changeRow(ctx, `UPDATE webhook_deliveries d SET status = 'PENDING', attempts = 0, next_attempt_time = $3,
		lease_until = NULL, deliver_time = NULL, update_time = $3
		WHERE d.endpoint_id = $1 AND d.id = $2 RETURNING `+deliveryColumns, endpoint, id, now))
	if errors.Is(err, pgx.ErrNoRows) {
		return d, fmt.Errorf("webhook delivery: %w", casework.ErrNotFound)
	}
	if err != nil {
		return d, fmt.Errorf("redeliver webhook delivery %d: %w", id, err)
	}
	return d, nil
}

// dispatchSQL fans a batch of undispatched outbox rows out into one
// delivery per endpoint of the case's referring court whose event types
// match, and marks the rows dispatched: one statement. A disabled
// endpoint gets its deliveries too; they wait until it is enabled. A
// delivery behind an earlier version of its case not yet delivered (or
// not yet dispatched) is queued at next_attempt_time 'infinity': out of the
// senders' way until its predecessor is delivered and promotes it. Rows another
// dispatcher holds are skipped. The body is frozen here: every attempt
// sends the same bytes.
const dispatchSQL = `
WITH batch AS (
	SELECT o.id, o.case_id, o.region_code, o.case_version, o.topic, o.payload FROM outbox o
	WHERE o.deliver_time IS NULL ORDER BY o.id LIMIT $1 FOR UPDATE SKIP LOCKED
),
ins AS (
	INSERT INTO webhook_deliveries (endpoint_id, case_id, region_code, case_version, message_id, event_type, body, next_attempt_time, create_time, update_time)
	SELECT e.id, b.case_id, b.region_code, b.case_version, 'msg_' || b.case_id::text || '_' || b.case_version, b.topic,
		jsonb_build_object('type', b.topic, 'timestamp', b.payload->'occur_time', 'data',
			(b.payload - 'data' - 'to_state' - 'actor' - 'request_id')
			|| coalesce(b.payload->'data', '{}')
			|| jsonb_build_object('state', b.payload->'to_state', 'court_code', c.court_code, 'court_case_number', c.court_case_number))::text,
		CASE WHEN EXISTS (SELECT 1 FROM webhook_deliveries p WHERE p.endpoint_id = e.id AND p.case_id = b.case_id
				AND p.case_version < b.case_version AND p.status <> 'DELIVERED')
			OR EXISTS (SELECT 1 FROM outbox o WHERE o.case_id = b.case_id AND o.case_version < b.case_version AND o.deliver_time IS NULL)
			THEN 'infinity'::timestamptz ELSE $2 END,
		$2, $2
	FROM batch b
	JOIN cases c ON c.id = b.case_id AND c.region_code = b.region_code
	JOIN webhook_endpoints e ON e.court_code = c.court_code
		AND (cardinality(e.event_types) = 0 OR b.topic = ANY (e.event_types))
	ON CONFLICT (endpoint_id, case_id, case_version, region_code) DO NOTHING
	RETURNING 1
),
upd AS (
	UPDATE outbox o SET deliver_time = $2 FROM batch WHERE o.id = batch.id
)
SELECT (SELECT count(*) FROM batch), (SELECT count(*) FROM ins)`

// DispatchOutbox fans out at most limit outbox rows and reports how many
// it dispatched and how many deliveries it created.
func (s *Store) DispatchOutbox(ctx context.Context, limit int, now time.Time) (rows, deliveries int, err error) {
	if err := s.changeRow(ctx, dispatchSQL, limit, now).Scan(&rows, &deliveries); err != nil {
		return 0, 0, fmt.Errorf("dispatch the outbox: %w", err)
	}
	return rows, deliveries, nil
}

// PromoteWaitingDeliveries makes due every waiting delivery (queued
// behind an earlier version) whose earlier versions are all delivered and
// dispatched, and returns how many. Recording a delivery promotes its
// successor at once; this catches the successor a concurrent fan-out
// queued as waiting just as its predecessor was delivered.
func (s *Store) PromoteWaitingDeliveries(ctx context.Context, now time.Time) (int, error) {
	tag, err := s.execChange(ctx, `UPDATE webhook_deliveries q SET next_attempt_time = $1
		WHERE q.status = 'PENDING' AND q.next_attempt_time = 'infinity'
			AND NOT EXISTS (SELECT 1 FROM webhook_deliveries p WHERE p.endpoint_id = q.endpoint_id AND p.case_id = q.case_id
				AND p.case_version < q.case_version AND p.status <> 'DELIVERED')
			AND NOT EXISTS (SELECT 1 FROM outbox o WHERE o.case_id = q.case_id AND o.case_version < q.case_version AND o.deliver_time IS NULL)`, now)
	if err != nil {
		return 0, fmt.Errorf("promote waiting webhook deliveries: %w", err)
	}
	return int(tag.RowsAffected()), nil
}

// claimSQL leases due deliveries that head their (endpoint, case) chain:
// no lower version of the case waits for the endpoint, neither as a
// delivery not yet delivered nor as an outbox row not yet dispatched. The
// checks are scalar subqueries, so that they run per candidate on the
// indexes while the queue is walked in due order (webhook_deliveries_due)
// and stop at the limit, however many messages were delivered before.
const claimSQL = `
UPDATE webhook_deliveries d SET lease_until = $3
FROM (
	SELECT q.id FROM webhook_deliveries q
	WHERE q.status = 'PENDING' AND q.next_attempt_time <= $2 AND (q.lease_until IS NULL OR q.lease_until < $2)
		AND (SELECT e.state FROM webhook_endpoints e WHERE e.id = q.endpoint_id) = 'ACTIVE'
		AND (SELECT 1 FROM webhook_deliveries p WHERE p.endpoint_id = q.endpoint_id AND p.case_id = q.case_id
			AND p.case_version < q.case_version AND p.status <> 'DELIVERED' LIMIT 1) IS NULL
		AND (SELECT 1 FROM outbox o WHERE o.case_id = q.case_id AND o.case_version < q.case_version
			AND o.deliver_time IS NULL LIMIT 1) IS NULL
	ORDER BY q.next_attempt_time
	LIMIT $1
	FOR UPDATE OF q SKIP LOCKED
) c, webhook_endpoints e
WHERE d.id = c.id AND e.id = d.endpoint_id
RETURNING ` + deliveryColumns + `, e.url,
	(SELECT coalesce(array_agg(s.secret ORDER BY s.id DESC), '{}') FROM webhook_secrets s
		WHERE s.endpoint_id = d.endpoint_id AND (s.expire_time IS NULL OR s.expire_time > $2))`

// ClaimWebhookDeliveries leases at most limit due deliveries until
// now+lease: no other sender takes them until the lease ends, when a
// sender that died is replaced.
func (s *Store) ClaimWebhookDeliveries(ctx context.Context, limit int, now time.Time, lease time.Duration) ([]ClaimedDelivery, error) {
	until := now.Add(lease).Truncate(time.Microsecond) // as stored, so that it identifies the lease
	rows, err := s.pool.Query(ctx, claimSQL, limit, now, until)
	if err != nil {
		return nil, fmt.Errorf("claim webhook deliveries: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (ClaimedDelivery, error) {
		var c ClaimedDelivery
		var err error
		c.WebhookDelivery, err = scanDelivery(r, &c.URL, &c.Secrets)
		c.LeaseUntil = until
		return c, err
	})
	if err != nil {
		return nil, fmt.Errorf("claim webhook deliveries: %w", err)
	}
	return out, nil
}

// AttemptResult is how one attempt went.
type AttemptResult struct {
	Delivered  bool
	HTTPStatus int    // 0 = no answer
	Error      string // "" when delivered
	// Failed ends the retries: the delivery is FAILED.
	Failed bool
	// NextAttempt is when to try again, unless delivered or failed.
	NextAttempt time.Time
	// DisableEndpoint, when set, disables the endpoint with this reason
	// (the receiver answered 410 Gone).
	DisableEndpoint string
}

// RecordWebhookAttempt records the outcome of an attempt on a claimed
// delivery, if the sender's lease still holds; it reports whether it did.
func (s *Store) RecordWebhookAttempt(ctx context.Context, c ClaimedDelivery, r AttemptResult, now time.Time) (bool, error) {
	status := DeliveryPending
	var deliverTime *time.Time
	switch {
	case r.Delivered:
		status, deliverTime = DeliveryDelivered, &now
	case r.Failed:
		status = DeliveryFailed
	}
	next := r.NextAttempt
	if next.IsZero() {
		next = now
	}
	// One statement: the delivery's outcome and, after a 410, the
	// endpoint disabled, if the lease still holds.
	var recorded bool
	err := s.changeRow(ctx, `WITH d AS (
			UPDATE webhook_deliveries SET status = $3, attempts = attempts + 1, next_attempt_time = $4,
				lease_until = NULL, last_http_status = $5, last_error = $6, deliver_time = $7, update_time = $8
			WHERE id = $1 AND lease_until = $2
			RETURNING endpoint_id
		), e AS (
			UPDATE webhook_endpoints SET state = 'DISABLED', disabled_reason = $9, version = version + 1, update_time = $8
			WHERE $9 <> '' AND state = 'ACTIVE' AND id = (SELECT endpoint_id FROM d)
		), n AS (
			-- Delivered: the case's next version waiting for this endpoint is due now.
			UPDATE webhook_deliveries n SET next_attempt_time = $8
			WHERE $3 = 'DELIVERED' AND EXISTS (SELECT 1 FROM d)
				AND n.endpoint_id = $10 AND n.case_id = $11 AND n.status = 'PENDING' AND n.next_attempt_time = 'infinity'
				AND n.case_version = (SELECT min(m.case_version) FROM webhook_deliveries m
					WHERE m.endpoint_id = $10 AND m.case_id = $11 AND m.case_version > $12 AND m.status <> 'DELIVERED')
				AND NOT EXISTS (SELECT 1 FROM outbox o WHERE o.case_id = n.case_id AND o.case_version < n.case_version AND o.deliver_time IS NULL)
		)
		SELECT EXISTS (SELECT 1 FROM d)`, c.ID, c.LeaseUntil, status, next, r.HTTPStatus, truncate(r.Error, 500), deliverTime, now, r.DisableEndpoint,
		c.EndpointID, c.CaseID, c.CaseVersion).Scan(&recorded)
	if err != nil {
		return false, fmt.Errorf("record webhook attempt %d: %w", c.ID, err)
	}
	return recorded, nil
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && s[n]&0xC0 == 0x80 {
		n-- // keep whole UTF-8 characters
	}
	return s[:n]
}

// PruneDelivered deletes at most batch dispatched outbox rows older than
// outboxBefore and at most batch delivered deliveries older than
// deliveriesBefore; it reports how many of each. Rows another replica is
// deleting are skipped, so replicas may all run it.
func (s *Store) PruneDelivered(ctx context.Context, outboxBefore, deliveriesBefore time.Time, batch int) (outbox, deliveries int, err error) {
	err = s.pool.QueryRow(ctx, `
WITH o AS (
	DELETE FROM outbox WHERE id IN (SELECT id FROM outbox WHERE deliver_time < $1 ORDER BY deliver_time LIMIT $3 FOR UPDATE SKIP LOCKED) RETURNING 1
), d AS (
	DELETE FROM webhook_deliveries WHERE id IN (SELECT id FROM webhook_deliveries WHERE status = 'DELIVERED' AND deliver_time < $2
		ORDER BY deliver_time LIMIT $3 FOR UPDATE SKIP LOCKED) RETURNING 1
)
SELECT (SELECT count(*) FROM o), (SELECT count(*) FROM d)`, outboxBefore, deliveriesBefore, batch).Scan(&outbox, &deliveries)
	if err != nil {
		return 0, 0, fmt.Errorf("prune delivered messages: %w", err)
	}
	return outbox, deliveries, nil
}

// WebhookQueue is the backlog of one endpoint.
type WebhookQueue struct {
	EndpointID uuid.UUID
	Pending    int
	Failed     int
	Oldest     time.Time // create time of the oldest pending delivery; zero if none
}

// WebhookQueues reads every endpoint's backlog.
func (s *Store) WebhookQueues(ctx context.Context) ([]WebhookQueue, error) {
	rows, err := s.pool.Query(ctx, `SELECT e.id,
		(SELECT count(*) FROM webhook_deliveries d WHERE d.endpoint_id = e.id AND d.status = 'PENDING'),
		(SELECT count(*) FROM webhook_deliveries d WHERE d.endpoint_id = e.id AND d.status = 'FAILED'),
		(SELECT min(d.create_time) FROM webhook_deliveries d WHERE d.endpoint_id = e.id AND d.status = 'PENDING')
		FROM webhook_endpoints e`)
	if err != nil {
		return nil, fmt.Errorf("read webhook queues: %w", err)
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (WebhookQueue, error) {
		var q WebhookQueue
		var oldest *time.Time
		err := r.Scan(&q.EndpointID, &q.Pending, &q.Failed, &oldest)
		if oldest != nil {
			q.Oldest = *oldest
		}
		return q, err
	})
}
