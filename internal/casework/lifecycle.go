package casework

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/looplab/fsm"
)

func states(ss ...State) []string {
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = string(s)
	}
	return out
}

// self is an event that keeps the state, allowed in each of ss.
func self(a Action, ss ...State) []fsm.EventDesc {
	out := make([]fsm.EventDesc, len(ss))
	for i, s := range ss {
		out[i] = fsm.EventDesc{Name: string(a), Src: states(s), Dst: string(s)}
	}
	return out
}

// transitions is the lifecycle: the one definition from which the service
// decides every action and publishes its workflow description and diagram.
// Actions that keep the state (sessions, follow-ups...) are self-loops, so
// that the machine also says in which states they are allowed.
var transitions = slices.Concat(
	[]fsm.EventDesc{
		{Name: string(ActionAccept), Src: states(StateIntake), Dst: string(StateAccepted)},
		{Name: string(ActionReject), Src: states(StateIntake), Dst: string(StateClosed)},
		{Name: string(ActionAssign), Src: states(StateAccepted), Dst: string(StateAssigned)},
	},
	// A reassignment keeps the state.
	self(ActionAssign, StateAssigned, StateMediating),
	[]fsm.EventDesc{
		{Name: string(ActionStartMediation), Src: states(StateAssigned), Dst: string(StateMediating)},
		{Name: string(ActionRecordAgreement), Src: states(StateMediating), Dst: string(StateAgreed)},
		{Name: string(ActionRecordFailure), Src: states(StateMediating), Dst: string(StateClosed)},
		{Name: string(ActionWithdraw), Src: states(StateIntake, StateAccepted, StateAssigned, StateMediating), Dst: string(StateClosed)},
		{Name: string(ActionClose), Src: states(StateAgreed), Dst: string(StateClosed)},
		// 回避: back to awaiting assignment.
		{Name: string(ActionRecuse), Src: states(StateAssigned, StateMediating), Dst: string(StateAccepted)},
	},
	self(ActionUpdate, StateIntake, StateAccepted, StateAssigned, StateMediating, StateAgreed),
	self(ActionExtendDeadline, StateAccepted, StateAssigned, StateMediating),
	self(ActionMarkOverdue, StateAccepted, StateAssigned, StateMediating),
	self(ActionScheduleSession, StateAssigned, StateMediating),
	self(ActionRecordSession, StateAssigned, StateMediating),
	self(ActionCancelSession, StateAssigned, StateMediating),
	self(ActionRequestConfirmation, StateAgreed),
	self(ActionRecordConfirmation, StateAgreed),
	self(ActionRecordPerformance, StateAgreed),
	self(ActionRecordFollowUp, StateAgreed),
)

// closingOutcomes gives the outcome of each action that closes a case.
var closingOutcomes = map[Action]Outcome{
	ActionReject:        OutcomeRejected,
	ActionRecordFailure: OutcomeFailed,
	ActionWithdraw:      OutcomeWithdrawn,
	ActionClose:         OutcomeAgreement,
}

// Actions lists the lifecycle actions (every action but ActionCreate) in
// the order a case usually meets them.
var Actions = []Action{
	ActionAccept, ActionReject, ActionAssign, ActionStartMediation,
	ActionRecordAgreement, ActionRecordFailure, ActionWithdraw, ActionClose,
	ActionUpdate, ActionRecuse, ActionExtendDeadline, ActionMarkOverdue,
	ActionScheduleSession, ActionRecordSession, ActionCancelSession,
	ActionRequestConfirmation, ActionRecordConfirmation, ActionRecordPerformance, ActionRecordFollowUp,
}

// SystemActions are recorded by the service itself, never asked for by a
// caller.
var SystemActions = []Action{ActionMarkOverdue}

// Policy holds the settings decisions depend on.
type Policy struct {
	// GroupDisputeApplicants is how many applicants make a dispute 群体性.
	GroupDisputeApplicants int
	// Location is the time zone in which days are counted.
	Location *time.Location
}

// DefaultPolicy is the policy when none is configured.
var DefaultPolicy = Policy{GroupDisputeApplicants: 5, Location: time.UTC}

func (p Policy) withDefaults() Policy {
	if p.GroupDisputeApplicants <= 0 {
		p.GroupDisputeApplicants = DefaultPolicy.GroupDisputeApplicants
	}
	if p.Location == nil {
		p.Location = DefaultPolicy.Location
	}
	return p
}

