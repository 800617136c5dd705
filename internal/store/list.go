package store

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/mediationd/mediationd/internal/aipfilter"
	"github.com/mediationd/mediationd/internal/casework"
	"github.com/mediationd/mediationd/internal/identity"
)

// enumField accepts the values of an enum column as stored (MEDIATING);
// the API's spellings of them come with the request (aipfilter.Spelling).
func enumField[T ~string](column string, values []T) aipfilter.Field {
	names := make([]string, len(values))
	for i, v := range values {
		names[i] = string(v)
	}
	return aipfilter.Field{Column: column, Type: aipfilter.Enum, EnumValues: names}
}

func namePattern(collection string) func(string) error {
	re := regexp.MustCompile(`^` + collection + `/[a-z0-9][a-z0-9-]{0,62}$`)
	return func(lit string) error {
		if !re.MatchString(lit) {
			return fmt.Errorf("must be a resource name such as %q", collection+"/example-1")
		}
		return nil
	}
}

var outcomes = []casework.Outcome{casework.OutcomeAgreement, casework.OutcomeFailed, casework.OutcomeWithdrawn, casework.OutcomeRejected}

// caseFilter is what ListCases' filter may name.
var caseFilter = aipfilter.Schema{
	"state":        enumField("c.state", casework.States),
	"outcome":      enumField("c.outcome", outcomes),
	"dispute_type": enumField("c.dispute_type", casework.DisputeTypes),
	"source":       enumField("c.source", casework.Sources),
	"region_code":  {Column: "c.region_code", Type: aipfilter.Prefix},
	"organization": {Column: "c.organization", Type: aipfilter.String, Validate: namePattern("organizations")},
	"mediator":     {Column: "c.mediator", Type: aipfilter.String, Validate: namePattern("mediators")},
	"case_number":  {Column: "c.case_number", Type: aipfilter.String},
	"create_time":  {Column: "c.create_time", Type: aipfilter.Timestamp},
	"update_time":  {Column: "c.update_time", Type: aipfilter.Timestamp},

	"court_code":         {Column: "c.court_code", Type: aipfilter.String},
	"court_case_number":  {Column: "c.court_case_number", Type: aipfilter.String},
	"accept_time":        {Column: "c.accept_time", Type: aipfilter.Timestamp},
	"due_time":           {Column: "c.due_time", Type: aipfilter.Timestamp},
	"close_time":         {Column: "c.close_time", Type: aipfilter.Timestamp},
	"overdue":            {Column: "c.overdue", Type: aipfilter.Bool},
	"group_dispute":      {Column: "c.group_dispute", Type: aipfilter.Bool},
	"escalation_risk":    {Column: "c.escalation_risk", Type: aipfilter.Bool},
	"family_violence":    {Column: "c.family_violence", Type: aipfilter.Bool},
	"minors_involved":    {Column: "c.minors_involved", Type: aipfilter.Bool},
	"performance_status": enumField("c.performance_status", performanceStatuses),
	"needs_reassignment": {Column: needsReassignment, Type: aipfilter.Bool},
	"party_name":         {Column: partyNameMarker, Type: aipfilter.String},
}

// partyNameMarker stands for "a party of the case has this name", which
// compiles to a containment test on the parties' JSON that the GIN index
// cases_parties_names serves.
const partyNameMarker = "__case_party_name__"

var caseArrays = []arrayMembership{
	{marker: partyNameMarker, column: "c.parties", test: func(param string) string {
		return "c.parties @> jsonb_build_array(jsonb_build_object('name', " + param + "::text))"
	}},
}

var performanceStatuses = []casework.PerformanceStatus{casework.Performed, casework.PartlyPerformed, casework.NotPerformed}

// needsReassignment is true for an open case whose mediator or
// organization was deactivated.
// The deactivated ones are few: the open cases' indexes by mediator and
// organization find their cases.
const needsReassignment = `(c.state IN ('ASSIGNED', 'MEDIATING') AND (
	c.mediator = ANY (ARRAY(SELECT 'mediators/' || m.id FROM mediators m WHERE NOT m.active)) OR
	c.organization = ANY (ARRAY(SELECT 'organizations/' || o.id FROM organizations o WHERE NOT o.active))))`

