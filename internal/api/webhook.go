package api

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/mediationd/mediationd/internal/auth"
	"github.com/mediationd/mediationd/internal/casework"
	"github.com/mediationd/mediationd/internal/delivery"
	"github.com/mediationd/mediationd/internal/store"
	mediationv1 "github.com/mediationd/mediationd/proto/mediation/v1"
)

// WebhookService serves mediation.v1.WebhookService: the courts' webhook
// endpoints and their delivery logs. An administrator manages every
// court's endpoints; a court desk only its own court's, and another
// court's endpoint is NOT_FOUND to it.
type WebhookService struct {
	mediationv1.UnimplementedWebhookServiceServer

	store    *store.Store
	delivery *delivery.Service
	clock    Clock
}

// NewWebhookService returns the service.
func NewWebhookService(st *store.Store, d *delivery.Service, clock Clock) *WebhookService {
	return &WebhookService{store: st, delivery: d, clock: clock}
}

// DefaultSecretGrace is how long a rotated secret keeps signing.
const DefaultSecretGrace = 24 * time.Hour

// webhookCourt is the court whose endpoints the caller manages; "" = any
// court (an administrator).
func webhookCourt(ctx context.Context) (string, error) {
	p := auth.FromContext(ctx)
	switch p.Role {
	case auth.RoleAdmin:
		return "", nil
	case auth.RoleCourtDesk:
		if p.CourtCode != "" {
			return p.CourtCode, nil
		}
	}
	return "", &auth.PermissionError{Message: "webhook endpoints are managed by administrators and by a court's own desk"}
}

// endpointRequest reads what a request about one endpoint needs: the
// caller's court (webhookCourt) and the endpoint named in field.
func endpointRequest(ctx context.Context, field, name string) (string, uuid.UUID, error) {
	court, err := webhookCourt(ctx)
	if err != nil {
		return "", uuid.Nil, err
	}
	id, err := parseEndpointName(field, name)
	return court, id, err
}

func endpointName(id uuid.UUID) string { return "webhookEndpoints/" + id.String() }

func parseEndpointName(field, name string) (uuid.UUID, error) {
	rest, ok := strings.CutPrefix(name, "webhookEndpoints/")
	id, err := uuid.Parse(rest)
	if !ok || err != nil || rest != id.String() {
		return uuid.Nil, &casework.FieldError{Field: field, Message: fmt.Sprintf("%q is not a webhook endpoint name: expected webhookEndpoints/{uuid}, as returned in WebhookEndpoint.name", name)}
	}
	return id, nil
}

func endpointToProto(e store.WebhookEndpoint) *mediationv1.WebhookEndpoint {
	out := &mediationv1.WebhookEndpoint{
		Name:           endpointName(e.ID),
		CourtCode:      e.CourtCode,
		Url:            e.URL,
		EventTypes:     e.EventTypes,
		Description:    e.Description,
		State:          mediationv1.WebhookEndpointState_WEBHOOK_ENDPOINT_STATE_ACTIVE,
		DisabledReason: e.DisabledReason,
		Etag:           Etag(e.Version),
		CreateTime:     timeToProto(e.CreateTime),
		UpdateTime:     timeToProto(e.UpdateTime),
	}
	if e.DisabledReason != "" {
		out.State = mediationv1.WebhookEndpointState_WEBHOOK_ENDPOINT_STATE_DISABLED
	}
	return out
}

func deliveryToProto(d store.WebhookDelivery) *mediationv1.WebhookDelivery {
	out := &mediationv1.WebhookDelivery{
		Name:           endpointName(d.EndpointID) + "/deliveries/" + itoa(d.ID),
		Case:           caseName(d.CaseID),
		CaseVersion:    d.CaseVersion,
		MessageId:      d.MessageID,
		EventType:      d.EventType,
		Status:         mediationv1.WebhookDeliveryStatus(enumFromDomain(mediationv1.WebhookDeliveryStatus_value, "WEBHOOK_DELIVERY_STATUS_", d.Status)),
		Attempts:       int32(d.Attempts),
		LastHttpStatus: int32(d.LastHTTPStatus),
		LastError:      d.LastError,
		CreateTime:     timeToProto(d.CreateTime),
		DeliverTime:    timeToProto(d.DeliverTime),
		Body:           d.Body,
	}
	if d.Status == store.DeliveryPending {
		out.NextAttemptTime = timeToProto(d.NextAttemptTime)
	}
	return out
}

// eventTypes are the event types an endpoint may subscribe to.
var eventTypes = func() []string {
	out := []string{"case." + string(casework.ActionCreate)}
	for _, a := range casework.Actions {
		out = append(out, "case."+string(a))
	}
	return out
}()