// Command is a request to apply one action to a case. Besides what the
// caller asked, it carries what the store looked up for the decision
// (Assignee, Rule, Session), so that deciding needs no I/O.
type Command struct {
	Action    Action
	Actor     string
	Time      time.Time
	RequestID string
	Policy    Policy

	// Reason is the reason (reject, recordFailure, withdraw, reassignment,
	// recuse, extendDeadline, cancelSession) or the remark (other actions)
	// kept in the history.
	Reason string

	// assign
	Organization string
	Mediator     string
	// Assignee is the organization and mediator named, as stored; nil if
	// the store did not find them.
	Assignee *Assignee

	// accept and assign: the deadline rule that applies.
	Rule *DeadlineRule

	// recordAgreement
	Agreement *Agreement

	// recordFailure
	FailureReason FailureReason

	// update
	Update *CaseUpdate

	// extendDeadline; recordFollowUp uses PartyIDs of FollowUp.
	ConsentingPartyIDs []string

	// scheduleSession (the new session), recordSession and cancelSession
	// (the session as stored, with Minutes/Result/CancelReason to record).
	Session       *Session
	StoredSession *Session

	// requestConfirmation, recordConfirmation
	Confirmation *Confirmation

	// recordPerformance
	PerformanceStatus PerformanceStatus

	// recordFollowUp
	FollowUp *FollowUp

	// close
	NoFollowUpReason string
}

// Assignee is an organization and mediator as the directory holds them.
type Assignee struct {
	Organization Organization
	Mediator     Mediator
}

// CaseUpdate is a change of a case's registration data: the fields named
// in Fields take the values given.
type CaseUpdate struct {
	Fields         []string // summary, dispute_type, parties, escalation_risk, family_violence, minors_involved
	Summary        string
	DisputeType    DisputeType
	Parties        []Party
	EscalationRisk bool
	FamilyViolence bool
	MinorsInvolved bool
}

// UpdatableFields lists what UpdateCase may change.
var UpdatableFields = []string{"summary", "dispute_type", "parties", "escalation_risk", "family_violence", "minors_involved"}

// guards are the checks each action makes before it happens, with the
// changes it makes to the next case. They only read and write memory.
type decision struct {
	c    *Case
	next *Case
	cmd  *Command
	data *EventData
}

type guard func(d *decision, src State) error

var guards = map[Action]guard{
	ActionReject: func(d *decision, _ State) error {
		if isBlank(d.cmd.Reason) {
			return &FieldError{Field: "reason", Message: "required: say why the dispute is not accepted"}
		}
		return nil
	},
	ActionAccept:          (*decision).accept,
	ActionAssign:          (*decision).assign,
	ActionRecordAgreement: (*decision).recordAgreement,
	ActionRecordFailure:   (*decision).recordFailure,
	ActionClose:           (*decision).close,
	ActionUpdate:          (*decision).update,
	ActionRecuse:          (*decision).recuse,
	ActionExtendDeadline:  (*decision).extendDeadline,
	ActionMarkOverdue:     (*decision).markOverdue,
	ActionScheduleSession: (*decision).scheduleSession,
	ActionRecordSession:   (*decision).recordSession,
	ActionCancelSession:   (*decision).cancelSession,

	ActionRequestConfirmation: (*decision).requestConfirmation,
	ActionRecordConfirmation:  (*decision).recordConfirmation,
	ActionRecordPerformance:   (*decision).recordPerformance,
	ActionRecordFollowUp:      (*decision).recordFollowUp,
}

// machine returns the lifecycle state machine positioned at state, with
// the guards of d when d is not nil.
func machine(state State, d *decision) *fsm.FSM {
	callbacks := fsm.Callbacks{}
	if d != nil {
		callbacks["before_event"] = func(_ context.Context, e *fsm.Event) { runGuard(d, e) }
	}
	return fsm.NewFSM(string(state), transitions, callbacks)
}

// runGuard cancels e with the error of its action's guard, if it has one
// and it refuses.
func runGuard(d *decision, e *fsm.Event) {
	if g, ok := guards[Action(e.Event)]; ok {
		if err := g(d, State(e.Src)); err != nil {
			e.Cancel(err)
		}
	}
}

// decisionKey carries the decision whose guards a pooled machine runs.
type decisionKey struct{}

// machines are state machines ready for Apply: building one costs about
// as much as deciding an action, so each is built once and reused, put
// at the case's state and given the decision through the event's context.
// A machine is used by one Apply at a time.
var machines = sync.Pool{New: func() any {
	return fsm.NewFSM(string(StateIntake), transitions, fsm.Callbacks{
		"before_event": func(ctx context.Context, e *fsm.Event) {
			if d, ok := ctx.Value(decisionKey{}).(*decision); ok {
				runGuard(d, e)
			}
		},
	})
}}

