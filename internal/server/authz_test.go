package server_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"
	"google.golang.org/protobuf/types/known/fieldmaskpb"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/mediationd/mediationd/internal/auth"
	"github.com/mediationd/mediationd/internal/casework"
	"github.com/mediationd/mediationd/internal/store"
	mediationv1 "github.com/mediationd/mediationd/proto/mediation/v1"
)

// The roles of the matrix, as the test signs them in.
const (
	admin      = "admin"
	supervisor = "supervisor"
	lead       = "lead"
	mediator   = "mediator"
	court      = "court"
	auditor    = "auditor"
)

var matrixRoles = []string{admin, supervisor, lead, mediator, court, auditor}

// expectation says, independently of the policy code, what a role may do
// with a method: the method is not theirs (denied), or it is and then an
// in-scope target works while an out-of-scope one is hidden (NOT_FOUND),
// or refused (PERMISSION_DENIED) when the target is visible but the action
// is not theirs.
type expectation int

const (
	denied        expectation = iota // PERMISSION_DENIED, in and out of scope
	allowed                          // works in scope and out of scope
	scoped                           // works in scope; out of scope is NOT_FOUND
	scopedRefused                    // works in scope; out of scope is PERMISSION_DENIED
)

func (x expectation) String() string {
	return [...]string{"denied", "allowed", "scoped", "scopedRefused"}[x]
}

// roleTable builds a row: the roles named get the expectation, others are
// denied.
func roleTable(pairs ...any) map[string]expectation {
	m := map[string]expectation{}
	for i := 0; i < len(pairs); i += 2 {
		m[pairs[i].(string)] = pairs[i+1].(expectation)
	}
	return m
}

var (
	everyone        = roleTable(admin, allowed, supervisor, allowed, lead, allowed, mediator, allowed, court, allowed, auditor, allowed)
	adminOnly       = roleTable(admin, allowed)
	caseReaders     = roleTable(admin, allowed, supervisor, scoped, lead, scoped, mediator, scoped, court, scoped)
	caseWorkers     = roleTable(admin, allowed, lead, scoped, mediator, scoped)
	confirmers      = roleTable(admin, allowed, lead, scoped, mediator, scoped, court, scoped)
	assigners       = roleTable(admin, allowed, supervisor, scoped, lead, scoped)
	regionUpdaters  = roleTable(admin, allowed, supervisor, scopedRefused)
	auditReaders    = roleTable(admin, allowed, auditor, allowed)
	caseListReaders = roleTable(admin, allowed, supervisor, allowed, lead, allowed, mediator, allowed, court, allowed)
)

// creators may register the matrix's CreateCase request, a court
// referral: leads and mediators may not (TestCourtReferralsComeFromTheCourt
// covers their walk-ins).
var creators = roleTable(admin, allowed, court, scopedRefused)

