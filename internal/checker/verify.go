package checker

import (
	"cmp"
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"google.golang.org/grpc/codes"

	"github.com/mediationd/mediationd/internal/api"
	"github.com/mediationd/mediationd/internal/casework"
)

// Class is a kind of violation the verifier reports.
type Class string

// The violation classes. Each names one property of the stored data that
// the clients' record contradicts.
const (
	// ClassAckLost: an acknowledged action is not in the history as
	// acknowledged (no event at the version returned, or another action or
	// request id there).
	ClassAckLost Class = "ack-lost"
	// ClassAckShared: several acknowledged calls, not retries of one
	// request, were told they made the same event: an update was lost.
	ClassAckShared Class = "ack-shared"
	// ClassRequestTwice: a request id is on more than one event of a case.
	ClassRequestTwice Class = "request-twice"
	// ClassVersions: a case's history does not run 1..n, or cases.version
	// is not n.
	ClassVersions Class = "versions"
	// ClassFold: the history does not follow the lifecycle, or the case's
	// state and outcome are not where its history leads.
	ClassFold Class = "state-fold"
	// ClassOutbox: a change without its outbox row, or an outbox row
	// without its change.
	ClassOutbox Class = "outbox"
	// ClassRefusedTrace: a refused request left an event behind.
	ClassRefusedTrace Class = "refused-trace"
	// ClassUnaccounted: an event or case nobody asked for and the service
	// does not make by itself.
	ClassUnaccounted Class = "unaccounted"
	// ClassCreate: a registration request id that made more than one case,
	// or whose calls were told of different cases.
	ClassCreate Class = "create"
	// ClassReplay: a request id sent again after its request was applied
	// was not answered with the first result (or, for another request,
	// with ALREADY_EXISTS).
	ClassReplay Class = "replay"
	// ClassSideEffects: the sessions or follow-up visits stored disagree
	// with the history that recorded them.
	ClassSideEffects Class = "side-effects"
	// ClassAudit: the audit trail does not hold one WRITE row per change
	// made by a caller.
	ClassAudit Class = "audit"
	// ClassSystemEvent: a change the service made by itself where it has
	// no reason to: an automatic assignment that does not directly follow
	// an acceptance (as when a replayed acceptance assigns again).
	ClassSystemEvent Class = "system-event"
)

// Violation is one contradiction between the record and the database.
type Violation struct {
	Class  Class
	Case   string // cases/{uuid}, or "" when it concerns no one case
	Detail string
}

// String renders the violation on one line.
func (v Violation) String() string {
	if v.Case == "" {
		return fmt.Sprintf("[%s] %s", v.Class, v.Detail)
	}
	return fmt.Sprintf("[%s] %s: %s", v.Class, v.Case, v.Detail)
}

// Report is the verifier's result: what the record holds, how the history
// accounts for it, and every violation found.
type Report struct {
	RunID string
	// Cases is how many cases were verified.
	Cases int
	// CreateCalls and CreateRequests count registrations: calls, and the
	// distinct request ids among them.
	CreateCalls    int
	CreateRequests int
	// Actions counts action calls; Acked, Refused (by gRPC code) and
	// Unknown split them by outcome.
	Actions int
	Acked   int
	Refused map[string]int
	Unknown int
	// Events is the number of history rows of the verified cases, made up
	// of Registrations, AckedEvents (distinct events acknowledged),
	// UnknownLanded (events of calls with an unknown outcome, found by
	// their request id), Unattributed (events of the run's principal
	// without a request id that calls of unknown outcome without one may
	// have made), SystemEvents
	// (overdue marks and automatic assignments) and Unaccounted.
	Events        int
	Registrations int
	AckedEvents   int
	UnknownLanded int
	Unattributed  int
	SystemEvents  int
	Unaccounted   int
	// Violations lists every violation, ordered by class and case.
	Violations []Violation
}

// OK reports whether the verifier found no violation.
func (r *Report) OK() bool { return len(r.Violations) == 0 }

// Classes counts the violations by class.
func (r *Report) Classes() map[Class]int {
	out := map[Class]int{}
	for _, v := range r.Violations {
		out[v.Class]++
	}
	return out
}

// maxListed bounds the violations String lists one by one.
const maxListed = 50