// allowed lists, for each state, the actions the state machine allows in
// it, sorted by name: read from the machine once, as every response and
// every action asks.
var allowed = func() map[State][]Action {
	m := make(map[State][]Action, len(States))
	for _, st := range States {
		names := machine(st, nil).AvailableTransitions()
		slices.Sort(names)
		acts := make([]Action, len(names))
		for i, n := range names {
			acts[i] = Action(n)
		}
		m[st] = acts
	}
	return m
}()

// AllowedActions returns the actions allowed in state, sorted by name.
func AllowedActions(state State) []Action {
	return slices.Clone(allowed[state])
}

// Allowed reports whether state allows action.
func Allowed(state State, action Action) bool {
	_, found := slices.BinarySearch(allowed[state], action)
	return found
}

// Apply decides cmd against c. It returns the case as it will be after the
// action (version one higher) and the history event that records it, or an
// error: *NotAllowedError when the state does not allow the action,
// *FieldError when the command lacks something the action needs, and
// *PreconditionError when it does not fit the case otherwise. Apply does
// not change c.
func Apply(c Case, cmd Command) (Case, Event, error) {
	if !slices.Contains(Actions, cmd.Action) {
		return Case{}, Event{}, &FieldError{Field: "action", Message: fmt.Sprintf("unknown action %q", cmd.Action)}
	}
	if cmd.Time.IsZero() {
		return Case{}, Event{}, errors.New("casework: a command needs the time it happens")
	}
	cmd.Policy = cmd.Policy.withDefaults()
	cmd.Reason = strings.TrimSpace(cmd.Reason)
	cmd.Organization = strings.TrimSpace(cmd.Organization)
	cmd.Mediator = strings.TrimSpace(cmd.Mediator)

	next := c.clone()
	next.Version = c.Version + 1
	next.UpdateTime = cmd.Time
	data := EventData{Reason: cmd.Reason}
	d := &decision{c: &c, next: &next, cmd: &cmd, data: &data}

	m := machines.Get().(*fsm.FSM)
	m.SetState(string(c.State))
	err := m.Event(context.WithValue(context.Background(), decisionKey{}, d), string(cmd.Action))
	next.State = State(m.Current())
	machines.Put(m)
	var noTransition fsm.NoTransitionError
	var canceled fsm.CanceledError
	var invalid fsm.InvalidEventError
	switch {
	case err == nil:
	case errors.As(err, &noTransition) && noTransition.Err == nil:
		// An action that keeps the state.
	case errors.As(err, &canceled) && canceled.Err != nil:
		return Case{}, Event{}, canceled.Err
	case errors.As(err, &invalid):
		return Case{}, Event{}, &NotAllowedError{Action: cmd.Action, State: c.State, Allowed: AllowedActions(c.State)}
	default:
		return Case{}, Event{}, fmt.Errorf("apply %s to case in %s: %w", cmd.Action, c.State, err)
	}

	if next.State == StateClosed {
		next.Outcome = closingOutcomes[cmd.Action]
		next.CloseTime = cmd.Time
		if cmd.Action != ActionClose {
			next.ClosingReason = cmd.Reason
		}
	}
	// Still to reassign only while the same (inactive) assignee holds the
	// open case: an assignment, a recusal or an outcome settles it.
	next.NeedsReassignment = c.NeedsReassignment && (next.State == StateAssigned || next.State == StateMediating) &&
		next.Organization == c.Organization && next.Mediator == c.Mediator
	ev := Event{
		CaseID:    c.ID,
		Version:   next.Version,
		Action:    cmd.Action,
		From:      c.State,
		To:        next.State,
		Outcome:   next.Outcome,
		Actor:     cmd.Actor,
		Time:      cmd.Time,
		RequestID: cmd.RequestID,
		Data:      data,
	}
	return next, ev, nil
}

// clone copies c deeply enough that changing the copy's slices and
// pointed-to values leaves c alone.
func (c Case) clone() Case {
	n := c
	n.Parties = slices.Clone(c.Parties)
	n.RecusedMediators = slices.Clone(c.RecusedMediators)
	if c.Deadline != nil {
		dl := *c.Deadline
		n.Deadline = &dl
	}
	if c.Confirmation != nil {
		cf := *c.Confirmation
		n.Confirmation = &cf
	}
	return n
}

