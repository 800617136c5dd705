package api

import (
	"strings"
	"time"

	"github.com/google/uuid"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/mediationd/mediationd/internal/casework"
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

	casework.ActionUpdate:              mediationv1.CaseAction_CASE_ACTION_UPDATE,
	casework.ActionRecuse:              mediationv1.CaseAction_CASE_ACTION_RECUSE,
	casework.ActionExtendDeadline:      mediationv1.CaseAction_CASE_ACTION_EXTEND_DEADLINE,
	casework.ActionMarkOverdue:         mediationv1.CaseAction_CASE_ACTION_MARK_OVERDUE,
	casework.ActionScheduleSession:     mediationv1.CaseAction_CASE_ACTION_SCHEDULE_SESSION,
	casework.ActionRecordSession:       mediationv1.CaseAction_CASE_ACTION_RECORD_SESSION,
	casework.ActionCancelSession:       mediationv1.CaseAction_CASE_ACTION_CANCEL_SESSION,
	casework.ActionRequestConfirmation: mediationv1.CaseAction_CASE_ACTION_REQUEST_CONFIRMATION,
	casework.ActionRecordConfirmation:  mediationv1.CaseAction_CASE_ACTION_RECORD_CONFIRMATION,
	casework.ActionRecordPerformance:   mediationv1.CaseAction_CASE_ACTION_RECORD_PERFORMANCE,
	casework.ActionRecordFollowUp:      mediationv1.CaseAction_CASE_ACTION_RECORD_FOLLOW_UP,
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
	out := &mediationv1.Agreement{
		Terms:                a.Terms,
		RecordTime:           timeToProto(a.RecordTime),
		Form:                 mediationv1.AgreementForm(enumFromDomain(mediationv1.AgreementForm_value, "AGREEMENT_FORM_", a.Form)),
		Facts:                a.Facts,
		Responsibilities:     a.Responsibilities,
		Performance:          a.Performance,
		SignDate:             a.SignDate,
		Copies:               int32(a.Copies),
		Recorder:             a.Recorder,
		ConfirmationDeadline: a.ConfirmationDeadline(),
	}
	for _, o := range a.Obligations {
		out.Obligations = append(out.Obligations, &mediationv1.Obligation{
			ObligorPartyId: o.ObligorPartyID, ObligeePartyId: o.ObligeePartyID,
			Description: o.Description, Amount: o.Amount, DueDate: o.DueDate,
		})
	}
	return out
}

func agreementFromProto(a *mediationv1.Agreement) *casework.Agreement {
	if a == nil {
		return nil
	}
	out := &casework.Agreement{
		Terms:            a.GetTerms(),
		Form:             enumToDomain[casework.AgreementForm](mediationv1.AgreementForm_name, "AGREEMENT_FORM_", int32(a.GetForm())),
		Facts:            a.GetFacts(),
		Responsibilities: a.GetResponsibilities(),
		Performance:      a.GetPerformance(),
		SignDate:         a.GetSignDate(),
		Copies:           int(a.GetCopies()),
		Recorder:         a.GetRecorder(),
	}
	for _, o := range a.GetObligations() {
		out.Obligations = append(out.Obligations, casework.Obligation{
			ObligorPartyID: o.GetObligorPartyId(), ObligeePartyID: o.GetObligeePartyId(),
			Description: o.GetDescription(), Amount: o.GetAmount(), DueDate: o.GetDueDate(),
		})
	}
	return out
}

func partyToProto(p casework.Party) *mediationv1.Party {
	return &mediationv1.Party{
		Id:                  p.ID,
		Name:                p.Name,
		Role:                mediationv1.PartyRole(enumFromDomain(mediationv1.PartyRole_value, "PARTY_ROLE_", p.Role)),
		Kind:                mediationv1.PartyKind(enumFromDomain(mediationv1.PartyKind_value, "PARTY_KIND_", p.Kind)),
		IdType:              mediationv1.IdType(enumFromDomain(mediationv1.IdType_value, "ID_TYPE_", p.IDType)),
		IdNumber:            p.IDNumber,
		Phone:               p.Phone,
		Address:             p.Address,
		Gender:              mediationv1.Gender(enumFromDomain(mediationv1.Gender_value, "GENDER_", p.Gender)),
		Ethnicity:           p.Ethnicity,
		BirthDate:           p.BirthDate,
		Occupation:          p.Occupation,
		LegalRepresentative: p.LegalRepresentative,
		RepresentedPartyIds: p.RepresentedPartyIDs,
	}
}

