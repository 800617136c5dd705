package server_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/google/uuid"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/fieldmaskpb"

	"github.com/mediationd/mediationd/internal/caseflow"
	"github.com/mediationd/mediationd/internal/casework"
	"github.com/mediationd/mediationd/internal/casework/caseworktest"
	"github.com/mediationd/mediationd/internal/store"
	mediationv1 "github.com/mediationd/mediationd/proto/mediation/v1"
)

// dirClient runs directory scenarios over gRPC or over the REST gateway.
// Each call returns the resource (nil on refusal) and the result's status.
type dirClient interface {
	name() string
	createOrganization(t *testing.T, id string, o *mediationv1.Organization) (*mediationv1.Organization, result)
	getOrganization(t *testing.T, name string) (*mediationv1.Organization, result)
	listOrganizations(t *testing.T, filter string, pageSize int32, token string) (*mediationv1.ListOrganizationsResponse, result)
	updateOrganization(t *testing.T, o *mediationv1.Organization, paths ...string) (*mediationv1.Organization, result)
	setOrganizationActive(t *testing.T, name, etag string, active bool) (*mediationv1.Organization, result)
	createMediator(t *testing.T, id string, m *mediationv1.Mediator) (*mediationv1.Mediator, result)
	getMediator(t *testing.T, name string) (*mediationv1.Mediator, result)
	listMediators(t *testing.T, filter string, pageSize int32, token string) (*mediationv1.ListMediatorsResponse, result)
	updateMediator(t *testing.T, m *mediationv1.Mediator, paths ...string) (*mediationv1.Mediator, result)
	setMediatorActive(t *testing.T, name, etag string, active bool) (*mediationv1.Mediator, result)
	listRegions(t *testing.T, filter string, pageSize int32, token string) (*mediationv1.ListRegionsResponse, result)
	updateRegion(t *testing.T, r *mediationv1.Region, paths ...string) (*mediationv1.Region, result)
	listDeadlineRules(t *testing.T, pageSize int32, token string) (*mediationv1.ListDeadlineRulesResponse, result)
	createDeadlineRule(t *testing.T, id string, r *mediationv1.DeadlineRule) (*mediationv1.DeadlineRule, result)
	updateDeadlineRule(t *testing.T, r *mediationv1.DeadlineRule, paths ...string) (*mediationv1.DeadlineRule, result)
	deleteDeadlineRule(t *testing.T, name, etag string) result
}

// dirTransports names the transports dirStart serves.
var dirTransports = []string{"grpc", "rest"}

// dirStart starts a server on a fresh database and returns it with a
// client over the transport named.
func dirStart(t *testing.T, transport string) (*env, dirClient) {
	t.Helper()
	e := start(t)
	if transport == "rest" {
		return e, dirREST{restClient{e}}
	}
	return e, dirGRPC{mediationv1.NewDirectoryServiceClient(e.conn)}
}

// dirCall turns a gRPC answer into what dirClient returns.
func dirCall[T any](v T, err error) (T, result) {
	if err != nil {
		var zero T
		return zero, result{st: status.Convert(err)}
	}
	return v, result{}
}

func dirMask(paths []string) *fieldmaskpb.FieldMask {
	if len(paths) == 0 {
		return nil
	}
	return &fieldmaskpb.FieldMask{Paths: paths}
}

type dirGRPC struct {
	c mediationv1.DirectoryServiceClient
}

func (g dirGRPC) name() string { return "grpc" }

func (g dirGRPC) createOrganization(t *testing.T, id string, o *mediationv1.Organization) (*mediationv1.Organization, result) {
	r, err := g.c.CreateOrganization(t.Context(), &mediationv1.CreateOrganizationRequest{OrganizationId: id, Organization: o})
	return dirCall(r.GetOrganization(), err)
}

func (g dirGRPC) getOrganization(t *testing.T, name string) (*mediationv1.Organization, result) {
	r, err := g.c.GetOrganization(t.Context(), &mediationv1.GetOrganizationRequest{Name: name})
	return dirCall(r.GetOrganization(), err)
}

func (g dirGRPC) listOrganizations(t *testing.T, filter string, pageSize int32, token string) (*mediationv1.ListOrganizationsResponse, result) {
	return dirCall(g.c.ListOrganizations(t.Context(), &mediationv1.ListOrganizationsRequest{Filter: filter, PageSize: pageSize, PageToken: token}))
}

func (g dirGRPC) updateOrganization(t *testing.T, o *mediationv1.Organization, paths ...string) (*mediationv1.Organization, result) {
	r, err := g.c.UpdateOrganization(t.Context(), &mediationv1.UpdateOrganizationRequest{Organization: o, UpdateMask: dirMask(paths)})
	return dirCall(r.GetOrganization(), err)
}

func (g dirGRPC) setOrganizationActive(t *testing.T, name, etag string, active bool) (*mediationv1.Organization, result) {
	if active {
		r, err := g.c.ActivateOrganization(t.Context(), &mediationv1.ActivateOrganizationRequest{Name: name, Etag: etag})
		return dirCall(r.GetOrganization(), err)
	}
	r, err := g.c.DeactivateOrganization(t.Context(), &mediationv1.DeactivateOrganizationRequest{Name: name, Etag: etag})
	return dirCall(r.GetOrganization(), err)
}

func (g dirGRPC) createMediator(t *testing.T, id string, m *mediationv1.Mediator) (*mediationv1.Mediator, result) {
	r, err := g.c.CreateMediator(t.Context(), &mediationv1.CreateMediatorRequest{MediatorId: id, Mediator: m})
	return dirCall(r.GetMediator(), err)
}

func (g dirGRPC) getMediator(t *testing.T, name string) (*mediationv1.Mediator, result) {
	r, err := g.c.GetMediator(t.Context(), &mediationv1.GetMediatorRequest{Name: name})
	return dirCall(r.GetMediator(), err)
}

