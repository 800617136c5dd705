// Package caseflow is the action pipeline: every change of a case, from
// whichever entry point (the API, the demo loader, the benchmark, the
// service's own jobs), goes through it in the same order:
//
//  1. load the case in the caller's scope (and an earlier result of the
//     same request id);
//  2. look up what deciding needs beyond the case (deadline rules, the
//     assignee's directory entries, the session named);
//  3. authorize the action against the case as read (package auth);
//  4. decide it (casework.Apply: the state machine and the rules);
//  5. persist it in one statement with an optimistic version check
//     (package store), with its history, outbox and audit rows;
//  6. run its follow-ups (automatic assignment after an acceptance).
//
// A lost race without an etag decides again against the new state; with
// an etag it is a conflict. The store persists and queries; this package
// decides with the domain and the policy; the API converts wire formats.
package caseflow

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/mediationd/mediationd/internal/auth"
	"github.com/mediationd/mediationd/internal/casework"
	"github.com/mediationd/mediationd/internal/store"
)

// maxAttempts bounds how often an action without an etag is decided again
// after losing a race to a concurrent change of the same case.
const maxAttempts = 8

// Flow runs case actions and registrations.
type Flow struct {
	st     *store.Store
	now    func() time.Time
	policy casework.Policy
	log    *slog.Logger
}

