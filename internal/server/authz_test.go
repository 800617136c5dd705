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
	"github.com/mediationd/mediationd/internal/pgtest"
	"github.com/mediationd/mediationd/internal/server"
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

// target is what a call of the matrix is aimed at, seen from the caller.
type target string

const (
	// inScope: a case (or resource) of the caller's own: their region,
	// organization, assignment or court.
	inScope target = "in"
	// outOfScope: one of another county, organization and court.
	outOfScope target = "out"
	// movedAway: a case the lead's organization registered and assigned,
	// which a supervisor then moved to another organization of the county.
	movedAway target = "away"
	// otherCourt: the caller's own case, but the request acts in another
	// court's name: a court referral the caller's credential is not the
	// court's, confirmation requested of another court, or the decision
	// on a request made of another court.
	otherCourt target = "otherCourt"
)

// expect is the code a role must get from a method on each target,
// written down independently of the policy code. OK is demanded: an
// allowed call must work, not merely get past authorization.
type expect struct {
	in, out, away, otherCourt codes.Code
}

func (x expect) on(tg target) codes.Code {
	return map[target]codes.Code{inScope: x.in, outOfScope: x.out, movedAway: x.away, otherCourt: x.otherCourt}[tg]
}

var (
	// never: the method is not the role's (PERMISSION_DENIED everywhere).
	never = expect{codes.PermissionDenied, codes.PermissionDenied, codes.PermissionDenied, codes.PermissionDenied}
	// always: works on every target.
	always = expect{codes.OK, codes.OK, codes.OK, codes.OK}
	// sees: works in scope, and on the case moved away (the registering
	// lead reads it; it stays in the supervisor's region); out of scope
	// is hidden.
	sees = expect{codes.OK, codes.NotFound, codes.OK, codes.OK}
	// loses: as sees, but the case moved away is out of sight (its
	// mediator is another, and no court referred it).
	loses = expect{codes.OK, codes.NotFound, codes.NotFound, codes.OK}
	// holds: a lead acts on what the organization holds: the case moved
	// away is visible and refused.
	holds = expect{codes.OK, codes.NotFound, codes.PermissionDenied, codes.OK}
	// ownCourt: a court desk acts on its referrals in its own court's
	// name only.
	ownCourt = expect{codes.OK, codes.NotFound, codes.NotFound, codes.PermissionDenied}
	// registers: a lead or mediator registers disputes anywhere, but no
	// court's referral.
	registers = expect{codes.OK, codes.OK, codes.OK, codes.PermissionDenied}
	// courtRegisters: a court desk registers its own court's referrals
	// only.
	courtRegisters = expect{codes.OK, codes.PermissionDenied, codes.PermissionDenied, codes.PermissionDenied}
	// ownRegion: a supervisor changes their own region only.
	ownRegion = expect{codes.OK, codes.PermissionDenied, codes.OK, codes.OK}
	// keyStays: an API key does not sign out (an administrator revokes
	// it), so a court desk's system gets FAILED_PRECONDITION.
	keyStays = expect{codes.FailedPrecondition, codes.FailedPrecondition, codes.FailedPrecondition, codes.FailedPrecondition}
)

// roleTable builds a row: the roles named get the expectation, others
// never.
func roleTable(pairs ...any) map[string]expect {
	m := map[string]expect{}
	for _, r := range matrixRoles {
		m[r] = never
	}
	for i := 0; i < len(pairs); i += 2 {
		m[pairs[i].(string)] = pairs[i+1].(expect)
	}
	return m
}

var (
	everyone       = roleTable(admin, always, supervisor, always, lead, always, mediator, always, court, always, auditor, always)
	signsOut       = roleTable(admin, always, supervisor, always, lead, always, mediator, always, court, keyStays, auditor, always)
	adminOnly      = roleTable(admin, always)
	auditReaders   = roleTable(admin, always, auditor, always)
	caseListers    = roleTable(admin, always, supervisor, always, lead, always, mediator, always, court, always)
	caseReaders    = roleTable(admin, always, supervisor, sees, lead, sees, mediator, loses, court, loses)
	caseWorkers    = roleTable(admin, always, lead, holds, mediator, loses)
	confirmers     = roleTable(admin, always, lead, holds, mediator, loses, court, ownCourt)
	assigners      = roleTable(admin, always, supervisor, sees, lead, holds)
	suggesters     = roleTable(admin, always, supervisor, sees, lead, sees)
	creators       = roleTable(admin, always, lead, registers, mediator, registers, court, courtRegisters)
	regionUpdaters = roleTable(admin, always, supervisor, ownRegion)
	// A court desk manages its own court's webhook endpoints; another
	// court's are hidden, and registering one for another court is refused.
	hookListers  = roleTable(admin, always, court, always)
	hookKeepers  = roleTable(admin, always, court, expect{codes.OK, codes.NotFound, codes.NotFound, codes.NotFound})
	hookCreators = roleTable(admin, always, court, expect{codes.OK, codes.PermissionDenied, codes.PermissionDenied, codes.PermissionDenied})
)

