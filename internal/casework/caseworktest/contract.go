// Package caseworktest holds what several test packages share about the
// case lifecycle: the contract table as the issue tracker states it (written
// out by hand, not derived from the state machine, so that the tests can
// catch the machine drifting from it), the paths that bring a new case to
// each state, and complete commands for every action.
package caseworktest

import (
	"fmt"
	"time"

	"github.com/mediationd/mediationd/internal/casework"
)

// Result is where an allowed action leads.
type Result struct {
	To      casework.State
	Outcome casework.Outcome
}

// Contract lists, for every state, the allowed actions and their results.
// An action missing from a state's row must be refused in that state.
var Contract = map[casework.State]map[casework.Action]Result{
	casework.StateIntake: {
		casework.ActionAccept:   {casework.StateAccepted, ""},
		casework.ActionReject:   {casework.StateClosed, casework.OutcomeRejected},
		casework.ActionWithdraw: {casework.StateClosed, casework.OutcomeWithdrawn},
	},
	casework.StateAccepted: {
		casework.ActionAssign:   {casework.StateAssigned, ""},
		casework.ActionWithdraw: {casework.StateClosed, casework.OutcomeWithdrawn},
	},
	casework.StateAssigned: {
		casework.ActionAssign:         {casework.StateAssigned, ""},
		casework.ActionStartMediation: {casework.StateMediating, ""},
		casework.ActionWithdraw:       {casework.StateClosed, casework.OutcomeWithdrawn},
	},
	casework.StateMediating: {
		casework.ActionAssign:          {casework.StateMediating, ""},
		casework.ActionRecordAgreement: {casework.StateAgreed, ""},
		casework.ActionRecordFailure:   {casework.StateClosed, casework.OutcomeFailed},
		casework.ActionWithdraw:        {casework.StateClosed, casework.OutcomeWithdrawn},
	},
	casework.StateAgreed: {
		casework.ActionClose: {casework.StateClosed, casework.OutcomeAgreement},
	},
	casework.StateClosed: {},
}

// PathTo lists the actions that bring a new case to state (CLOSED by
// rejection).
func PathTo(state casework.State) []casework.Action {
	switch state {
	case casework.StateIntake:
		return nil
	case casework.StateAccepted:
		return []casework.Action{casework.ActionAccept}
	case casework.StateAssigned:
		return []casework.Action{casework.ActionAccept, casework.ActionAssign}
	case casework.StateMediating:
		return []casework.Action{casework.ActionAccept, casework.ActionAssign, casework.ActionStartMediation}
	case casework.StateAgreed:
		return []casework.Action{casework.ActionAccept, casework.ActionAssign, casework.ActionStartMediation, casework.ActionRecordAgreement}
	case casework.StateClosed:
		return []casework.Action{casework.ActionReject}
	}
	panic(fmt.Sprintf("no path to state %q", state))
}

// Command returns a complete command for action: every field the action
// may need is filled in. n varies the assignee, so that the n-th
// assignment of a case moves it to a different mediator.
func Command(action casework.Action, n int) casework.Command {
	cmd := casework.Command{
		Action: action,
		Reason: fmt.Sprintf("reason for %s", action),
		Actor:  "tester",
		Time:   time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC),
	}
	switch action {
	case casework.ActionAssign:
		cmd.Organization = fmt.Sprintf("organizations/room-%d", n)
		cmd.Mediator = fmt.Sprintf("mediators/mediator-%d", n)
	case casework.ActionRecordAgreement:
		cmd.Agreement = &casework.Agreement{Terms: "被申请人于2026年12月31日前一次性支付申请人人民币5000元。"}
	}
	return cmd
}

// NewCase returns a valid registration.
func NewCase(summary string) casework.NewCase {
	return casework.NewCase{
		DisputeType: casework.DisputeNeighbor,
		Source:      casework.SourceWalkIn,
		Summary:     summary,
		RegionCode:  "621002",
		Parties: []casework.Party{
			{Name: "张三", Role: casework.RoleApplicant},
			{Name: "李四", Role: casework.RoleRespondent},
		},
	}
}
