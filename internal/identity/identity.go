// Package identity describes who a caller is: the roles, the principal of
// a request, and the part of all cases a principal sees. It is data only:
// the policy that decides with it is package auth's, the store persists it
// and turns a scope into a condition of its queries, and neither needs the
// other.
package identity

import (
	"strings"

	"github.com/mediationd/mediationd/internal/casework"
)

// Role is what a principal may do.
type Role string

// The roles.
const (
	RoleAdmin            Role = "ADMIN"
	RoleSupervisor       Role = "SUPERVISOR"
	RoleOrganizationLead Role = "ORGANIZATION_LEAD"
	RoleMediator         Role = "MEDIATOR"
	RoleCourtDesk        Role = "COURT_DESK"
	RoleAuditor          Role = "AUDITOR"
)

// Roles lists every role.
var Roles = []Role{RoleAdmin, RoleSupervisor, RoleOrganizationLead, RoleMediator, RoleCourtDesk, RoleAuditor}

// Principal is the caller of a request: a signed-in user or an API key.
type Principal struct {
	// Name identifies the caller in history and the audit trail:
	// users/{username} or apiKeys/{id}.
	Name string
	Role Role
	// The scope. RegionCode: a supervisor's region (and everything below
	// it). OrganizationID: a lead's, a mediator's or a court desk's
	// organization. MediatorID: a mediator's directory entry. CourtCode: a
	// court desk's court.
	RegionCode     string
	OrganizationID string
	MediatorID     string
	CourtCode      string
}

// Anonymous is the principal of a request that did not authenticate.
var Anonymous = Principal{Name: "anonymous"}

// System is the principal of what the service does by itself.
var System = Principal{Name: "system", Role: RoleAdmin}

// Authenticated reports whether the principal proved who it is.
func (p Principal) Authenticated() bool { return p.Role != "" }

// OrganizationName is the principal's organization as a resource name, ""
// if none.
func (p Principal) OrganizationName() string {
	if p.OrganizationID == "" {
		return ""
	}
	return "organizations/" + p.OrganizationID
}

// MediatorName is the principal's mediator entry as a resource name, "" if
// none.
func (p Principal) MediatorName() string {
	if p.MediatorID == "" {
		return ""
	}
	return "mediators/" + p.MediatorID
}

// CaseScope is the part of all cases a principal can see. The store turns
// it into a condition of its queries, so that nothing out of scope is ever
// read. The zero value sees nothing.
type CaseScope struct {
	All bool
	// RegionPrefix: cases whose region code starts with it (a supervisor's
	// region and the regions below it).
	RegionPrefix string
	// Organization: cases assigned to it or registered by it.
	Organization string
	// Mediator: cases assigned to this mediator; with IntakeOrganization,
	// also that organization's cases not yet assigned.
	Mediator           string
	IntakeOrganization string
	// CourtCode: cases referred by this court.
	CourtCode string
}

// Everything is the scope of the service's own work: every case.
var Everything = CaseScope{All: true}

// RegionPrefix strips the trailing zero pairs of a GB/T 2260 code: a
// province (62) or city (6210) covers every code that starts with it.
func RegionPrefix(code string) string {
	switch {
	case len(code) != 6:
		return code
	case strings.HasSuffix(code, "0000"):
		return code[:2]
	case strings.HasSuffix(code, "00"):
		return code[:4]
	}
	return code
}

// Sees reports whether the scope covers a case, as the store's condition
// does; it is used where a case is at hand.
func (s CaseScope) Sees(c casework.Case) bool {
	switch {
	case s.All:
		return true
	case s.RegionPrefix != "":
		return strings.HasPrefix(c.RegionCode, s.RegionPrefix)
	case s.Organization != "":
		return c.Organization == s.Organization || c.IntakeOrganization == s.Organization
	case s.Mediator != "":
		return c.Mediator == s.Mediator || (s.IntakeOrganization != "" && c.Organization == "" && c.IntakeOrganization == s.IntakeOrganization)
	case s.CourtCode != "":
		return c.CourtReferral != nil && c.CourtReferral.CourtCode == s.CourtCode
	}
	return false
}