// matrix is the expected access of every method of the API.
var matrix = map[string]map[string]expect{
	"AuthService/CreateSession": everyone,
	"AuthService/DeleteSession": signsOut,
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
	"CaseService/ListCases":            caseListers,
	"CaseService/GetCaseStatistics":    caseListers,
	"CaseService/ListCaseEvents":       caseReaders,
	"CaseService/ListCaseSessions":     caseReaders,
	"CaseService/ListCaseFollowUps":    caseReaders,
	"CaseService/GetAgreementDocument": caseReaders,
	"CaseService/SuggestAssignment":    suggesters,
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

	"CaseFeedService/ListCaseChanges": caseListers,

	"WebhookService/CreateWebhookEndpoint":    hookCreators,
	"WebhookService/GetWebhookEndpoint":       hookKeepers,
	"WebhookService/ListWebhookEndpoints":     hookListers,
	"WebhookService/UpdateWebhookEndpoint":    hookKeepers,
	"WebhookService/DeleteWebhookEndpoint":    hookKeepers,
	"WebhookService/DisableWebhookEndpoint":   hookKeepers,
	"WebhookService/EnableWebhookEndpoint":    hookKeepers,
	"WebhookService/RotateWebhookSecret":      hookKeepers,
	"WebhookService/ListWebhookDeliveries":    hookKeepers,
	"WebhookService/RedeliverWebhookDelivery": hookKeepers,
}

// caseNeed says what case a method is aimed at: the state it must be in
// and what it must hold. Every target applies but, at intake, the case
// moved away: an unassigned case cannot have been moved.
type caseNeed struct {
	state        casework.State
	session      bool // session 1 scheduled
	confirmation bool // judicial confirmation requested
}

var caseNeeds = map[string]caseNeed{
	"CaseService/GetCase":              {state: casework.StateAgreed},
	"CaseService/ListCaseEvents":       {state: casework.StateAgreed},
	"CaseService/ListCaseSessions":     {state: casework.StateAgreed},
	"CaseService/ListCaseFollowUps":    {state: casework.StateAgreed},
	"CaseService/GetAgreementDocument": {state: casework.StateAgreed},
	"CaseService/SuggestAssignment":    {state: casework.StateAssigned},
	"CaseService/AssignCase":           {state: casework.StateAssigned},

	"CaseService/AcceptCase":      {state: casework.StateIntake},
	"CaseService/RejectCase":      {state: casework.StateIntake},
	"CaseService/StartMediation":  {state: casework.StateAssigned},
	"CaseService/RecordAgreement": {state: casework.StateMediating},
	"CaseService/RecordFailure":   {state: casework.StateMediating},
	"CaseService/WithdrawCase":    {state: casework.StateAssigned},
	"CaseService/CloseCase":       {state: casework.StateAgreed},
	"CaseService/UpdateCase":      {state: casework.StateAssigned},
	"CaseService/RecuseCase":      {state: casework.StateAssigned},
	"CaseService/ExtendDeadline":  {state: casework.StateAssigned},
	"CaseService/ScheduleSession": {state: casework.StateMediating},
	"CaseService/RecordSession":   {state: casework.StateMediating, session: true},
	"CaseService/CancelSession":   {state: casework.StateMediating, session: true},

	"CaseService/RecordPerformance":           {state: casework.StateAgreed},
	"CaseService/RecordFollowUp":              {state: casework.StateAgreed},
	"CaseService/RequestJudicialConfirmation": {state: casework.StateAgreed},
	"CaseService/RecordConfirmationDecision":  {state: casework.StateAgreed, confirmation: true},
}

