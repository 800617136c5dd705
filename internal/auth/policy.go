package auth

import (
	"fmt"
	"slices"
	"strings"

	"github.com/mediationd/mediationd/internal/casework"
)

// PermissionError reports a request the caller may not make: the method
// is not for their role, or the action is not theirs on a case they can
// see. The API answers it with PERMISSION_DENIED.
type PermissionError struct {
	Message string
}

func (e *PermissionError) Error() string { return e.Message }

func denied(format string, args ...any) error {
	return &PermissionError{Message: fmt.Sprintf(format, args...)}
}

const (
	caseService      = "/mediation.v1.CaseService/"
	directoryService = "/mediation.v1.DirectoryService/"
	authService      = "/mediation.v1.AuthService/"
	userService      = "/mediation.v1.UserService/"
	auditService     = "/mediation.v1.AuditService/"
	webhookService   = "/mediation.v1.WebhookService/"
	caseFeedService  = "/mediation.v1.CaseFeedService/"
)

var (
	anyone      = []Role{RoleAdmin, RoleSupervisor, RoleOrganizationLead, RoleMediator, RoleCourtDesk, RoleAuditor}
	caseReaders = []Role{RoleAdmin, RoleSupervisor, RoleOrganizationLead, RoleMediator, RoleCourtDesk}
	caseWorkers = []Role{RoleAdmin, RoleOrganizationLead, RoleMediator}
	assigners   = []Role{RoleAdmin, RoleSupervisor, RoleOrganizationLead}
	admins      = []Role{RoleAdmin}
)

// publicMethods need no credential.
var publicMethods = []string{
	authService + "CreateSession",
	"/grpc.health.v1.Health/Check",
	"/grpc.health.v1.Health/Watch",
	"/grpc.health.v1.Health/List",
}