func (d *decision) accept(State) error {
	r := d.cmd.Rule
	if r == nil {
		return errors.New("casework: accepting a case needs the deadline rule that applies")
	}
	d.next.AcceptTime = d.cmd.Time
	d.next.Deadline = &Deadline{
		DueTime:       DueTime(d.cmd.Time, r.Days, d.cmd.Policy.Location),
		MaxExtensions: r.MaxExtensions,
		ExtensionDays: r.ExtensionDays,
		RuleID:        r.ID,
	}
	return nil
}

func (d *decision) assign(src State) error {
	c, cmd := d.c, d.cmd
	switch {
	case isBlank(cmd.Organization):
		return &FieldError{Field: "organization", Message: "required: the organization that takes the case, organizations/{organization}"}
	case isBlank(cmd.Mediator):
		return &FieldError{Field: "mediator", Message: "required: the mediator who takes the case, mediators/{mediator}"}
	case src != StateAccepted && isBlank(cmd.Reason):
		return &FieldError{Field: "reason", Message: fmt.Sprintf("required: the case is %s with %s, so this is a reassignment (改派) and needs a reason", src, c.Mediator)}
	case cmd.Organization == c.Organization && cmd.Mediator == c.Mediator:
		return &PreconditionError{Reason: "ALREADY_ASSIGNED", Message: fmt.Sprintf("the case is already assigned to %s of %s", c.Mediator, c.Organization)}
	case slices.Contains(c.RecusedMediators, cmd.Mediator):
		return &PreconditionError{Reason: "MEDIATOR_RECUSED", Message: fmt.Sprintf("%s withdrew from this case (回避) and cannot be assigned to it again; choose another mediator", cmd.Mediator)}
	}
	if a := cmd.Assignee; a != nil {
		org, med := a.Organization, a.Mediator
		switch {
		case org.Name() != cmd.Organization || med.Name() != cmd.Mediator:
			return errors.New("casework: the assignee looked up is not the one asked for")
		case med.OrganizationID != org.ID:
			return &FieldError{Field: "mediator", Message: fmt.Sprintf("%s (%s) belongs to organizations/%s, not to %s", cmd.Mediator, med.DisplayName, med.OrganizationID, cmd.Organization)}
		case !org.Active:
			return &PreconditionError{Reason: "ORGANIZATION_INACTIVE", Message: fmt.Sprintf("%s (%s) is deactivated and takes no new cases", cmd.Organization, org.DisplayName)}
		case !med.Active:
			return &PreconditionError{Reason: "MEDIATOR_INACTIVE", Message: fmt.Sprintf("%s (%s) is deactivated and gets no new cases", cmd.Mediator, med.DisplayName)}
		case !org.Takes(c.DisputeType):
			return &PreconditionError{Reason: "ORGANIZATION_DOES_NOT_TAKE_TYPE", Message: fmt.Sprintf("%s (%s) does not take %s disputes; SuggestAssignment lists organizations that do", cmd.Organization, org.DisplayName, c.DisputeType)}
		}
	}
	d.next.Organization, d.next.Mediator = cmd.Organization, cmd.Mediator
	d.data.Assignment = &Assignment{
		Organization:         cmd.Organization,
		Mediator:             cmd.Mediator,
		PreviousOrganization: c.Organization,
		PreviousMediator:     c.Mediator,
	}
	// The organization type may change which time limit applies; the
	// limit still runs from acceptance, and extensions granted stay.
	if r := cmd.Rule; r != nil && d.next.Deadline != nil && r.ID != d.next.Deadline.RuleID {
		dl := d.next.Deadline
		dl.DueTime = DueTime(d.next.AcceptTime, r.Days+dl.ExtensionCount*r.ExtensionDays, cmd.Policy.Location)
		dl.RuleID, dl.MaxExtensions, dl.ExtensionDays = r.ID, r.MaxExtensions, r.ExtensionDays
		dl.Overdue = dl.Overdue && !cmd.Time.Before(dl.DueTime)
		d.data.Deadline = dl
	}
	return nil
}

func (d *decision) recuse(State) error {
	if isBlank(d.cmd.Reason) {
		return &FieldError{Field: "reason", Message: "required: say why the mediator withdraws (回避)"}
	}
	d.next.RecusedMediators = append(d.next.RecusedMediators, d.c.Mediator)
	d.data.Assignment = &Assignment{PreviousOrganization: d.c.Organization, PreviousMediator: d.c.Mediator}
	d.next.Organization, d.next.Mediator = "", ""
	return nil
}

