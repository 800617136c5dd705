package api

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/mediationd/mediationd/internal/auth"
	"github.com/mediationd/mediationd/internal/casework"
	mediationv1 "github.com/mediationd/mediationd/proto/mediation/v1"
)

// SuggestAssignment ranks who could take a case.
func (s *CaseService) SuggestAssignment(ctx context.Context, req *mediationv1.SuggestAssignmentRequest) (*mediationv1.SuggestAssignmentResponse, error) {
	id, err := parseCaseName("name", req.GetName())
	if err != nil {
		return nil, err
	}
	c, err := s.store.GetCaseIn(ctx, id, access(ctx).Scope)
	if err != nil {
		return nil, notFound(err, req.GetName())
	}
	max := int(req.GetMaxSuggestions())
	switch {
	case max <= 0:
		max = 10
	case max > 100:
		max = 100
	}
	suggestions, err := s.flow.Suggest(ctx, c, max)
	if err != nil {
		return nil, err
	}
	out := &mediationv1.SuggestAssignmentResponse{}
	for _, sg := range suggestions {
		ps := &mediationv1.AssignmentSuggestion{
			Organization:            sg.Organization.Name(),
			OrganizationDisplayName: sg.Organization.DisplayName,
			Mediator:                sg.Mediator.Name(),
			MediatorDisplayName:     sg.Mediator.DisplayName,
			Rank:                    int32(sg.Rank),
		}
		for _, r := range sg.Reasons {
			ps.Reasons = append(ps.Reasons, &mediationv1.SuggestionReason{Code: r.Code, Message: r.Message})
		}
		out.Suggestions = append(out.Suggestions, ps)
	}
	return out, nil
}

// UpdateCase changes a case's registration data.
func (s *CaseService) UpdateCase(ctx context.Context, req *mediationv1.UpdateCaseRequest) (*mediationv1.UpdateCaseResponse, error) {
	pc := req.GetCase()
	id, err := parseCaseName("case.name", pc.GetName())
	if err != nil {
		return nil, err
	}
	version, err := parseEtag("case.etag", pc.GetEtag())
	if err != nil {
		return nil, err
	}
	// The name says which case, the etag when; over REST without an
	// explicit mask the gateway lists every key of the body, these too.
	var fields []string
	for _, f := range req.GetUpdateMask().GetPaths() {
		if f = maskPath(f); f != "name" && f != "etag" {
			fields = append(fields, f)
		}
	}
	u := &casework.CaseUpdate{
		Fields:         fields,
		Summary:        pc.GetSummary(),
		DisputeType:    disputeTypeFromProto(pc.GetDisputeType()),
		Parties:        partiesFromProto(pc.GetParties()),
		EscalationRisk: pc.GetEscalationRisk(),
		FamilyViolence: pc.GetFamilyViolence(),
		MinorsInvolved: pc.GetMinorsInvolved(),
	}
	res, err := s.flow.Act(ctx, caller(ctx), id, version, casework.Command{Action: casework.ActionUpdate, Update: u, RequestID: req.GetRequestId()})
	if err != nil {
		return nil, notFound(err, caseName(id))
	}
	out, pev, err := s.respond(ctx, res.Case, res.Event)
	if err != nil {
		return nil, err
	}
	return &mediationv1.UpdateCaseResponse{Case: out, Event: pev}, nil
}

// RecuseCase records a mediator's withdrawal from a case.
func (s *CaseService) RecuseCase(ctx context.Context, req *mediationv1.RecuseCaseRequest) (*mediationv1.RecuseCaseResponse, error) {
	pc, pev, err := s.do(ctx, req, casework.Command{Action: casework.ActionRecuse, Reason: req.GetReason()})
	if err != nil {
		return nil, err
	}
	return &mediationv1.RecuseCaseResponse{Case: pc, Event: pev}, nil
}

// ExtendDeadline extends a case's time limit.
func (s *CaseService) ExtendDeadline(ctx context.Context, req *mediationv1.ExtendDeadlineRequest) (*mediationv1.ExtendDeadlineResponse, error) {
	pc, pev, err := s.do(ctx, req, casework.Command{Action: casework.ActionExtendDeadline, Reason: req.GetReason(), ConsentingPartyIDs: req.GetConsentingPartyIds()})
	if err != nil {
		return nil, err
	}
	return &mediationv1.ExtendDeadlineResponse{Case: pc, Event: pev}, nil
}