// String summarises the report and lists the violations.
func (r *Report) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "run %s: %d cases; %d registration calls for %d request ids\n", r.RunID, r.Cases, r.CreateCalls, r.CreateRequests)
	fmt.Fprintf(&b, "%d action calls: %d acknowledged (%d distinct events), %d refused", r.Actions, r.Acked, r.AckedEvents, sum(r.Refused))
	if len(r.Refused) > 0 {
		var parts []string
		for _, code := range slices.Sorted(maps.Keys(r.Refused)) {
			parts = append(parts, fmt.Sprintf("%s %d", code, r.Refused[code]))
		}
		fmt.Fprintf(&b, " (%s)", strings.Join(parts, ", "))
	}
	fmt.Fprintf(&b, ", %d unknown outcome (%d found applied)\n", r.Unknown, r.UnknownLanded)
	fmt.Fprintf(&b, "history: %d events = %d registrations + %d acknowledged + %d unknown that landed + %d unattributed + %d by the service + %d unaccounted\n",
		r.Events, r.Registrations, r.AckedEvents, r.UnknownLanded, r.Unattributed, r.SystemEvents, r.Unaccounted)
	if r.OK() {
		b.WriteString("violations: none\n")
		return b.String()
	}
	classes := r.Classes()
	var parts []string
	for _, c := range slices.Sorted(maps.Keys(classes)) {
		parts = append(parts, fmt.Sprintf("%s %d", c, classes[c]))
	}
	fmt.Fprintf(&b, "violations: %d (%s)\n", len(r.Violations), strings.Join(parts, ", "))
	for i, v := range r.Violations {
		if i == maxListed {
			fmt.Fprintf(&b, "  ... and %d more\n", len(r.Violations)-maxListed)
			break
		}
		fmt.Fprintf(&b, "  %s\n", v)
	}
	return b.String()
}

func sum(m map[string]int) int {
	n := 0
	for _, v := range m {
		n += v
	}
	return n
}

// VerifyOptions choose which cases the verifier looks at.
type VerifyOptions struct {
	// AllCases verifies every case in the database, so that a case no one
	// registered is reported too; use it on a database only the run used.
	// Otherwise the verifier looks at the cases the record names and
	// those whose summary carries the run's marker.
	AllCases bool
}

// Verify reads the database at dsn and checks it against rec. An error
// means the database could not be read; violations are in the report.
func Verify(ctx context.Context, dsn string, rec Record, o VerifyOptions) (*Report, error) {
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		return nil, fmt.Errorf("checker: connect to the database: %w", err)
	}
	defer conn.Close(context.WithoutCancel(ctx))
	d, err := load(ctx, conn, rec, o)
	if err != nil {
		return nil, err
	}
	edges, err := lifecycleEdges()
	if err != nil {
		return nil, err
	}
	v := &verifier{rec: rec, db: d, edges: edges, r: &Report{RunID: rec.RunID, Refused: map[string]int{}}}
	v.count()
	v.checkHistories()
	v.checkAcks()
	v.checkAccounting()
	v.checkCreates()
	v.checkReplays()
	v.checkAudit()
	slices.SortStableFunc(v.r.Violations, func(a, b Violation) int {
		return cmp.Or(cmp.Compare(a.Class, b.Class), cmp.Compare(a.Case, b.Case))
	})
	return v.r, nil
}

// edge is where an action leads from one state.
type edge struct {
	to      casework.State
	outcome casework.Outcome
}

// lifecycleEdges tabulates the lifecycle the service runs.
func lifecycleEdges() (map[casework.Action]map[casework.State]edge, error) {
	w, err := casework.Describe()
	if err != nil {
		return nil, fmt.Errorf("checker: describe the lifecycle: %w", err)
	}
	out := map[casework.Action]map[casework.State]edge{}
	for _, a := range w.Actions {
		out[a.Action] = map[casework.State]edge{}
		for _, t := range a.Transitions {
			out[a.Action][t.From] = edge{to: t.To, outcome: t.Outcome}
		}
	}
	return out, nil
}

// dbEvent is one history row.
type dbEvent struct {
	version          int64
	action           casework.Action
	from, to         casework.State
	outcome          casework.Outcome
	actor, requestID string
	time             time.Time // occur_time: the service's clock when it decided the change
}

// dbCase is one case with everything stored about it that the checks use.
type dbCase struct {
	id                      string
	version                 int64
	state                   casework.State
	outcome                 casework.Outcome
	sessionCount, followUps int
	sessionRows, followRows int
	events                  []dbEvent // by version
	outbox                  map[int64]int
	audit                   map[string]int // method -> WRITE rows by callers
}

