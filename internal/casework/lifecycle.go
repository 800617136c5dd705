package casework

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/looplab/fsm"
)

// transitions is the lifecycle: the one definition from which the service
// decides every action and publishes its workflow description and diagram.
var transitions = []fsm.EventDesc{
	{Name: string(ActionAccept), Src: []string{string(StateIntake)}, Dst: string(StateAccepted)},
	{Name: string(ActionReject), Src: []string{string(StateIntake)}, Dst: string(StateClosed)},
	{Name: string(ActionAssign), Src: []string{string(StateAccepted)}, Dst: string(StateAssigned)},
	// A reassignment keeps the state.
	{Name: string(ActionAssign), Src: []string{string(StateAssigned)}, Dst: string(StateAssigned)},
	{Name: string(ActionAssign), Src: []string{string(StateMediating)}, Dst: string(StateMediating)},
	{Name: string(ActionStartMediation), Src: []string{string(StateAssigned)}, Dst: string(StateMediating)},
	{Name: string(ActionRecordAgreement), Src: []string{string(StateMediating)}, Dst: string(StateAgreed)},
	{Name: string(ActionRecordFailure), Src: []string{string(StateMediating)}, Dst: string(StateClosed)},
	{Name: string(ActionWithdraw), Src: []string{string(StateIntake), string(StateAccepted), string(StateAssigned), string(StateMediating)}, Dst: string(StateClosed)},
	{Name: string(ActionClose), Src: []string{string(StateAgreed)}, Dst: string(StateClosed)},
}

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
}

// Command is a request to apply one action to a case.
type Command struct {
	Action    Action
	Actor     string
	Time      time.Time
	RequestID string
	// Reason is the reason (reject, recordFailure, withdraw, reassignment)
	// or the remark (other actions) kept in the history.
	Reason       string
	Organization string     // assign
	Mediator     string     // assign
	Agreement    *Agreement // recordAgreement
}

// machine returns the lifecycle state machine positioned at state, with
// the guards of cmd. The guards only read cmd and c: no I/O.
func machine(state State, c *Case, cmd *Command) *fsm.FSM {
	var callbacks fsm.Callbacks
	if cmd != nil {
		callbacks = fsm.Callbacks{
			"before_" + string(ActionReject): func(_ context.Context, e *fsm.Event) {
				if isBlank(cmd.Reason) {
					e.Cancel(&FieldError{Field: "reason", Message: "required: say why the dispute is not accepted"})
				}
			},
			"before_" + string(ActionAssign): func(_ context.Context, e *fsm.Event) {
				switch {
				case isBlank(cmd.Organization):
					e.Cancel(&FieldError{Field: "organization", Message: "required: the organization that takes the case, organizations/{organization}"})
				case isBlank(cmd.Mediator):
					e.Cancel(&FieldError{Field: "mediator", Message: "required: the mediator who takes the case, mediators/{mediator}"})
				case e.Src != string(StateAccepted) && isBlank(cmd.Reason):
					e.Cancel(&FieldError{Field: "reason", Message: fmt.Sprintf("required: the case is %s with %s, so this is a reassignment (改派) and needs a reason", e.Src, c.Mediator)})
				case cmd.Organization == c.Organization && cmd.Mediator == c.Mediator:
					e.Cancel(&PreconditionError{Reason: "ALREADY_ASSIGNED", Message: fmt.Sprintf("the case is already assigned to %s of %s", c.Mediator, c.Organization)})
				}
			},
			"before_" + string(ActionRecordAgreement): func(_ context.Context, e *fsm.Event) {
				if cmd.Agreement == nil || isBlank(cmd.Agreement.Terms) {
					e.Cancel(&FieldError{Field: "agreement.terms", Message: "required: the terms the parties agreed"})
				}
			},
			"before_" + string(ActionRecordFailure): func(_ context.Context, e *fsm.Event) {
				if isBlank(cmd.Reason) {
					e.Cancel(&FieldError{Field: "reason", Message: "required: say why mediation failed"})
				}
			},
		}
	}
	return fsm.NewFSM(string(state), transitions, callbacks)
}

// AllowedActions returns the actions allowed in state, sorted by name.
func AllowedActions(state State) []Action {
	names := machine(state, nil, nil).AvailableTransitions()
	slices.Sort(names)
	out := make([]Action, len(names))
	for i, n := range names {
		out[i] = Action(n)
	}
	return out
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
	cmd.Reason = strings.TrimSpace(cmd.Reason)
	cmd.Organization = strings.TrimSpace(cmd.Organization)
	cmd.Mediator = strings.TrimSpace(cmd.Mediator)

	m := machine(c.State, &c, &cmd)
	err := m.Event(context.Background(), string(cmd.Action))
	var noTransition fsm.NoTransitionError
	var canceled fsm.CanceledError
	var invalid fsm.InvalidEventError
	switch {
	case err == nil:
	case errors.As(err, &noTransition) && noTransition.Err == nil:
		// A reassignment: the state stays.
	case errors.As(err, &canceled) && canceled.Err != nil:
		return Case{}, Event{}, canceled.Err
	case errors.As(err, &invalid):
		return Case{}, Event{}, &NotAllowedError{Action: cmd.Action, State: c.State, Allowed: AllowedActions(c.State)}
	default:
		return Case{}, Event{}, fmt.Errorf("apply %s to case in %s: %w", cmd.Action, c.State, err)
	}

	next := c
	next.Parties = slices.Clone(c.Parties)
	next.State = State(m.Current())
	next.Version = c.Version + 1
	next.UpdateTime = cmd.Time
	data := EventData{Reason: cmd.Reason}
	switch cmd.Action {
	case ActionAssign:
		next.Organization, next.Mediator = cmd.Organization, cmd.Mediator
		data.Assignment = &Assignment{
			Organization:         cmd.Organization,
			Mediator:             cmd.Mediator,
			PreviousOrganization: c.Organization,
			PreviousMediator:     c.Mediator,
		}
	case ActionRecordAgreement:
		a := Agreement{Terms: strings.TrimSpace(cmd.Agreement.Terms), RecordTime: cmd.Time}
		next.Agreement = &a
		data.Agreement = &a
	}
	if next.State == StateClosed {
		next.Outcome = closingOutcomes[cmd.Action]
		next.CloseTime = cmd.Time
		if cmd.Action != ActionClose {
			next.ClosingReason = cmd.Reason
		}
	}
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

func isBlank(s string) bool { return strings.TrimSpace(s) == "" }