// matrix is the expected access of every method of the API.
var matrix = map[string]map[string]expectation{
	"AuthService/CreateSession": everyone,
	"AuthService/DeleteSession": everyone,
	"AuthService/GetCaller":     everyone,

	"UserService/CreateUser":     adminOnly,
	"UserService/GetUser":        adminOnly,
	"UserService/ListUsers":      adminOnly,
	"UserService/UpdateUser":     adminOnly,
	"UserService/DeactivateUser": adminOnly,
	"UserService/ActivateUser":   adminOnly,
	"UserService/SetPassword":    adminOnly,
	"UserService/CreateApiKey":   adminOnly,
	"UserService/ListApiKeys":    adminOnly,
	"UserService/RevokeApiKey":   adminOnly,

	"AuditService/ListAuditEvents": auditReaders,

	"CaseService/GetWorkflow":          everyone,
	"CaseService/CreateCase":           creators,
	"CaseService/GetCase":              caseReaders,
	"CaseService/ListCases":            caseListReaders,
	"CaseService/GetCaseStatistics":    caseListReaders,
	"CaseService/ListCaseEvents":       caseReaders,
	"CaseService/ListCaseSessions":     caseReaders,
	"CaseService/ListCaseFollowUps":    caseReaders,
	"CaseService/GetAgreementDocument": caseReaders,
	"CaseService/SuggestAssignment":    assigners,
	"CaseService/AssignCase":           assigners,

	"CaseService/AcceptCase":      caseWorkers,
	"CaseService/RejectCase":      caseWorkers,
	"CaseService/StartMediation":  caseWorkers,
	"CaseService/RecordAgreement": caseWorkers,
	"CaseService/RecordFailure":   caseWorkers,
	"CaseService/WithdrawCase":    caseWorkers,
	"CaseService/CloseCase":       caseWorkers,
	"CaseService/UpdateCase":      caseWorkers,
	"CaseService/RecuseCase":      caseWorkers,
	"CaseService/ExtendDeadline":  caseWorkers,
	"CaseService/ScheduleSession": caseWorkers,
	"CaseService/RecordSession":   caseWorkers,
	"CaseService/CancelSession":   caseWorkers,

	"CaseService/RecordPerformance":           caseWorkers,
	"CaseService/RecordFollowUp":              caseWorkers,
	"CaseService/RequestJudicialConfirmation": confirmers,
	"CaseService/RecordConfirmationDecision":  confirmers,

	"DirectoryService/ListRegions":            everyone,
	"DirectoryService/GetRegion":              everyone,
	"DirectoryService/UpdateRegion":           regionUpdaters,
	"DirectoryService/CreateOrganization":     adminOnly,
	"DirectoryService/GetOrganization":        everyone,
	"DirectoryService/ListOrganizations":      everyone,
	"DirectoryService/UpdateOrganization":     adminOnly,
	"DirectoryService/DeactivateOrganization": adminOnly,
	"DirectoryService/ActivateOrganization":   adminOnly,
	"DirectoryService/CreateMediator":         adminOnly,
	"DirectoryService/GetMediator":            everyone,
	"DirectoryService/ListMediators":          everyone,
	"DirectoryService/UpdateMediator":         adminOnly,
	"DirectoryService/DeactivateMediator":     adminOnly,
	"DirectoryService/ActivateMediator":       adminOnly,
	"DirectoryService/ListDeadlineRules":      everyone,
	"DirectoryService/CreateDeadlineRule":     adminOnly,
	"DirectoryService/UpdateDeadlineRule":     adminOnly,
	"DirectoryService/DeleteDeadlineRule":     adminOnly,
}

// world is what the matrix test acts in: the directory, a token per role,
// and factories of cases in and out of each role's scope.
type world struct {
	e      *env
	tokens map[string]string
	n      int
	rules  int
}

func newWorld(t *testing.T) *world {
	t.Helper()
	e := start(t)
	ctx := context.Background()
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for _, o := range []casework.Organization{
		{ID: "xifeng-room", DisplayName: "西峰区调解室", Type: casework.OrgTownshipCommittee, RegionCode: "621002", Active: true},
		{ID: "zhenyuan-room", DisplayName: "镇原县调解室", Type: casework.OrgTownshipCommittee, RegionCode: "621027", Active: true},
	} {
		if _, err := e.store.CreateOrganization(ctx, o, now); err != nil {
			t.Fatal(err)
		}
	}
	for _, m := range []casework.Mediator{
		{ID: "xf-1", DisplayName: "西峰一", OrganizationID: "xifeng-room", Active: true},
		{ID: "xf-2", DisplayName: "西峰二", OrganizationID: "xifeng-room", Active: true},
		{ID: "zy-1", DisplayName: "镇原一", OrganizationID: "zhenyuan-room", Active: true},
	} {
		if _, err := e.store.CreateMediator(ctx, m, now); err != nil {
			t.Fatal(err)
		}
	}
	w := &world{e: e, tokens: map[string]string{admin: e.token}}
	w.tokens[supervisor] = e.signIn(t, store.User{Username: "sup", DisplayName: "西峰司法局", Role: auth.RoleSupervisor, RegionCode: "621002"})
	w.tokens[lead] = e.signIn(t, store.User{Username: "lead", DisplayName: "调解室负责人", Role: auth.RoleOrganizationLead, OrganizationID: "xifeng-room"})
	w.tokens[mediator] = e.signIn(t, store.User{Username: "med", DisplayName: "调解员", Role: auth.RoleMediator, MediatorID: "xf-1"})
	w.tokens[auditor] = e.signIn(t, store.User{Username: "aud", DisplayName: "审计员", Role: auth.RoleAuditor})
	key, err := mediationv1.NewUserServiceClient(e.conn).CreateApiKey(ctx, &mediationv1.CreateApiKeyRequest{ApiKey: &mediationv1.ApiKey{
		DisplayName: "西峰区人民法院诉调对接系统", Role: mediationv1.Role_ROLE_COURT_DESK, CourtCode: "甘1002",
	}})
	if err != nil {
		t.Fatal(err)
	}
	w.tokens[court] = key.GetSecret()
	return w
}