func (c *dbCase) event(version int64) *dbEvent {
	i, ok := slices.BinarySearchFunc(c.events, version, func(e dbEvent, v int64) int { return cmp.Compare(e.version, v) })
	if !ok {
		return nil
	}
	return &c.events[i]
}

// data is what the verifier read.
type data struct {
	cases map[string]*dbCase
	// createEvents maps a registration request id to the cases whose
	// first event carries it; createClaims to the case
	// case_create_requests names.
	createEvents map[string][]string
	// createTimes is when each of those cases was registered (its first
	// history row's occur_time).
	createTimes  map[string]time.Time
	createClaims map[string]string
}

func caseID(name string) string { return strings.TrimPrefix(name, "cases/") }

func caseName(id string) string { return "cases/" + id }

// load reads the cases in scope and everything about them.
func load(ctx context.Context, conn *pgx.Conn, rec Record, o VerifyOptions) (*data, error) {
	named := map[string]bool{}
	for _, c := range rec.Calls {
		named[caseID(c.Case)] = true
	}
	for _, c := range rec.Creates {
		if c.Case != "" {
			named[caseID(c.Case)] = true
		}
	}
	var ids []string
	for id := range named {
		if _, err := uuid.Parse(id); err == nil {
			ids = append(ids, id)
		}
	}
	d := &data{cases: map[string]*dbCase{}, createEvents: map[string][]string{}, createTimes: map[string]time.Time{}, createClaims: map[string]string{}}
	rows, err := conn.Query(ctx, `SELECT id::text, version, state, outcome, session_count, follow_up_count
		FROM cases WHERE $1::bool OR starts_with(summary, $2::text) OR id = ANY($3::text[]::uuid[])`,
		o.AllCases, Marker(rec.RunID), ids)
	if err != nil {
		return nil, fmt.Errorf("checker: read cases: %w", err)
	}
	var c dbCase
	if _, err := pgx.ForEachRow(rows, []any{&c.id, &c.version, &c.state, &c.outcome, &c.sessionCount, &c.followUps}, func() error {
		cc := c
		cc.outbox, cc.audit = map[int64]int{}, map[string]int{}
		d.cases[c.id] = &cc
		return nil
	}); err != nil {
		return nil, fmt.Errorf("checker: read cases: %w", err)
	}
	scope := slices.Sorted(maps.Keys(d.cases))

	rows, err = conn.Query(ctx, `SELECT case_id::text, version, action, from_state, to_state, outcome, actor, coalesce(request_id::text, ''), occur_time
		FROM case_events WHERE case_id = ANY($1::text[]::uuid[]) ORDER BY case_id, version`, scope)
	if err != nil {
		return nil, fmt.Errorf("checker: read history: %w", err)
	}
	var id string
	var e dbEvent
	if _, err := pgx.ForEachRow(rows, []any{&id, &e.version, &e.action, &e.from, &e.to, &e.outcome, &e.actor, &e.requestID, &e.time}, func() error {
		d.cases[id].events = append(d.cases[id].events, e)
		return nil
	}); err != nil {
		return nil, fmt.Errorf("checker: read history: %w", err)
	}

	var version int64
	rows, err = conn.Query(ctx, `SELECT case_id::text, case_version FROM outbox WHERE case_id = ANY($1::text[]::uuid[])`, scope)
	if err != nil {
		return nil, fmt.Errorf("checker: read outbox: %w", err)
	}
	if _, err := pgx.ForEachRow(rows, []any{&id, &version}, func() error {
		if c := d.cases[id]; c != nil {
			c.outbox[version]++
		}
		return nil
	}); err != nil {
		return nil, fmt.Errorf("checker: read outbox: %w", err)
	}

	var n int
	for _, side := range []struct {
		table string
		count func(*dbCase) *int
	}{
		{"case_sessions", func(c *dbCase) *int { return &c.sessionRows }},
		{"case_follow_ups", func(c *dbCase) *int { return &c.followRows }},
	} {
		rows, err = conn.Query(ctx, `SELECT case_id::text, count(*) FROM `+side.table+` WHERE case_id = ANY($1::text[]::uuid[]) GROUP BY 1`, scope)
		if err != nil {
			return nil, fmt.Errorf("checker: read %s: %w", side.table, err)
		}
		if _, err := pgx.ForEachRow(rows, []any{&id, &n}, func() error {
			*side.count(d.cases[id]) = n
			return nil
		}); err != nil {
			return nil, fmt.Errorf("checker: read %s: %w", side.table, err)
		}
	}

	resources := make([]string, len(scope))
	for i, id := range scope {
		resources[i] = caseName(id)
	}
	var resource, method string
	rows, err = conn.Query(ctx, `SELECT resource, method, count(*) FROM audit_events
		WHERE kind = 'WRITE' AND actor <> 'system' AND resource = ANY($1::text[]) AND starts_with(method, '/mediation.v1.CaseService/')
		GROUP BY 1, 2`, resources)
	if err != nil {
		return nil, fmt.Errorf("checker: read audit trail: %w", err)
	}
	if _, err := pgx.ForEachRow(rows, []any{&resource, &method, &n}, func() error {
		if c := d.cases[caseID(resource)]; c != nil {
			c.audit[method] = n
		}
		return nil
	}); err != nil {
		return nil, fmt.Errorf("checker: read audit trail: %w", err)
	}

	var rids []string
	seen := map[string]bool{}
	for _, c := range rec.Creates {
		if _, err := uuid.Parse(c.RequestID); err == nil && !seen[c.RequestID] {
			seen[c.RequestID] = true
			rids = append(rids, c.RequestID)
		}
	}
	var rid string
	var at time.Time
	rows, err = conn.Query(ctx, `SELECT request_id::text, case_id::text, occur_time FROM case_events
		WHERE version = 1 AND request_id = ANY($1::text[]::uuid[]) ORDER BY 2`, rids)
	if err != nil {
		return nil, fmt.Errorf("checker: read registrations: %w", err)
	}
	if _, err := pgx.ForEachRow(rows, []any{&rid, &id, &at}, func() error {
		d.createEvents[rid] = append(d.createEvents[rid], id)
		d.createTimes[id] = at
		return nil
	}); err != nil {
		return nil, fmt.Errorf("checker: read registrations: %w", err)
	}
	rows, err = conn.Query(ctx, `SELECT request_id::text, case_id::text FROM case_create_requests WHERE request_id = ANY($1::text[]::uuid[])`, rids)
	if err != nil {
		return nil, fmt.Errorf("checker: read registration claims: %w", err)
	}
	if _, err := pgx.ForEachRow(rows, []any{&rid, &id}, func() error {
		d.createClaims[rid] = id
		return nil
	}); err != nil {
		return nil, fmt.Errorf("checker: read registration claims: %w", err)
	}
	return d, nil
}