func (d *decision) recordAgreement(State) error {
	a := d.cmd.Agreement
	if a == nil || isBlank(a.Terms) {
		return &FieldError{Field: "agreement.terms", Message: "required: the terms the parties agreed"}
	}
	agreed := *a
	agreed.Terms = strings.TrimSpace(a.Terms)
	agreed.Facts = strings.TrimSpace(a.Facts)
	agreed.RecordTime = d.cmd.Time
	agreed.Obligations = slices.Clone(a.Obligations)
	if agreed.Form == "" {
		agreed.Form = FormWritten
	}
	if agreed.Form == FormWritten && agreed.Facts == "" {
		return &FieldError{Field: "agreement.facts", Message: "required for a written agreement: the main facts and the matters in dispute (纠纷主要事实、争议事项, 人民调解法 第29条)"}
	}
	if agreed.SignDate == "" {
		agreed.SignDate = d.cmd.Time.In(d.cmd.Policy.Location).Format(time.DateOnly)
	} else if _, err := time.Parse(time.DateOnly, agreed.SignDate); err != nil {
		return &FieldError{Field: "agreement.sign_date", Message: fmt.Sprintf("%q is not a date: use YYYY-MM-DD", agreed.SignDate)}
	}
	if agreed.Copies == 0 {
		// 当事人、人民调解委员会各持一份: an agent keeps none.
		agreed.Copies = 1
		for _, p := range d.c.Parties {
			if p.Role != RoleAgent {
				agreed.Copies++
			}
		}
	}
	for i, o := range agreed.Obligations {
		field := fmt.Sprintf("agreement.obligations[%d]", i)
		if _, ok := d.c.Party(o.ObligorPartyID); !ok {
			return &FieldError{Field: field + ".obligor_party_id", Message: fmt.Sprintf("no party %q in the case; use the id of one of its parties (%s)", o.ObligorPartyID, d.c.partyIDs())}
		}
		if o.ObligeePartyID != "" {
			if _, ok := d.c.Party(o.ObligeePartyID); !ok {
				return &FieldError{Field: field + ".obligee_party_id", Message: fmt.Sprintf("no party %q in the case; use the id of one of its parties (%s)", o.ObligeePartyID, d.c.partyIDs())}
			}
			if o.ObligeePartyID == o.ObligorPartyID {
				return &FieldError{Field: field + ".obligee_party_id", Message: "a party cannot owe itself"}
			}
		}
		if isBlank(o.Description) {
			return &FieldError{Field: field + ".description", Message: "required: what is owed"}
		}
		if o.DueDate != "" {
			if _, err := time.Parse(time.DateOnly, o.DueDate); err != nil {
				return &FieldError{Field: field + ".due_date", Message: fmt.Sprintf("%q is not a date: use YYYY-MM-DD", o.DueDate)}
			}
		}
		if o.Amount != "" {
			fen, err := ParseYuan(o.Amount)
			if err != nil {
				return &FieldError{Field: field + ".amount", Message: err.Error()}
			}
			agreed.Obligations[i].Amount = FormatYuan(fen)
		}
	}
	d.next.Agreement = &agreed
	d.data.Agreement = &agreed
	return nil
}

func (d *decision) recordFailure(State) error {
	if isBlank(d.cmd.Reason) {
		return &FieldError{Field: "reason", Message: "required: say why mediation failed"}
	}
	reason := d.cmd.FailureReason
	if reason == "" {
		reason = FailureOther
	}
	f := &Failure{Reason: reason, Details: d.cmd.Reason, ReturnToCourt: d.c.CourtReferral != nil}
	d.next.Failure = f
	d.data.Failure = f
	return nil
}

func (d *decision) close(State) error {
	reason := strings.TrimSpace(d.cmd.NoFollowUpReason)
	if d.c.FollowUpCount == 0 && reason == "" {
		return &FieldError{Field: "no_follow_up_reason", Message: "required: no follow-up visit (回访) is recorded; record one with :recordFollowUp, or say why there is none"}
	}
	if d.c.FollowUpCount == 0 {
		d.next.NoFollowUpReason = reason
		if d.data.Reason == "" {
			d.data.Reason = reason
		}
	}
	return nil
}