// New returns the pipeline over st. now tells the time (tests move it);
// policy's Location is the bureau's time zone (case-number years, due
// dates).
func New(st *store.Store, now func() time.Time, policy casework.Policy, log *slog.Logger) *Flow {
	if now == nil {
		now = time.Now
	}
	if policy.Location == nil {
		policy.Location = time.UTC
	}
	if policy.GroupDisputeApplicants <= 0 {
		policy.GroupDisputeApplicants = casework.DefaultPolicy.GroupDisputeApplicants
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Flow{st: st, now: now, policy: policy, log: log}
}

// Policy is the casework policy the flow decides with.
func (f *Flow) Policy() casework.Policy { return f.policy }

// Now is the flow's clock, in UTC at the database's precision.
func (f *Flow) Now() time.Time { return f.now().UTC().Truncate(time.Microsecond) }

// Caller is on whose behalf the flow acts: the principal (for the scope,
// the permission check and the history) and, for requests, what the audit
// trail records of the request (nil: no audit row).
type Caller struct {
	Principal auth.Principal
	Audit     *store.AuditContext
}

// System is the caller of the service's own work: every case, every
// action, no audit row.
var System = Caller{Principal: auth.System}

// recorded notes that the request's write is on record without a row of
// its own.
func (c Caller) recorded() {
	if c.Audit != nil {
		c.Audit.Recorded = true
	}
}

func (c Caller) access() store.Access {
	return store.Access{Scope: auth.ScopeOf(c.Principal), Principal: c.Principal, Audit: c.Audit}
}

// Result is what an action did.
type Result struct {
	// Case is the case after the action (and its follow-ups).
	Case casework.Case
	// Event is the history row the action wrote.
	Event casework.Event
	// Replayed: the request id had been used for this action before; the
	// action was not taken again, Event is the first call's and Case the
	// case as it is now.
	Replayed bool
}

// Act decides cmd against case id on behalf of the caller and stores it.
// ifVersion > 0 makes it conditional on the case still being at that
// version (the caller's etag); a mismatch is a *casework.ConflictError.
// cmd's Actor, Time and Policy are the flow's to set; cmd.Time may be set
// by the service's own callers (the demo replays steps at their times).
//
// A case outside the caller's scope is casework.ErrNotFound; an action the
// caller may not take on the case as read is an *auth.PermissionError.
func (f *Flow) Act(ctx context.Context, who Caller, id uuid.UUID, ifVersion int64, cmd casework.Command) (Result, error) {
	var requestID *uuid.UUID
	if cmd.RequestID != "" {
		rid, err := uuid.Parse(cmd.RequestID)
		if err != nil {
			return Result{}, &casework.FieldError{Field: "request_id", Message: "must be a UUID, e.g. " + uuid.NewString()}
		}
		requestID = &rid
	}
	if cmd.Actor == "" {
		cmd.Actor = who.Principal.Name
	}
	if cmd.Time.IsZero() {
		cmd.Time = f.Now()
	}
	cmd.Policy = f.policy
	access := who.access()
	for attempt := 1; ; attempt++ {
		cur, prior, err := f.st.LoadForAction(ctx, id, requestID, access.Scope)
		if err != nil {
			return Result{}, err
		}
		if prior != nil {
			if prior.Action != cmd.Action {
				return Result{}, &casework.AlreadyExistsError{
					Reason:  "REQUEST_ID_REUSED",
					Message: fmt.Sprintf("request_id %s was already used for %q on this case (version %d); send a new request_id for a new action", cmd.RequestID, prior.Action, prior.Version),
				}
			}
			prior.CaseID, prior.RequestID = id, cmd.RequestID
			who.recorded() // the first call's audit row stands for the retry
			return Result{Case: cur, Event: *prior, Replayed: true}, nil
		}
		if ifVersion > 0 && cur.Version != ifVersion {
			return Result{}, staleError(cur)
		}
		next, ev, err := f.decide(ctx, who, cur, cmd)
		if err != nil {
			return Result{}, err
		}
		ok, err := f.st.WriteAction(ctx, cur.Version, next, ev, access)
		if err != nil {
			return Result{}, err
		}
		if ok {
			if cmd.Action == casework.ActionAccept {
				next = f.autoAssign(ctx, who, next)
			}
			return Result{Case: next, Event: ev}, nil
		}
		if ifVersion > 0 {
			return Result{}, staleError(cur)
		}
		if attempt == maxAttempts {
			return Result{}, &casework.ConflictError{Message: fmt.Sprintf("case %s kept changing under %d attempts to %s it; read it and try again", cur.Number, attempt, cmd.Action)}
		}
	}
}

// Lookups is what deciding an action needs beyond the case: the deadline
// rule that applies, the organization and mediator an assignment names,
// and the session a session action names. The store answers them for the
// service; the demo loader answers them from its plan's directory.
type Lookups interface {
	// MatchDeadlineRule returns the most specific deadline rule for a
	// source, an organization type ("" for none) and a court procedure.
	MatchDeadlineRule(ctx context.Context, source casework.Source, orgType casework.OrganizationType, procedure casework.CourtProcedure) (casework.DeadlineRule, error)
	// Assignee returns the organization and mediator an assignment names
	// (organizations/{id}, mediators/{id}); a *casework.FieldError names one
	// that is not in the directory.
	Assignee(ctx context.Context, organization, mediator string) (casework.Organization, casework.Mediator, error)
	// Session returns a session of a case, or an error wrapping
	// casework.ErrNotFound.
	Session(ctx context.Context, caseID uuid.UUID, number int) (casework.Session, error)
}

// decide runs steps 2 to 4 of the pipeline on the case as read.
func (f *Flow) decide(ctx context.Context, who Caller, cur casework.Case, cmd casework.Command) (casework.Case, casework.Event, error) {
	return Decide(ctx, f.st, who.Principal, cur, cmd)
}

// Decide is the pipeline's decision on a case as read, without persisting
// it: look up what cmd needs (lk), check that p may take the action on the
// case (auth.MayAct), and decide it (casework.Apply). cmd carries its
// actor, time and policy. Act runs it between loading and writing; the
// demo loader runs it to replay its plan as the service would decide it.
func Decide(ctx context.Context, lk Lookups, p auth.Principal, cur casework.Case, cmd casework.Command) (casework.Case, casework.Event, error) {
	if err := lookUp(ctx, lk, cur, &cmd); err != nil {
		return casework.Case{}, casework.Event{}, err
	}
	if err := auth.MayAct(p, cur, cmd); err != nil {
		return casework.Case{}, casework.Event{}, err
	}
	return casework.Apply(cur, cmd)
}

func staleError(cur casework.Case) error {
	return &casework.ConflictError{Message: fmt.Sprintf("case %s changed since the etag was read (it is now at version %d, state %s); read it again and decide again", cur.Number, cur.Version, cur.State), Version: cur.Version}
}

// lookUp fetches what deciding cmd needs beyond the case: the deadline rule
// at acceptance and assignment, the organization and mediator of an
// assignment, the session a session action names.
func lookUp(ctx context.Context, lk Lookups, cur casework.Case, cmd *casework.Command) error {
	if !casework.Allowed(cur.State, cmd.Action) {
		return nil // the decision refuses it, naming the state
	}
	var procedure casework.CourtProcedure
	if cur.CourtReferral != nil {
		procedure = cur.CourtReferral.Procedure
	}
	switch cmd.Action {
	case casework.ActionAccept:
		rule, err := lk.MatchDeadlineRule(ctx, cur.Source, "", procedure)
		if err != nil {
			return err
		}
		cmd.Rule = &rule
	case casework.ActionAssign:
		if cmd.Organization == "" || cmd.Mediator == "" {
			return nil // the decision says what is missing
		}
		org, med, err := lk.Assignee(ctx, cmd.Organization, cmd.Mediator)
		if err != nil {
			return err
		}
		cmd.Assignee = &casework.Assignee{Organization: org, Mediator: med}
		if cur.Deadline != nil {
			rule, err := lk.MatchDeadlineRule(ctx, cur.Source, org.Type, procedure)
			if err != nil {
				return err
			}
			cmd.Rule = &rule
		}
	case casework.ActionRecordSession, casework.ActionCancelSession:
		if cmd.Session == nil || cmd.Session.Number <= 0 {
			return &casework.FieldError{Field: "session", Message: "required: the session, cases/{case}/sessions/{n}"}
		}
		ses, err := lk.Session(ctx, cur.ID, cmd.Session.Number)
		if err != nil && !errors.Is(err, casework.ErrNotFound) {
			return err
		}
		if err == nil {
			cmd.StoredSession = &ses
		}
	}
	return nil
}

// autoAssign is the follow-up of an acceptance: a just-accepted case whose
// region asks for it is assigned to its best suggestion. It is a separate
// step by the system, audited with the request that set it off: if it
// cannot be done (no candidate, a concurrent change), the case stays
// accepted and awaits a person, and the acceptance stands. A replayed
// acceptance does not come here: it acted the first time.
func (f *Flow) autoAssign(ctx context.Context, who Caller, c casework.Case) casework.Case {
	on, err := f.st.RegionAutoAssign(ctx, c.RegionCode)
	if err != nil || !on {
		if err != nil {
			f.log.WarnContext(ctx, "auto-assignment skipped", "case", c.Number, "error", err.Error())
		}
		return c
	}
	suggestions, err := f.Suggest(ctx, c, 1)
	if err != nil || len(suggestions) == 0 {
		f.log.InfoContext(ctx, "auto-assignment found no candidate", "case", c.Number)
		return c
	}
	best := suggestions[0]
	reasons := make([]string, len(best.Reasons))
	for i, r := range best.Reasons {
		reasons[i] = r.Message
	}
	system := Caller{Principal: auth.System, Audit: who.Audit}
	res, err := f.Act(ctx, system, c.ID, c.Version, casework.Command{
		Action:       casework.ActionAssign,
		Organization: best.Organization.Name(),
		Mediator:     best.Mediator.Name(),
		Reason:       "按规则自动分派：" + strings.Join(reasons, "；"),
	})
	if err != nil {
		f.log.WarnContext(ctx, "auto-assignment failed", "case", c.Number, "error", err.Error())
		return c
	}
	return res.Case
}

// Suggest ranks up to max organization and mediator pairs who could take
// case c, best first, with their reasons.
func (f *Flow) Suggest(ctx context.Context, c casework.Case, max int) ([]casework.Suggestion, error) {
	candidates, err := f.st.Candidates(ctx, c.RegionCode)
	if err != nil {
		return nil, err
	}
	return casework.Suggest(c, candidates, max), nil
}

// Create registers a dispute on behalf of the caller: it validates the
// registration, checks that the caller may register it (a court referral
// only by its court's own desk, or an administrator on its behalf) and
// that its region is in the directory, then stores it with its first
// history, outbox and audit rows. requestID (optional, a UUID) makes it
// idempotent; a court referral sent again returns the case it made.
// replayed says an earlier case came back.
func (f *Flow) Create(ctx context.Context, who Caller, n casework.NewCase, requestID string) (c casework.Case, replayed bool, err error) {
	now := f.Now()
	n.Normalize()
	if err := n.Validate(now); err != nil {
		return c, false, err
	}
	if err := auth.MayCreate(who.Principal, n); err != nil {
		return c, false, err
	}
	intake, err := f.intake(ctx, who, n)
	if err != nil {
		return c, false, err
	}
	if known, err := f.st.RegionKnown(ctx, n.RegionCode); err != nil {
		return c, false, err
	} else if !known {
		return c, false, &casework.FieldError{Field: "case.region_code", Message: fmt.Sprintf("%q is not a region of the directory: use a GB/T 2260 code that GET /v1/regions lists, e.g. 621002 for 西峰区", n.RegionCode)}
	}
	id, err := uuid.NewV7()
	if err != nil {
		return c, false, fmt.Errorf("new case id: %w", err)
	}
	c, replayed, err = f.st.CreateCase(ctx, store.CreateParams{
		New:       n,
		ID:        id,
		Actor:     who.Principal.Name,
		ActorRole: who.Principal.Role,
		RequestID: requestID,
		Now:       now,
		Year:      now.In(f.policy.Location).Year(),
		Policy:    f.policy,

		IntakeOrganization: intake,
		Audit:              who.Audit,
	})
	if err == nil && replayed {
		who.recorded() // the first call's audit row stands for the retry
	}
	return c, replayed, err
}

// intake is the organization whose intake a registration is: the invited
// organization a court refers the dispute to, which must be active and on
// the courts' roster, else the registrant's own organization ("" if none).
func (f *Flow) intake(ctx context.Context, who Caller, n casework.NewCase) (string, error) {
	r := n.CourtReferral
	if r == nil || r.Organization == "" {
		return who.Principal.OrganizationName(), nil
	}
	const field = "case.court_referral.organization"
	org, err := f.st.GetOrganization(ctx, strings.TrimPrefix(r.Organization, "organizations/"))
	switch {
	case errors.Is(err, casework.ErrNotFound):
		return "", &casework.FieldError{Field: field, Message: fmt.Sprintf("%s is not in the directory; GET /v1/organizations?filter=court_roster%%20%%3D%%20true lists the invited organizations", r.Organization)}
	case err != nil:
		return "", err
	case !org.Active:
		return "", &casework.PreconditionError{Reason: "ORGANIZATION_INACTIVE", Message: fmt.Sprintf("%s (%s) is deactivated and takes no new cases", r.Organization, org.DisplayName)}
	case !org.CourtRoster:
		return "", &casework.PreconditionError{Reason: "NOT_ON_COURT_ROSTER", Message: fmt.Sprintf("%s (%s) is not on the courts' roster of invited mediation organizations (特邀调解组织); refer the dispute to one that is", r.Organization, org.DisplayName)}
	}
	return org.Name(), nil
}

// MarkOverdue records the service's own action markOverdue on up to batch
// open cases whose time limit passed before now, each once (safe with
// several replicas), and returns how many it marked. The rule is one
// condition on stored columns, so it is decided in the statement that
// writes the history and outbox rows, set-wise.
func (f *Flow) MarkOverdue(ctx context.Context, now time.Time, batch int) (int, error) {
	return f.st.MarkOverdue(ctx, now, batch)
}