// targets lists what the matrix aims a method at.
func targets(method string) []target {
	out := []target{inScope, outOfScope}
	if need, ok := caseNeeds[method]; ok && need.state != casework.StateIntake {
		out = append(out, movedAway)
	}
	switch method {
	case "CaseService/CreateCase", "CaseService/RequestJudicialConfirmation", "CaseService/RecordConfirmationDecision":
		out = append(out, otherCourt)
	}
	return out
}

// The directory's telephone numbers: the matrix checks who reads them.
const partyPhone = "13909341234"

var mediatorPhone = map[string]string{
	"xf-1": "13909340001", "xf-2": "13909340002", // 西峰区调解室, the lead's
	"zy-1": "13909340003", "zy-2": "13909340004", // 镇原县调解室
	"xp-1": "13909340005", // 西峰区派出所调解室
}

// world is what the matrix test acts in: the directory, a token per role,
// and the cases each method is aimed at.
type world struct {
	e      *env
	tokens map[string]string
	n      int
	rules  int
	cases  map[string]*mediationv1.Case // built for calls that must not change them
	// hooks are a webhook endpoint of the court desk's court (inScope) and
	// of another court (outOfScope), with one delivery each.
	hooks, deliveries map[target]string
}

func newWorld(t *testing.T) *world {
	t.Helper()
	e := startWith(t, pgtest.NewDatabase(t), func(cfg *server.Config) {
		// Endpoints can be registered (to loopback); nothing is sent.
		cfg.Webhooks = server.WebhookOptions{Keys: testKeyring(t), AllowedNetworks: loopback}
	})
	ctx := context.Background()
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for _, o := range []casework.Organization{
		{ID: "xifeng-room", DisplayName: "西峰区调解室", Type: casework.OrgTownshipCommittee, RegionCode: "621002", Active: true},
		{ID: "zhenyuan-room", DisplayName: "镇原县调解室", Type: casework.OrgTownshipCommittee, RegionCode: "621027", Active: true},
		{ID: "xifeng-police", DisplayName: "西峰区派出所调解室", Type: casework.OrgStationedRoom, RegionCode: "621002", Active: true},
	} {
		if _, err := e.store.CreateOrganization(ctx, o, now); err != nil {
			t.Fatal(err)
		}
	}
	for _, m := range []casework.Mediator{
		{ID: "xf-1", DisplayName: "西峰一", OrganizationID: "xifeng-room"},
		{ID: "xf-2", DisplayName: "西峰二", OrganizationID: "xifeng-room"},
		{ID: "zy-1", DisplayName: "镇原一", OrganizationID: "zhenyuan-room"},
		{ID: "zy-2", DisplayName: "镇原二", OrganizationID: "zhenyuan-room"},
		{ID: "xp-1", DisplayName: "派出所一", OrganizationID: "xifeng-police"},
	} {
		m.Active, m.Phone = true, mediatorPhone[m.ID]
		if _, err := e.store.CreateMediator(ctx, m, now); err != nil {
			t.Fatal(err)
		}
	}
	w := &world{e: e, tokens: map[string]string{admin: e.token}, cases: map[string]*mediationv1.Case{}}
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
	w.hooks, w.deliveries = map[target]string{}, map[target]string{}
	for tg, code := range map[target]string{inScope: "甘1002", outOfScope: "甘1027"} {
		w.hooks[tg] = w.spareHook(t, code, false)
		if _, err := e.cases.CreateCase(ctx, &mediationv1.CreateCaseRequest{Case: w.registration("621002", code)}); err != nil {
			t.Fatal(err)
		}
	}
	if _, _, err := e.store.DispatchOutbox(ctx, 100, time.Now()); err != nil {
		t.Fatal(err)
	}
	hooks := mediationv1.NewWebhookServiceClient(e.conn)
	for tg, hook := range w.hooks {
		resp, err := hooks.ListWebhookDeliveries(ctx, &mediationv1.ListWebhookDeliveriesRequest{Parent: hook})
		if err != nil || len(resp.GetWebhookDeliveries()) == 0 {
			t.Fatalf("no delivery for %s: %v", hook, err)
		}
		w.deliveries[tg] = resp.GetWebhookDeliveries()[0].GetName()
	}
	return w
}

