package api

import (
	"context"

	"github.com/mediationd/mediationd/internal/store"
	mediationv1 "github.com/mediationd/mediationd/proto/mediation/v1"
)

// AuditService serves mediation.v1.AuditService: the audit trail, for
// auditors and administrators.
type AuditService struct {
	mediationv1.UnimplementedAuditServiceServer

	store *store.Store
}

// NewAuditService returns the service.
func NewAuditService(st *store.Store) *AuditService { return &AuditService{store: st} }

const defaultAuditPageSize = 100

// ListAuditEvents lists audit events, newest first.
func (s *AuditService) ListAuditEvents(ctx context.Context, req *mediationv1.ListAuditEventsRequest) (*mediationv1.ListAuditEventsResponse, error) {
	query := queryFingerprint("auditEvents", req.GetFilter())
	before, err := decodePageToken(req.GetPageToken(), query)
	if err != nil {
		return nil, err
	}
	events, next, err := s.store.ListAuditEvents(ctx, req.GetFilter(), auditSpelling, before, pageSize(req.GetPageSize(), defaultAuditPageSize))
	if err != nil {
		return nil, err
	}
	out := &mediationv1.ListAuditEventsResponse{NextPageToken: encodePageToken(next, query)}
	for _, e := range events {
		out.AuditEvents = append(out.AuditEvents, &mediationv1.AuditEvent{
			Name:          "auditEvents/" + itoa(e.ID),
			EventTime:     timeToProto(e.Time),
			Kind:          mediationv1.AuditEventKind(enumFromDomain(mediationv1.AuditEventKind_value, "AUDIT_EVENT_KIND_", e.Kind)),
			Actor:         e.Actor,
			ActorRole:     mediationv1.Role(enumFromDomain(mediationv1.Role_value, "ROLE_", e.ActorRole)),
			ClientAddress: e.ClientAddress,
			ClientCert:    e.ClientCert,
			Method:        e.Method,
			Resource:      e.Resource,
			RequestId:     e.RequestID,
			Code:          e.Code,
		})
	}
	return out, nil
}