// verifier runs the checks, filling in the report.
type verifier struct {
	rec   Record
	db    *data
	edges map[casework.Action]map[casework.State]edge
	r     *Report
	// claimed holds the events acknowledged calls validly name.
	claimed map[evKey]bool
}

type evKey struct {
	caseID  string
	version int64
}

// ridKey is a request id on one case: the unit of idempotency.
type ridKey struct {
	caseID, requestID string
}

func (v *verifier) report(class Class, id, format string, args ...any) {
	name := ""
	if id != "" {
		name = caseName(id)
	}
	v.r.Violations = append(v.r.Violations, Violation{Class: class, Case: name, Detail: fmt.Sprintf(format, args...)})
}

func (v *verifier) sortedCases() []*dbCase {
	out := slices.Collect(maps.Values(v.db.cases))
	slices.SortFunc(out, func(a, b *dbCase) int { return cmp.Compare(a.id, b.id) })
	return out
}

func (v *verifier) count() {
	r := v.r
	r.Cases = len(v.db.cases)
	r.CreateCalls = len(v.rec.Creates)
	rids := map[string]bool{}
	for _, c := range v.rec.Creates {
		rids[c.RequestID] = true
	}
	r.CreateRequests = len(rids)
	r.Actions = len(v.rec.Calls)
	for _, c := range v.rec.Calls {
		switch c.Outcome {
		case Acked:
			r.Acked++
		case Refused:
			r.Refused[c.Code.String()]++
		default:
			r.Unknown++
		}
	}
	for _, c := range v.db.cases {
		r.Events += len(c.events)
	}
}