// newCase registers a court referral in region, from court, assigned to
// the organization and mediator, registered by the court when inScope
// (by the administrator on the other court's behalf otherwise), and
// returns it.
func (w *world) newCase(t *testing.T, inScope bool) *mediationv1.Case {
	t.Helper()
	w.n++
	region, courtCode, org, med := "621002", "甘1002", "xifeng-room", "xf-1"
	token := w.tokens[court]
	if !inScope {
		region, courtCode, org, med, token = "621027", "甘1027", "zhenyuan-room", "zy-1", w.tokens[admin]
	}
	c := newCase("权限测试")
	c.RegionCode = region
	c.Source = mediationv1.CaseSource_CASE_SOURCE_COURT_DELEGATED
	c.CourtReferral = &mediationv1.CourtReferral{CourtCode: courtCode, CourtCaseNumber: fmt.Sprintf("（2026）%s民诉前调%d号", courtCode, w.n)}
	ctx := as(context.Background(), token)
	cs := w.e.cases
	created, err := cs.CreateCase(ctx, &mediationv1.CreateCaseRequest{Case: c})
	if err != nil {
		t.Fatal(err)
	}
	name := created.GetCase().GetName()
	admin := as(context.Background(), w.tokens[admin])
	if _, err := cs.AcceptCase(admin, &mediationv1.AcceptCaseRequest{Name: name}); err != nil {
		t.Fatal(err)
	}
	got, err := cs.AssignCase(admin, &mediationv1.AssignCaseRequest{Name: name, Organization: "organizations/" + org, Mediator: "mediators/" + med})
	if err != nil {
		t.Fatal(err)
	}
	return got.GetCase()
}

