package store

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/mediationd/mediationd/internal/aipfilter"
	"github.com/mediationd/mediationd/internal/identity"
)

// AuditKind classifies audit records.
type AuditKind string

// The audit kinds.
const (
	AuditWrite            AuditKind = "WRITE"
	AuditLogin            AuditKind = "LOGIN"
	AuditLoginFailed      AuditKind = "LOGIN_FAILED"
	AuditLogout           AuditKind = "LOGOUT"
	AuditReadPersonalData AuditKind = "READ_PERSONAL_DATA"
	AuditPermissionDenied AuditKind = "PERMISSION_DENIED"
	// AuditExport is a download of cases or figures as a spreadsheet.
	AuditExport AuditKind = "EXPORT"
)

// AuditRecord is one entry of the audit trail.
type AuditRecord struct {
	ID            int64
	Time          time.Time
	Kind          AuditKind
	Actor         string
	ActorRole     identity.Role
	ClientAddress string
	// ClientCert is the CN of the client certificate the service verified,
	// "" without one.
	ClientCert string
	Method     string
	Resource   string
	RequestID  string
	Code       string
}

// auditFieldMax bounds each text a request can put into the audit trail.
// Real values are far shorter (a username has at most 64 characters, a
// resource name about 80); a request refused as invalid, a sign-in with a
// username of megabytes say, is still recorded, with the text cut short,
// so that nobody can fill the append-only trail with data of their choice.
const auditFieldMax = 200

// clipAudit cuts s to auditFieldMax characters, marking the cut with "…".
func clipAudit(s string) string {
	if len(s) <= auditFieldMax {
		return s
	}
	n := 0
	for i := range s {
		if n == auditFieldMax {
			return s[:i] + "…"
		}
		n++
	}
	return s
}

// recordAuditSQL appends audit records given as arrays, in their order.
// A record about a case (a resource cases/{id}, or below it) carries the
// case's home region, any other record the empty region. The records
// come from requests, refused ones included, whose callers hold no case
// row, so the region is read here, by the case's primary key, in the same
// statement.
const recordAuditSQL = `INSERT INTO audit_events (event_time, kind, actor, actor_role, client_address, client_cert, method,
		resource, request_id, code, region_code)
	SELECT r.event_time, r.kind, r.actor, r.actor_role, r.client_address, r.client_cert, r.method,
		r.resource, r.request_id, r.code, coalesce(c.region_code, '')
	FROM unnest($1::timestamptz[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[],
			$8::text[], $9::text[], $10::text[]) WITH ORDINALITY
		AS r(event_time, kind, actor, actor_role, client_address, client_cert, method, resource, request_id, code, i)
	LEFT JOIN cases c ON c.id = CASE WHEN r.resource ~ '^cases/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}($|/)'
		THEN substr(r.resource, 7, 36)::uuid END
	ORDER BY r.i`

// RecordAudit appends records to the audit trail in one statement.
func (s *Store) RecordAudit(ctx context.Context, records ...AuditRecord) error {
	if len(records) == 0 {
		return nil
	}
	n := len(records)
	times := make([]time.Time, n)
	kinds, actors, roles, addresses, certs := make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n)
	methods, resources, requestIDs, codes := make([]string, n), make([]string, n), make([]string, n), make([]string, n)
	for i, r := range records {
		times[i], kinds[i], actors[i], roles[i] = r.Time, string(r.Kind), clipAudit(r.Actor), string(r.ActorRole)
		addresses[i], certs[i], methods[i] = clipAudit(r.ClientAddress), clipAudit(r.ClientCert), r.Method
		resources[i], requestIDs[i], codes[i] = clipAudit(r.Resource), r.RequestID, r.Code
	}
	_, err := s.execChange(ctx, recordAuditSQL, times, kinds, actors, roles, addresses, certs, methods, resources, requestIDs, codes)
	if err != nil {
		return fmt.Errorf("record audit events: %w", err)
	}
	return nil
}

var auditKinds = []AuditKind{AuditWrite, AuditLogin, AuditLoginFailed, AuditLogout, AuditReadPersonalData, AuditPermissionDenied, AuditExport}

// auditFilter is what ListAuditEvents' filter may name.
var auditFilter = aipfilter.Schema{
	"kind":           enumField("a.kind", auditKinds),
	"actor":          {Column: "a.actor", Type: aipfilter.String},
	"actor_role":     enumField("a.actor_role", identity.Roles),
	"client_address": {Column: "a.client_address", Type: aipfilter.String},
	"client_cert":    {Column: "a.client_cert", Type: aipfilter.String},
	"method":         {Column: "a.method", Type: aipfilter.String},
	"resource":       {Column: "a.resource", Type: aipfilter.String},
	"request_id":     {Column: "a.request_id", Type: aipfilter.String},
	"code":           {Column: "a.code", Type: aipfilter.String},
	"event_time":     {Column: "a.event_time", Type: aipfilter.Timestamp},
}

// ListAuditEvents returns audit records newest first, filtered (AIP-160),
// before the cursor before (0 = from the newest), and the cursor of the
// next page (0 when this is the last).
func (s *Store) ListAuditEvents(ctx context.Context, filter string, spell aipfilter.Spelling, before int64, limit int) ([]AuditRecord, int64, error) {
	where, args, err := compileFilter(filter, spell, auditFilter, 1)
	if err != nil {
		return nil, 0, err
	}
	if before > 0 {
		args = append(args, before)
		where = fmt.Sprintf("(%s) AND a.id < $%d", where, len(args))
	}
	args = append(args, limit+1)
	rows, err := s.pool.Query(ctx, fmt.Sprintf(`SELECT a.id, a.event_time, a.kind, a.actor, a.actor_role, a.client_address,
		a.client_cert, a.method, a.resource, a.request_id, a.code FROM audit_events a WHERE %s ORDER BY a.id DESC LIMIT $%d`, where, len(args)), args...)
	if err != nil {
		return nil, 0, fmt.Errorf("list audit events: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (AuditRecord, error) {
		var a AuditRecord
		err := r.Scan(&a.ID, &a.Time, &a.Kind, &a.Actor, &a.ActorRole, &a.ClientAddress, &a.ClientCert, &a.Method, &a.Resource, &a.RequestID, &a.Code)
		return a, err
	})
	if err != nil {
		return nil, 0, fmt.Errorf("list audit events: %w", err)
	}
	var next int64
	if len(out) > limit {
		out = out[:limit]
		next = out[limit-1].ID
	}
	return out, next, nil
}