// checkHistories checks each case on its own: versions, the fold of the
// history, the outbox, the side tables and request ids.
func (v *verifier) checkHistories() {
	for _, c := range v.sortedCases() {
		n := int64(len(c.events))
		if n == 0 {
			v.report(ClassVersions, c.id, "no history at all; cases.version = %d", c.version)
			continue
		}
		if last := c.events[n-1].version; last != n || c.events[0].version != 1 {
			var missing []string
			have := map[int64]bool{}
			for _, e := range c.events {
				have[e.version] = true
			}
			for ver := int64(1); ver <= last && len(missing) < 10; ver++ {
				if !have[ver] {
					missing = append(missing, fmt.Sprint(ver))
				}
			}
			v.report(ClassVersions, c.id, "the history has %d events up to version %d: missing %s", n, last, strings.Join(missing, ", "))
		}
		if last := c.events[n-1].version; c.version != last {
			v.report(ClassVersions, c.id, "cases.version = %d but the history ends at version %d", c.version, last)
		}

		first := c.events[0]
		if first.version != 1 || first.action != casework.ActionCreate || first.from != "" || first.to != casework.StateIntake || first.outcome != "" {
			v.report(ClassFold, c.id, "the history starts with version %d %s %q->%s, not a registration into INTAKE", first.version, first.action, first.from, first.to)
		}
		for i := 1; i < len(c.events); i++ {
			prev, e := c.events[i-1], c.events[i]
			if e.from != prev.to {
				v.report(ClassFold, c.id, "version %d (%s) starts from %s, but version %d left the case in %s", e.version, e.action, e.from, prev.version, prev.to)
			}
			ed, ok := v.edges[e.action][e.from]
			switch {
			case !ok:
				v.report(ClassFold, c.id, "version %d: %s is not allowed in %s", e.version, e.action, e.from)
			case ed.to != e.to || ed.outcome != e.outcome:
				v.report(ClassFold, c.id, "version %d: %s from %s leads to %s %q, the history says %s %q", e.version, e.action, e.from, ed.to, ed.outcome, e.to, e.outcome)
			}
		}
		last := c.events[n-1]
		if c.state != last.to || c.outcome != last.outcome {
			v.report(ClassFold, c.id, "the case is %s %q, its history (version %d, %s) leaves it %s %q", c.state, c.outcome, last.version, last.action, last.to, last.outcome)
		}

		for _, e := range c.events {
			if k := c.outbox[e.version]; k != 1 {
				v.report(ClassOutbox, c.id, "version %d (%s) has %d outbox rows, want 1", e.version, e.action, k)
			}
		}
		for _, ver := range slices.Sorted(maps.Keys(c.outbox)) {
			if c.event(ver) == nil {
				v.report(ClassOutbox, c.id, "outbox row for version %d, which the history does not have", ver)
			}
		}

		sessions, followUps := 0, 0
		byRequest := map[string][]int64{}
		for _, e := range c.events {
			switch e.action {
			case casework.ActionScheduleSession:
				sessions++
			case casework.ActionRecordFollowUp:
				followUps++
			}
			if e.requestID != "" {
				byRequest[e.requestID] = append(byRequest[e.requestID], e.version)
			}
		}
		if sessions != c.sessionCount || sessions != c.sessionRows {
			v.report(ClassSideEffects, c.id, "%d sessions scheduled in the history, session_count = %d, %d rows in case_sessions", sessions, c.sessionCount, c.sessionRows)
		}
		if followUps != c.followUps || followUps != c.followRows {
			v.report(ClassSideEffects, c.id, "%d follow-ups recorded in the history, follow_up_count = %d, %d rows in case_follow_ups", followUps, c.followUps, c.followRows)
		}
		for _, rid := range slices.Sorted(maps.Keys(byRequest)) {
			if vs := byRequest[rid]; len(vs) > 1 {
				v.report(ClassRequestTwice, c.id, "request id %s is on versions %v", rid, vs)
			}
		}
	}
}