func (d *decision) update(State) error {
	u := d.cmd.Update
	if u == nil || len(u.Fields) == 0 {
		return &FieldError{Field: "update_mask", Message: "required: name the fields to change: " + strings.Join(UpdatableFields, ", ")}
	}
	n := NewCase{
		DisputeType: d.c.DisputeType, Source: d.c.Source, Summary: d.c.Summary, RegionCode: d.c.RegionCode,
		Parties: d.c.Parties, CourtReferral: d.c.CourtReferral,
		EscalationRisk: d.c.EscalationRisk, FamilyViolence: d.c.FamilyViolence, MinorsInvolved: d.c.MinorsInvolved,
	}
	var changed []string
	for _, f := range u.Fields {
		switch f {
		case "summary":
			n.Summary = u.Summary
		case "dispute_type":
			n.DisputeType = u.DisputeType
		case "parties":
			n.Parties = u.Parties
		case "escalation_risk":
			n.EscalationRisk = u.EscalationRisk
		case "family_violence":
			n.FamilyViolence = u.FamilyViolence
		case "minors_involved":
			n.MinorsInvolved = u.MinorsInvolved
		default:
			return &FieldError{Field: "update_mask", Message: fmt.Sprintf("%q cannot be changed; the fields that can: %s", f, strings.Join(UpdatableFields, ", "))}
		}
		if !slices.Contains(changed, f) {
			changed = append(changed, f)
		}
	}
	n.Normalize()
	if err := n.Validate(d.cmd.Time); err != nil {
		return err
	}
	d.next.Summary, d.next.DisputeType, d.next.Parties = n.Summary, n.DisputeType, n.Parties
	d.next.EscalationRisk, d.next.FamilyViolence, d.next.MinorsInvolved = n.EscalationRisk, n.FamilyViolence, n.MinorsInvolved
	d.next.GroupDispute = n.GroupDispute(d.cmd.Policy)
	slices.Sort(changed)
	d.data.ChangedFields = changed
	return nil
}

func (d *decision) extendDeadline(State) error {
	dl := d.next.Deadline
	switch {
	case isBlank(d.cmd.Reason):
		return &FieldError{Field: "reason", Message: "required: say why the time limit is extended"}
	case dl == nil:
		return errors.New("casework: an accepted case without a deadline")
	case dl.ExtensionCount >= dl.MaxExtensions:
		return &PreconditionError{Reason: "EXTENSION_LIMIT", Message: fmt.Sprintf("the deadline rule %s allows %d extension(s) and the case has had %d; no further extension", dl.RuleID, dl.MaxExtensions, dl.ExtensionCount)}
	case dl.ExtensionDays <= 0:
		return &PreconditionError{Reason: "EXTENSION_LIMIT", Message: fmt.Sprintf("the deadline rule %s grants no extension days", dl.RuleID)}
	}
	consent := slices.Clone(d.cmd.ConsentingPartyIDs)
	for i, id := range consent {
		if _, ok := d.c.Party(id); !ok {
			return &FieldError{Field: fmt.Sprintf("consenting_party_ids[%d]", i), Message: fmt.Sprintf("no party %q in the case; the parties are %s", id, d.c.partyIDs())}
		}
	}
	for _, p := range d.c.Parties {
		if (p.Role == RoleApplicant || p.Role == RoleRespondent) && !slices.Contains(consent, p.ID) {
			return &FieldError{Field: "consenting_party_ids", Message: fmt.Sprintf("an extension needs both sides' consent: %s (%s, %s) has not consented", p.ID, p.Name, p.Role)}
		}
	}
	dl.ExtensionCount++
	dl.DueTime = DueTime(dl.DueTime, dl.ExtensionDays, d.cmd.Policy.Location)
	dl.Overdue = dl.Overdue && !d.cmd.Time.Before(dl.DueTime)
	d.data.Deadline = dl
	d.data.ConsentingPartyIDs = consent
	return nil
}

func (d *decision) markOverdue(State) error {
	dl := d.next.Deadline
	if dl == nil || dl.Overdue || !d.cmd.Time.After(dl.DueTime) {
		return &PreconditionError{Reason: "NOT_OVERDUE", Message: "the case is not past its due time, or is already marked overdue"}
	}
	dl.Overdue = true
	d.data.Deadline = dl
	return nil
}

// SessionWindow is how far from now a session may be scheduled: ahead, or
// behind when it is entered after it took place.
const SessionWindow = 366 * 24 * time.Hour

// notAhead refuses a time given for something that has happened (a visit,
// a court's request or decision) when it lies ahead of now; a day of slack
// covers clocks and time zones.
func (d *decision) notAhead(field string, t time.Time) error {
	if t.After(d.cmd.Time.Add(24 * time.Hour)) {
		return &FieldError{Field: field, Message: fmt.Sprintf("%s is in the future: record what has happened, when it happened (now is %s)",
			t.UTC().Format(time.RFC3339), d.cmd.Time.UTC().Format(time.RFC3339))}
	}
	return nil
}

