package casework

import (
	"fmt"
	"slices"

	"github.com/looplab/fsm"
)

// StateInfo describes one state for people and programs.
type StateInfo struct {
	State       State
	DisplayName string
	Terminal    bool
	Allowed     []Action
}

// Transition is one edge of the lifecycle.
type Transition struct {
	From, To       State
	Outcome        Outcome
	RequiredFields []string // needed for this edge in particular
}

// ActionInfo describes one action.
type ActionInfo struct {
	Action         Action
	DisplayName    string
	RequiredFields []string
	Transitions    []Transition
}

// Workflow describes the lifecycle as the service runs it.
type Workflow struct {
	States  []StateInfo
	Actions []ActionInfo
	Mermaid string
}

var stateNames = map[State]string{
	StateIntake:    "登记",
	StateAccepted:  "受理",
	StateAssigned:  "已分派",
	StateMediating: "调解中",
	StateAgreed:    "调解成功",
	StateClosed:    "结案",
}

var actionNames = map[Action]string{
	ActionCreate:          "登记",
	ActionAccept:          "受理",
	ActionReject:          "不予受理",
	ActionAssign:          "分派 / 改派",
	ActionStartMediation:  "开始调解",
	ActionRecordAgreement: "调解成功",
	ActionRecordFailure:   "调解不成",
	ActionWithdraw:        "撤回",
	ActionClose:           "结案",

	ActionUpdate:              "修改登记信息",
	ActionRecuse:              "回避",
	ActionExtendDeadline:      "延长调解期限",
	ActionMarkOverdue:         "超期",
	ActionScheduleSession:     "安排调解",
	ActionRecordSession:       "记录调解笔录",
	ActionCancelSession:       "取消调解",
	ActionRequestConfirmation: "申请司法确认",
	ActionRecordConfirmation:  "记录司法确认结果",
	ActionRecordPerformance:   "记录履行情况",
	ActionRecordFollowUp:      "回访",
}

// requiredFields lists the request fields each action needs beyond the
// case name; the guards in machine enforce them.
var requiredFields = map[Action][]string{
	ActionReject:          {"reason"},
	ActionAssign:          {"organization", "mediator"},
	ActionRecordAgreement: {"agreement.terms"},
	ActionRecordFailure:   {"reason"},
	ActionUpdate:          {"update_mask"},
	ActionRecuse:          {"reason"},
	ActionExtendDeadline:  {"reason", "consenting_party_ids"},
	ActionScheduleSession: {"start_time"},
	ActionRecordSession:   {"session", "minutes"},
	ActionCancelSession:   {"session", "reason"},

	ActionRequestConfirmation: {"court_code"},
	ActionRecordConfirmation:  {"decision"},
	ActionRecordPerformance:   {"status"},
	ActionRecordFollowUp:      {"findings"},
}

// DisplayName returns the Chinese name of a state.
func (s State) DisplayName() string { return stateNames[s] }

// DisplayName returns the Chinese name of an action.
func (a Action) DisplayName() string { return actionNames[a] }

// Describe returns the lifecycle: states, actions, transitions and a
// Mermaid state diagram, all derived from the state machine definition.
func Describe() (Workflow, error) {
	var w Workflow
	for _, s := range States {
		allowed := AllowedActions(s)
		w.States = append(w.States, StateInfo{State: s, DisplayName: s.DisplayName(), Terminal: len(allowed) == 0, Allowed: allowed})
	}
	for _, a := range Actions {
		info := ActionInfo{Action: a, DisplayName: a.DisplayName(), RequiredFields: requiredFields[a]}
		for _, s := range States {
			for _, ed := range transitions {
				if ed.Name != string(a) || !slices.Contains(ed.Src, string(s)) {
					continue
				}
				t := Transition{From: s, To: State(ed.Dst)}
				if t.To == StateClosed {
					t.Outcome = closingOutcomes[a]
				}
				switch {
				case a == ActionAssign && s != StateAccepted:
					t.RequiredFields = []string{"reason"}
				case a == ActionClose:
					t.RequiredFields = []string{"no_follow_up_reason (when no follow-up visit is recorded)"}
				}
				info.Transitions = append(info.Transitions, t)
			}
		}
		w.Actions = append(w.Actions, info)
	}
	diagram, err := fsm.VisualizeForMermaidWithGraphType(machine(StateIntake, nil), fsm.StateDiagram)
	if err != nil {
		return Workflow{}, fmt.Errorf("draw lifecycle: %w", err)
	}
	w.Mermaid = diagram
	return w, nil
}
