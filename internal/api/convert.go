package api

import (
	"strings"
	"time"

	"github.com/google/uuid"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/mediationd/mediationd/internal/casework"
	"github.com/mediationd/mediationd/internal/store"
	mediationv1 "github.com/mediationd/mediationd/proto/mediation/v1"
)

// Enum values travel as names: the domain value is the proto value name
// without its prefix (CASE_STATE_MEDIATING ⇄ MEDIATING).

func enumToDomain[T ~string](names map[int32]string, prefix string, v int32) T {
	if v == 0 {
		return ""
	}
	return T(strings.TrimPrefix(names[v], prefix))
}

func enumFromDomain[T ~string](values map[string]int32, prefix string, v T) int32 {
	if v == "" {
		return 0
	}
	return values[prefix+string(v)]
}

func stateToProto(s casework.State) mediationv1.CaseState {
	return mediationv1.CaseState(enumFromDomain(mediationv1.CaseState_value, "CASE_STATE_", s))
}

func outcomeToProto(o casework.Outcome) mediationv1.CaseOutcome {
	return mediationv1.CaseOutcome(enumFromDomain(mediationv1.CaseOutcome_value, "CASE_OUTCOME_", o))
}

var actionToProtoMap = map[casework.Action]mediationv1.CaseAction{
	casework.ActionCreate:          mediationv1.CaseAction_CASE_ACTION_CREATE,
	casework.ActionAccept:          mediationv1.CaseAction_CASE_ACTION_ACCEPT,
	casework.ActionReject:          mediationv1.CaseAction_CASE_ACTION_REJECT,
	casework.ActionAssign:          mediationv1.CaseAction_CASE_ACTION_ASSIGN,
	casework.ActionStartMediation:  mediationv1.CaseAction_CASE_ACTION_START_MEDIATION,
	casework.ActionRecordAgreement: mediationv1.CaseAction_CASE_ACTION_RECORD_AGREEMENT,
	casework.ActionRecordFailure:   mediationv1.CaseAction_CASE_ACTION_RECORD_FAILURE,
	casework.ActionWithdraw:        mediationv1.CaseAction_CASE_ACTION_WITHDRAW,
	casework.ActionClose:           mediationv1.CaseAction_CASE_ACTION_CLOSE,
}

func actionToProto(a casework.Action) mediationv1.CaseAction { return actionToProtoMap[a] }

func timeToProto(t time.Time) *timestamppb.Timestamp {
	if t.IsZero() {
		return nil
	}
	return timestamppb.New(t)
}

func caseName(id uuid.UUID) string { return "cases/" + id.String() }

func agreementToProto(a *casework.Agreement) *mediationv1.Agreement {
	if a == nil {
		return nil
	}
	return &mediationv1.Agreement{Terms: a.Terms, RecordTime: timeToProto(a.RecordTime)}
}

func caseToProto(c casework.Case) *mediationv1.Case {
	parties := make([]*mediationv1.Party, len(c.Parties))
	for i, p := range c.Parties {
		parties[i] = &mediationv1.Party{
			Name: p.Name,
			Role: mediationv1.PartyRole(enumFromDomain(mediationv1.PartyRole_value, "PARTY_ROLE_", p.Role)),
		}
	}
	return &mediationv1.Case{
		Name:          caseName(c.ID),
		CaseNumber:    c.Number,
		State:         stateToProto(c.State),
		Outcome:       outcomeToProto(c.Outcome),
		DisputeType:   mediationv1.DisputeType(enumFromDomain(mediationv1.DisputeType_value, "DISPUTE_TYPE_", c.DisputeType)),
		Source:        mediationv1.CaseSource(enumFromDomain(mediationv1.CaseSource_value, "CASE_SOURCE_", c.Source)),
		Summary:       c.Summary,
		RegionCode:    c.RegionCode,
		Parties:       parties,
		Organization:  c.Organization,
		Mediator:      c.Mediator,
		Agreement:     agreementToProto(c.Agreement),
		ClosingReason: c.ClosingReason,
		CreateTime:    timeToProto(c.CreateTime),
		UpdateTime:    timeToProto(c.UpdateTime),
		CloseTime:     timeToProto(c.CloseTime),
		Etag:          store.Etag(c.Version),
	}
}

func newCaseFromProto(pc *mediationv1.Case) casework.NewCase {
	n := casework.NewCase{
		DisputeType: enumToDomain[casework.DisputeType](mediationv1.DisputeType_name, "DISPUTE_TYPE_", int32(pc.GetDisputeType())),
		Source:      enumToDomain[casework.Source](mediationv1.CaseSource_name, "CASE_SOURCE_", int32(pc.GetSource())),
		Summary:     pc.GetSummary(),
		RegionCode:  pc.GetRegionCode(),
	}
	for _, p := range pc.GetParties() {
		n.Parties = append(n.Parties, casework.Party{
			Name: p.GetName(),
			Role: enumToDomain[casework.PartyRole](mediationv1.PartyRole_name, "PARTY_ROLE_", int32(p.GetRole())),
		})
	}
	n.Normalize()
	return n
}

func eventToProto(ev casework.Event) *mediationv1.CaseEvent {
	out := &mediationv1.CaseEvent{
		Name:      caseName(ev.CaseID) + "/events/" + itoa(ev.Version),
		Version:   ev.Version,
		Action:    actionToProto(ev.Action),
		FromState: stateToProto(ev.From),
		ToState:   stateToProto(ev.To),
		Outcome:   outcomeToProto(ev.Outcome),
		Actor:     ev.Actor,
		OccurTime: timeToProto(ev.Time),
		RequestId: ev.RequestID,
		Reason:    ev.Data.Reason,
		Agreement: agreementToProto(ev.Data.Agreement),
	}
	if a := ev.Data.Assignment; a != nil {
		out.Assignment = &mediationv1.Assignment{
			Organization:         a.Organization,
			Mediator:             a.Mediator,
			PreviousOrganization: a.PreviousOrganization,
			PreviousMediator:     a.PreviousMediator,
		}
	}
	return out
}