// spareHook registers a webhook endpoint of court as the administrator,
// disabled if asked, and returns its name.
func (w *world) spareHook(t *testing.T, court string, disabled bool) string {
	t.Helper()
	ctx := as(context.Background(), w.e.token)
	hooks := mediationv1.NewWebhookServiceClient(w.e.conn)
	resp, err := hooks.CreateWebhookEndpoint(ctx, &mediationv1.CreateWebhookEndpointRequest{WebhookEndpoint: &mediationv1.WebhookEndpoint{
		CourtCode: court, Url: "http://127.0.0.1:9/hook", Description: w.spare()}})
	if err != nil {
		t.Fatal(err)
	}
	name := resp.GetWebhookEndpoint().GetName()
	if disabled {
		if _, err := hooks.DisableWebhookEndpoint(ctx, &mediationv1.DisableWebhookEndpointRequest{Name: name, Reason: "暂停"}); err != nil {
			t.Fatal(err)
		}
	}
	return name
}

// registration is a dispute to register: a walk-in, or a referral of
// court (numbered by it) when court is not empty.
func (w *world) registration(region, court string) *mediationv1.Case {
	w.n++
	c := newCase("权限测试")
	c.RegionCode = region
	c.Parties[0].Phone = partyPhone
	if court != "" {
		c.Source = mediationv1.CaseSource_CASE_SOURCE_COURT_DELEGATED
		c.CourtReferral = &mediationv1.CourtReferral{CourtCode: court, CourtCaseNumber: fmt.Sprintf("（2026）%s民诉前调%d号", court, w.n)}
	}
	return c
}

// build makes a case aimed at by tg, in state, through the API:
//   - in scope, at intake: a walk-in the lead registered for the lead's
//     organization;
//   - in scope (and otherCourt), later: a referral of the court desk's
//     court, assigned to the lead's organization and to the mediator;
//   - out of scope: the same in another county, from another court;
//   - moved away: a walk-in the lead registered and assigned in the
//     organization, which the supervisor then moved to another.
func (w *world) build(t *testing.T, tg target, need caseNeed) *mediationv1.Case {
	t.Helper()
	bg := context.Background()
	cs := w.e.cases
	step := func(what string, err error) {
		t.Helper()
		if err != nil {
			t.Fatalf("building a %s case in %s: %s: %v", tg, need.state, what, err)
		}
	}
	var reg *mediationv1.Case
	registrant := w.tokens[admin]
	org, med := "xifeng-room", "xf-1"
	switch {
	case tg == outOfScope && need.state == casework.StateIntake:
		reg = w.registration("621027", "")
	case tg == outOfScope:
		reg, org, med = w.registration("621027", "甘1027"), "zhenyuan-room", "zy-1"
	case tg == movedAway, need.state == casework.StateIntake:
		reg, registrant = w.registration("621002", ""), w.tokens[lead]
	default:
		reg, registrant = w.registration("621002", "甘1002"), w.tokens[court]
	}
	created, err := cs.CreateCase(as(bg, registrant), &mediationv1.CreateCaseRequest{Case: reg})
	step("register", err)
	c := created.GetCase()
	name := c.GetName()
	if need.state == casework.StateIntake {
		return c
	}
	_, err = cs.AcceptCase(bg, &mediationv1.AcceptCaseRequest{Name: name})
	step("accept", err)
	got, err := cs.AssignCase(bg, &mediationv1.AssignCaseRequest{Name: name, Organization: "organizations/" + org, Mediator: "mediators/" + med})
	step("assign", err)
	c = got.GetCase()
	if tg == movedAway {
		got, err := cs.AssignCase(as(bg, w.tokens[supervisor]), &mediationv1.AssignCaseRequest{Name: name,
			Organization: "organizations/xifeng-police", Mediator: "mediators/xp-1", Reason: "移送派出所调解室"})
		step("move away", err)
		c = got.GetCase()
	}
	if need.state == casework.StateMediating || need.state == casework.StateAgreed {
		got, err := cs.StartMediation(bg, &mediationv1.StartMediationRequest{Name: name})
		step("start mediation", err)
		c = got.GetCase()
	}
	if need.session {
		_, err := cs.ScheduleSession(bg, &mediationv1.ScheduleSessionRequest{Name: name, StartTime: timestamppb.New(time.Now().Add(time.Hour)), Place: "调解室"})
		step("schedule", err)
	}
	if need.state == casework.StateAgreed {
		got, err := cs.RecordAgreement(bg, &mediationv1.RecordAgreementRequest{Name: name, Agreement: &mediationv1.Agreement{Terms: "赔偿500元", Facts: "事实"}})
		step("agree", err)
		c = got.GetCase()
	}
	if need.confirmation {
		code := "甘1002"
		if tg == outOfScope || tg == otherCourt {
			code = "甘1027"
		}
		got, err := cs.RequestJudicialConfirmation(bg, &mediationv1.RequestJudicialConfirmationRequest{Name: name, CourtCode: code})
		step("request confirmation", err)
		c = got.GetCase()
	}
	return c
}