// compileFilter compiles an AIP-160 filter of a list request (aipfilter
// compiles an empty one to TRUE); a problem with the filter is a
// casework.FieldError on "filter", which the API answers with
// INVALID_ARGUMENT.
func compileFilter(filter string, spell aipfilter.Spelling, schema aipfilter.Schema, firstArg int) (string, []any, error) {
	where, args, err := aipfilter.CompileSpelled(filter, schema, firstArg, spell)
	if err != nil {
		var fe *aipfilter.Error
		if errors.As(err, &fe) {
			return "", nil, &casework.FieldError{Field: "filter", Message: strings.TrimPrefix(err.Error(), "filter: ")}
		}
		return "", nil, fmt.Errorf("compile filter: %w", err)
	}
	return where, args, nil
}

// caseCondition compiles a ListCases filter and a scope (nil: every case)
// into a SQL condition on cases aliased c, with its arguments.
func caseCondition(filter string, spell aipfilter.Spelling, scope *identity.CaseScope) (string, []any, error) {
	where, args, err := compileMembershipFilter(filter, spell, caseFilter, 1, caseArrays)
	if err != nil {
		return "", nil, err
	}
	if scope != nil {
		where = fmt.Sprintf("(%s) AND %s", where, scopeCondition(*scope, &args))
	}
	return where, args, nil
}

// ListCasesParams select one page of cases.
type ListCasesParams struct {
	Filter string // AIP-160, see caseFilter
	// Spelling maps the caller's names of enum values to the stored ones;
	// nil takes the stored names only.
	Spelling  aipfilter.Spelling
	Ascending bool  // oldest first; the default is newest first
	After     int64 // the cursor of the previous page; 0 for the first page
	Limit     int
	// Scope limits the cases to those the caller may see; nil is every
	// case (the service's own work).
	Scope *identity.CaseScope
}

// CasePage is one page of cases; Next is the cursor of the following page,
// 0 when this page is the last.
type CasePage struct {
	Cases []casework.Case
	Next  int64
}

// ErrListTooSlow is a ListCases page that ran longer than
// StatementTimeout.
var ErrListTooSlow = fmt.Errorf("list cases: %w", ErrTooSlow)

// ListCases returns a page of cases in registration order: by create time,
// then by insertion among cases registered at the same instant. Keyset
// pagination on that unique pair means cases registered while a client
// pages through never make it see a case twice or skip one that existed
// when it started (they are registered now, after every case it has seen).
func (s *Store) ListCases(ctx context.Context, p ListCasesParams) (_ CasePage, err error) {
	where, args, err := caseCondition(p.Filter, p.Spelling, p.Scope)
	if err != nil {
		return CasePage{}, err
	}
	order, cmp := "DESC", "<"
	if p.Ascending {
		order, cmp = "ASC", ">"
	}
	if p.After > 0 {
		// The cursor is the last case of the previous page; its create
		// time is looked up by seq (one probe of the unique index).
		args = append(args, p.After)
		where = fmt.Sprintf("(%[1]s) AND (c.create_time, c.seq) %[2]s ((SELECT a.create_time FROM cases a WHERE a.seq = $%[3]d), $%[3]d)", where, cmp, len(args))
	}
	args = append(args, p.Limit+1)
	orderKey := "c.create_time"
	apart := takenApart(p.Filter)
	if apart {
		// Walking the registration order, PostgreSQL expects the cases
		// of an accept/due/close-time range anywhere in it, while they
		// sit together (a month closed, all registered about then): it
		// discards every newer case first. It cannot know either that
		// the deactivated mediators and organizations, looked up when the
		// statement runs, are few or none. Ordering by an expression the
		// registration index cannot give makes it take the cases from
		// their own index (the time's, the open cases' by mediator and
		// organization) and sort them.
		orderKey = "(c.create_time + interval '0 s')"
	}
	sql := fmt.Sprintf(`SELECT %[1]s, c.seq FROM cases c WHERE %[2]s ORDER BY %[5]s %[3]s, c.seq %[3]s LIMIT $%[4]d`, caseColumns, where, order, len(args), orderKey)
	if apart {
		// The page's keys first (from the time's index alone where it
		// covers the filter), then only the page's cases.
		sql = fmt.Sprintf(`SELECT %[1]s, c.seq FROM cases c JOIN (
			SELECT c.seq, c.create_time FROM cases c WHERE %[2]s ORDER BY %[5]s %[3]s, c.seq %[3]s LIMIT $%[4]d
		) p ON p.seq = c.seq ORDER BY p.create_time %[3]s, p.seq %[3]s`, caseColumns, where, order, len(args), orderKey)
	}
	// An unnamed statement: planned for these values each time. A named
	// one may switch to a generic plan that ignores them and walks the
	// wrong index (a sparse filter's page then reads the whole table).
	rows, err := s.pool.Query(ctx, sql, append([]any{pgx.QueryExecModeCacheDescribe}, args...)...)
	if err != nil {
		return CasePage{}, fmt.Errorf("list cases: %w", err)
	}
	defer func() {
		if tooSlow(ctx, err) {
			err = ErrListTooSlow
		}
	}()
	defer rows.Close()
	page := CasePage{Cases: make([]casework.Case, 0, min(p.Limit+1, 64))}
	seqs := make([]int64, 0, cap(page.Cases))
	var seq int64
	sc := newCaseScanner(&seq)
	for rows.Next() {
		c, err := sc.scan(rows)
		if err != nil {
			return CasePage{}, fmt.Errorf("list cases: %w", err)
		}
		page.Cases = append(page.Cases, c)
		seqs = append(seqs, seq)
	}
	if err := rows.Err(); err != nil {
		return CasePage{}, fmt.Errorf("list cases: %w", err)
	}
	if len(page.Cases) > p.Limit {
		page.Cases = page.Cases[:p.Limit]
		page.Next = seqs[p.Limit-1]
	}
	return page, nil
}

