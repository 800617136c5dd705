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
		casework.ActionUpdate:   {casework.StateIntake, ""},
	},
	casework.StateAccepted: {
		casework.ActionAssign:         {casework.StateAssigned, ""},
		casework.ActionWithdraw:       {casework.StateClosed, casework.OutcomeWithdrawn},
		casework.ActionUpdate:         {casework.StateAccepted, ""},
		casework.ActionExtendDeadline: {casework.StateAccepted, ""},
		casework.ActionMarkOverdue:    {casework.StateAccepted, ""},
	},
	casework.StateAssigned: {
		casework.ActionAssign:          {casework.StateAssigned, ""},
		casework.ActionStartMediation:  {casework.StateMediating, ""},
		casework.ActionWithdraw:        {casework.StateClosed, casework.OutcomeWithdrawn},
		casework.ActionUpdate:          {casework.StateAssigned, ""},
		casework.ActionRecuse:          {casework.StateAccepted, ""},
		casework.ActionExtendDeadline:  {casework.StateAssigned, ""},
		casework.ActionMarkOverdue:     {casework.StateAssigned, ""},
		casework.ActionScheduleSession: {casework.StateAssigned, ""},
		casework.ActionRecordSession:   {casework.StateAssigned, ""},
		casework.ActionCancelSession:   {casework.StateAssigned, ""},
	},
	casework.StateMediating: {
		casework.ActionAssign:          {casework.StateMediating, ""},
		casework.ActionRecordAgreement: {casework.StateAgreed, ""},
		casework.ActionRecordFailure:   {casework.StateClosed, casework.OutcomeFailed},
		casework.ActionWithdraw:        {casework.StateClosed, casework.OutcomeWithdrawn},
		casework.ActionUpdate:          {casework.StateMediating, ""},
		casework.ActionRecuse:          {casework.StateAccepted, ""},
		casework.ActionExtendDeadline:  {casework.StateMediating, ""},
		casework.ActionMarkOverdue:     {casework.StateMediating, ""},
		casework.ActionScheduleSession: {casework.StateMediating, ""},
		casework.ActionRecordSession:   {casework.StateMediating, ""},
		casework.ActionCancelSession:   {casework.StateMediating, ""},
	},
	casework.StateAgreed: {
		casework.ActionClose:               {casework.StateClosed, casework.OutcomeAgreement},
		casework.ActionUpdate:              {casework.StateAgreed, ""},
		casework.ActionRequestConfirmation: {casework.StateAgreed, ""},
		casework.ActionRecordConfirmation:  {casework.StateAgreed, ""},
		casework.ActionRecordPerformance:   {casework.StateAgreed, ""},
		casework.ActionRecordFollowUp:      {casework.StateAgreed, ""},
	},
	casework.StateClosed: {},
}

// Setup lists the actions that must happen before action can succeed in a
// state that allows it: a session must be scheduled before it is recorded
// or cancelled, and confirmation requested before the decision.
func Setup(action casework.Action) []casework.Action {
	switch action {
	case casework.ActionRecordSession, casework.ActionCancelSession:
		return []casework.Action{casework.ActionScheduleSession}
	case casework.ActionRecordConfirmation:
		return []casework.Action{casework.ActionRequestConfirmation}
	}
	return nil
}

// T0 is when the commands of Command happen; accepted cases fall due 30
// days later.
var T0 = time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)

// DefaultRule is the catch-all deadline rule of the first migrations.
var DefaultRule = casework.DeadlineRule{ID: "peoples-mediation", DisplayName: "人民调解", Days: 30, MaxExtensions: 1, ExtensionDays: 30}

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
		Time:   T0,
	}
	switch action {
	case casework.ActionAccept:
		rule := DefaultRule
		cmd.Rule = &rule
	case casework.ActionAssign:
		cmd.Organization = fmt.Sprintf("organizations/room-%d", n)
		cmd.Mediator = fmt.Sprintf("mediators/mediator-%d", n)
	case casework.ActionRecordAgreement:
		cmd.Agreement = &casework.Agreement{
			Terms: "被申请人于2026年12月31日前一次性支付申请人人民币5000元。",
			Facts: "被申请人家中水管漏水，致申请人房屋受损。",
			Obligations: []casework.Obligation{
				{ObligorPartyID: "p2", ObligeePartyID: "p1", Description: "赔偿修缮费用", Amount: "5000", DueDate: "2026-12-31"},
			},
		}
	case casework.ActionUpdate:
		cmd.Update = &casework.CaseUpdate{Fields: []string{"summary", "escalation_risk"}, Summary: fmt.Sprintf("修改后的纠纷概要 %d", n), EscalationRisk: true}
	case casework.ActionExtendDeadline:
		cmd.ConsentingPartyIDs = []string{"p1", "p2"}
	case casework.ActionMarkOverdue:
		cmd.Time = T0.AddDate(1, 0, 0)
	case casework.ActionScheduleSession:
		cmd.Session = &casework.Session{StartTime: T0.Add(48 * time.Hour), Place: "西峰区人民调解中心第一调解室", Participants: []string{"张三", "李四"}}
	case casework.ActionRecordSession:
		cmd.Session = &casework.Session{Number: 1, Minutes: "调解员告知双方权利义务，双方陈述意见。", Result: "双方同意继续协商"}
	case casework.ActionCancelSession:
		cmd.Session = &casework.Session{Number: 1}
	case casework.ActionRequestConfirmation:
		cmd.Confirmation = &casework.Confirmation{CourtCode: "甘1002", CourtName: "庆阳市西峰区人民法院"}
	case casework.ActionRecordConfirmation:
		cmd.Confirmation = &casework.Confirmation{Decision: casework.DecisionConfirmed, DocumentNumber: "（2026）甘1002民特12号"}
	case casework.ActionRecordPerformance:
		cmd.PerformanceStatus = casework.Performed
	case casework.ActionRecordFollowUp:
		cmd.FollowUp = &casework.FollowUp{Findings: "双方均表示协议已履行完毕。", PartyIDs: []string{"p1"}, PerformanceStatus: casework.Performed}
	case casework.ActionClose:
		cmd.NoFollowUpReason = "当场履行完毕，无需回访"
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
			{ID: "p1", Name: "张三", Role: casework.RoleApplicant},
			{ID: "p2", Name: "李四", Role: casework.RoleRespondent},
		},
	}
}