// checkEndpoint checks what a caller may set on an endpoint.
func (s *WebhookService) checkEndpoint(ctx context.Context, e *mediationv1.WebhookEndpoint, paths []string) error {
	if slices.Contains(paths, "url") {
		if err := s.delivery.Guard().CheckURL(ctx, e.GetUrl()); err != nil {
			return &casework.FieldError{Field: "webhook_endpoint.url", Message: err.Error()}
		}
	}
	if slices.Contains(paths, "event_types") {
		for i, t := range e.GetEventTypes() {
			if !slices.Contains(eventTypes, t) {
				return &casework.FieldError{Field: fmt.Sprintf("webhook_endpoint.event_types[%d]", i),
					Message: fmt.Sprintf("%q is not an event type; the types are %s", t, strings.Join(eventTypes, ", "))}
			}
		}
	}
	if slices.Contains(paths, "description") && len(e.GetDescription()) > 500 {
		return &casework.FieldError{Field: "webhook_endpoint.description", Message: "at most 500 bytes"}
	}
	return nil
}

// newSecret makes a signing secret and seals it for storage.
func (s *WebhookService) newSecret() (string, []byte, error) {
	secret, err := delivery.NewSecret()
	if err != nil {
		return "", nil, err
	}
	sealed, err := s.delivery.Keys().Seal(secret)
	if errors.Is(err, delivery.ErrNoSecretKey) {
		return "", nil, &casework.PreconditionError{Reason: "SECRET_KEY_MISSING", Message: err.Error()}
	}
	return secret, sealed, err
}

// CreateWebhookEndpoint registers an endpoint and returns its secret.
func (s *WebhookService) CreateWebhookEndpoint(ctx context.Context, req *mediationv1.CreateWebhookEndpointRequest) (*mediationv1.CreateWebhookEndpointResponse, error) {
	court, err := webhookCourt(ctx)
	if err != nil {
		return nil, err
	}
	e := req.GetWebhookEndpoint()
	switch {
	case court != "" && e.GetCourtCode() != "" && e.GetCourtCode() != court:
		return nil, &auth.PermissionError{Message: fmt.Sprintf("this key manages the webhook endpoints of the court %s, not of %s", court, e.GetCourtCode())}
	case court == "" && strings.TrimSpace(e.GetCourtCode()) == "":
		return nil, &casework.FieldError{Field: "webhook_endpoint.court_code", Message: "required: the court whose referred cases the endpoint receives"}
	case court == "":
		court = strings.TrimSpace(e.GetCourtCode())
	}
	if err := s.checkEndpoint(ctx, e, []string{"url", "event_types", "description"}); err != nil {
		return nil, err
	}
	secret, sealed, err := s.newSecret()
	if err != nil {
		return nil, err
	}
	now := s.clock().UTC()
	out, err := s.store.CreateWebhookEndpoint(ctx, store.WebhookEndpoint{
		ID: uuid.New(), CourtCode: court, URL: e.GetUrl(), EventTypes: e.GetEventTypes(), Description: e.GetDescription(),
		CreateTime: now, UpdateTime: now,
	}, sealed)
	if err != nil {
		return nil, err
	}
	return &mediationv1.CreateWebhookEndpointResponse{WebhookEndpoint: endpointToProto(out), Secret: secret}, nil
}

// GetWebhookEndpoint reads an endpoint.
func (s *WebhookService) GetWebhookEndpoint(ctx context.Context, req *mediationv1.GetWebhookEndpointRequest) (*mediationv1.GetWebhookEndpointResponse, error) {
	court, id, err := endpointRequest(ctx, "name", req.GetName())
	if err != nil {
		return nil, err
	}
	e, err := s.store.GetWebhookEndpoint(ctx, id, court)
	if err != nil {
		return nil, notFoundName(err, req.GetName())
	}
	return &mediationv1.GetWebhookEndpointResponse{WebhookEndpoint: endpointToProto(e)}, nil
}

func notFoundName(err error, name string) error {
	if errors.Is(err, casework.ErrNotFound) {
		return fmt.Errorf("%s: %w", name, casework.ErrNotFound)
	}
	return err
}