func partyFromProto(p *mediationv1.Party) casework.Party {
	return casework.Party{
		ID:                  p.GetId(),
		Name:                p.GetName(),
		Role:                enumToDomain[casework.PartyRole](mediationv1.PartyRole_name, "PARTY_ROLE_", int32(p.GetRole())),
		Kind:                enumToDomain[casework.PartyKind](mediationv1.PartyKind_name, "PARTY_KIND_", int32(p.GetKind())),
		IDType:              enumToDomain[casework.IDType](mediationv1.IdType_name, "ID_TYPE_", int32(p.GetIdType())),
		IDNumber:            p.GetIdNumber(),
		Phone:               p.GetPhone(),
		Address:             p.GetAddress(),
		Gender:              enumToDomain[casework.Gender](mediationv1.Gender_name, "GENDER_", int32(p.GetGender())),
		Ethnicity:           p.GetEthnicity(),
		BirthDate:           p.GetBirthDate(),
		Occupation:          p.GetOccupation(),
		LegalRepresentative: p.GetLegalRepresentative(),
		RepresentedPartyIDs: p.GetRepresentedPartyIds(),
	}
}

func partiesFromProto(ps []*mediationv1.Party) []casework.Party {
	out := make([]casework.Party, len(ps))
	for i, p := range ps {
		out[i] = partyFromProto(p)
	}
	return out
}

func disputeTypeToProto(t casework.DisputeType) mediationv1.DisputeType {
	return mediationv1.DisputeType(enumFromDomain(mediationv1.DisputeType_value, "DISPUTE_TYPE_", t))
}

func disputeTypeFromProto(t mediationv1.DisputeType) casework.DisputeType {
	return enumToDomain[casework.DisputeType](mediationv1.DisputeType_name, "DISPUTE_TYPE_", int32(t))
}

func performanceToProto(p casework.PerformanceStatus) mediationv1.PerformanceStatus {
	return mediationv1.PerformanceStatus(enumFromDomain(mediationv1.PerformanceStatus_value, "PERFORMANCE_STATUS_", p))
}

func (s *CaseService) deadlineToProto(dl *casework.Deadline) *mediationv1.Deadline {
	if dl == nil {
		return nil
	}
	return &mediationv1.Deadline{
		DueTime:        timeToProto(dl.DueTime),
		DaysRemaining:  int32(casework.DaysRemaining(dl.DueTime, s.clock(), s.policy.Location)),
		Overdue:        dl.Overdue,
		ExtensionCount: int32(dl.ExtensionCount),
		MaxExtensions:  int32(dl.MaxExtensions),
		Rule:           "deadlineRules/" + dl.RuleID,
	}
}

func failureToProto(f *casework.Failure) *mediationv1.Failure {
	if f == nil {
		return nil
	}
	return &mediationv1.Failure{
		Reason:        mediationv1.FailureReason(enumFromDomain(mediationv1.FailureReason_value, "FAILURE_REASON_", f.Reason)),
		Details:       f.Details,
		ReturnToCourt: f.ReturnToCourt,
	}
}

func confirmationToProto(c *casework.Confirmation) *mediationv1.JudicialConfirmation {
	if c == nil {
		return nil
	}
	return &mediationv1.JudicialConfirmation{
		RequestTime:    timeToProto(c.RequestTime),
		CourtCode:      c.CourtCode,
		CourtName:      c.CourtName,
		Decision:       mediationv1.ConfirmationDecision(enumFromDomain(mediationv1.ConfirmationDecision_value, "CONFIRMATION_DECISION_", c.Decision)),
		DecisionTime:   timeToProto(c.DecisionTime),
		DocumentNumber: c.DocumentNumber,
		Remarks:        c.Remarks,
	}
}

func sessionToProto(caseID uuid.UUID, ses *casework.Session) *mediationv1.Session {
	if ses == nil {
		return nil
	}
	return &mediationv1.Session{
		Name:         caseName(caseID) + "/sessions/" + itoa(int64(ses.Number)),
		Kind:         mediationv1.SessionKind(enumFromDomain(mediationv1.SessionKind_value, "SESSION_KIND_", ses.Kind)),
		StartTime:    timeToProto(ses.StartTime),
		Place:        ses.Place,
		Online:       ses.Online,
		Participants: ses.Participants,
		Status:       mediationv1.SessionStatus(enumFromDomain(mediationv1.SessionStatus_value, "SESSION_STATUS_", ses.Status)),
		Minutes:      ses.Minutes,
		Result:       ses.Result,
		CancelReason: ses.CancelReason,
		CreateTime:   timeToProto(ses.CreateTime),
		UpdateTime:   timeToProto(ses.UpdateTime),
	}
}

func followUpToProto(caseID uuid.UUID, f *casework.FollowUp) *mediationv1.FollowUp {
	if f == nil {
		return nil
	}
	return &mediationv1.FollowUp{
		Name:              caseName(caseID) + "/followUps/" + itoa(int64(f.Number)),
		VisitTime:         timeToProto(f.VisitTime),
		Visitor:           f.Visitor,
		PartyIds:          f.PartyIDs,
		Purpose:           f.Purpose,
		Findings:          f.Findings,
		PerformanceStatus: performanceToProto(f.PerformanceStatus),
		CreateTime:        timeToProto(f.CreateTime),
	}
}