func (g dirGRPC) listMediators(t *testing.T, filter string, pageSize int32, token string) (*mediationv1.ListMediatorsResponse, result) {
	return dirCall(g.c.ListMediators(t.Context(), &mediationv1.ListMediatorsRequest{Filter: filter, PageSize: pageSize, PageToken: token}))
}

func (g dirGRPC) updateMediator(t *testing.T, m *mediationv1.Mediator, paths ...string) (*mediationv1.Mediator, result) {
	r, err := g.c.UpdateMediator(t.Context(), &mediationv1.UpdateMediatorRequest{Mediator: m, UpdateMask: dirMask(paths)})
	return dirCall(r.GetMediator(), err)
}

func (g dirGRPC) setMediatorActive(t *testing.T, name, etag string, active bool) (*mediationv1.Mediator, result) {
	if active {
		r, err := g.c.ActivateMediator(t.Context(), &mediationv1.ActivateMediatorRequest{Name: name, Etag: etag})
		return dirCall(r.GetMediator(), err)
	}
	r, err := g.c.DeactivateMediator(t.Context(), &mediationv1.DeactivateMediatorRequest{Name: name, Etag: etag})
	return dirCall(r.GetMediator(), err)
}

func (g dirGRPC) listRegions(t *testing.T, filter string, pageSize int32, token string) (*mediationv1.ListRegionsResponse, result) {
	return dirCall(g.c.ListRegions(t.Context(), &mediationv1.ListRegionsRequest{Filter: filter, PageSize: pageSize, PageToken: token}))
}

func (g dirGRPC) updateRegion(t *testing.T, r *mediationv1.Region, paths ...string) (*mediationv1.Region, result) {
	resp, err := g.c.UpdateRegion(t.Context(), &mediationv1.UpdateRegionRequest{Region: r, UpdateMask: dirMask(paths)})
	return dirCall(resp.GetRegion(), err)
}

func (g dirGRPC) listDeadlineRules(t *testing.T, pageSize int32, token string) (*mediationv1.ListDeadlineRulesResponse, result) {
	return dirCall(g.c.ListDeadlineRules(t.Context(), &mediationv1.ListDeadlineRulesRequest{PageSize: pageSize, PageToken: token}))
}

func (g dirGRPC) createDeadlineRule(t *testing.T, id string, r *mediationv1.DeadlineRule) (*mediationv1.DeadlineRule, result) {
	resp, err := g.c.CreateDeadlineRule(t.Context(), &mediationv1.CreateDeadlineRuleRequest{DeadlineRuleId: id, DeadlineRule: r})
	return dirCall(resp.GetDeadlineRule(), err)
}

func (g dirGRPC) updateDeadlineRule(t *testing.T, r *mediationv1.DeadlineRule, paths ...string) (*mediationv1.DeadlineRule, result) {
	resp, err := g.c.UpdateDeadlineRule(t.Context(), &mediationv1.UpdateDeadlineRuleRequest{DeadlineRule: r, UpdateMask: dirMask(paths)})
	return dirCall(resp.GetDeadlineRule(), err)
}

func (g dirGRPC) deleteDeadlineRule(t *testing.T, name, etag string) result {
	_, r := dirCall(g.c.DeleteDeadlineRule(t.Context(), &mediationv1.DeleteDeadlineRuleRequest{Name: name, Etag: etag}))
	return r
}

// dirREST calls the same methods through the gateway. An update without
// paths lets the gateway derive the mask from the JSON body.
type dirREST struct{ h restClient }

func (h dirREST) name() string { return "rest" }