func (d *decision) scheduleSession(State) error {
	s := d.cmd.Session
	switch {
	case s == nil || s.StartTime.IsZero():
		return &FieldError{Field: "start_time", Message: "required: when the session starts"}
	case s.StartTime.Before(d.cmd.Time.Add(-SessionWindow)) || s.StartTime.After(d.cmd.Time.Add(SessionWindow)):
		return &FieldError{Field: "start_time", Message: fmt.Sprintf("%s is not within a year of now (%s): a session is scheduled, or entered afterwards, within a year",
			s.StartTime.UTC().Format(time.RFC3339), d.cmd.Time.UTC().Format(time.RFC3339))}
	case !s.Online && isBlank(s.Place):
		return &FieldError{Field: "place", Message: "required unless the session is online: where it takes place"}
	}
	ns := *s
	ns.Number = d.c.SessionCount + 1
	if ns.Kind == "" {
		ns.Kind = SessionBilateral
	}
	ns.Status = SessionScheduled
	ns.Place = strings.TrimSpace(ns.Place)
	ns.Participants = slices.Clone(s.Participants)
	ns.CreateTime, ns.UpdateTime = d.cmd.Time, d.cmd.Time
	d.next.SessionCount = ns.Number
	d.data.Session = &ns
	return nil
}

// storedSession checks that the store found the session the command names.
func (d *decision) storedSession() (Session, error) {
	if d.cmd.StoredSession == nil {
		return Session{}, &FieldError{Field: "session", Message: "no such session in this case; ListCaseSessions lists them"}
	}
	return *d.cmd.StoredSession, nil
}

func (d *decision) recordSession(State) error {
	s, err := d.storedSession()
	if err != nil {
		return err
	}
	in := d.cmd.Session
	switch {
	case in == nil || isBlank(in.Minutes):
		return &FieldError{Field: "minutes", Message: "required: the minutes of the session (调解笔录)"}
	case s.Status != SessionScheduled:
		return &PreconditionError{Reason: "SESSION_NOT_SCHEDULED", Message: fmt.Sprintf("session %d is %s; only a scheduled session can be recorded", s.Number, s.Status)}
	}
	s.Status = SessionHeld
	s.Minutes = strings.TrimSpace(in.Minutes)
	s.Result = strings.TrimSpace(in.Result)
	s.UpdateTime = d.cmd.Time
	s.Participants = slices.Clone(s.Participants)
	d.data.Session = &s
	return nil
}

func (d *decision) cancelSession(State) error {
	s, err := d.storedSession()
	if err != nil {
		return err
	}
	switch {
	case isBlank(d.cmd.Reason):
		return &FieldError{Field: "reason", Message: "required: say why the session is cancelled"}
	case s.Status != SessionScheduled:
		return &PreconditionError{Reason: "SESSION_NOT_SCHEDULED", Message: fmt.Sprintf("session %d is %s; only a scheduled session can be cancelled", s.Number, s.Status)}
	}
	s.Status = SessionCancelled
	s.CancelReason = d.cmd.Reason
	s.UpdateTime = d.cmd.Time
	s.Participants = slices.Clone(s.Participants)
	d.data.Session = &s
	return nil
}

// ConfirmationWindowDays is how long after signing the parties may ask a
// court to confirm an agreement (人民调解法 第33条).
const ConfirmationWindowDays = 30

// ConfirmationDeadline is the last day judicial confirmation may be
// requested for an agreement, as a date (YYYY-MM-DD); "" if unknown.
func (a Agreement) ConfirmationDeadline() string {
	signed, err := time.Parse(time.DateOnly, a.SignDate)
	if err != nil {
		return ""
	}
	return signed.AddDate(0, 0, ConfirmationWindowDays).Format(time.DateOnly)
}

func (d *decision) requestConfirmation(State) error {
	in := d.cmd.Confirmation
	a := d.c.Agreement
	switch {
	case in == nil || isBlank(in.CourtCode):
		return &FieldError{Field: "court_code", Message: "required: the court applied to, e.g. 甘1002"}
	case a == nil:
		return errors.New("casework: an agreed case without an agreement")
	case a.Form == FormOral:
		return &PreconditionError{Reason: "ORAL_AGREEMENT", Message: "judicial confirmation needs a written agreement (调解协议书); this agreement is oral"}
	case d.c.Confirmation != nil && d.c.Confirmation.Decision != DecisionRefused:
		return &PreconditionError{Reason: "CONFIRMATION_REQUESTED", Message: "judicial confirmation was already requested on " + d.c.Confirmation.RequestTime.In(d.cmd.Policy.Location).Format(time.DateOnly)}
	}
	requested := in.RequestTime
	if requested.IsZero() {
		requested = d.cmd.Time
	}
	if err := d.notAhead("request_time", requested); err != nil {
		return err
	}
	deadline := a.ConfirmationDeadline()
	if requested.In(d.cmd.Policy.Location).Format(time.DateOnly) > deadline {
		return &PreconditionError{Reason: "CONFIRMATION_DEADLINE_PASSED", Message: fmt.Sprintf("judicial confirmation must be requested within %d days of signing (by %s); it is now too late", ConfirmationWindowDays, deadline)}
	}
	c := &Confirmation{RequestTime: requested, CourtCode: strings.TrimSpace(in.CourtCode), CourtName: strings.TrimSpace(in.CourtName)}
	d.next.Confirmation = c
	d.data.Confirmation = c
	return nil
}

