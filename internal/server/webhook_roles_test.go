package server_test

import (
	"context"
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/proto"

	"github.com/mediationd/mediationd/internal/auth"
	"github.com/mediationd/mediationd/internal/store"
	mediationv1 "github.com/mediationd/mediationd/proto/mediation/v1"
)

// courtKey creates a court desk API key of court and returns its secret.
func courtKey(t *testing.T, e *env, court string) string {
	t.Helper()
	key, err := mediationv1.NewUserServiceClient(e.conn).CreateApiKey(context.Background(), &mediationv1.CreateApiKeyRequest{ApiKey: &mediationv1.ApiKey{
		DisplayName: court + "诉调对接系统", Role: mediationv1.Role_ROLE_COURT_DESK, CourtCode: court,
	}})
	if err != nil {
		t.Fatal(err)
	}
	return key.GetSecret()
}

// webhookRequests are a valid request of each WebhookService method aimed
// at the endpoint ep (and its delivery d).
func webhookRequests(ep, d string) map[string]proto.Message {
	return map[string]proto.Message{
		"CreateWebhookEndpoint":    &mediationv1.CreateWebhookEndpointRequest{WebhookEndpoint: &mediationv1.WebhookEndpoint{Url: "https://127.0.0.1/x"}},
		"GetWebhookEndpoint":       &mediationv1.GetWebhookEndpointRequest{Name: ep},
		"ListWebhookEndpoints":     &mediationv1.ListWebhookEndpointsRequest{},
		"UpdateWebhookEndpoint":    &mediationv1.UpdateWebhookEndpointRequest{WebhookEndpoint: &mediationv1.WebhookEndpoint{Name: ep, Description: "改"}, UpdateMask: nil},
		"DisableWebhookEndpoint":   &mediationv1.DisableWebhookEndpointRequest{Name: ep, Reason: "维护"},
		"EnableWebhookEndpoint":    &mediationv1.EnableWebhookEndpointRequest{Name: ep},
		"RotateWebhookSecret":      &mediationv1.RotateWebhookSecretRequest{Name: ep},
		"ListWebhookDeliveries":    &mediationv1.ListWebhookDeliveriesRequest{Parent: ep},
		"RedeliverWebhookDelivery": &mediationv1.RedeliverWebhookDeliveryRequest{Name: d},
		"DeleteWebhookEndpoint":    &mediationv1.DeleteWebhookEndpointRequest{Name: ep},
	}
}

// invoke calls WebhookService/method with req as token and returns the code.
func invoke(e *env, service, method string, req proto.Message, token string, reply proto.Message) codes.Code {
	return code(e.conn.Invoke(as(context.Background(), token), "/mediation.v1."+service+"/"+method, req, reply))
}