// ScheduleSession schedules a mediation session.
func (s *CaseService) ScheduleSession(ctx context.Context, req *mediationv1.ScheduleSessionRequest) (*mediationv1.ScheduleSessionResponse, error) {
	ses := &casework.Session{
		Kind:         enumToDomain[casework.SessionKind](mediationv1.SessionKind_name, "SESSION_KIND_", int32(req.GetKind())),
		Place:        req.GetPlace(),
		Online:       req.GetOnline(),
		Participants: req.GetParticipants(),
	}
	if req.GetStartTime() != nil {
		ses.StartTime = req.GetStartTime().AsTime()
	}
	pc, pev, err := s.do(ctx, req, casework.Command{Action: casework.ActionScheduleSession, Session: ses})
	if err != nil {
		return nil, err
	}
	return &mediationv1.ScheduleSessionResponse{Case: pc, Event: pev, Session: pev.GetSession()}, nil
}

// sessionNumber extracts n from cases/{case}/sessions/{n}, which must name
// a session of the case the request acts on.
func sessionNumber(caseName, session string) (int, error) {
	rest, ok := strings.CutPrefix(session, caseName+"/sessions/")
	n, err := strconv.Atoi(rest)
	if !ok || err != nil || n <= 0 {
		return 0, &casework.FieldError{Field: "session", Message: fmt.Sprintf("%q is not a session of %s: expected %s/sessions/{n}", session, caseName, caseName)}
	}
	return n, nil
}

// RecordSession records a session's minutes and result.
func (s *CaseService) RecordSession(ctx context.Context, req *mediationv1.RecordSessionRequest) (*mediationv1.RecordSessionResponse, error) {
	n, err := sessionNumber(req.GetName(), req.GetSession())
	if err != nil {
		return nil, err
	}
	pc, pev, err := s.do(ctx, req, casework.Command{Action: casework.ActionRecordSession,
		Session: &casework.Session{Number: n, Minutes: req.GetMinutes(), Result: req.GetResult()}})
	if err != nil {
		return nil, err
	}
	return &mediationv1.RecordSessionResponse{Case: pc, Event: pev, Session: pev.GetSession()}, nil
}

// CancelSession cancels a scheduled session.
func (s *CaseService) CancelSession(ctx context.Context, req *mediationv1.CancelSessionRequest) (*mediationv1.CancelSessionResponse, error) {
	n, err := sessionNumber(req.GetName(), req.GetSession())
	if err != nil {
		return nil, err
	}
	pc, pev, err := s.do(ctx, req, casework.Command{Action: casework.ActionCancelSession, Reason: req.GetReason(),
		Session: &casework.Session{Number: n}})
	if err != nil {
		return nil, err
	}
	return &mediationv1.CancelSessionResponse{Case: pc, Event: pev, Session: pev.GetSession()}, nil
}

// ListCaseSessions lists a case's sessions.
func (s *CaseService) ListCaseSessions(ctx context.Context, req *mediationv1.ListCaseSessionsRequest) (*mediationv1.ListCaseSessionsResponse, error) {
	id, err := parseCaseName("parent", req.GetParent())
	if err != nil {
		return nil, err
	}
	sessions, err := s.store.ListSessions(ctx, id, access(ctx).Scope)
	if err != nil {
		return nil, notFound(err, req.GetParent())
	}
	out := &mediationv1.ListCaseSessionsResponse{}
	for i := range sessions {
		out.Sessions = append(out.Sessions, sessionToProto(id, &sessions[i]))
	}
	return out, nil
}