func (d *decision) recordConfirmation(State) error {
	in := d.cmd.Confirmation
	switch {
	case in == nil || (in.Decision != DecisionConfirmed && in.Decision != DecisionRefused):
		return &FieldError{Field: "decision", Message: "required: CONFIRMED or REFUSED"}
	case d.c.Confirmation == nil:
		return &PreconditionError{Reason: "CONFIRMATION_NOT_REQUESTED", Message: "no judicial confirmation was requested; record the request first (:requestConfirmation)"}
	case d.c.Confirmation.Decision != "":
		return &PreconditionError{Reason: "CONFIRMATION_DECIDED", Message: "the court's decision is already recorded: " + string(d.c.Confirmation.Decision)}
	}
	c := *d.c.Confirmation
	c.Decision = in.Decision
	c.DecisionTime = in.DecisionTime
	if c.DecisionTime.IsZero() {
		c.DecisionTime = d.cmd.Time
	}
	if err := d.notAhead("decision_time", c.DecisionTime); err != nil {
		return err
	}
	if c.DecisionTime.Before(c.RequestTime) {
		return &FieldError{Field: "decision_time", Message: fmt.Sprintf("the decision cannot come before the request (%s)", c.RequestTime.UTC().Format(time.RFC3339))}
	}
	c.DocumentNumber = strings.TrimSpace(in.DocumentNumber)
	c.Remarks = strings.TrimSpace(in.Remarks)
	d.next.Confirmation = &c
	d.data.Confirmation = &c
	return nil
}

var performanceStatuses = []PerformanceStatus{Performed, PartlyPerformed, NotPerformed}

func (d *decision) recordPerformance(State) error {
	if !slices.Contains(performanceStatuses, d.cmd.PerformanceStatus) {
		return &FieldError{Field: "status", Message: "required: PERFORMED, PARTLY_PERFORMED or NOT_PERFORMED"}
	}
	d.next.PerformanceStatus = d.cmd.PerformanceStatus
	d.data.PerformanceStatus = d.cmd.PerformanceStatus
	return nil
}

func (d *decision) recordFollowUp(State) error {
	in := d.cmd.FollowUp
	if in == nil || isBlank(in.Findings) {
		return &FieldError{Field: "findings", Message: "required: what the visit found (回访情况)"}
	}
	if in.PerformanceStatus != "" && !slices.Contains(performanceStatuses, in.PerformanceStatus) {
		return &FieldError{Field: "performance_status", Message: "must be PERFORMED, PARTLY_PERFORMED or NOT_PERFORMED"}
	}
	for i, id := range in.PartyIDs {
		if _, ok := d.c.Party(id); !ok {
			return &FieldError{Field: fmt.Sprintf("party_ids[%d]", i), Message: fmt.Sprintf("no party %q in the case; the parties are %s", id, d.c.partyIDs())}
		}
	}
	f := *in
	f.Number = d.c.FollowUpCount + 1
	f.PartyIDs = slices.Clone(in.PartyIDs)
	f.Findings = strings.TrimSpace(in.Findings)
	f.Purpose = strings.TrimSpace(in.Purpose)
	if f.VisitTime.IsZero() {
		f.VisitTime = d.cmd.Time
	}
	if err := d.notAhead("visit_time", f.VisitTime); err != nil {
		return err
	}
	if isBlank(f.Visitor) {
		f.Visitor = d.cmd.Actor
	}
	f.CreateTime = d.cmd.Time
	d.next.FollowUpCount = f.Number
	if f.PerformanceStatus != "" {
		d.next.PerformanceStatus = f.PerformanceStatus
		d.data.PerformanceStatus = f.PerformanceStatus
	}
	d.data.FollowUp = &f
	return nil
}

func (c Case) partyIDs() string {
	ids := make([]string, len(c.Parties))
	for i, p := range c.Parties {
		ids[i] = p.ID
	}
	return strings.Join(ids, ", ")
}

func isBlank(s string) bool { return strings.TrimSpace(s) == "" }
