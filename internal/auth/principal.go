// Package auth says who is calling and what they may do. It holds the
// principal of each request and the one policy table of the service: which
// roles may call which method, and what each role may see and do with a
// case. It does no I/O; authenticating a token is package authn's work.
package auth

import (
	"context"
	"errors"

	"github.com/mediationd/mediationd/internal/identity"
)

// The identity types are package identity's; auth names them too, so that
// the policy and its callers read as one vocabulary.
type (
	// Role is what a principal may do.
	Role = identity.Role
	// Principal is the caller of a request: a signed-in user or an API key.
	Principal = identity.Principal
	// CaseScope is the part of all cases a principal can see.
	CaseScope = identity.CaseScope
)

// The roles.
const (
	RoleAdmin            = identity.RoleAdmin
	RoleSupervisor       = identity.RoleSupervisor
	RoleOrganizationLead = identity.RoleOrganizationLead
	RoleMediator         = identity.RoleMediator
	RoleCourtDesk        = identity.RoleCourtDesk
	RoleAuditor          = identity.RoleAuditor
)

var (
	// Roles lists every role.
	Roles = identity.Roles
	// Anonymous is the principal of a request that did not authenticate.
	Anonymous = identity.Anonymous
	// System is the principal of what the service does by itself.
	System = identity.System
)

// RegionPrefix strips the trailing zero pairs of a GB/T 2260 code: a
// province (62) or city (6210) covers every code that starts with it.
func RegionPrefix(code string) string { return identity.RegionPrefix(code) }

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