// request builds a valid request of method aimed at case c (or at the
// in-scope or out-of-scope variant of a non-case resource).
func (w *world) request(t *testing.T, method string, c *mediationv1.Case, inScope bool) proto.Message {
	t.Helper()
	name := c.GetName()
	w.n++
	uniq := fmt.Sprintf("m%d", w.n)
	region := "621002"
	courtCode := "甘1002"
	if !inScope {
		region, courtCode = "621027", "甘1027"
	}
	switch method {
	case "AuthService/CreateSession":
		return &mediationv1.CreateSessionRequest{Username: "aud", Password: testPassword}
	case "AuthService/DeleteSession", "AuthService/GetCaller":
		return map[string]proto.Message{"AuthService/DeleteSession": &mediationv1.DeleteSessionRequest{}, "AuthService/GetCaller": &mediationv1.GetCallerRequest{}}[method]
	case "UserService/CreateUser":
		return &mediationv1.CreateUserRequest{UserId: uniq, Password: testPassword, User: &mediationv1.User{DisplayName: "新用户", Role: mediationv1.Role_ROLE_AUDITOR}}
	case "UserService/GetUser":
		return &mediationv1.GetUserRequest{Name: "users/aud"}
	case "UserService/ListUsers":
		return &mediationv1.ListUsersRequest{}
	case "UserService/UpdateUser":
		return &mediationv1.UpdateUserRequest{User: &mediationv1.User{Name: "users/aud", DisplayName: "审计员" + uniq}, UpdateMask: &fieldmaskpb.FieldMask{Paths: []string{"display_name"}}}
	case "UserService/DeactivateUser":
		return &mediationv1.DeactivateUserRequest{Name: "users/" + w.spareUser(t)}
	case "UserService/ActivateUser":
		return &mediationv1.ActivateUserRequest{Name: "users/aud"}
	case "UserService/SetPassword":
		return &mediationv1.SetPasswordRequest{Name: "users/" + w.spareUser(t), Password: testPassword + "!"}
	case "UserService/CreateApiKey":
		return &mediationv1.CreateApiKeyRequest{ApiKey: &mediationv1.ApiKey{DisplayName: "key " + uniq, Role: mediationv1.Role_ROLE_COURT_DESK, CourtCode: "甘1021"}}
	case "UserService/ListApiKeys":
		return &mediationv1.ListApiKeysRequest{}
	case "UserService/RevokeApiKey":
		return &mediationv1.RevokeApiKeyRequest{Name: w.spareKey(t)}
	case "AuditService/ListAuditEvents":
		return &mediationv1.ListAuditEventsRequest{}
	case "CaseService/GetWorkflow":
		return &mediationv1.GetWorkflowRequest{}
	case "CaseService/CreateCase":
		nc := newCase("新登记")
		nc.RegionCode = region
		nc.Source = mediationv1.CaseSource_CASE_SOURCE_COURT_DELEGATED
		nc.CourtReferral = &mediationv1.CourtReferral{CourtCode: courtCode, CourtCaseNumber: "（2026）新" + uniq}
		return &mediationv1.CreateCaseRequest{Case: nc}
	case "CaseService/GetCase":
		return &mediationv1.GetCaseRequest{Name: name}
	case "CaseService/ListCases":
		return &mediationv1.ListCasesRequest{}
	case "CaseService/GetCaseStatistics":
		return &mediationv1.GetCaseStatisticsRequest{GroupBy: mediationv1.StatisticsGrouping_STATISTICS_GROUPING_REGION}
	case "CaseService/ListCaseEvents":
		return &mediationv1.ListCaseEventsRequest{Parent: name}
	case "CaseService/ListCaseSessions":
		return &mediationv1.ListCaseSessionsRequest{Parent: name}
	case "CaseService/ListCaseFollowUps":
		return &mediationv1.ListCaseFollowUpsRequest{Parent: name}
	case "CaseService/GetAgreementDocument":
		return &mediationv1.GetAgreementDocumentRequest{Name: name}
	case "CaseService/SuggestAssignment":
		return &mediationv1.SuggestAssignmentRequest{Name: name}
	case "CaseService/AssignCase":
		org, med := "xifeng-room", "xf-2"
		if !inScope {
			org, med = "zhenyuan-room", "xf-2"
		}
		return &mediationv1.AssignCaseRequest{Name: name, Organization: "organizations/" + org, Mediator: "mediators/" + med, Reason: "改派"}
	case "CaseService/AcceptCase":
		return &mediationv1.AcceptCaseRequest{Name: name}
	case "CaseService/RejectCase":
		return &mediationv1.RejectCaseRequest{Name: name, Reason: "不属于受理范围"}
	case "CaseService/StartMediation":
		return &mediationv1.StartMediationRequest{Name: name}
	case "CaseService/RecordAgreement":
		return &mediationv1.RecordAgreementRequest{Name: name, Agreement: &mediationv1.Agreement{Terms: "赔偿", Facts: "事实"}}
	case "CaseService/RecordFailure":
		return &mediationv1.RecordFailureRequest{Name: name, Reason: "分歧过大"}
	case "CaseService/WithdrawCase":
		return &mediationv1.WithdrawCaseRequest{Name: name}
	case "CaseService/CloseCase":
		return &mediationv1.CloseCaseRequest{Name: name, NoFollowUpReason: "当场履行"}
	case "CaseService/UpdateCase":
		return &mediationv1.UpdateCaseRequest{Case: &mediationv1.Case{Name: name, Summary: "修改"}, UpdateMask: &fieldmaskpb.FieldMask{Paths: []string{"summary"}}}
	case "CaseService/RecuseCase":
		return &mediationv1.RecuseCaseRequest{Name: name, Reason: "回避"}
	case "CaseService/ExtendDeadline":
		return &mediationv1.ExtendDeadlineRequest{Name: name, Reason: "双方同意", ConsentingPartyIds: []string{"p1", "p2"}}
	case "CaseService/ScheduleSession":
		return &mediationv1.ScheduleSessionRequest{Name: name, StartTime: timestamppb.New(time.Now().Add(48 * time.Hour)), Place: "调解室"}
	case "CaseService/RecordSession":
		return &mediationv1.RecordSessionRequest{Name: name, Session: name + "/sessions/1", Minutes: "笔录"}
	case "CaseService/CancelSession":
		return &mediationv1.CancelSessionRequest{Name: name, Session: name + "/sessions/1", Reason: "取消"}
	case "CaseService/RecordPerformance":
		return &mediationv1.RecordPerformanceRequest{Name: name, Status: mediationv1.PerformanceStatus_PERFORMANCE_STATUS_PERFORMED}
	case "CaseService/RecordFollowUp":
		return &mediationv1.RecordFollowUpRequest{Name: name, Findings: "已履行"}
	case "CaseService/RequestJudicialConfirmation":
		return &mediationv1.RequestJudicialConfirmationRequest{Name: name, CourtCode: "甘1002"}
	case "CaseService/RecordConfirmationDecision":
		return &mediationv1.RecordConfirmationDecisionRequest{Name: name, Decision: mediationv1.ConfirmationDecision_CONFIRMATION_DECISION_CONFIRMED}
	case "DirectoryService/ListRegions":
		return &mediationv1.ListRegionsRequest{}
	case "DirectoryService/GetRegion":
		return &mediationv1.GetRegionRequest{Name: "regions/621002"}
	case "DirectoryService/UpdateRegion":
		return &mediationv1.UpdateRegionRequest{Region: &mediationv1.Region{Name: "regions/" + region, AutoAssign: false}, UpdateMask: &fieldmaskpb.FieldMask{Paths: []string{"auto_assign"}}}
	case "DirectoryService/CreateOrganization":
		return &mediationv1.CreateOrganizationRequest{OrganizationId: uniq, Organization: &mediationv1.Organization{DisplayName: "新调解室", Type: mediationv1.OrganizationType_ORGANIZATION_TYPE_TOWNSHIP_COMMITTEE, RegionCode: "621002"}}
	case "DirectoryService/GetOrganization":
		return &mediationv1.GetOrganizationRequest{Name: "organizations/xifeng-room"}
	case "DirectoryService/ListOrganizations":
		return &mediationv1.ListOrganizationsRequest{}
	case "DirectoryService/UpdateOrganization":
		return &mediationv1.UpdateOrganizationRequest{Organization: &mediationv1.Organization{Name: "organizations/xifeng-room", Phone: "0934-8621234"}, UpdateMask: &fieldmaskpb.FieldMask{Paths: []string{"phone"}}}
	case "DirectoryService/DeactivateOrganization":
		return &mediationv1.DeactivateOrganizationRequest{Name: "organizations/" + w.spareOrganization(t)}
	case "DirectoryService/ActivateOrganization":
		return &mediationv1.ActivateOrganizationRequest{Name: "organizations/xifeng-room"}
	case "DirectoryService/CreateMediator":
		return &mediationv1.CreateMediatorRequest{MediatorId: uniq, Mediator: &mediationv1.Mediator{DisplayName: "新调解员", Organization: "organizations/xifeng-room"}}
	case "DirectoryService/GetMediator":
		return &mediationv1.GetMediatorRequest{Name: "mediators/xf-1"}
	case "DirectoryService/ListMediators":
		return &mediationv1.ListMediatorsRequest{}
	case "DirectoryService/UpdateMediator":
		return &mediationv1.UpdateMediatorRequest{Mediator: &mediationv1.Mediator{Name: "mediators/xf-2", Phone: "13909341234"}, UpdateMask: &fieldmaskpb.FieldMask{Paths: []string{"phone"}}}
	case "DirectoryService/DeactivateMediator":
		return &mediationv1.DeactivateMediatorRequest{Name: "mediators/" + w.spareMediator(t)}
	case "DirectoryService/ActivateMediator":
		return &mediationv1.ActivateMediatorRequest{Name: "mediators/xf-1"}
	case "DirectoryService/ListDeadlineRules":
		return &mediationv1.ListDeadlineRulesRequest{}
	case "DirectoryService/CreateDeadlineRule":
		return &mediationv1.CreateDeadlineRuleRequest{DeadlineRuleId: uniq, DeadlineRule: &mediationv1.DeadlineRule{
			DisplayName: "规则" + uniq, Source: mediationv1.CaseSource_CASE_SOURCE_POLICE, Days: 20,
			OrganizationType: mediationv1.OrganizationType(1 + w.n%8), CourtProcedure: mediationv1.CourtProcedure(w.n % 3)}}
	case "DirectoryService/UpdateDeadlineRule":
		return &mediationv1.UpdateDeadlineRuleRequest{DeadlineRule: &mediationv1.DeadlineRule{Name: "deadlineRules/court-delegated", Days: 30}, UpdateMask: &fieldmaskpb.FieldMask{Paths: []string{"days"}}}
	case "DirectoryService/DeleteDeadlineRule":
		return &mediationv1.DeleteDeadlineRuleRequest{Name: "deadlineRules/" + w.spareRule(t)}
	}
	t.Fatalf("no request for %s: add one, and a row to the matrix", method)
	return nil
}

