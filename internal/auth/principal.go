// Package auth says who is calling and what they may do. It holds the
// principal of each request and the one policy table of the service: which
// roles may call which method, and what each role may see and do with a
// case. It does no I/O; authenticating a token is package authn's work.
package auth

import (
	"context"
	"errors"
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

// ErrUnauthenticated reports a missing, unknown, expired or revoked
// credential.
var ErrUnauthenticated = errors.New("unauthenticated")

type principalKey struct{}

// WithPrincipal returns a context carrying p.
func WithPrincipal(ctx context.Context, p Principal) context.Context {
	return context.WithValue(ctx, principalKey{}, p)
}

// FromContext returns the principal of the request, Anonymous if none.
func FromContext(ctx context.Context) Principal {
	if p, ok := ctx.Value(principalKey{}).(Principal); ok {
		return p
	}
	return Anonymous
}