// ListEvents returns up to limit history events of a case with versions
// above after, oldest first, and whether more follow. A case that does not
// exist is casework.ErrNotFound.
func (s *Store) ListEvents(ctx context.Context, caseID uuid.UUID, after int64, limit int) ([]casework.Event, bool, error) {
	return s.ListEventsIn(ctx, caseID, after, limit, Internal.Scope)
}

// ListEventsIn is ListEvents of a case within the scope; a case outside it
// is casework.ErrNotFound.
func (s *Store) ListEventsIn(ctx context.Context, caseID uuid.UUID, after int64, limit int, scope identity.CaseScope) ([]casework.Event, bool, error) {
	args := []any{caseID, after, limit + 1}
	cond := scopeCondition(scope, &args)
	rows, err := s.pool.Query(ctx, `SELECT e.version, e.action, e.from_state, e.to_state, e.outcome, e.actor, e.occur_time, e.request_id, e.data
		FROM case_events e JOIN cases c ON c.id = e.case_id
		WHERE e.case_id = $1 AND e.version > $2 AND `+cond+` ORDER BY e.version LIMIT $3`, args...)
	if err != nil {
		return nil, false, fmt.Errorf("list events of case %s: %w", caseID, err)
	}
	defer rows.Close()
	var out []casework.Event
	for rows.Next() {
		ev := casework.Event{CaseID: caseID}
		var rid *uuid.UUID
		var t time.Time
		if err := rows.Scan(&ev.Version, &ev.Action, &ev.From, &ev.To, &ev.Outcome, &ev.Actor, &t, &rid, &ev.Data); err != nil {
			return nil, false, fmt.Errorf("list events of case %s: %w", caseID, err)
		}
		ev.Time = t
		if rid != nil {
			ev.RequestID = rid.String()
		}
		out = append(out, ev)
	}
	if err := rows.Err(); err != nil {
		return nil, false, fmt.Errorf("list events of case %s: %w", caseID, err)
	}
	if len(out) == 0 && after == 0 {
		return nil, false, casework.ErrNotFound
	}
	more := len(out) > limit
	if more {
		out = out[:limit]
	}
	return out, more, nil
}

// takenApart reports whether a filter's cases are better found through
// their own index and sorted: an upper bound on a time other than
// create_time that has an index (accept, due and close times), or cases
// needing reassignment.
func takenApart(filter string) bool {
	cmps, err := aipfilter.Comparisons(filter)
	if err != nil {
		return false
	}
	for _, c := range cmps {
		switch c.Field {
		case "needs_reassignment":
			if c.Value == "true" && c.Op != "!=" {
				return true
			}
		case "accept_time", "due_time", "close_time":
			if c.Op == "<" || c.Op == "<=" {
				return true
			}
		}
	}
	return false
}