// methodRoles says which roles may call each method. A method missing
// from the table is refused to everyone, so a new method must be added
// here before anyone can call it.
var methodRoles = map[string][]Role{
	authService + "DeleteSession": anyone,
	authService + "GetCaller":     anyone,

	userService + "CreateUser":     admins,
	userService + "GetUser":        admins,
	userService + "ListUsers":      admins,
	userService + "UpdateUser":     admins,
	userService + "DeactivateUser": admins,
	userService + "ActivateUser":   admins,
	userService + "SetPassword":    admins,
	userService + "CreateApiKey":   admins,
	userService + "ListApiKeys":    admins,
	userService + "RevokeApiKey":   admins,

	auditService + "ListAuditEvents": {RoleAdmin, RoleAuditor},

	caseService + "GetWorkflow":          anyone,
	caseService + "CreateCase":           {RoleAdmin, RoleOrganizationLead, RoleMediator, RoleCourtDesk},
	caseService + "GetCase":              caseReaders,
	caseService + "ListCases":            caseReaders,
	caseService + "ListCaseEvents":       caseReaders,
	caseService + "ListCaseSessions":     caseReaders,
	caseService + "ListCaseFollowUps":    caseReaders,
	caseService + "GetAgreementDocument": caseReaders,
	caseService + "GetCaseStatistics":    caseReaders,
	caseService + "SuggestAssignment":    assigners,
	caseService + "AssignCase":           assigners,

	caseService + "AcceptCase":      caseWorkers,
	caseService + "RejectCase":      caseWorkers,
	caseService + "StartMediation":  caseWorkers,
	caseService + "RecordAgreement": caseWorkers,
	caseService + "RecordFailure":   caseWorkers,
	caseService + "WithdrawCase":    caseWorkers,
	caseService + "CloseCase":       caseWorkers,
	caseService + "UpdateCase":      caseWorkers,
	caseService + "RecuseCase":      caseWorkers,
	caseService + "ExtendDeadline":  caseWorkers,
	caseService + "ScheduleSession": caseWorkers,
	caseService + "RecordSession":   caseWorkers,
	caseService + "CancelSession":   caseWorkers,

	caseService + "RecordPerformance":           caseWorkers,
	caseService + "RecordFollowUp":              caseWorkers,
	caseService + "RequestJudicialConfirmation": {RoleAdmin, RoleOrganizationLead, RoleMediator, RoleCourtDesk},
	caseService + "RecordConfirmationDecision":  {RoleAdmin, RoleOrganizationLead, RoleMediator, RoleCourtDesk},

	// The change feed: every case event in the caller's scope.
	caseFeedService + "ListCaseChanges": caseReaders,

	// A court's webhooks: administrators for any court, a court desk for
	// its own (the handlers scope the endpoints to the desk's court).
	webhookService + "CreateWebhookEndpoint":    {RoleAdmin, RoleCourtDesk},
	webhookService + "GetWebhookEndpoint":       {RoleAdmin, RoleCourtDesk},
	webhookService + "ListWebhookEndpoints":     {RoleAdmin, RoleCourtDesk},
	webhookService + "UpdateWebhookEndpoint":    {RoleAdmin, RoleCourtDesk},
	webhookService + "DeleteWebhookEndpoint":    {RoleAdmin, RoleCourtDesk},
	webhookService + "DisableWebhookEndpoint":   {RoleAdmin, RoleCourtDesk},
	webhookService + "EnableWebhookEndpoint":    {RoleAdmin, RoleCourtDesk},
	webhookService + "RotateWebhookSecret":      {RoleAdmin, RoleCourtDesk},
	webhookService + "ListWebhookDeliveries":    {RoleAdmin, RoleCourtDesk},
	webhookService + "RedeliverWebhookDelivery": {RoleAdmin, RoleCourtDesk},

	// The spreadsheets served beside the REST API, named by their route.
	// Each reads through the methods above (GetCaseStatistics, ListCases)
	// and so sees and masks what they do; a row here decides who may
	// download at all.
	"GET /v1/caseStatistics.xlsx":          caseReaders,
	"GET /v1/cases.xlsx":                   caseReaders,
	"GET /v1/caseStatistics/official.xlsx": caseReaders,

	directoryService + "ListRegions":            anyone,
	directoryService + "GetRegion":              anyone,
	directoryService + "UpdateRegion":           {RoleAdmin, RoleSupervisor},
	directoryService + "CreateOrganization":     admins,
	directoryService + "GetOrganization":        anyone,
	directoryService + "ListOrganizations":      anyone,
	directoryService + "UpdateOrganization":     admins,
	directoryService + "DeactivateOrganization": admins,
	directoryService + "ActivateOrganization":   admins,
	directoryService + "CreateMediator":         admins,
	directoryService + "GetMediator":            anyone,
	directoryService + "ListMediators":          anyone,
	directoryService + "UpdateMediator":         admins,
	directoryService + "DeactivateMediator":     admins,
	directoryService + "ActivateMediator":       admins,
	directoryService + "ListDeadlineRules":      anyone,
	directoryService + "CreateDeadlineRule":     admins,
	directoryService + "UpdateDeadlineRule":     admins,
	directoryService + "DeleteDeadlineRule":     admins,
}

// Public reports whether a method needs no credential: signing in, the
// health checks, and server reflection, which describes the public API
// (as /openapi.json does) so that grpcurl can sign in and check health.
func Public(fullMethod string) bool {
	return slices.Contains(publicMethods, fullMethod) || strings.HasPrefix(fullMethod, "/grpc.reflection.")
}

// MayCall checks that the principal's role may call the method at all.
func MayCall(p Principal, fullMethod string) error {
	if Public(fullMethod) {
		return nil
	}
	if !slices.Contains(methodRoles[fullMethod], p.Role) {
		return denied("%s may not call %s", roleWords(p.Role), fullMethod)
	}
	return nil
}

// Methods lists the gRPC methods a role may call, sorted (the HTTP
// routes of the policy, its spreadsheets, are not methods).
func Methods(r Role) []string {
	var out []string
	for m, roles := range methodRoles {
		if slices.Contains(roles, r) && strings.HasPrefix(m, "/") {
			out = append(out, m)
		}
	}
	out = append(out, publicMethods...)
	slices.Sort(out)
	return out
}

// AllMethods lists every method the policy knows, public ones included,
// sorted; a test checks it against the services the server registers.
func AllMethods() []string {
	out := slices.Clone(publicMethods)
	for m := range methodRoles {
		out = append(out, m)
	}
	slices.Sort(out)
	return out
}

func roleWords(r Role) string {
	if r == "" {
		return "an unauthenticated caller"
	}
	return "the role " + string(r)
}