// usernames are the users newWorld signs in, by role.
var usernames = map[string]string{admin: "root", supervisor: "sup", lead: "lead", mediator: "med", auditor: "aud"}

// freshToken signs the role's user in again and returns the new token.
func (w *world) freshToken(t *testing.T, role string) string {
	t.Helper()
	resp, err := mediationv1.NewAuthServiceClient(w.e.conn).CreateSession(context.Background(),
		&mediationv1.CreateSessionRequest{Username: usernames[role], Password: testPassword})
	if err != nil {
		t.Fatal(err)
	}
	return resp.GetToken()
}

func (w *world) spare() string { w.n++; return fmt.Sprintf("spare-%d", w.n) }

func (w *world) spareUser(t *testing.T) string {
	id := w.spare()
	if _, err := w.e.store.CreateUser(context.Background(), store.User{Username: id, DisplayName: id, Role: auth.RoleAuditor}, "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHRzYWx0c2FsdA$aGFzaGhhc2hoYXNoaGFzaGhhc2hoYXNoaGFzaGhhc2g", time.Now()); err != nil {
		t.Fatal(err)
	}
	return id
}

func (w *world) spareOrganization(t *testing.T) string {
	id := w.spare()
	if _, err := w.e.store.CreateOrganization(context.Background(), casework.Organization{ID: id, DisplayName: id, Type: casework.OrgVillageCommittee, RegionCode: "621002", Active: true}, time.Now()); err != nil {
		t.Fatal(err)
	}
	return id
}