// checkAcks checks that every acknowledged call is in the history as it
// was acknowledged, and that no two unrelated calls were told of the same
// event.
func (v *verifier) checkAcks() {
	v.claimed = map[evKey]bool{}
	claims := map[evKey][]Call{}
	for _, call := range v.rec.Calls {
		if call.Outcome != Acked {
			continue
		}
		id := caseID(call.Case)
		c := v.db.cases[id]
		switch {
		case c == nil:
			v.report(ClassAckLost, id, "%s (request %q) acknowledged as version %d, but the case is not in the database", call.Action, call.RequestID, call.EventVersion)
			continue
		case call.EventVersion <= 0:
			v.report(ClassAckLost, id, "%s (request %q) acknowledged without an event", call.Action, call.RequestID)
			continue
		}
		e := c.event(call.EventVersion)
		switch {
		case e == nil:
			v.report(ClassAckLost, id, "%s (request %q) acknowledged as version %d, which the history does not have (it ends at %d)",
				call.Action, call.RequestID, call.EventVersion, lastVersion(c))
			continue
		case e.action != call.Action || call.EventAction != call.Action || e.requestID != call.RequestID:
			v.report(ClassAckLost, id, "%s (request %q) acknowledged as version %d (%s), but the history has %s (request %q, by %s) there",
				call.Action, call.RequestID, call.EventVersion, call.EventAction, e.action, e.requestID, e.actor)
			continue
		}
		k := evKey{id, call.EventVersion}
		v.claimed[k] = true
		claims[k] = append(claims[k], call)
	}
	for _, k := range slices.SortedFunc(maps.Keys(claims), func(a, b evKey) int {
		return cmp.Or(cmp.Compare(a.caseID, b.caseID), cmp.Compare(a.version, b.version))
	}) {
		calls := claims[k]
		if len(calls) < 2 {
			continue
		}
		for _, c := range calls {
			if c.RequestID == "" {
				v.report(ClassAckShared, k.caseID, "%d acknowledged calls were told they made version %d (%s), not all retries of one request", len(calls), k.version, calls[0].Action)
				break
			}
		}
	}
	v.r.AckedEvents = len(v.claimed)
}

func lastVersion(c *dbCase) int64 {
	if len(c.events) == 0 {
		return 0
	}
	return c.events[len(c.events)-1].version
}

// systemActions are what the service records by itself: overdue marks,
// and assignments when a region assigns automatically.
var systemActions = []casework.Action{casework.ActionMarkOverdue, casework.ActionAssign}

// checkAccounting attributes every event to a registration, an
// acknowledged call, a call of unknown outcome, or the service itself, and
// reports the rest, singling out the traces of refused requests.
func (v *verifier) checkAccounting() {
	created := map[string]bool{}
	for _, c := range v.rec.Creates {
		created[c.RequestID] = true
	}
	unknownByRID := map[ridKey][]Call{}
	unknownNoRID := map[string]map[casework.Action]int{}
	refusedByRID := map[ridKey][]Call{}
	answered := map[ridKey]bool{}
	byRID := map[ridKey][]Call{}
	for _, call := range v.rec.Calls {
		id := caseID(call.Case)
		k := ridKey{id, call.RequestID}
		if call.RequestID != "" {
			byRID[k] = append(byRID[k], call)
		}
		switch {
		case call.Outcome == Unknown && call.RequestID != "":
			unknownByRID[k] = append(unknownByRID[k], call)
		case call.Outcome == Unknown:
			if unknownNoRID[id] == nil {
				unknownNoRID[id] = map[casework.Action]int{}
			}
			unknownNoRID[id][call.Action]++
		case call.Outcome == Refused && call.RequestID != "":
			refusedByRID[k] = append(refusedByRID[k], call)
		case call.Outcome == Acked && call.RequestID != "":
			answered[k] = true
		}
	}
	// The run's principals are those that registered its cases: only an
	// event of theirs can come from one of its calls.
	runActors := map[string]bool{}
	for _, c := range v.sortedCases() {
		for _, e := range c.events {
			if e.version == 1 && e.action == casework.ActionCreate && e.requestID != "" && created[e.requestID] {
				runActors[e.actor] = true
			}
		}
	}
	r := v.r
	for _, c := range v.sortedCases() {
		for _, e := range c.events {
			if e.version == 1 && e.action == casework.ActionCreate {
				if e.requestID != "" && created[e.requestID] {
					r.Registrations++
				} else {
					r.Unaccounted++
					v.report(ClassUnaccounted, c.id, "registered (by %s, request %q) by none of the run's registrations", e.actor, e.requestID)
				}
				continue
			}
			k := ridKey{c.id, e.requestID}
			// Made when only refused calls with its request id had been
			// sent: one of them made it, although it was told nothing was
			// written, whatever a later retry of it was answered.
			if causes := refusedCauses(byRID[k], e.action, e.time); e.requestID != "" && len(causes) > 0 {
				r.Unaccounted++
				v.report(ClassRefusedTrace, c.id, "version %d (%s, request %s) was made at %s, when every call with that request had been refused (%s)",
					e.version, e.action, e.requestID, e.time.Format(time.RFC3339Nano), describeCalls(causes))
				continue
			}
			if v.claimed[evKey{c.id, e.version}] {
				continue
			}
			switch {
			case e.actor == "system" && slices.Contains(systemActions, e.action):
				r.SystemEvents++
				if prev := c.event(e.version - 1); e.action == casework.ActionAssign && (prev == nil || prev.action != casework.ActionAccept) {
					after := "nothing"
					if prev != nil {
						after = fmt.Sprintf("version %d (%s, request %q)", prev.version, prev.action, prev.requestID)
					}
					v.report(ClassSystemEvent, c.id, "version %d: the service assigned the case by itself after %s, not right after an acceptance", e.version, after)
				}
			case e.requestID != "" && slices.ContainsFunc(unknownByRID[k], func(call Call) bool { return call.Action == e.action }):
				r.UnknownLanded++
			case e.requestID != "" && len(refusedByRID[k]) > 0 && !answered[k] && len(unknownByRID[k]) == 0:
				var codes []string
				for _, call := range refusedByRID[k] {
					codes = append(codes, fmt.Sprintf("%s %s", call.Action, call.Code))
				}
				r.Unaccounted++
				v.report(ClassRefusedTrace, c.id, "version %d (%s, request %s) was made by a refused request (%s)", e.version, e.action, e.requestID, strings.Join(codes, "; "))
			case e.requestID == "" && runActors[e.actor] && unknownNoRID[c.id][e.action] > 0:
				unknownNoRID[c.id][e.action]--
				r.Unattributed++
			default:
				r.Unaccounted++
				v.report(ClassUnaccounted, c.id, "version %d (%s by %s, request %q) was asked for by no call of the run", e.version, e.action, e.actor, e.requestID)
			}
		}
	}
}