// RequestJudicialConfirmation records the application for confirmation.
func (s *CaseService) RequestJudicialConfirmation(ctx context.Context, req *mediationv1.RequestJudicialConfirmationRequest) (*mediationv1.RequestJudicialConfirmationResponse, error) {
	cf := &casework.Confirmation{CourtCode: req.GetCourtCode(), CourtName: req.GetCourtName()}
	if req.GetRequestTime() != nil {
		cf.RequestTime = req.GetRequestTime().AsTime()
	}
	pc, pev, err := s.do(ctx, req, casework.Command{Action: casework.ActionRequestConfirmation, Confirmation: cf})
	if err != nil {
		return nil, err
	}
	return &mediationv1.RequestJudicialConfirmationResponse{Case: pc, Event: pev}, nil
}

// RecordConfirmationDecision records the court's decision.
func (s *CaseService) RecordConfirmationDecision(ctx context.Context, req *mediationv1.RecordConfirmationDecisionRequest) (*mediationv1.RecordConfirmationDecisionResponse, error) {
	cf := &casework.Confirmation{
		Decision:       enumToDomain[casework.ConfirmationDecision](mediationv1.ConfirmationDecision_name, "CONFIRMATION_DECISION_", int32(req.GetDecision())),
		DocumentNumber: req.GetDocumentNumber(),
		Remarks:        req.GetRemarks(),
	}
	if req.GetDecisionTime() != nil {
		cf.DecisionTime = req.GetDecisionTime().AsTime()
	}
	pc, pev, err := s.do(ctx, req, casework.Command{Action: casework.ActionRecordConfirmation, Confirmation: cf})
	if err != nil {
		return nil, err
	}
	return &mediationv1.RecordConfirmationDecisionResponse{Case: pc, Event: pev}, nil
}

// RecordPerformance records whether the agreement has been performed.
func (s *CaseService) RecordPerformance(ctx context.Context, req *mediationv1.RecordPerformanceRequest) (*mediationv1.RecordPerformanceResponse, error) {
	pc, pev, err := s.do(ctx, req, casework.Command{
		Action: casework.ActionRecordPerformance, Reason: req.GetRemarks(),
		PerformanceStatus: enumToDomain[casework.PerformanceStatus](mediationv1.PerformanceStatus_name, "PERFORMANCE_STATUS_", int32(req.GetStatus())),
	})
	if err != nil {
		return nil, err
	}
	return &mediationv1.RecordPerformanceResponse{Case: pc, Event: pev}, nil
}

// RecordFollowUp records a follow-up visit.
func (s *CaseService) RecordFollowUp(ctx context.Context, req *mediationv1.RecordFollowUpRequest) (*mediationv1.RecordFollowUpResponse, error) {
	f := &casework.FollowUp{
		Visitor:           req.GetVisitor(),
		PartyIDs:          req.GetPartyIds(),
		Purpose:           req.GetPurpose(),
		Findings:          req.GetFindings(),
		PerformanceStatus: enumToDomain[casework.PerformanceStatus](mediationv1.PerformanceStatus_name, "PERFORMANCE_STATUS_", int32(req.GetPerformanceStatus())),
	}
	if req.GetVisitTime() != nil {
		f.VisitTime = req.GetVisitTime().AsTime()
	}
	pc, pev, err := s.do(ctx, req, casework.Command{Action: casework.ActionRecordFollowUp, FollowUp: f})
	if err != nil {
		return nil, err
	}
	return &mediationv1.RecordFollowUpResponse{Case: pc, Event: pev, FollowUp: pev.GetFollowUp()}, nil
}

// ListCaseFollowUps lists a case's follow-up visits.
func (s *CaseService) ListCaseFollowUps(ctx context.Context, req *mediationv1.ListCaseFollowUpsRequest) (*mediationv1.ListCaseFollowUpsResponse, error) {
	id, err := parseCaseName("parent", req.GetParent())
	if err != nil {
		return nil, err
	}
	visits, err := s.store.ListFollowUps(ctx, id, access(ctx).Scope)
	if err != nil {
		return nil, notFound(err, req.GetParent())
	}
	out := &mediationv1.ListCaseFollowUpsResponse{}
	for i := range visits {
		out.FollowUps = append(out.FollowUps, followUpToProto(id, &visits[i]))
	}
	return out, nil
}