func (s *CaseService) caseToProto(c casework.Case) *mediationv1.Case {
	parties := make([]*mediationv1.Party, len(c.Parties))
	for i, p := range c.Parties {
		parties[i] = partyToProto(p)
	}
	out := &mediationv1.Case{
		Name:                 caseName(c.ID),
		CaseNumber:           c.Number,
		State:                stateToProto(c.State),
		Outcome:              outcomeToProto(c.Outcome),
		DisputeType:          disputeTypeToProto(c.DisputeType),
		Source:               mediationv1.CaseSource(enumFromDomain(mediationv1.CaseSource_value, "CASE_SOURCE_", c.Source)),
		Summary:              c.Summary,
		RegionCode:           c.RegionCode,
		Parties:              parties,
		Organization:         c.Organization,
		Mediator:             c.Mediator,
		Agreement:            agreementToProto(c.Agreement),
		ClosingReason:        c.ClosingReason,
		CreateTime:           timeToProto(c.CreateTime),
		UpdateTime:           timeToProto(c.UpdateTime),
		CloseTime:            timeToProto(c.CloseTime),
		Etag:                 Etag(c.Version),
		GroupDispute:         c.GroupDispute,
		EscalationRisk:       c.EscalationRisk,
		FamilyViolence:       c.FamilyViolence,
		MinorsInvolved:       c.MinorsInvolved,
		AcceptTime:           timeToProto(c.AcceptTime),
		Deadline:             s.deadlineToProto(c.Deadline),
		NeedsReassignment:    c.NeedsReassignment,
		Failure:              failureToProto(c.Failure),
		JudicialConfirmation: confirmationToProto(c.Confirmation),
		PerformanceStatus:    performanceToProto(c.PerformanceStatus),
		FollowUpCount:        int32(c.FollowUpCount),
		SessionCount:         int32(c.SessionCount),
		NoFollowUpReason:     c.NoFollowUpReason,
	}
	if r := c.CourtReferral; r != nil {
		out.CourtReferral = &mediationv1.CourtReferral{
			CourtCode: r.CourtCode, CourtName: r.CourtName, CourtCaseNumber: r.CourtCaseNumber, Judge: r.Judge,
			Organization: r.Organization,
			Procedure:    mediationv1.CourtProcedure(enumFromDomain(mediationv1.CourtProcedure_value, "COURT_PROCEDURE_", r.Procedure)),
		}
	}
	return out
}

func newCaseFromProto(pc *mediationv1.Case) casework.NewCase {
	n := casework.NewCase{
		DisputeType:    disputeTypeFromProto(pc.GetDisputeType()),
		Source:         enumToDomain[casework.Source](mediationv1.CaseSource_name, "CASE_SOURCE_", int32(pc.GetSource())),
		Summary:        pc.GetSummary(),
		RegionCode:     pc.GetRegionCode(),
		Parties:        partiesFromProto(pc.GetParties()),
		EscalationRisk: pc.GetEscalationRisk(),
		FamilyViolence: pc.GetFamilyViolence(),
		MinorsInvolved: pc.GetMinorsInvolved(),
	}
	if r := pc.GetCourtReferral(); r != nil {
		n.CourtReferral = &casework.CourtReferral{
			CourtCode: r.GetCourtCode(), CourtName: r.GetCourtName(), CourtCaseNumber: r.GetCourtCaseNumber(), Judge: r.GetJudge(),
			Organization: r.GetOrganization(),
			Procedure:    enumToDomain[casework.CourtProcedure](mediationv1.CourtProcedure_name, "COURT_PROCEDURE_", int32(r.GetProcedure())),
		}
	}
	n.Normalize()
	return n
}

func (s *CaseService) eventToProto(ev casework.Event) *mediationv1.CaseEvent {
	d := ev.Data
	out := &mediationv1.CaseEvent{
		Name:                 caseName(ev.CaseID) + "/events/" + itoa(ev.Version),
		Version:              ev.Version,
		Action:               actionToProto(ev.Action),
		FromState:            stateToProto(ev.From),
		ToState:              stateToProto(ev.To),
		Outcome:              outcomeToProto(ev.Outcome),
		Actor:                ev.Actor,
		OccurTime:            timeToProto(ev.Time),
		RequestId:            ev.RequestID,
		Reason:               d.Reason,
		Agreement:            agreementToProto(d.Agreement),
		Deadline:             s.deadlineToProto(d.Deadline),
		ConsentingPartyIds:   d.ConsentingPartyIDs,
		Session:              sessionToProto(ev.CaseID, d.Session),
		Failure:              failureToProto(d.Failure),
		JudicialConfirmation: confirmationToProto(d.Confirmation),
		PerformanceStatus:    performanceToProto(d.PerformanceStatus),
		FollowUp:             followUpToProto(ev.CaseID, d.FollowUp),
		ChangedFields:        d.ChangedFields,
	}
	if a := d.Assignment; a != nil {
		out.Assignment = &mediationv1.Assignment{
			Organization:         a.Organization,
			Mediator:             a.Mediator,
			PreviousOrganization: a.PreviousOrganization,
			PreviousMediator:     a.PreviousMediator,
		}
	}
	return out
}