// caseFor returns the case method is aimed at on tg: a new one when the
// call may change it (fresh), else one built once for every such call.
func (w *world) caseFor(t *testing.T, method string, tg target, fresh bool) *mediationv1.Case {
	t.Helper()
	need, ok := caseNeeds[method]
	if !ok {
		return nil
	}
	key := method + "/" + string(tg)
	if c, ok := w.cases[key]; ok && !fresh {
		return c
	}
	c := w.build(t, tg, need)
	if !fresh {
		w.cases[key] = c
	}
	return c
}

// request builds a valid request of method by role aimed at tg (at case
// c for the case methods), one that works for a caller who may make it.
func (w *world) request(t *testing.T, method, role string, tg target, c *mediationv1.Case) proto.Message {
	t.Helper()
	name := c.GetName()
	w.n++
	uniq := fmt.Sprintf("m%d", w.n)
	region, courtCode := "621002", "甘1002"
	if tg == outOfScope || tg == otherCourt {
		region, courtCode = "621027", "甘1027"
	}
	switch method {
	case "AuthService/CreateSession":
		return &mediationv1.CreateSessionRequest{Username: "aud", Password: testPassword}
	case "AuthService/DeleteSession":
		return &mediationv1.DeleteSessionRequest{}
	case "AuthService/GetCaller":
		return &mediationv1.GetCallerRequest{}
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
		switch {
		case tg == otherCourt && role == court:
			return &mediationv1.CreateCaseRequest{Case: w.registration("621002", "甘1027")}
		case tg == otherCourt:
			return &mediationv1.CreateCaseRequest{Case: w.registration("621002", "甘1002")}
		case role == court:
			return &mediationv1.CreateCaseRequest{Case: w.registration(region, courtCode)}
		}
		return &mediationv1.CreateCaseRequest{Case: w.registration(region, "")}
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
		org, med := "xifeng-room", "xf-2" // in the county; for the case moved away, back to the lead's organization
		if tg == outOfScope {
			org, med = "zhenyuan-room", "zy-2"
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
		return &mediationv1.RequestJudicialConfirmationRequest{Name: name, CourtCode: courtCode}
	case "CaseService/RecordConfirmationDecision":
		return &mediationv1.RecordConfirmationDecisionRequest{Name: name, Decision: mediationv1.ConfirmationDecision_CONFIRMATION_DECISION_CONFIRMED,
			DocumentNumber: fmt.Sprintf("（2026）%s民特%d号", courtCode, w.n)}
	case "DirectoryService/ListRegions":
		return &mediationv1.ListRegionsRequest{}
	case "DirectoryService/GetRegion":
		return &mediationv1.GetRegionRequest{Name: "regions/" + region}
	case "DirectoryService/UpdateRegion":
		return &mediationv1.UpdateRegionRequest{Region: &mediationv1.Region{Name: "regions/" + region, AutoAssign: false}, UpdateMask: &fieldmaskpb.FieldMask{Paths: []string{"auto_assign"}}}
	case "DirectoryService/CreateOrganization":
		return &mediationv1.CreateOrganizationRequest{OrganizationId: uniq, Organization: &mediationv1.Organization{DisplayName: "新调解室", Type: mediationv1.OrganizationType_ORGANIZATION_TYPE_TOWNSHIP_COMMITTEE, RegionCode: region}}
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
		id := "xf-1"
		if tg == outOfScope {
			id = "zy-1"
		}
		return &mediationv1.GetMediatorRequest{Name: "mediators/" + id}
	case "DirectoryService/ListMediators":
		return &mediationv1.ListMediatorsRequest{}
	case "DirectoryService/UpdateMediator":
		return &mediationv1.UpdateMediatorRequest{Mediator: &mediationv1.Mediator{Name: "mediators/xf-2", Phone: mediatorPhone["xf-2"]}, UpdateMask: &fieldmaskpb.FieldMask{Paths: []string{"phone"}}}
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
	hook, hookCourt := w.hooks[inScope], "甘1002"
	if tg != inScope {
		hook, hookCourt = w.hooks[outOfScope], "甘1027"
	}
	switch method {
	case "CaseFeedService/ListCaseChanges":
		return &mediationv1.ListCaseChangesRequest{}
	case "WebhookService/CreateWebhookEndpoint":
		return &mediationv1.CreateWebhookEndpointRequest{WebhookEndpoint: &mediationv1.WebhookEndpoint{CourtCode: hookCourt, Url: "http://127.0.0.1:9/" + uniq}}
	case "WebhookService/GetWebhookEndpoint":
		return &mediationv1.GetWebhookEndpointRequest{Name: hook}
	case "WebhookService/ListWebhookEndpoints":
		return &mediationv1.ListWebhookEndpointsRequest{}
	case "WebhookService/UpdateWebhookEndpoint":
		return &mediationv1.UpdateWebhookEndpointRequest{WebhookEndpoint: &mediationv1.WebhookEndpoint{Name: hook, Description: "对接系统 " + uniq},
			UpdateMask: &fieldmaskpb.FieldMask{Paths: []string{"description"}}}
	case "WebhookService/DeleteWebhookEndpoint":
		return &mediationv1.DeleteWebhookEndpointRequest{Name: w.spareHook(t, hookCourt, false)}
	case "WebhookService/DisableWebhookEndpoint":
		return &mediationv1.DisableWebhookEndpointRequest{Name: w.spareHook(t, hookCourt, false), Reason: "系统维护"}
	case "WebhookService/EnableWebhookEndpoint":
		return &mediationv1.EnableWebhookEndpointRequest{Name: w.spareHook(t, hookCourt, true)}
	case "WebhookService/RotateWebhookSecret":
		return &mediationv1.RotateWebhookSecretRequest{Name: hook}
	case "WebhookService/ListWebhookDeliveries":
		return &mediationv1.ListWebhookDeliveriesRequest{Parent: hook}
	case "WebhookService/RedeliverWebhookDelivery":
		return &mediationv1.RedeliverWebhookDeliveryRequest{Name: w.deliveries[tg]}
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

// call invokes method with req under token and returns the response and
// the error.
func (w *world) call(t *testing.T, method string, req proto.Message, token string) (proto.Message, error) {
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
	resp := out.New().Interface()
	err = w.e.conn.Invoke(as(context.Background(), token), full, req, resp)
	return resp, err
}

// apiMethods lists every method of the mediation.v1 services, as
// Service/Method.
func apiMethods() []string {
	var out []string
	for _, md := range everyAPIMethodDescriptor() {
		out = append(out, strings.TrimPrefix(grpcMethodName(md), "/mediation.v1."))
	}
	return out
}

// messagesIn calls f with every message of type T in m, at any depth.
func messagesIn[T proto.Message](m proto.Message, f func(T)) {
	var walk func(protoreflect.Message)
	walk = func(pm protoreflect.Message) {
		if v, ok := pm.Interface().(T); ok {
			f(v)
		}
		pm.Range(func(fd protoreflect.FieldDescriptor, v protoreflect.Value) bool {
			switch {
			case fd.Message() == nil || fd.IsMap():
			case fd.IsList():
				for i := range v.List().Len() {
					walk(v.List().Get(i).Message())
				}
			default:
				walk(v.Message())
			}
			return true
		})
	}
	walk(m.ProtoReflect())
}

// seesMediatorPhone says, apart from the policy code, who reads a
// mediator's number unmasked: the administrator, the lead of the
// mediator's organization (xifeng-room) and the mediator (xf-1).
func seesMediatorPhone(role, id string) bool {
	return role == admin || role == lead && strings.HasPrefix(id, "xf-") || role == mediator && id == "xf-1"
}

// checkPersonalData checks the numbers an answer shows role on tg: every
// mediator's as seesMediatorPhone says, and no party's number of the case
// aimed at when it is out of the caller's scope or moved away from the
// lead's organization.
func checkPersonalData(t *testing.T, role string, tg target, aimed *mediationv1.Case, resp proto.Message) {
	t.Helper()
	messagesIn(resp, func(m *mediationv1.Mediator) {
		id := strings.TrimPrefix(m.GetName(), "mediators/")
		phone, ok := mediatorPhone[id]
		if !ok {
			return
		}
		want := casework.MaskPhone(phone)
		if seesMediatorPhone(role, id) {
			want = phone
		}
		if m.GetPhone() != want {
			t.Errorf("%s reads the phone of %s as %q, want %q", role, m.GetName(), m.GetPhone(), want)
		}
	})
	if aimed == nil || tg != outOfScope && tg != movedAway {
		return
	}
	messagesIn(resp, func(c *mediationv1.Case) {
		if c.GetName() != aimed.GetName() {
			return
		}
		for _, p := range c.GetParties() {
			if p.GetPhone() == partyPhone {
				t.Errorf("%s reads a party's phone unmasked in %s, a case %s", role, c.GetName(), map[target]string{outOfScope: "out of scope", movedAway: "moved away"}[tg])
			}
		}
	})
}

// TestEveryMethodEveryRoleEveryScope calls every method of the API as
// every role, on targets in the role's scope and outside it, on a case
// moved away from the lead's organization and in another court's name
// where these apply, and checks the code against the matrix above: an
// allowed call must succeed (OK), a refused one be PERMISSION_DENIED, a
// hidden target NOT_FOUND. The answers of allowed calls must mask the
// numbers the role may not read.
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
			for _, tg := range targets(m) {
				want := matrix[m][role].on(tg)
				t.Run(fmt.Sprintf("%s/%s/%s", m, role, tg), func(t *testing.T) {
					c := w.caseFor(t, m, tg, want == codes.OK)
					req := w.request(t, m, role, tg, c)
					token := w.tokens[role]
					if m == "AuthService/DeleteSession" && role != court {
						token = w.freshToken(t, role) // signing out must not end the matrix's own session
					}
					resp, err := w.call(t, m, req, token)
					if got := status.Code(err); got != want {
						t.Errorf("%s as %s (%s): %v, want %v", m, role, tg, err, want)
						return
					}
					if err == nil {
						checkPersonalData(t, role, tg, c, resp)
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
	c := w.build(t, inScope, caseNeed{state: casework.StateAssigned})
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

// exportMatrix is the expected answer of every spreadsheet route of the
// policy (with the query it needs) to each role: the file (200) or PERMISSION_DENIED (403). What
// each file holds is the scope of the method it reads through
// (GetCaseStatistics, ListCases), which the matrix above checks.
var exportMatrix = map[string]map[string]int{
	"GET /v1/caseStatistics.xlsx":                      {admin: 200, supervisor: 200, lead: 200, mediator: 200, court: 200, auditor: 403},
	"GET /v1/cases.xlsx":                               {admin: 200, supervisor: 200, lead: 200, mediator: 200, court: 200, auditor: 403},
	"GET /v1/caseStatistics/official.xlsx?period=2026": {admin: 200, supervisor: 200, lead: 200, mediator: 200, court: 200, auditor: 403},
}

// TestEveryExportEveryRole downloads every spreadsheet the policy names as
// every role, and checks that the policy's routes are the matrix's.
func TestEveryExportEveryRole(t *testing.T) {
	w := newWorld(t)
	var routes []string
	for _, m := range auth.AllMethods() {
		if strings.HasPrefix(m, "GET /") {
			routes = append(routes, m)
		}
	}
	if len(routes) != len(exportMatrix) {
		t.Errorf("the policy names the routes %v, the matrix %d", routes, len(exportMatrix))
	}
	for _, route := range routes {
		var want map[string]int
		var path string
		for k, v := range exportMatrix {
			if strings.SplitN(k, "?", 2)[0] == route {
				want, path = v, strings.TrimPrefix(k, "GET ")
			}
		}
		if want == nil {
			t.Errorf("%s has no row in exportMatrix: decide who may download it", route)
			continue
		}
		for _, role := range matrixRoles {
			resp, body := httpGet(t, w.e, path, map[string]string{"Authorization": "Bearer " + w.tokens[role]})
			if resp.StatusCode != want[role] {
				t.Errorf("%s as %s: %d %.200q, want %d", route, role, resp.StatusCode, body, want[role])
			}
		}
	}
}
