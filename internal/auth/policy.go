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

// Public reports whether a method needs no credential.
func Public(fullMethod string) bool { return slices.Contains(publicMethods, fullMethod) }

// MayCall checks that the principal's role may call the method at all.
func MayCall(p Principal, fullMethod string) error {
	if Public(fullMethod) {
		return nil
	}
	if strings.HasPrefix(fullMethod, "/grpc.reflection.") && p.Authenticated() {
		return nil
	}
	if !slices.Contains(methodRoles[fullMethod], p.Role) {
		return denied("%s may not call %s", roleWords(p.Role), fullMethod)
	}
	return nil
}

// Methods lists the methods a role may call, sorted.
func Methods(r Role) []string {
	var out []string
	for m, roles := range methodRoles {
		if slices.Contains(roles, r) {
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
		if cmd.Action == casework.ActionAssign && cmd.Organization != p.OrganizationName() {
			return denied("an organization lead assigns inside %s; moving %s to %s is for a supervisor", p.OrganizationName(), c.Number, cmd.Organization)
		}
		return nil
	case RoleMediator:
		switch {
		case cmd.Action == casework.ActionAssign:
			return denied("a mediator does not assign cases; recuse (:recuse) to give %s back", c.Number)
		case c.Mediator == p.MediatorName():
			return nil
		case slices.Contains(intakeActions, cmd.Action):
			return nil // an unassigned intake of the mediator's organization
		}
		return denied("%s is not assigned to you; until it is, you may only %s it", c.Number, joinActions(intakeActions))
	case RoleCourtDesk:
		if slices.Contains(courtActions, cmd.Action) {
			return nil
		}
		return denied("a court desk reads the cases it referred and requests judicial confirmation; %s is for the mediation organization", cmd.Action)
	}
	return denied("%s may not change cases", roleWords(p.Role))
}

// MayCreate checks that a principal may register case n. A court desk
// registers only referrals from its own court.
func MayCreate(p Principal, n casework.NewCase) error {
	if p.Role != RoleCourtDesk {
		return nil
	}
	if !n.Source.IsCourtReferral() {
		return denied("a court desk registers court referrals (source COURT_DELEGATED or COURT_ENTRUSTED), not %s", n.Source)
	}
	if n.CourtReferral != nil && n.CourtReferral.CourtCode != p.CourtCode {
		return denied("this key refers cases of the court %s, not of %s", p.CourtCode, n.CourtReferral.CourtCode)
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
// handling the case (or registering it, before assignment); addresses for
// them too, except that in a family-violence case only the assigned
// mediator sees addresses.
func Unmasked(p Principal, c casework.Case) PersonalData {
	assigned := p.Role == RoleMediator && c.Mediator != "" && c.Mediator == p.MediatorName()
	org := c.Organization
	if org == "" {
		org = c.IntakeOrganization
	}
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