// ListWebhookEndpoints lists the caller's endpoints.
func (s *WebhookService) ListWebhookEndpoints(ctx context.Context, req *mediationv1.ListWebhookEndpointsRequest) (*mediationv1.ListWebhookEndpointsResponse, error) {
	court, err := webhookCourt(ctx)
	if err != nil {
		return nil, err
	}
	query := queryFingerprint("webhookEndpoints", court)
	after := uuid.Nil
	if t := req.GetPageToken(); t != "" {
		b, err := base64.RawURLEncoding.DecodeString(t)
		rest, ok := strings.CutPrefix(string(b), query+"/")
		if err == nil && ok {
			after, err = uuid.Parse(rest)
		}
		if err != nil || !ok {
			return nil, &casework.FieldError{Field: "page_token", Message: "not a page token this service issued: pass next_page_token from the previous response unchanged"}
		}
	}
	list, more, err := s.store.ListWebhookEndpoints(ctx, court, after, pageSize(req.GetPageSize(), defaultPageSize))
	if err != nil {
		return nil, err
	}
	out := &mediationv1.ListWebhookEndpointsResponse{}
	for _, e := range list {
		out.WebhookEndpoints = append(out.WebhookEndpoints, endpointToProto(e))
	}
	if more {
		out.NextPageToken = base64.RawURLEncoding.EncodeToString([]byte(query + "/" + list[len(list)-1].ID.String()))
	}
	return out, nil
}

func parseOptionalEtag(etag string) (int64, error) {
	if etag == "" {
		return 0, nil
	}
	v, ok := ParseEtag(etag)
	if !ok {
		return 0, &casework.FieldError{Field: "etag", Message: fmt.Sprintf("%q is not an etag this service issued: send the etag of the last read, or none", etag)}
	}
	return v, nil
}

// UpdateWebhookEndpoint changes an endpoint's url, event types or
// description.
func (s *WebhookService) UpdateWebhookEndpoint(ctx context.Context, req *mediationv1.UpdateWebhookEndpointRequest) (*mediationv1.UpdateWebhookEndpointResponse, error) {
	court, err := webhookCourt(ctx)
	if err != nil {
		return nil, err
	}
	e := req.GetWebhookEndpoint()
	id, err := parseEndpointName("webhook_endpoint.name", e.GetName())
	if err != nil {
		return nil, err
	}
	version, err := parseOptionalEtag(req.GetEtag())
	if err != nil {
		return nil, err
	}
	paths := req.GetUpdateMask().GetPaths()
	if len(paths) == 0 {
		// Every field the request gives.
		if e.GetUrl() != "" {
			paths = append(paths, "url")
		}
		if len(e.GetEventTypes()) > 0 {
			paths = append(paths, "event_types")
		}
		if e.GetDescription() != "" {
			paths = append(paths, "description")
		}
	}
	for _, p := range paths {
		if !slices.Contains([]string{"url", "event_types", "description"}, p) {
			return nil, &casework.FieldError{Field: "update_mask", Message: fmt.Sprintf("%q cannot be changed; the fields are url, event_types and description (court_code is fixed: register another endpoint)", p)}
		}
	}
	cur, err := s.store.GetWebhookEndpoint(ctx, id, court)
	if err != nil {
		return nil, notFoundName(err, e.GetName())
	}
	if err := s.checkEndpoint(ctx, e, paths); err != nil {
		return nil, err
	}
	if version == 0 {
		version = cur.Version
	}
	if slices.Contains(paths, "url") {
		cur.URL = e.GetUrl()
	}
	if slices.Contains(paths, "event_types") {
		cur.EventTypes = e.GetEventTypes()
	}
	if slices.Contains(paths, "description") {
		cur.Description = e.GetDescription()
	}
	out, err := s.store.UpdateWebhookEndpoint(ctx, cur, version, court, s.clock().UTC())
	if err != nil {
		return nil, notFoundName(err, e.GetName())
	}
	return &mediationv1.UpdateWebhookEndpointResponse{WebhookEndpoint: endpointToProto(out)}, nil
}

// DeleteWebhookEndpoint deletes an endpoint, its secrets and its log.
func (s *WebhookService) DeleteWebhookEndpoint(ctx context.Context, req *mediationv1.DeleteWebhookEndpointRequest) (*mediationv1.DeleteWebhookEndpointResponse, error) {
	court, id, err := endpointRequest(ctx, "name", req.GetName())
	if err != nil {
		return nil, err
	}
	version, err := parseOptionalEtag(req.GetEtag())
	if err != nil {
		return nil, err
	}
	if err := s.store.DeleteWebhookEndpoint(ctx, id, version, court); err != nil {
		return nil, notFoundName(err, req.GetName())
	}
	return &mediationv1.DeleteWebhookEndpointResponse{}, nil
}

// DisableWebhookEndpoint stops sending to an endpoint.
func (s *WebhookService) DisableWebhookEndpoint(ctx context.Context, req *mediationv1.DisableWebhookEndpointRequest) (*mediationv1.DisableWebhookEndpointResponse, error) {
	reason := strings.TrimSpace(req.GetReason())
	if reason == "" {
		reason = "disabled by " + auth.FromContext(ctx).Name
	}
	e, err := s.setDisabled(ctx, req.GetName(), req.GetEtag(), reason)
	if err != nil {
		return nil, err
	}
	return &mediationv1.DisableWebhookEndpointResponse{WebhookEndpoint: e}, nil
}