// causeMargin widens the window of calls that may have made a change at a
// given time: the service stamps a change (to the microsecond) after the
// call that asked for it started, so on one machine no margin is needed;
// 100 ms leaves room for the clocks of a checker and a service on two
// machines. A margin only makes the check more lenient.
const causeMargin = 100 * time.Millisecond

// refusedCauses returns the calls of action that had started by t, the
// time a change was made, when there are some and every one of them was
// refused; nil when one of them may have made it.
func refusedCauses(calls []Call, action casework.Action, t time.Time) []Call {
	if t.IsZero() {
		return nil
	}
	var causes []Call
	for _, c := range calls {
		if c.Action != action || c.Start.After(t.Add(causeMargin)) {
			continue
		}
		if c.Outcome != Refused {
			return nil
		}
		causes = append(causes, c)
	}
	return causes
}

// describeCalls lists calls as "seq N: CODE reason" for a report.
func describeCalls(calls []Call) string {
	var out []string
	for _, c := range calls {
		d := fmt.Sprintf("seq %d: %s", c.Seq, c.Code)
		if c.Reason != "" {
			d += " " + c.Reason
		}
		out = append(out, d)
	}
	return strings.Join(out, "; ")
}

// checkCreates checks that each registration request id made at most one
// case (exactly one if acknowledged) and that every call with it was told
// of that case.
func (v *verifier) checkCreates() {
	byRID := map[string][]CreateCall{}
	for _, c := range v.rec.Creates {
		byRID[c.RequestID] = append(byRID[c.RequestID], c)
	}
	for _, rid := range slices.Sorted(maps.Keys(byRID)) {
		calls := byRID[rid]
		cases := v.db.createEvents[rid]
		if len(cases) > 1 {
			v.report(ClassCreate, "", "registration request %s made %d cases: %s", rid, len(cases), strings.Join(cases, ", "))
		}
		made := ""
		if len(cases) > 0 {
			made = cases[0]
		}
		if claim, ok := v.db.createClaims[rid]; made != "" && (!ok || claim != made) {
			v.report(ClassCreate, made, "registration request %s made this case, but case_create_requests names %q", rid, claim)
		}
		acked, settled := false, false
		for _, c := range calls {
			if c.Outcome == Acked && !c.Altered {
				acked = true
				if made == "" {
					v.report(ClassCreate, caseID(c.Case), "registration request %s was acknowledged as %s, but no case carries it", rid, c.Case)
				} else if caseID(c.Case) != made {
					v.report(ClassCreate, made, "registration request %s made this case, but a call (seq %d, replica %d) was told %s", rid, c.Seq, c.Replica, c.Case)
				}
			}
			if c.Outcome != Refused && !c.Altered {
				settled = true
			}
		}
		if made != "" && !acked && !settled {
			v.report(ClassRefusedTrace, made, "every registration call with request %s was refused, yet it made this case", rid)
		} else if t := v.db.createTimes[made]; made != "" && !t.IsZero() {
			// Registered when only refused calls with its request id had
			// been sent: one of them made it, whatever a retry was told.
			var causes []string
			for _, c := range calls {
				if c.Altered || c.Start.After(t.Add(causeMargin)) {
					continue
				}
				if c.Outcome != Refused {
					causes = nil
					break
				}
				causes = append(causes, fmt.Sprintf("seq %d: %s %s", c.Seq, c.Code, c.Reason))
			}
			if len(causes) > 0 {
				v.report(ClassRefusedTrace, made, "registration request %s made this case at %s, when every call with it had been refused (%s)",
					rid, t.Format(time.RFC3339Nano), strings.Join(causes, "; "))
			}
		}
	}
}