func (w *world) spareMediator(t *testing.T) string {
	id := w.spare()
	if _, err := w.e.store.CreateMediator(context.Background(), casework.Mediator{ID: id, DisplayName: id, OrganizationID: "xifeng-room", Active: true}, time.Now()); err != nil {
		t.Fatal(err)
	}
	return id
}

func (w *world) spareRule(t *testing.T) string {
	id := w.spare()
	w.rules++ // a combination of selectors no other rule has
	sources := []casework.Source{casework.SourceWalkIn, casework.SourceOnline, casework.SourceGridSweep, casework.SourceOwnInitiative}
	types := casework.OrganizationTypes
	r := casework.DeadlineRule{ID: id, DisplayName: id, Days: 10,
		Source:           sources[w.rules%len(sources)],
		OrganizationType: types[(w.rules/len(sources))%len(types)],
	}
	if _, err := w.e.store.CreateDeadlineRule(context.Background(), r); err != nil {
		t.Fatal(err)
	}
	return id
}

func (w *world) spareKey(t *testing.T) string {
	key, err := mediationv1.NewUserServiceClient(w.e.conn).CreateApiKey(as(context.Background(), w.tokens[admin]),
		&mediationv1.CreateApiKeyRequest{ApiKey: &mediationv1.ApiKey{DisplayName: w.spare(), Role: mediationv1.Role_ROLE_COURT_DESK, CourtCode: "甘1021"}})
	if err != nil {
		t.Fatal(err)
	}
	return key.GetApiKey().GetName()
}

// call invokes method with req under token and returns the status code.
func (w *world) call(t *testing.T, method string, req proto.Message, token string) codes.Code {
	t.Helper()
	full := "/mediation.v1." + method
	desc, err := protoregistry.GlobalFiles.FindDescriptorByName(protoreflect.FullName("mediation.v1." + strings.ReplaceAll(method, "/", ".")))
	if err != nil {
		t.Fatalf("no descriptor for %s: %v", method, err)
	}
	out, err := protoregistry.GlobalTypes.FindMessageByName(desc.(protoreflect.MethodDescriptor).Output().FullName())
	if err != nil {
		t.Fatal(err)
	}
	err = w.e.conn.Invoke(as(context.Background(), token), full, req, out.New().Interface())
	return status.Code(err)
}