// ScopeOf returns the cases a principal can see.
func ScopeOf(p Principal) CaseScope {
	switch p.Role {
	case RoleAdmin:
		return CaseScope{All: true}
	case RoleSupervisor:
		return CaseScope{RegionPrefix: RegionPrefix(p.RegionCode)}
	case RoleOrganizationLead:
		return CaseScope{Organization: p.OrganizationName()}
	case RoleMediator:
		return CaseScope{Mediator: p.MediatorName(), IntakeOrganization: p.OrganizationName()}
	case RoleCourtDesk:
		return CaseScope{CourtCode: p.CourtCode}
	}
	return CaseScope{}
}

// intakeActions are what a mediator may do with an unassigned case that
// their organization registered.
var intakeActions = []casework.Action{casework.ActionAccept, casework.ActionReject, casework.ActionWithdraw, casework.ActionUpdate}

// courtActions are what a court desk may do with a case it referred.
var courtActions = []casework.Action{casework.ActionRequestConfirmation, casework.ActionRecordConfirmation}

// MayAct checks that a principal who can see case c may apply cmd to it.
// It is checked against the case as stored, in the same read as the
// decision, so that a concurrent reassignment cannot slip past it.
//
// A supervisor assigns inside their region; a lead acts only on the cases
// their organization holds (Holder) and assigns inside it; a mediator works
// the cases assigned to them and the unassigned intake of their
// organization; a court desk requests judicial confirmation and records
// the decision in its own court's name only.
func MayAct(p Principal, c casework.Case, cmd casework.Command) error {
	switch p.Role {
	case RoleAdmin:
		return nil
	case RoleSupervisor:
		if cmd.Action != casework.ActionAssign {
			return denied("a supervisor assigns and reassigns cases; %s is for the organization handling %s", cmd.Action, c.Number)
		}
		if cmd.Assignee != nil && !strings.HasPrefix(cmd.Assignee.Organization.RegionCode, RegionPrefix(p.RegionCode)) {
			return denied("%s is outside the region %s you supervise", cmd.Organization, p.RegionCode)
		}
		return nil
	case RoleOrganizationLead:
		org := p.OrganizationName()
		if holder := Holder(c); holder != org {
			if holder == "" {
				holder = "no organization yet"
			}
			return denied("%s is held by %s, not by %s: a lead acts on the cases their organization handles (or holds at intake, before assignment); a case registered by %s and moved elsewhere may still be read", c.Number, holder, org, org)
		}
		if cmd.Action == casework.ActionAssign && cmd.Organization != org {
			return denied("an organization lead assigns inside %s; moving %s to %s is for a supervisor", org, c.Number, cmd.Organization)
		}
		return nil
	case RoleMediator:
		switch {
		case cmd.Action == casework.ActionAssign:
			return denied("a mediator does not assign cases; recuse (:recuse) to give %s back", c.Number)
		case c.Mediator != "" && c.Mediator == p.MediatorName():
			return nil
		case c.Organization == "" && c.IntakeOrganization != "" && c.IntakeOrganization == p.OrganizationName() && slices.Contains(intakeActions, cmd.Action):
			return nil // an unassigned intake of the mediator's organization
		}
		return denied("%s is not assigned to you; until it is, you may only %s it while it is an unassigned intake of your organization", c.Number, joinActions(intakeActions))
	case RoleCourtDesk:
		if !slices.Contains(courtActions, cmd.Action) {
			return denied("a court desk reads the cases it referred and requests judicial confirmation; %s is for the mediation organization", cmd.Action)
		}
		return mayActForCourt(p, c, cmd)
	}
	return denied("%s may not change cases", roleWords(p.Role))
}

// Holder is the organization that holds case c: the one handling it, or,
// before it is assigned (or after its mediator recused), the one that
// registered it. It is whose lead acts on the case and reads its personal
// data; "" when nobody holds it (a court's referral not yet assigned).
func Holder(c casework.Case) string {
	if c.Organization != "" {
		return c.Organization
	}
	return c.IntakeOrganization
}