// tolerated are refusals a request can get before the service looks its
// request id up (a malformed etag or field, throttling, no writable
// database), so they say nothing about idempotency.
var tolerated = []codes.Code{codes.InvalidArgument, codes.ResourceExhausted, codes.Unauthenticated, codes.Unavailable}

// checkReplays checks the answers to request ids sent again after their
// request was applied: the same action must get the first result, another
// action ALREADY_EXISTS. A registration under a used request id with a
// different body must get ALREADY_EXISTS too.
func (v *verifier) checkReplays() {
	groups := map[ridKey][]Call{}
	for _, call := range v.rec.Calls {
		if call.RequestID != "" {
			k := ridKey{caseID(call.Case), call.RequestID}
			groups[k] = append(groups[k], call)
		}
	}
	for _, k := range slices.SortedFunc(maps.Keys(groups), func(a, b ridKey) int {
		return cmp.Or(cmp.Compare(a.caseID, b.caseID), cmp.Compare(a.requestID, b.requestID))
	}) {
		c := v.db.cases[k.caseID]
		if c == nil {
			continue
		}
		var ev *dbEvent
		for i := range c.events {
			if c.events[i].requestID == k.requestID && c.events[i].version > 1 {
				ev = &c.events[i]
			}
		}
		if ev == nil {
			continue
		}
		calls := groups[k]
		var applied *Call
		for i := range calls {
			if calls[i].Outcome == Acked && (applied == nil || calls[i].End.Before(applied.End)) {
				applied = &calls[i]
			}
		}
		for _, call := range calls {
			after := call.Resolve || (applied != nil && call.Start.After(applied.End))
			if !after || call.Outcome != Refused || slices.Contains(tolerated, call.Code) {
				continue
			}
			if call.Action == ev.action {
				v.report(ClassReplay, k.caseID, "request %s (%s) was applied as version %d, but a later call with it (seq %d) was refused with %s: %s",
					k.requestID, call.Action, ev.version, call.Seq, call.Code, call.Message)
			} else if call.Code != codes.AlreadyExists {
				v.report(ClassReplay, k.caseID, "request %s was applied as version %d (%s); a later call reusing it for %s (seq %d) got %s, not ALREADY_EXISTS",
					k.requestID, ev.version, ev.action, call.Action, call.Seq, call.Code)
			}
		}
	}
	for _, c := range v.rec.Creates {
		if c.Altered && c.Outcome == Acked {
			v.report(ClassReplay, caseID(c.Case), "a different registration under the used request id %s was acknowledged (seq %d), not refused with ALREADY_EXISTS", c.RequestID, c.Seq)
		}
	}
}

// checkAudit checks that the audit trail has one WRITE row for each change
// a caller made, with the method that made it.
func (v *verifier) checkAudit() {
	for _, c := range v.sortedCases() {
		want := map[string]int{}
		for _, e := range c.events {
			if e.actor != "system" {
				want[api.ActionMethod(e.action)]++
			}
		}
		methods := maps.Clone(want)
		maps.Copy(methods, c.audit)
		for _, m := range slices.Sorted(maps.Keys(methods)) {
			if want[m] != c.audit[m] {
				v.report(ClassAudit, c.id, "%d changes by %s in the history, %d WRITE rows in the audit trail", want[m], m, c.audit[m])
			}
		}
	}
}