// apiMethods lists every method of the mediation.v1 services, as
// Service/Method.
func apiMethods() []string {
	var out []string
	for _, fd := range []protoreflect.FileDescriptor{
		mediationv1.File_mediation_v1_case_service_proto,
		mediationv1.File_mediation_v1_directory_service_proto,
		mediationv1.File_mediation_v1_access_proto,
	} {
		for i := range fd.Services().Len() {
			s := fd.Services().Get(i)
			for j := range s.Methods().Len() {
				out = append(out, string(s.Name())+"/"+string(s.Methods().Get(j).Name()))
			}
		}
	}
	slices.Sort(out)
	return out
}

// TestEveryMethodEveryRoleEveryScope calls every method of the API as
// every role, on a target in the role's scope and on one outside it, and
// checks the access decision against the matrix above.
func TestEveryMethodEveryRoleEveryScope(t *testing.T) {
	w := newWorld(t)
	methods := apiMethods()
	for _, m := range methods {
		if _, ok := matrix[m]; !ok {
			t.Errorf("%s has no row in the matrix: decide who may call it", m)
		}
	}
	// The policy knows exactly the API's methods (and the health checks).
	var policy []string
	for _, m := range auth.AllMethods() {
		if strings.HasPrefix(m, "/mediation.v1.") {
			policy = append(policy, strings.TrimPrefix(m, "/mediation.v1."))
		}
	}
	if !slices.Equal(policy, methods) {
		t.Errorf("the policy lists %v,\nthe API has %v", policy, methods)
	}
	for _, m := range methods {
		for _, role := range matrixRoles {
			want := matrix[m][role]
			for _, inScope := range []bool{true, false} {
				scope := map[bool]string{true: "in", false: "out"}[inScope]
				t.Run(fmt.Sprintf("%s/%s/%s", m, role, scope), func(t *testing.T) {
					c := w.newCase(t, inScope)
					req := w.request(t, m, c, inScope)
					if m == "CaseService/RecordSession" || m == "CaseService/CancelSession" {
						if _, err := w.e.cases.ScheduleSession(as(context.Background(), w.tokens[admin]), &mediationv1.ScheduleSessionRequest{
							Name: c.GetName(), StartTime: timestamppb.New(time.Now().Add(time.Hour)), Place: "调解室"}); err != nil {
							t.Fatal(err)
						}
					}
					token := w.tokens[role]
					if m == "AuthService/DeleteSession" && role != court {
						token = w.freshToken(t, role) // signing out must not end the matrix's own session
					}
					got := w.call(t, m, req, token)
					var ok bool
					var wantWords string
					switch {
					case want == denied:
						ok, wantWords = got == codes.PermissionDenied, "PERMISSION_DENIED"
					case want == allowed || inScope:
						ok = got != codes.PermissionDenied && got != codes.NotFound && got != codes.Unauthenticated
						wantWords = "access (any code but PERMISSION_DENIED, NOT_FOUND, UNAUTHENTICATED)"
					case want == scoped:
						ok, wantWords = got == codes.NotFound, "NOT_FOUND"
					case want == scopedRefused:
						ok, wantWords = got == codes.PermissionDenied, "PERMISSION_DENIED"
					}
					if !ok {
						t.Errorf("%s as %s (%s scope, %s): %v, want %s", m, role, scope, want, got, wantWords)
					}
				})
			}
		}
	}
}