// mayActForCourt checks that a court desk's confirmation action is in its
// own court's name: the confirmation is requested of its court, the
// decision recorded is on a request made of its court, and the document
// number, when it names a court, names its court.
func mayActForCourt(p Principal, c casework.Case, cmd casework.Command) error {
	in := cmd.Confirmation
	switch cmd.Action {
	case casework.ActionRequestConfirmation:
		if in == nil || strings.TrimSpace(in.CourtCode) == "" {
			return nil // the decision says court_code is required
		}
		if code := strings.TrimSpace(in.CourtCode); code != p.CourtCode {
			return denied("this credential acts for the court %s: it requests judicial confirmation of %s, not of %s; the mediation organization applies to another court", p.CourtCode, p.CourtCode, code)
		}
	case casework.ActionRecordConfirmation:
		if c.Confirmation != nil && c.Confirmation.CourtCode != p.CourtCode {
			return denied("judicial confirmation of %s was requested of the court %s; this credential records the decisions of %s only", c.Number, c.Confirmation.CourtCode, p.CourtCode)
		}
		if in == nil {
			return nil
		}
		if court, ok := casework.NumberCourt(in.DocumentNumber); ok && court != p.CourtCode {
			return denied("the document number %s is of the court %s; this credential records the decisions of %s only", strings.TrimSpace(in.DocumentNumber), court, p.CourtCode)
		}
	}
	return nil
}

// MayCreate checks that a principal may register case n. A court
// referral is made by the referring court itself: a court desk registers
// only referrals from its own court, under its own court's numbers, and
// nothing else; an administrator may record one on a court's behalf (the
// history and the audit trail name the administrator). Leads and mediators
// register the disputes brought to their organization, never a court's
// referral.
func MayCreate(p Principal, n casework.NewCase) error {
	switch {
	case p.Role == RoleCourtDesk:
		if !n.Source.IsCourtReferral() {
			return denied("a court desk registers court referrals (source COURT_DELEGATED or COURT_ENTRUSTED), not %s", n.Source)
		}
		r := n.CourtReferral
		if r == nil {
			return nil // validation says the referral is required
		}
		if r.CourtCode != p.CourtCode {
			return denied("this credential refers cases of the court %s, not of %s", p.CourtCode, r.CourtCode)
		}
		if court, ok := casework.NumberCourt(r.CourtCaseNumber); ok && court != p.CourtCode {
			return denied("the court case number %s is of the court %s; this credential refers cases of %s only", r.CourtCaseNumber, court, p.CourtCode)
		}
	case n.Source.IsCourtReferral() && p.Role != RoleAdmin:
		return denied("a court referral (source %s) is registered by the referring court with its own credential (its court desk), or by an administrator on its behalf; %s registers the disputes brought to the organization (walk-in, online, hotline, police, petitions, grid sweeps, own initiative)", n.Source, roleWords(p.Role))
	}
	return nil
}

// PersonalData says what of a case's personal data a principal sees
// unmasked: identity and phone numbers, and addresses.
type PersonalData struct {
	Numbers   bool
	Addresses bool
}

// Unmasked reports what personal data of case c the principal may read:
// numbers for the assigned mediator and the lead of the organization
// holding the case (Holder: handling it, or registering it before
// assignment; not the registering organization once the case was moved
// elsewhere); addresses for them too, except that in a family-violence
// case only the assigned mediator sees addresses.
func Unmasked(p Principal, c casework.Case) PersonalData {
	assigned := p.Role == RoleMediator && c.Mediator != "" && c.Mediator == p.MediatorName()
	org := Holder(c)
	lead := p.Role == RoleOrganizationLead && org != "" && org == p.OrganizationName()
	return PersonalData{
		Numbers:   assigned || lead,
		Addresses: assigned || (lead && !c.FamilyViolence),
	}
}

func joinActions(as []casework.Action) string {
	s := make([]string, len(as))
	for i, a := range as {
		s[i] = string(a)
	}
	return strings.Join(s, ", ")
}

// SeesMediatorPhone reports whether the principal reads a mediator's
// telephone number unmasked: the administrator, who keeps the directory;
// the lead of the mediator's organization, who runs the room and
// assigns its cases; and the mediator themself. Everyone else (other
// mediators, supervisors, court desks, auditors) sees it masked: they
// reach a room through its public telephone number and its lead, and a
// mediator's work number is often their own mobile.
func SeesMediatorPhone(p Principal, m casework.Mediator) bool {
	switch p.Role {
	case RoleAdmin:
		return true
	case RoleOrganizationLead:
		return p.OrganizationID != "" && p.OrganizationID == m.OrganizationID
	case RoleMediator:
		return p.MediatorID != "" && p.MediatorID == m.ID
	}
	return false
}