func dirJSON(t *testing.T, m proto.Message) json.RawMessage {
	t.Helper()
	b, err := protojson.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func dirQuery(kv ...string) string {
	q := url.Values{}
	for i := 0; i+1 < len(kv); i += 2 {
		if kv[i+1] != "" && kv[i+1] != "0" {
			q.Set(kv[i], kv[i+1])
		}
	}
	if len(q) == 0 {
		return ""
	}
	return "?" + q.Encode()
}

func dirItoa(n int32) string { return strconv.FormatInt(int64(n), 10) }

func (h dirREST) createOrganization(t *testing.T, id string, o *mediationv1.Organization) (*mediationv1.Organization, result) {
	var out mediationv1.CreateOrganizationResponse
	r := h.h.do(t, http.MethodPost, "/v1/organizations"+dirQuery("organizationId", id), dirJSON(t, o), &out)
	return out.GetOrganization(), r
}

func (h dirREST) getOrganization(t *testing.T, name string) (*mediationv1.Organization, result) {
	var out mediationv1.GetOrganizationResponse
	r := h.h.do(t, http.MethodGet, "/v1/"+name, nil, &out)
	return out.GetOrganization(), r
}

func (h dirREST) listOrganizations(t *testing.T, filter string, pageSize int32, token string) (*mediationv1.ListOrganizationsResponse, result) {
	var out mediationv1.ListOrganizationsResponse
	r := h.h.do(t, http.MethodGet, "/v1/organizations"+dirQuery("filter", filter, "pageSize", dirItoa(pageSize), "pageToken", token), nil, &out)
	return &out, r
}

func (h dirREST) updateOrganization(t *testing.T, o *mediationv1.Organization, paths ...string) (*mediationv1.Organization, result) {
	var out mediationv1.UpdateOrganizationResponse
	r := h.h.do(t, http.MethodPatch, "/v1/"+o.GetName()+dirQuery("updateMask", strings.Join(paths, ",")), dirJSON(t, o), &out)
	return out.GetOrganization(), r
}

func (h dirREST) setOrganizationActive(t *testing.T, name, etag string, active bool) (*mediationv1.Organization, result) {
	verb := ":deactivate"
	if active {
		verb = ":activate"
	}
	var out mediationv1.ActivateOrganizationResponse
	r := h.h.do(t, http.MethodPost, "/v1/"+name+verb, map[string]string{"etag": etag}, &out)
	return out.GetOrganization(), r
}

func (h dirREST) createMediator(t *testing.T, id string, m *mediationv1.Mediator) (*mediationv1.Mediator, result) {
	var out mediationv1.CreateMediatorResponse
	r := h.h.do(t, http.MethodPost, "/v1/mediators"+dirQuery("mediatorId", id), dirJSON(t, m), &out)
	return out.GetMediator(), r
}

func (h dirREST) getMediator(t *testing.T, name string) (*mediationv1.Mediator, result) {
	var out mediationv1.GetMediatorResponse
	r := h.h.do(t, http.MethodGet, "/v1/"+name, nil, &out)
	return out.GetMediator(), r
}

func (h dirREST) listMediators(t *testing.T, filter string, pageSize int32, token string) (*mediationv1.ListMediatorsResponse, result) {
	var out mediationv1.ListMediatorsResponse
	r := h.h.do(t, http.MethodGet, "/v1/mediators"+dirQuery("filter", filter, "pageSize", dirItoa(pageSize), "pageToken", token), nil, &out)
	return &out, r
}

func (h dirREST) updateMediator(t *testing.T, m *mediationv1.Mediator, paths ...string) (*mediationv1.Mediator, result) {
	var out mediationv1.UpdateMediatorResponse
	r := h.h.do(t, http.MethodPatch, "/v1/"+m.GetName()+dirQuery("updateMask", strings.Join(paths, ",")), dirJSON(t, m), &out)
	return out.GetMediator(), r
}

func (h dirREST) setMediatorActive(t *testing.T, name, etag string, active bool) (*mediationv1.Mediator, result) {
	verb := ":deactivate"
	if active {
		verb = ":activate"
	}
	var out mediationv1.ActivateMediatorResponse
	r := h.h.do(t, http.MethodPost, "/v1/"+name+verb, map[string]string{"etag": etag}, &out)
	return out.GetMediator(), r
}

func (h dirREST) listRegions(t *testing.T, filter string, pageSize int32, token string) (*mediationv1.ListRegionsResponse, result) {
	var out mediationv1.ListRegionsResponse
	r := h.h.do(t, http.MethodGet, "/v1/regions"+dirQuery("filter", filter, "pageSize", dirItoa(pageSize), "pageToken", token), nil, &out)
	return &out, r
}

func (h dirREST) updateRegion(t *testing.T, reg *mediationv1.Region, paths ...string) (*mediationv1.Region, result) {
	var out mediationv1.UpdateRegionResponse
	r := h.h.do(t, http.MethodPatch, "/v1/"+reg.GetName()+dirQuery("updateMask", strings.Join(paths, ",")), dirJSON(t, reg), &out)
	return out.GetRegion(), r
}

func (h dirREST) listDeadlineRules(t *testing.T, pageSize int32, token string) (*mediationv1.ListDeadlineRulesResponse, result) {
	var out mediationv1.ListDeadlineRulesResponse
	r := h.h.do(t, http.MethodGet, "/v1/deadlineRules"+dirQuery("pageSize", dirItoa(pageSize), "pageToken", token), nil, &out)
	return &out, r
}

func (h dirREST) createDeadlineRule(t *testing.T, id string, rule *mediationv1.DeadlineRule) (*mediationv1.DeadlineRule, result) {
	var out mediationv1.CreateDeadlineRuleResponse
	r := h.h.do(t, http.MethodPost, "/v1/deadlineRules"+dirQuery("deadlineRuleId", id), dirJSON(t, rule), &out)
	return out.GetDeadlineRule(), r
}

func (h dirREST) updateDeadlineRule(t *testing.T, rule *mediationv1.DeadlineRule, paths ...string) (*mediationv1.DeadlineRule, result) {
	var out mediationv1.UpdateDeadlineRuleResponse
	r := h.h.do(t, http.MethodPatch, "/v1/"+rule.GetName()+dirQuery("updateMask", strings.Join(paths, ",")), dirJSON(t, rule), &out)
	return out.GetDeadlineRule(), r
}

func (h dirREST) deleteDeadlineRule(t *testing.T, name, etag string) result {
	var out mediationv1.DeleteDeadlineRuleResponse
	return h.h.do(t, http.MethodDelete, "/v1/"+name+dirQuery("etag", etag), nil, &out)
}

// dirCheck fails unless r has code (and, over REST, httpStatus) and, when
// fields are given, exactly those field violations.
func dirCheck(t *testing.T, cl dirClient, what string, r result, code codes.Code, httpStatus int, fields ...string) {
	t.Helper()
	if r.code() != code {
		t.Errorf("%s: code %v (%v), want %v", what, r.code(), r.st, code)
		return
	}
	if cl.name() == "rest" && r.httpStatus != httpStatus {
		t.Errorf("%s: HTTP %d, want %d", what, r.httpStatus, httpStatus)
	}
	if got := fieldViolations(r); len(fields) > 0 && !slices.Equal(got, fields) {
		t.Errorf("%s: field violations %v, want %v", what, got, fields)
	}
}

func dirOK(t *testing.T, what string, r result) {
	t.Helper()
	if r.st != nil {
		t.Fatalf("%s: %v", what, r.st)
	}
}

func dirWomenStudio() *mediationv1.Organization {
	return &mediationv1.Organization{
		DisplayName:  "西峰区巾帼调解工作室",
		Type:         mediationv1.OrganizationType_ORGANIZATION_TYPE_WOMEN_STUDIO,
		RegionCode:   "621002",
		DisputeTypes: []mediationv1.DisputeType{mediationv1.DisputeType_DISPUTE_TYPE_MARRIAGE_FAMILY},
		CourtRoster:  true,
		Address:      "庆阳市西峰区南大街1号",
	}
}

// dirSeedOrganizations creates, through cl, a women's studio and a medical
// committee in Xifeng, a township committee taking every type in Zhenyuan
// and one in Lanzhou.
func dirSeedOrganizations(t *testing.T, cl dirClient) {
	t.Helper()
	orgs := map[string]*mediationv1.Organization{
		"xifeng-women-studio": dirWomenStudio(),
		"xifeng-medical": {DisplayName: "西峰区医疗纠纷人民调解委员会", Type: mediationv1.OrganizationType_ORGANIZATION_TYPE_PROFESSIONAL_COMMITTEE,
			RegionCode: "621002", DisputeTypes: []mediationv1.DisputeType{mediationv1.DisputeType_DISPUTE_TYPE_MEDICAL}},
		"zhenyuan-township": {DisplayName: "镇原县城关镇人民调解委员会", Type: mediationv1.OrganizationType_ORGANIZATION_TYPE_TOWNSHIP_COMMITTEE, RegionCode: "621027"},
		"lanzhou-township":  {DisplayName: "兰州市某街道人民调解委员会", Type: mediationv1.OrganizationType_ORGANIZATION_TYPE_TOWNSHIP_COMMITTEE, RegionCode: "620100"},
	}
	for id, o := range orgs {
		_, r := cl.createOrganization(t, id, o)
		dirOK(t, "create "+id, r)
	}
}

func dirOrgNames(orgs []*mediationv1.Organization) []string {
	var out []string
	for _, o := range orgs {
		out = append(out, strings.TrimPrefix(o.GetName(), "organizations/"))
	}
	return out
}

func TestOrganizationsOverBothTransports(t *testing.T) {
	for _, transport := range dirTransports {
		t.Run(transport, func(t *testing.T) {
			_, cl := dirStart(t, transport)
			in := dirWomenStudio()
			in.Active, in.OpenCaseCount, in.Etag, in.Name = false, 99, "v42", "organizations/ignored"
			created, r := cl.createOrganization(t, "xifeng-women-studio", in)
			dirOK(t, "create", r)
			if created.GetName() != "organizations/xifeng-women-studio" || !created.GetActive() || created.GetOpenCaseCount() != 0 ||
				created.GetEtag() != "v1" || created.GetCreateTime() == nil || !proto.Equal(created.GetCreateTime(), created.GetUpdateTime()) ||
				created.GetDisplayName() != in.GetDisplayName() || created.GetType() != in.GetType() || !created.GetCourtRoster() ||
				!slices.Equal(created.GetDisputeTypes(), in.GetDisputeTypes()) || created.GetAddress() != in.GetAddress() {
				t.Fatalf("created %v", created)
			}
			got, r := cl.getOrganization(t, created.GetName())
			dirOK(t, "get", r)
			if !proto.Equal(got, created) {
				t.Errorf("get %v, created %v", got, created)
			}

			_, r = cl.createOrganization(t, "xifeng-women-studio", dirWomenStudio())
			dirCheck(t, cl, "duplicate id", r, codes.AlreadyExists, http.StatusConflict)
			if !strings.Contains(r.st.Message(), "organizations/xifeng-women-studio") {
				t.Errorf("duplicate id message %q", r.st.Message())
			}
			unknown := dirWomenStudio()
			unknown.RegionCode = "629999"
			_, r = cl.createOrganization(t, "atlantis", unknown)
			dirCheck(t, cl, "unknown region", r, codes.InvalidArgument, http.StatusBadRequest, "organization.region_code")
			if r.st != nil && !strings.Contains(r.st.Message(), "629999") {
				t.Errorf("unknown region message %q", r.st.Message())
			}
			_, r = cl.getOrganization(t, "organizations/atlantis")
			dirCheck(t, cl, "refused create stored nothing", r, codes.NotFound, http.StatusNotFound)

			// A mask changes what it names; the rest of the request is ignored.
			change := proto.Clone(got).(*mediationv1.Organization)
			change.Phone, change.DisplayName = "0934-8211234", "改名"
			change.DisputeTypes = append(change.DisputeTypes, mediationv1.DisputeType_DISPUTE_TYPE_NEIGHBOR)
			updated, r := cl.updateOrganization(t, change, "phone", "dispute_types", "active", "etag")
			dirOK(t, "update", r)
			if updated.GetPhone() != "0934-8211234" || len(updated.GetDisputeTypes()) != 2 || updated.GetDisplayName() != got.GetDisplayName() ||
				updated.GetEtag() != "v2" || !updated.GetActive() {
				t.Errorf("updated %v", updated)
			}
			_, r = cl.updateOrganization(t, change, "phone")
			dirCheck(t, cl, "stale etag", r, codes.Aborted, http.StatusConflict)
			change.Etag = updated.GetEtag()
			_, r = cl.updateOrganization(t, change, "colour")
			dirCheck(t, cl, "unknown mask path", r, codes.InvalidArgument, http.StatusBadRequest, "update_mask")
			if r.st != nil && !strings.Contains(r.st.Message(), "display_name, type, region_code, dispute_types, court_roster, address, phone") {
				t.Errorf("unknown path message %q does not list the paths", r.st.Message())
			}
			change.RegionCode = "629999"
			_, r = cl.updateOrganization(t, change, "region_code")
			dirCheck(t, cl, "update to unknown region", r, codes.InvalidArgument, http.StatusBadRequest, "organization.region_code")

			// With no mask: every mutable field over gRPC; over REST, the
			// fields present in the JSON body.
			whole := &mediationv1.Organization{
				Name: updated.GetName(), Etag: updated.GetEtag(), DisplayName: "西峰区妇联巾帼调解工作室",
				Type: mediationv1.OrganizationType_ORGANIZATION_TYPE_WOMEN_STUDIO, RegionCode: "621002", Phone: "0934-1",
			}
			replaced, r := cl.updateOrganization(t, whole)
			dirOK(t, "update without mask", r)
			if replaced.GetDisplayName() != whole.GetDisplayName() || replaced.GetPhone() != "0934-1" || replaced.GetEtag() != "v3" {
				t.Errorf("replaced %v", replaced)
			}
			switch cl.name() {
			case "grpc":
				if len(replaced.GetDisputeTypes()) != 0 || replaced.GetCourtRoster() || replaced.GetAddress() != "" {
					t.Errorf("an empty mask over gRPC did not set every mutable field: %v", replaced)
				}
			case "rest":
				if len(replaced.GetDisputeTypes()) != 2 || !replaced.GetCourtRoster() || replaced.GetAddress() == "" {
					t.Errorf("a PATCH changed fields absent from its body: %v", replaced)
				}
			}

			off, r := cl.setOrganizationActive(t, replaced.GetName(), "v1", false)
			dirCheck(t, cl, "deactivate with stale etag", r, codes.Aborted, http.StatusConflict)
			off, r = cl.setOrganizationActive(t, replaced.GetName(), replaced.GetEtag(), false)
			dirOK(t, "deactivate", r)
			if off.GetActive() || off.GetEtag() != "v4" {
				t.Errorf("deactivated %v", off)
			}
			on, r := cl.setOrganizationActive(t, replaced.GetName(), "", true)
			dirOK(t, "activate", r)
			if !on.GetActive() || on.GetEtag() != "v5" {
				t.Errorf("activated %v", on)
			}
			on.DisputeTypes, on.CourtRoster = []mediationv1.DisputeType{mediationv1.DisputeType_DISPUTE_TYPE_MARRIAGE_FAMILY}, true
			if _, r := cl.updateOrganization(t, on, "dispute_types", "court_roster"); r.st != nil {
				t.Fatal(r.st)
			}
			_, r = cl.setOrganizationActive(t, "organizations/atlantis", "", true)
			dirCheck(t, cl, "activate unknown", r, codes.NotFound, http.StatusNotFound)

			// Filters and pages.
			seed := []struct {
				id string
				o  *mediationv1.Organization
			}{
				{"xifeng-medical", &mediationv1.Organization{DisplayName: "西峰区医疗纠纷人民调解委员会", Type: mediationv1.OrganizationType_ORGANIZATION_TYPE_PROFESSIONAL_COMMITTEE,
					RegionCode: "621002", DisputeTypes: []mediationv1.DisputeType{mediationv1.DisputeType_DISPUTE_TYPE_MEDICAL}}},
				{"zhenyuan-township", &mediationv1.Organization{DisplayName: "镇原县城关镇人民调解委员会", Type: mediationv1.OrganizationType_ORGANIZATION_TYPE_TOWNSHIP_COMMITTEE, RegionCode: "621027"}},
				{"lanzhou-township", &mediationv1.Organization{DisplayName: "兰州市某街道人民调解委员会", Type: mediationv1.OrganizationType_ORGANIZATION_TYPE_TOWNSHIP_COMMITTEE, RegionCode: "620100"}},
			}
			for _, s := range seed {
				_, r := cl.createOrganization(t, s.id, s.o)
				dirOK(t, "create "+s.id, r)
			}
			if _, r := cl.setOrganizationActive(t, "organizations/lanzhou-township", "", false); r.st != nil {
				t.Fatal(r.st)
			}
			list := func(filter string, pageSize int32) []string {
				t.Helper()
				var out []string
				token := ""
				for range 20 {
					resp, r := cl.listOrganizations(t, filter, pageSize, token)
					dirOK(t, filter, r)
					out = append(out, dirOrgNames(resp.GetOrganizations())...)
					if token = resp.GetNextPageToken(); token == "" {
						return out
					}
				}
				t.Fatalf("%s: pagination does not end", filter)
				return nil
			}
			for filter, want := range map[string][]string{
				``:                                  {"lanzhou-township", "xifeng-medical", "xifeng-women-studio", "zhenyuan-township"},
				`region_code = "621000"`:            {"xifeng-medical", "xifeng-women-studio", "zhenyuan-township"},
				`dispute_type = MARRIAGE_FAMILY`:    {"lanzhou-township", "xifeng-women-studio", "zhenyuan-township"},
				`dispute_type = DISPUTE_TYPE_LABOR`: {"lanzhou-township", "zhenyuan-township"},
				`active = false`:                    {"lanzhou-township"},
				`type = WOMEN_STUDIO AND court_roster = true`: {"xifeng-women-studio"},
			} {
				for _, size := range []int32{0, 1, 2} {
					if got := list(filter, size); !slices.Equal(got, want) {
						t.Errorf("%q in pages of %d: %v, want %v", filter, size, got, want)
					}
				}
			}
			_, r = cl.listOrganizations(t, `dispute_type = MARRIAGE`, 0, "")
			dirCheck(t, cl, "bad filter", r, codes.InvalidArgument, http.StatusBadRequest, "filter")
			first, _ := cl.listOrganizations(t, "", 1, "")
			_, r = cl.listOrganizations(t, "active = true", 1, first.GetNextPageToken())
			dirCheck(t, cl, "token of another filter", r, codes.InvalidArgument, http.StatusBadRequest, "page_token")
			_, r = cl.listMediators(t, "", 1, first.GetNextPageToken())
			dirCheck(t, cl, "token of another list", r, codes.InvalidArgument, http.StatusBadRequest, "page_token")
		})
	}
}

func TestMediatorsOverBothTransports(t *testing.T) {
	for _, transport := range dirTransports {
		t.Run(transport, func(t *testing.T) {
			_, cl := dirStart(t, transport)
			dirSeedOrganizations(t, cl)
			in := &mediationv1.Mediator{
				DisplayName: "李红", Organization: "organizations/xifeng-women-studio", CourtRoster: true,
				Specialties: []mediationv1.DisputeType{mediationv1.DisputeType_DISPUTE_TYPE_MARRIAGE_FAMILY},
				Active:      false, OpenCaseCount: 7,
			}
			created, r := cl.createMediator(t, "li-hong", in)
			dirOK(t, "create", r)
			if created.GetName() != "mediators/li-hong" || !created.GetActive() || created.GetOpenCaseCount() != 0 || created.GetEtag() != "v1" ||
				created.GetOrganization() != in.GetOrganization() || !slices.Equal(created.GetSpecialties(), in.GetSpecialties()) {
				t.Fatalf("created %v", created)
			}
			if got, r := cl.getMediator(t, "mediators/li-hong"); r.st != nil || !proto.Equal(got, created) {
				t.Errorf("get %v (%v), created %v", got, r.st, created)
			}
			_, r = cl.createMediator(t, "li-hong", in)
			dirCheck(t, cl, "duplicate id", r, codes.AlreadyExists, http.StatusConflict)

			ghost := &mediationv1.Mediator{DisplayName: "无名", Organization: "organizations/nowhere"}
			_, r = cl.createMediator(t, "ghost", ghost)
			dirCheck(t, cl, "unknown organization", r, codes.InvalidArgument, http.StatusBadRequest, "mediator.organization")
			if r.st != nil && !strings.Contains(r.st.Message(), "organizations/nowhere") {
				t.Errorf("message %q does not name the organization", r.st.Message())
			}
			_, r = cl.getMediator(t, "mediators/ghost")
			dirCheck(t, cl, "refused mediator stored", r, codes.NotFound, http.StatusNotFound)

			for id, m := range map[string]*mediationv1.Mediator{
				"wang-fang": {DisplayName: "王芳", Organization: "organizations/xifeng-medical", Specialties: []mediationv1.DisputeType{mediationv1.DisputeType_DISPUTE_TYPE_MEDICAL}},
				"zhao-gang": {DisplayName: "赵刚", Organization: "organizations/zhenyuan-township"},
			} {
				_, r := cl.createMediator(t, id, m)
				dirOK(t, "create "+id, r)
			}

			move := proto.Clone(created).(*mediationv1.Mediator)
			move.Organization, move.Phone, move.DisplayName = "organizations/xifeng-medical", "13800000000", "不改"
			moved, r := cl.updateMediator(t, move, "organization", "phone")
			dirOK(t, "move", r)
			if moved.GetOrganization() != "organizations/xifeng-medical" || moved.GetPhone() != "13800000000" || moved.GetDisplayName() != "李红" || moved.GetEtag() != "v2" {
				t.Errorf("moved %v", moved)
			}
			move.Organization = "organizations/nowhere"
			_, r = cl.updateMediator(t, move, "organization")
			dirCheck(t, cl, "stale etag", r, codes.Aborted, http.StatusConflict)
			move.Etag = moved.GetEtag()
			_, r = cl.updateMediator(t, move, "organization")
			dirCheck(t, cl, "move to unknown organization", r, codes.InvalidArgument, http.StatusBadRequest, "mediator.organization")
			_, r = cl.updateMediator(t, move, "organization_id")
			dirCheck(t, cl, "unknown path", r, codes.InvalidArgument, http.StatusBadRequest, "update_mask")
			move.Organization = "organizations/xifeng-women-studio"
			back, r := cl.updateMediator(t, move, "organization")
			dirOK(t, "move back", r)

			off, r := cl.setMediatorActive(t, "mediators/wang-fang", "v1", false)
			dirOK(t, "deactivate", r)
			if off.GetActive() || off.GetEtag() != "v2" {
				t.Errorf("deactivated %v", off)
			}
			again, r := cl.setMediatorActive(t, "mediators/wang-fang", "", false)
			if r.st != nil || again.GetEtag() != "v2" {
				t.Errorf("deactivating again: %v, %v", again, r.st)
			}
			_, r = cl.setMediatorActive(t, back.GetName(), "v1", false)
			dirCheck(t, cl, "deactivate with stale etag", r, codes.Aborted, http.StatusConflict)
			on, r := cl.setMediatorActive(t, "mediators/wang-fang", "v2", true)
			if r.st != nil || !on.GetActive() || on.GetEtag() != "v3" {
				t.Errorf("activate: %v, %v", on, r.st)
			}
			if _, r := cl.setMediatorActive(t, "mediators/zhao-gang", "", false); r.st != nil {
				t.Fatal(r.st)
			}

			for filter, want := range map[string][]string{
				``: {"li-hong", "wang-fang", "zhao-gang"},
				`organization = "organizations/xifeng-women-studio"`: {"li-hong"},
				`region_code = "621000"`:                             {"li-hong", "wang-fang", "zhao-gang"},
				`region_code = "621002"`:                             {"li-hong", "wang-fang"},
				`specialty = MEDICAL OR specialty = MARRIAGE_FAMILY`: {"li-hong", "wang-fang"},
				`active = false`:                                     {"zhao-gang"},
				`court_roster = true AND display_name = "李红"`:        {"li-hong"},
			} {
				var got []string
				token := ""
				for {
					resp, r := cl.listMediators(t, filter, 1, token)
					dirOK(t, filter, r)
					for _, m := range resp.GetMediators() {
						got = append(got, strings.TrimPrefix(m.GetName(), "mediators/"))
					}
					if token = resp.GetNextPageToken(); token == "" {
						break
					}
				}
				if !slices.Equal(got, want) {
					t.Errorf("%q: %v, want %v", filter, got, want)
				}
			}
		})
	}
}

// dirAssign registers a case of the dispute type in the store and brings
// it to state, assigned to org and med on the way.
func dirAssign(t *testing.T, st *store.Store, dt casework.DisputeType, org, med string, state casework.State) {
	t.Helper()
	ctx := context.Background()
	n := caseworktest.NewCase("纠纷")
	n.DisputeType = dt
	c, _, err := st.CreateCase(ctx, store.CreateParams{
		New: n, ID: uuid.Must(uuid.NewV7()), Actor: "tester", Now: caseworktest.T0, Year: 2026,
	})
	if err != nil {
		t.Fatal(err)
	}
	for i, a := range caseworktest.PathTo(state) {
		cmd := caseworktest.Command(a, i)
		if a == casework.ActionAssign {
			cmd.Organization, cmd.Mediator = org, med
		}
		res, err := caseflow.New(st, nil, cmd.Policy, nil).Act(ctx, caseflow.System, c.ID, 0, cmd)
		if err != nil {
			t.Fatalf("%s: %v", a, err)
		}
		c = res.Case
	}
}

func TestDirectoryOpenCaseCounts(t *testing.T) {
	e, cl := dirStart(t, "grpc")
	dirSeedOrganizations(t, cl)
	for id, org := range map[string]string{"li-hong": "organizations/xifeng-women-studio", "wang-fang": "organizations/xifeng-medical"} {
		_, r := cl.createMediator(t, id, &mediationv1.Mediator{DisplayName: id, Organization: org})
		dirOK(t, "create "+id, r)
	}
	dirAssign(t, e.store, casework.DisputeMarriageFamily, "organizations/xifeng-women-studio", "mediators/li-hong", casework.StateAssigned)
	dirAssign(t, e.store, casework.DisputeMarriageFamily, "organizations/xifeng-women-studio", "mediators/li-hong", casework.StateMediating)
	dirAssign(t, e.store, casework.DisputeMarriageFamily, "organizations/xifeng-women-studio", "mediators/li-hong", casework.StateAgreed)
	dirAssign(t, e.store, casework.DisputeMedical, "organizations/xifeng-medical", "mediators/wang-fang", casework.StateMediating)
	for _, cl := range []dirClient{cl, dirREST{restClient{e}}} {
		org, r := cl.getOrganization(t, "organizations/xifeng-women-studio")
		dirOK(t, "get organization", r)
		med, r := cl.getMediator(t, "mediators/li-hong")
		dirOK(t, "get mediator", r)
		if org.GetOpenCaseCount() != 2 || med.GetOpenCaseCount() != 2 {
			t.Errorf("%s: open cases %d and %d, want 2 and 2 (the agreed case is not open)", cl.name(), org.GetOpenCaseCount(), med.GetOpenCaseCount())
		}
		list, r := cl.listOrganizations(t, `region_code = "621002"`, 0, "")
		dirOK(t, "list", r)
		var counts []int32
		for _, o := range list.GetOrganizations() {
			counts = append(counts, o.GetOpenCaseCount())
		}
		if !slices.Equal(counts, []int32{1, 2}) {
			t.Errorf("%s: listed open cases %v, want [1 2]", cl.name(), counts)
		}
	}
	o, err := e.store.GetOrganization(t.Context(), "xifeng-medical")
	m, err2 := e.store.GetMediator(t.Context(), "wang-fang")
	if err != nil || err2 != nil || o.OpenCases != 1 || m.OpenCases != 1 {
		t.Errorf("open cases = %d, %d, %v %v", o.OpenCases, m.OpenCases, err, err2)
	}
}

func TestRegionsOverBothTransports(t *testing.T) {
	for _, transport := range dirTransports {
		t.Run(transport, func(t *testing.T) {
			e, cl := dirStart(t, transport)
			var names []string
			token := ""
			var city *mediationv1.Region
			for {
				resp, r := cl.listRegions(t, `parent = "regions/620000" OR parent = "regions/621000"`, 5, token)
				dirOK(t, "list", r)
				for _, reg := range resp.GetRegions() {
					names = append(names, reg.GetName())
					if reg.GetCode() == "621000" {
						city = reg
					}
				}
				if token = resp.GetNextPageToken(); token == "" {
					break
				}
			}
			if len(names) != 14+8 || !slices.IsSorted(names) || city == nil {
				t.Fatalf("cities and Qingyang's counties: %v", names)
			}
			if city.GetDisplayName() != "庆阳市" || city.GetLevel() != mediationv1.RegionLevel_REGION_LEVEL_CITY || city.GetParent() != "regions/620000" || city.GetAutoAssign() {
				t.Errorf("city %v", city)
			}
			resp, r := cl.listRegions(t, `parent = "regions/621000" AND display_name = "西峰区"`, 0, "")
			dirOK(t, "list", r)
			if len(resp.GetRegions()) != 1 || resp.GetRegions()[0].GetCode() != "621002" {
				t.Errorf("Xifeng by parent and name: %v", resp.GetRegions())
			}

			auto := func(code string) bool {
				t.Helper()
				v, err := e.store.RegionAutoAssign(t.Context(), code)
				if err != nil {
					t.Fatal(err)
				}
				return v
			}
			set := proto.Clone(city).(*mediationv1.Region)
			set.AutoAssign, set.DisplayName = true, "改名无效"
			updated, r := cl.updateRegion(t, set, "auto_assign", "display_name")
			dirOK(t, "set city", r)
			if !updated.GetAutoAssign() || updated.GetDisplayName() != "庆阳市" || updated.GetEtag() != "v2" {
				t.Errorf("updated city %v", updated)
			}
			if !auto("621002") || !auto("621027") {
				t.Error("the counties do not inherit the city's auto_assign")
			}
			_, r = cl.updateRegion(t, set, "auto_assign")
			dirCheck(t, cl, "stale etag", r, codes.Aborted, http.StatusConflict)
			_, r = cl.updateRegion(t, &mediationv1.Region{Name: "regions/621000", AutoAssign: true}, "parent_code")
			dirCheck(t, cl, "unknown path", r, codes.InvalidArgument, http.StatusBadRequest, "update_mask")

			county, r := cl.updateRegion(t, &mediationv1.Region{Name: "regions/621027", AutoAssign: false, Etag: "v1"}, "auto_assign")
			dirOK(t, "set county", r)
			if county.GetAutoAssign() || auto("621027") || !auto("621002") {
				t.Errorf("a county's own false does not override its city: %v", county)
			}
			if resp, r := cl.listRegions(t, `code = 621002`, 0, ""); r.st != nil || len(resp.GetRegions()) != 1 || !resp.GetRegions()[0].GetAutoAssign() {
				t.Errorf("Xifeng does not show the auto_assign it inherits: %v (%v)", resp.GetRegions(), r.st)
			}
			_, r = cl.updateRegion(t, &mediationv1.Region{Name: "regions/629999", AutoAssign: true}, "auto_assign")
			dirCheck(t, cl, "unknown region", r, codes.NotFound, http.StatusNotFound)
		})
	}
}

func TestDeadlineRulesOverBothTransports(t *testing.T) {
	for _, transport := range dirTransports {
		t.Run(transport, func(t *testing.T) {
			e, cl := dirStart(t, transport)
			list := func() []*mediationv1.DeadlineRule {
				t.Helper()
				var out []*mediationv1.DeadlineRule
				token := ""
				for {
					resp, r := cl.listDeadlineRules(t, 2, token)
					dirOK(t, "list", r)
					out = append(out, resp.GetDeadlineRules()...)
					if token = resp.GetNextPageToken(); token == "" {
						return out
					}
				}
			}
			var names []string
			for _, r := range list() {
				names = append(names, r.GetName())
			}
			want := []string{"deadlineRules/court-entrusted-summary", "deadlineRules/court-delegated", "deadlineRules/court-entrusted", "deadlineRules/peoples-mediation"}
			if !slices.Equal(names, want) {
				t.Errorf("rules, most specific first: %v, want %v", names, want)
			}

			match := func(src casework.Source, ot casework.OrganizationType, cp casework.CourtProcedure) casework.DeadlineRule {
				t.Helper()
				r, err := e.store.MatchDeadlineRule(t.Context(), src, ot, cp)
				if err != nil {
					t.Fatal(err)
				}
				return r
			}
			for _, tt := range []struct {
				src              casework.Source
				ot               casework.OrganizationType
				cp               casework.CourtProcedure
				id               string
				days, extensions int
			}{
				{casework.SourceWalkIn, casework.OrgVillageCommittee, "", "peoples-mediation", 30, 1},
				{casework.SourceCourtDelegated, casework.OrgStationedRoom, "", "court-delegated", 30, 1},
				{casework.SourceCourtEntrusted, casework.OrgStationedRoom, casework.ProcedureOrdinary, "court-entrusted", 15, 0},
				{casework.SourceCourtEntrusted, casework.OrgStationedRoom, casework.ProcedureSummary, "court-entrusted-summary", 7, 0},
			} {
				if r := match(tt.src, tt.ot, tt.cp); r.ID != tt.id || r.Days != tt.days || r.MaxExtensions != tt.extensions {
					t.Errorf("(%s, %s, %s) matched %+v, want %s", tt.src, tt.ot, tt.cp, r, tt.id)
				}
			}

			rule := &mediationv1.DeadlineRule{
				DisplayName: "巾帼工作室（当事人申请）", Source: mediationv1.CaseSource_CASE_SOURCE_WALK_IN,
				OrganizationType: mediationv1.OrganizationType_ORGANIZATION_TYPE_WOMEN_STUDIO, Days: 20,
			}
			created, r := cl.createDeadlineRule(t, "walk-in-women", rule)
			dirOK(t, "create", r)
			if created.GetName() != "deadlineRules/walk-in-women" || created.GetDays() != 20 || created.GetEtag() != "v1" ||
				created.GetSource() != rule.GetSource() || created.GetOrganizationType() != rule.GetOrganizationType() {
				t.Errorf("created %v", created)
			}
			if r := match(casework.SourceWalkIn, casework.OrgWomenStudio, ""); r.ID != "walk-in-women" {
				t.Errorf("a women's studio walk-in matched %s", r.ID)
			}
			if r := match(casework.SourceWalkIn, casework.OrgTownshipCommittee, ""); r.ID != "peoples-mediation" {
				t.Errorf("a township walk-in matched %s", r.ID)
			}
			if got := list(); len(got) != 5 || got[0].GetName() != "deadlineRules/walk-in-women" {
				t.Errorf("the new rule, naming source and type, is not listed first: %v", got)
			}

			_, r = cl.createDeadlineRule(t, "walk-in-women-2", rule)
			dirCheck(t, cl, "duplicate combination", r, codes.AlreadyExists, http.StatusConflict)
			if r.st != nil && !strings.Contains(r.st.Message(), "deadlineRules/walk-in-women") {
				t.Errorf("message %q does not name the existing rule", r.st.Message())
			}

			change := proto.Clone(created).(*mediationv1.DeadlineRule)
			change.Days, change.DisplayName = 25, "不改"
			updated, r := cl.updateDeadlineRule(t, change, "days")
			dirOK(t, "update days", r)
			if updated.GetDays() != 25 || updated.GetDisplayName() != created.GetDisplayName() || updated.GetEtag() != "v2" {
				t.Errorf("updated %v", updated)
			}
			if r := match(casework.SourceWalkIn, casework.OrgWomenStudio, ""); r.Days != 25 {
				t.Errorf("matched rule has %d days after the update", r.Days)
			}
			_, r = cl.updateDeadlineRule(t, change, "days")
			dirCheck(t, cl, "stale etag", r, codes.Aborted, http.StatusConflict)
			change.Etag = updated.GetEtag()
			change.Source = mediationv1.CaseSource_CASE_SOURCE_ONLINE
			_, r = cl.updateDeadlineRule(t, change, "source", "days")
			dirCheck(t, cl, "changing the source", r, codes.InvalidArgument, http.StatusBadRequest, "deadline_rule.source")
			change.Source = created.GetSource()
			if same, r := cl.updateDeadlineRule(t, change, "source", "extension_days"); r.st != nil || same.GetSource() != created.GetSource() {
				t.Errorf("a rule sent back with its own source: %v (%v)", same, r.st)
			}

			catchAll := cl.deleteDeadlineRule(t, "deadlineRules/peoples-mediation", "")
			dirCheck(t, cl, "delete the catch-all", catchAll, codes.FailedPrecondition, http.StatusConflict)
			if info := errorInfo(catchAll); info.GetReason() != "CATCH_ALL_DEADLINE_RULE" {
				t.Errorf("ErrorInfo %v", info)
			}
			dirCheck(t, cl, "delete with stale etag", cl.deleteDeadlineRule(t, "deadlineRules/walk-in-women", "v1"), codes.Aborted, http.StatusConflict)
			dirOK(t, "delete", cl.deleteDeadlineRule(t, "deadlineRules/walk-in-women", ""))
			dirCheck(t, cl, "delete again", cl.deleteDeadlineRule(t, "deadlineRules/walk-in-women", ""), codes.NotFound, http.StatusNotFound)
			if r := match(casework.SourceWalkIn, casework.OrgWomenStudio, ""); r.ID != "peoples-mediation" {
				t.Errorf("after delete matched %s", r.ID)
			}
		})
	}
}