// TestActionRulesOnVisibleCases covers what the matrix cannot: actions a
// role may call but not on every case it sees.
func TestActionRulesOnVisibleCases(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	cs := w.e.cases
	code := func(err error) codes.Code { return status.Code(err) }

	// A supervisor may assign in their region, not elsewhere.
	c := w.newCase(t, true)
	_, err := cs.AssignCase(as(ctx, w.tokens[supervisor]), &mediationv1.AssignCaseRequest{Name: c.GetName(), Organization: "organizations/zhenyuan-room", Mediator: "mediators/zy-1", Reason: "跨县"})
	if code(err) != codes.PermissionDenied {
		t.Errorf("supervisor assigning outside the region: %v", err)
	}
	// A lead assigns inside the organization only.
	_, err = cs.AssignCase(as(ctx, w.tokens[lead]), &mediationv1.AssignCaseRequest{Name: c.GetName(), Organization: "organizations/zhenyuan-room", Mediator: "mediators/zy-1", Reason: "移送"})
	if code(err) != codes.PermissionDenied {
		t.Errorf("lead assigning to another organization: %v", err)
	}
	if _, err = cs.AssignCase(as(ctx, w.tokens[lead]), &mediationv1.AssignCaseRequest{Name: c.GetName(), Organization: "organizations/xifeng-room", Mediator: "mediators/xf-2", Reason: "内部调整"}); err != nil {
		t.Errorf("lead reassigning inside the organization: %v", err)
	}
	// The case now belongs to xf-2: the first mediator no longer sees it.
	if _, err := cs.GetCase(as(ctx, w.tokens[mediator]), &mediationv1.GetCaseRequest{Name: c.GetName()}); code(err) != codes.NotFound {
		t.Errorf("mediator reading a case reassigned away: %v", err)
	}
	// A court desk registers only its own court's referrals.
	nc := newCase("非诉讼来源")
	if _, err := cs.CreateCase(as(ctx, w.tokens[court]), &mediationv1.CreateCaseRequest{Case: nc}); code(err) != codes.PermissionDenied {
		t.Errorf("court desk registering a walk-in: %v", err)
	}
	// A mediator registers for the organization and may accept that intake,
	// and the lead sees it; a mediator of another organization would not.
	created, err := cs.CreateCase(as(ctx, w.tokens[mediator]), &mediationv1.CreateCaseRequest{Case: newCase("调解员登记")})
	if err != nil {
		t.Fatal(err)
	}
	name := created.GetCase().GetName()
	if _, err := cs.AcceptCase(as(ctx, w.tokens[mediator]), &mediationv1.AcceptCaseRequest{Name: name}); err != nil {
		t.Errorf("mediator accepting the organization's intake: %v", err)
	}
	if _, err := cs.StartMediation(as(ctx, w.tokens[mediator]), &mediationv1.StartMediationRequest{Name: name}); code(err) != codes.PermissionDenied {
		t.Errorf("mediator working an intake not assigned to them: %v", err)
	}
	if _, err := cs.GetCase(as(ctx, w.tokens[lead]), &mediationv1.GetCaseRequest{Name: name}); err != nil {
		t.Errorf("lead reading the organization's intake: %v", err)
	}
	// Lists hold only what is in scope.
	for _, role := range []string{supervisor, lead, mediator, court} {
		resp, err := cs.ListCases(as(ctx, w.tokens[role]), &mediationv1.ListCasesRequest{PageSize: 1000})
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range resp.GetCases() {
			if c.GetRegionCode() != "621002" {
				t.Errorf("%s lists %s of region %s", role, c.GetName(), c.GetRegionCode())
			}
		}
		if len(resp.GetCases()) == 0 {
			t.Errorf("%s lists nothing", role)
		}
	}
	// Unauthenticated and revoked credentials.
	if _, err := cs.GetWorkflow(as(ctx, "-"), &mediationv1.GetWorkflowRequest{}); code(err) != codes.Unauthenticated {
		t.Errorf("no token: %v", err)
	}
	if _, err := cs.GetWorkflow(as(ctx, "mds_not-a-token"), &mediationv1.GetWorkflowRequest{}); code(err) != codes.Unauthenticated {
		t.Errorf("bad token: %v", err)
	}
	if _, err := mediationv1.NewAuthServiceClient(w.e.conn).DeleteSession(as(ctx, w.tokens[auditor]), &mediationv1.DeleteSessionRequest{}); err != nil {
		t.Fatal(err)
	}
	if _, err := cs.GetWorkflow(as(ctx, w.tokens[auditor]), &mediationv1.GetWorkflowRequest{}); code(err) != codes.Unauthenticated {
		t.Errorf("token after logout: %v", err)
	}
	// Refusals are on record.
	events, err := mediationv1.NewAuditServiceClient(w.e.conn).ListAuditEvents(as(ctx, w.tokens[admin]), &mediationv1.ListAuditEventsRequest{Filter: "kind = PERMISSION_DENIED", PageSize: 1000})
	if err != nil {
		t.Fatal(err)
	}
	if len(events.GetAuditEvents()) < 4 {
		t.Errorf("%d refusals on record, want at least 4", len(events.GetAuditEvents()))
	}
}