// EnableWebhookEndpoint resumes sending to an endpoint.
func (s *WebhookService) EnableWebhookEndpoint(ctx context.Context, req *mediationv1.EnableWebhookEndpointRequest) (*mediationv1.EnableWebhookEndpointResponse, error) {
	e, err := s.setDisabled(ctx, req.GetName(), req.GetEtag(), "")
	if err != nil {
		return nil, err
	}
	s.delivery.Wake()
	return &mediationv1.EnableWebhookEndpointResponse{WebhookEndpoint: e}, nil
}

func (s *WebhookService) setDisabled(ctx context.Context, name, etag, reason string) (*mediationv1.WebhookEndpoint, error) {
	court, id, err := endpointRequest(ctx, "name", name)
	if err != nil {
		return nil, err
	}
	version, err := parseOptionalEtag(etag)
	if err != nil {
		return nil, err
	}
	e, err := s.store.SetWebhookEndpointDisabled(ctx, id, reason, version, court, s.clock().UTC())
	if err != nil {
		return nil, notFoundName(err, name)
	}
	return endpointToProto(e), nil
}

// RotateWebhookSecret makes a new secret; the old ones keep signing for
// the grace period.
func (s *WebhookService) RotateWebhookSecret(ctx context.Context, req *mediationv1.RotateWebhookSecretRequest) (*mediationv1.RotateWebhookSecretResponse, error) {
	court, id, err := endpointRequest(ctx, "name", req.GetName())
	if err != nil {
		return nil, err
	}
	grace := DefaultSecretGrace
	if g := req.GetGracePeriod(); g != nil && g.AsDuration() > 0 {
		grace = g.AsDuration()
	}
	secret, sealed, err := s.newSecret()
	if err != nil {
		return nil, err
	}
	e, err := s.store.RotateWebhookSecret(ctx, id, court, sealed, s.clock().UTC(), grace)
	if err != nil {
		return nil, notFoundName(err, req.GetName())
	}
	return &mediationv1.RotateWebhookSecretResponse{WebhookEndpoint: endpointToProto(e), Secret: secret}, nil
}

// ListWebhookDeliveries lists an endpoint's deliveries, newest first.
func (s *WebhookService) ListWebhookDeliveries(ctx context.Context, req *mediationv1.ListWebhookDeliveriesRequest) (*mediationv1.ListWebhookDeliveriesResponse, error) {
	court, id, err := endpointRequest(ctx, "parent", req.GetParent())
	if err != nil {
		return nil, err
	}
	if _, err := s.store.GetWebhookEndpoint(ctx, id, court); err != nil {
		return nil, notFoundName(err, req.GetParent())
	}
	query := queryFingerprint("webhookDeliveries", req.GetParent(), req.GetFilter())
	before, err := decodePageToken(req.GetPageToken(), query)
	if err != nil {
		return nil, err
	}
	list, next, err := s.store.ListWebhookDeliveries(ctx, id, req.GetFilter(), deliverySpelling, before, pageSize(req.GetPageSize(), defaultPageSize))
	if err != nil {
		return nil, err
	}
	out := &mediationv1.ListWebhookDeliveriesResponse{NextPageToken: encodePageToken(next, query)}
	for _, d := range list {
		out.WebhookDeliveries = append(out.WebhookDeliveries, deliveryToProto(d))
	}
	return out, nil
}

// RedeliverWebhookDelivery queues a delivery again.
func (s *WebhookService) RedeliverWebhookDelivery(ctx context.Context, req *mediationv1.RedeliverWebhookDeliveryRequest) (*mediationv1.RedeliverWebhookDeliveryResponse, error) {
	court, err := webhookCourt(ctx)
	if err != nil {
		return nil, err
	}
	parent, num, _ := strings.Cut(req.GetName(), "/deliveries/")
	id, err := parseEndpointName("name", parent)
	if err != nil {
		return nil, err
	}
	n, err := strconv.ParseInt(num, 10, 64)
	if err != nil || n <= 0 {
		return nil, &casework.FieldError{Field: "name", Message: "expected webhookEndpoints/{uuid}/deliveries/{id}, as returned in WebhookDelivery.name"}
	}
	if _, err := s.store.GetWebhookEndpoint(ctx, id, court); err != nil {
		return nil, notFoundName(err, req.GetName())
	}
	d, err := s.store.RedeliverWebhookDelivery(ctx, id, n, s.clock().UTC())
	if err != nil {
		return nil, notFoundName(err, req.GetName())
	}
	s.delivery.Wake()
	return &mediationv1.RedeliverWebhookDeliveryResponse{WebhookDelivery: deliveryToProto(d)}, nil
}
