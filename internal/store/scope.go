package store

import (
	"fmt"

	"github.com/mediationd/mediationd/internal/identity"
)

// Access says on whose behalf the store works with cases: what they may
// see (the scope becomes a condition of every query), who they are (for
// the permission check made against the case as read, and the history),
// and where the request came from (for the audit row written in the same
// statement as a change).
type Access struct {
	Scope     identity.CaseScope
	Principal identity.Principal
	// Audit, when set, makes every change write its audit row in the same
	// statement.
	Audit *AuditContext
}

// AuditContext is what the audit trail records of a request besides its
// principal.
type AuditContext struct {
	ClientAddress string
	ClientCert    string // the verified client certificate's CN, "" if none
	Method        string
	RequestID     string
	// Recorded is set once the request's write is on record: by the store
	// when it wrote the audit row in the statement of the change, or by
	// the action pipeline when a retried request changed nothing. Whoever
	// audits the request afterwards writes no second row.
	Recorded bool
}

// Internal is the access of the service's own work (demo data, jobs,
// tests): every case, no permission check, no audit row.
var Internal = Access{Scope: identity.CaseScope{All: true}, Principal: identity.System}

// scopeCondition renders a scope as a SQL condition on cases aliased c,
// appending its arguments to args.
func scopeCondition(sc identity.CaseScope, args *[]any) string {
	bind := func(v any) string {
		*args = append(*args, v)
		return fmt.Sprintf("$%d", len(*args))
	}
	switch {
	case sc.All:
		return "TRUE"
	case sc.RegionPrefix != "":
		return "c.region_code LIKE " + bind(sc.RegionPrefix+"%")
	case sc.Organization != "":
		n := bind(sc.Organization)
		return fmt.Sprintf("(c.organization = %s OR c.intake_organization = %s)", n, n)
	case sc.Mediator != "" && sc.IntakeOrganization != "":
		return fmt.Sprintf("(c.mediator = %s OR (c.organization = '' AND c.intake_organization = %s))", bind(sc.Mediator), bind(sc.IntakeOrganization))
	case sc.Mediator != "":
		return "c.mediator = " + bind(sc.Mediator)
	case sc.CourtCode != "":
		return "c.court_code = " + bind(sc.CourtCode)
	}
	return "FALSE"
}