// TestWebhookRolesAndScope: administrators manage every court's endpoints;
// a court desk its own court's only, another court's being NOT_FOUND to
// it; every other role is refused. The change feed is for the roles that
// read cases.
func TestWebhookRolesAndScope(t *testing.T) {
	e := startWebhooks(t, nil)
	desk := courtKey(t, e, "甘1002")
	tokens := map[string]string{
		"supervisor": e.signIn(t, store.User{Username: "sup", DisplayName: "司法局", Role: auth.RoleSupervisor, RegionCode: "621002"}),
		"lead":       e.signIn(t, store.User{Username: "lead", DisplayName: "负责人", Role: auth.RoleOrganizationLead, OrganizationID: "room-0"}),
		"mediator":   e.signIn(t, store.User{Username: "med", DisplayName: "调解员", Role: auth.RoleMediator, MediatorID: "mediator-0"}),
		"auditor":    e.signIn(t, store.User{Username: "aud", DisplayName: "审计员", Role: auth.RoleAuditor}),
	}
	r := newReceiver(t)
	theirs := register(t, e, "甘1027", r) // another court's, by the administrator
	referCase(t, e, "甘1027", 1)

	// The desk registers for its own court, with or without naming it.
	for _, court := range []string{"", "甘1002"} {
		var resp mediationv1.CreateWebhookEndpointResponse
		req := &mediationv1.CreateWebhookEndpointRequest{WebhookEndpoint: &mediationv1.WebhookEndpoint{CourtCode: court, Url: r.srv.URL}}
		if c := invoke(e, "WebhookService", "CreateWebhookEndpoint", req, desk, &resp); c != codes.OK || resp.GetWebhookEndpoint().GetCourtCode() != "甘1002" {
			t.Errorf("desk registers with court_code %q: %v, %v", court, c, resp.GetWebhookEndpoint())
		}
	}
	req := &mediationv1.CreateWebhookEndpointRequest{WebhookEndpoint: &mediationv1.WebhookEndpoint{CourtCode: "甘1027", Url: r.srv.URL}}
	if c := invoke(e, "WebhookService", "CreateWebhookEndpoint", req, desk, &mediationv1.CreateWebhookEndpointResponse{}); c != codes.PermissionDenied {
		t.Errorf("desk of 甘1002 registers for 甘1027: %v, want PERMISSION_DENIED", c)
	}
	if _, err := webhooks(e).CreateWebhookEndpoint(context.Background(), &mediationv1.CreateWebhookEndpointRequest{
		WebhookEndpoint: &mediationv1.WebhookEndpoint{Url: r.srv.URL}}); code(err) != codes.InvalidArgument {
		t.Errorf("administrator registers without a court: %v, want INVALID_ARGUMENT", err)
	}
	var list mediationv1.ListWebhookEndpointsResponse
	if c := invoke(e, "WebhookService", "ListWebhookEndpoints", &mediationv1.ListWebhookEndpointsRequest{}, desk, &list); c != codes.OK || len(list.GetWebhookEndpoints()) != 2 {
		t.Fatalf("desk lists: %v, %v; want its 2 endpoints", c, list.GetWebhookEndpoints())
	}
	for _, ep := range list.GetWebhookEndpoints() {
		if ep.GetCourtCode() != "甘1002" {
			t.Errorf("desk sees %v", ep)
		}
	}
	own := list.GetWebhookEndpoints()[0].GetName()

	// Every method on the other court's endpoint is NOT_FOUND to the desk;
	// on its own it works.
	theirLog, err := webhooks(e).ListWebhookDeliveries(context.Background(), &mediationv1.ListWebhookDeliveriesRequest{Parent: theirs.GetName()})
	if err != nil {
		t.Fatal(err)
	}
	theirDelivery := theirs.GetName() + "/deliveries/1"
	if ds := theirLog.GetWebhookDeliveries(); len(ds) > 0 {
		theirDelivery = ds[0].GetName()
	}
	for m, req := range webhookRequests(theirs.GetName(), theirDelivery) {
		if m == "CreateWebhookEndpoint" || m == "ListWebhookEndpoints" {
			continue
		}
		if c := invoke(e, "WebhookService", m, req, desk, &mediationv1.GetWebhookEndpointResponse{}); c != codes.NotFound {
			t.Errorf("desk %s on another court's endpoint: %v, want NOT_FOUND", m, c)
		}
	}
	for _, m := range []string{"GetWebhookEndpoint", "UpdateWebhookEndpoint", "DisableWebhookEndpoint", "EnableWebhookEndpoint", "RotateWebhookSecret", "ListWebhookDeliveries", "DeleteWebhookEndpoint"} {
		if c := invoke(e, "WebhookService", m, webhookRequests(own, "")[m], desk, &mediationv1.GetWebhookEndpointResponse{}); c != codes.OK {
			t.Errorf("desk %s on its own endpoint: %v, want OK", m, c)
		}
	}

	// Other roles are refused every method, whatever the target.
	for role, token := range tokens {
		for m, req := range webhookRequests(theirs.GetName(), theirDelivery) {
			if c := invoke(e, "WebhookService", m, req, token, &mediationv1.GetWebhookEndpointResponse{}); c != codes.PermissionDenied {
				t.Errorf("%s calls %s: %v, want PERMISSION_DENIED", role, m, c)
			}
		}
		want := codes.OK
		if role == "auditor" {
			want = codes.PermissionDenied
		}
		if c := invoke(e, "CaseFeedService", "ListCaseChanges", &mediationv1.ListCaseChangesRequest{}, token, &mediationv1.ListCaseChangesResponse{}); c != want {
			t.Errorf("%s reads the change feed: %v, want %v", role, c, want)
		}
	}
	if c := invoke(e, "CaseFeedService", "ListCaseChanges", &mediationv1.ListCaseChangesRequest{}, desk, &mediationv1.ListCaseChangesResponse{}); c != codes.OK {
		t.Errorf("desk reads the change feed: %v", c)
	}
}