// GetAgreementDocument renders the agreement document of an agreed case.
func (s *CaseService) GetAgreementDocument(ctx context.Context, req *mediationv1.GetAgreementDocumentRequest) (*mediationv1.GetAgreementDocumentResponse, error) {
	id, err := parseCaseName("name", req.GetName())
	if err != nil {
		return nil, err
	}
	c, err := s.store.GetCaseIn(ctx, id, access(ctx).Scope)
	if err != nil {
		return nil, notFound(err, req.GetName())
	}
	// The document shows what the caller may read, and the reading of
	// unmasked data is on record before it is handed out.
	shown, unmasked := masked(auth.FromContext(ctx), c)
	doc, err := s.agreementDocument(ctx, shown)
	if err != nil {
		return nil, err
	}
	html, err := casework.RenderAgreement(doc)
	if err != nil {
		return nil, fmt.Errorf("render the agreement of %s: %w", c.Number, err)
	}
	if unmasked {
		if err := s.recordUnmaskedReads(ctx, c.ID); err != nil {
			return nil, err
		}
	}
	return &mediationv1.GetAgreementDocumentResponse{Html: string(html), FileName: c.Number + "-调解协议书.html"}, nil
}

var roleNames = map[casework.PartyRole]string{
	casework.RoleApplicant:  "申请人",
	casework.RoleRespondent: "被申请人",
	casework.RoleThirdParty: "第三人",
	casework.RoleAgent:      "委托代理人",
}

// agreementDocument gathers what the 调解协议书 of c shows.
func (s *CaseService) agreementDocument(ctx context.Context, c casework.Case) (casework.AgreementDocument, error) {
	a := c.Agreement
	if a == nil {
		return casework.AgreementDocument{}, &casework.PreconditionError{Reason: "NO_AGREEMENT", Message: fmt.Sprintf("case %s has no agreement (state %s); the document exists once :recordAgreement is done", c.Number, c.State)}
	}
	doc := casework.AgreementDocument{
		Number:           c.Number,
		Facts:            a.Facts,
		Responsibilities: a.Responsibilities,
		Terms:            a.Terms,
		Performance:      a.Performance,
		Copies:           a.Copies,
		Recorder:         a.Recorder,
		Oral:             a.Form == casework.FormOral,
		Committee:        c.Organization,
		Mediator:         c.Mediator,
	}
	if signed, err := time.ParseInLocation(time.DateOnly, a.SignDate, s.policy.Location); err == nil {
		doc.SignDate = signed
	}
	if c.Organization != "" && c.Mediator != "" {
		org, med, err := s.store.Assignee(ctx, c.Organization, c.Mediator)
		if err == nil {
			doc.Committee, doc.Mediator = org.DisplayName, med.DisplayName
		}
	}
	names := map[string]string{}
	for _, p := range c.Parties {
		names[p.ID] = p.Name
	}
	now := s.clock().In(s.policy.Location)
	for _, p := range c.Parties {
		dp := casework.DocumentParty{
			Role: roleNames[p.Role], Name: p.Name, Ethnicity: p.Ethnicity, Occupation: p.Occupation,
			Contact: p.Phone, Address: p.Address, IDNumber: p.IDNumber,
			LegalEntity: p.IsOrganization(), Representative: p.LegalRepresentative,
		}
		switch p.Gender {
		case casework.GenderMale:
			dp.Gender = "男"
		case casework.GenderFemale:
			dp.Gender = "女"
		}
		if born, err := time.Parse(time.DateOnly, p.BirthDate); err == nil {
			dp.Age = casework.AgeOn(born, now)
		}
		if p.Role == casework.RoleAgent {
			var represented []string
			for _, id := range p.RepresentedPartyIDs {
				represented = append(represented, names[id])
			}
			dp.Representative = strings.Join(represented, "、")
		}
		doc.Parties = append(doc.Parties, dp)
	}
	for _, o := range a.Obligations {
		do := casework.DocumentObligation{Obligor: names[o.ObligorPartyID], Obligee: names[o.ObligeePartyID], Description: o.Description, Amount: o.Amount}
		if due, err := time.ParseInLocation(time.DateOnly, o.DueDate, s.policy.Location); err == nil {
			do.DueDate = due
		}
		doc.Obligations = append(doc.Obligations, do)
	}
	return doc, nil
}
