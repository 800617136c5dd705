// Package api implements the mediation.v1 gRPC services: it translates
// requests into domain commands, runs them through the store, and
// translates the results back. The REST gateway reaches these handlers
// through the gRPC server, so both protocols share every interceptor.
package api

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/mediationd/mediationd/internal/caseflow"
	"github.com/mediationd/mediationd/internal/casework"
	"github.com/mediationd/mediationd/internal/store"
	mediationv1 "github.com/mediationd/mediationd/proto/mediation/v1"
)

// Clock tells the time; tests replace it to move time.
type Clock func() time.Time

// CaseService serves mediation.v1.CaseService.
type CaseService struct {
	mediationv1.UnimplementedCaseServiceServer

	flow   *caseflow.Flow
	store  *store.Store
	policy casework.Policy // its Location is the bureau's time zone: case-number years, due dates
	log    *slog.Logger
}

// NewCaseService returns the service. Every change of a case goes
// through flow; reads go to the store.
func NewCaseService(flow *caseflow.Flow, st *store.Store, log *slog.Logger) *CaseService {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &CaseService{flow: flow, store: st, policy: flow.Policy(), log: log}
}

func (s *CaseService) clock() time.Time { return s.flow.Now() }

// parseCaseName extracts the id from `cases/{uuid}`.
func parseCaseName(field, name string) (uuid.UUID, error) {
	rest, ok := strings.CutPrefix(name, "cases/")
	id, err := uuid.Parse(rest)
	if !ok || err != nil || rest != id.String() {
		return uuid.Nil, &casework.FieldError{Field: field, Message: fmt.Sprintf("%q is not a case name: expected cases/{uuid} with a lower-case UUID, as returned in Case.name", name)}
	}
	return id, nil
}

// parseEtag turns an etag back into the version it stands for; "" is no
// condition.
func parseEtag(field, etag string) (int64, error) {
	if etag == "" {
		return 0, nil
	}
	v, ok := ParseEtag(strings.Trim(strings.TrimPrefix(etag, "W/"), `"`))
	if !ok {
		return 0, &casework.FieldError{Field: field, Message: fmt.Sprintf("%q is not an etag this service issued: send the etag as read, or leave it empty", etag)}
	}
	return v, nil
}

// CreateCase registers a dispute.
func (s *CaseService) CreateCase(ctx context.Context, req *mediationv1.CreateCaseRequest) (*mediationv1.CreateCaseResponse, error) {
	c, _, err := s.flow.Create(ctx, caller(ctx), newCaseFromProto(req.GetCase()), req.GetRequestId())
	if err != nil {
		return nil, err
	}
	pc, err := s.view1(ctx, c)
	if err != nil {
		return nil, store.AfterChange(err) // registered, but the answer could not be given
	}
	return &mediationv1.CreateCaseResponse{Case: pc}, nil
}

// GetCase returns one case.
func (s *CaseService) GetCase(ctx context.Context, req *mediationv1.GetCaseRequest) (*mediationv1.GetCaseResponse, error) {
	id, err := parseCaseName("name", req.GetName())
	if err != nil {
		return nil, err
	}
	c, err := s.store.GetCaseIn(ctx, id, access(ctx).Scope)
	if err != nil {
		return nil, notFound(err, req.GetName())
	}
	pc, err := s.view1(ctx, c)
	if err != nil {
		return nil, err
	}
	return &mediationv1.GetCaseResponse{Case: pc}, nil
}

func notFound(err error, name string) error {
	if err == casework.ErrNotFound {
		return fmt.Errorf("%s: %w", name, casework.ErrNotFound)
	}
	return err
}

// ListCases lists cases.
func (s *CaseService) ListCases(ctx context.Context, req *mediationv1.ListCasesRequest) (*mediationv1.ListCasesResponse, error) {
	var ascending bool
	switch strings.Join(strings.Fields(req.GetOrderBy()), " ") {
	case "", "create_time desc":
	case "create_time", "create_time asc":
		ascending = true
	default:
		return nil, &casework.FieldError{Field: "order_by", Message: fmt.Sprintf("%q is not supported: use \"create_time desc\" (newest first, the default) or \"create_time\" (oldest first)", req.GetOrderBy())}
	}
	query := queryFingerprint(req.GetFilter(), fmt.Sprint(ascending))
	after, err := decodePageToken(req.GetPageToken(), query)
	if err != nil {
		return nil, err
	}
	scope := access(ctx).Scope
	page, err := s.store.ListCases(ctx, store.ListCasesParams{
		Filter:    req.GetFilter(),
		Spelling:  caseSpelling,
		Ascending: ascending,
		After:     after,
		Limit:     pageSize(req.GetPageSize(), defaultPageSize),
		Scope:     &scope,
	})
	if err != nil {
		return nil, err
	}
	cases, err := s.view(ctx, page.Cases...)
	if err != nil {
		return nil, err
	}
	return &mediationv1.ListCasesResponse{Cases: cases, NextPageToken: encodePageToken(page.Next, query)}, nil
}

// ListCaseEvents lists a case's history.
func (s *CaseService) ListCaseEvents(ctx context.Context, req *mediationv1.ListCaseEventsRequest) (*mediationv1.ListCaseEventsResponse, error) {
	id, err := parseCaseName("parent", req.GetParent())
	if err != nil {
		return nil, err
	}
	query := queryFingerprint(req.GetParent())
	after, err := decodePageToken(req.GetPageToken(), query)
	if err != nil {
		return nil, err
	}
	events, more, err := s.store.ListEventsIn(ctx, id, after, pageSize(req.GetPageSize(), defaultEventPageSize), access(ctx).Scope)
	if err != nil {
		return nil, notFound(err, req.GetParent())
	}
	out := &mediationv1.ListCaseEventsResponse{}
	for _, ev := range events {
		out.Events = append(out.Events, s.eventToProto(ev))
	}
	if more {
		out.NextPageToken = encodePageToken(events[len(events)-1].Version, query)
	}
	return out, nil
}

// GetWorkflow describes the lifecycle.
func (s *CaseService) GetWorkflow(context.Context, *mediationv1.GetWorkflowRequest) (*mediationv1.GetWorkflowResponse, error) {
	w, err := WorkflowToProto()
	if err != nil {
		return nil, err
	}
	return &mediationv1.GetWorkflowResponse{Workflow: w}, nil
}

// WorkflowToProto renders the lifecycle as the API publishes it.
func WorkflowToProto() (*mediationv1.Workflow, error) {
	w, err := casework.Describe()
	if err != nil {
		return nil, err
	}
	out := &mediationv1.Workflow{Mermaid: w.Mermaid}
	for _, st := range w.States {
		ws := &mediationv1.WorkflowState{State: stateToProto(st.State), DisplayName: st.DisplayName, Terminal: st.Terminal}
		for _, a := range st.Allowed {
			ws.AllowedActions = append(ws.AllowedActions, string(a))
		}
		out.States = append(out.States, ws)
	}
	for _, a := range w.Actions {
		method := strings.TrimPrefix(ActionMethod(a.Action), "/")
		wa := &mediationv1.WorkflowAction{
			Action:         actionToProto(a.Action),
			Verb:           string(a.Action),
			Method:         method,
			DisplayName:    a.DisplayName,
			RequiredFields: a.RequiredFields,
		}
		for _, t := range a.Transitions {
			wa.Transitions = append(wa.Transitions, &mediationv1.WorkflowTransition{
				From: stateToProto(t.From), To: stateToProto(t.To), Outcome: outcomeToProto(t.Outcome), RequiredFields: t.RequiredFields,
			})
		}
		out.Actions = append(out.Actions, wa)
	}
	return out, nil
}

// ActionMethod returns the full gRPC method that asks for an action, e.g.
// /mediation.v1.CaseService/AcceptCase; "" for an action the service
// records by itself (markOverdue).
func ActionMethod(a casework.Action) string {
	m, ok := actionMethods[a]
	if !ok {
		return ""
	}
	return "/" + mediationv1.CaseService_ServiceDesc.ServiceName + "/" + m
}

// actionMethods names the RPC of each action.
var actionMethods = map[casework.Action]string{
	casework.ActionCreate:          "CreateCase",
	casework.ActionAccept:          "AcceptCase",
	casework.ActionReject:          "RejectCase",
	casework.ActionAssign:          "AssignCase",
	casework.ActionStartMediation:  "StartMediation",
	casework.ActionRecordAgreement: "RecordAgreement",
	casework.ActionRecordFailure:   "RecordFailure",
	casework.ActionWithdraw:        "WithdrawCase",
	casework.ActionClose:           "CloseCase",

	casework.ActionUpdate:              "UpdateCase",
	casework.ActionRecuse:              "RecuseCase",
	casework.ActionExtendDeadline:      "ExtendDeadline",
	casework.ActionScheduleSession:     "ScheduleSession",
	casework.ActionRecordSession:       "RecordSession",
	casework.ActionCancelSession:       "CancelSession",
	casework.ActionRequestConfirmation: "RequestJudicialConfirmation",
	casework.ActionRecordConfirmation:  "RecordConfirmationDecision",
	casework.ActionRecordPerformance:   "RecordPerformance",
	casework.ActionRecordFollowUp:      "RecordFollowUp",
}

// actionRequest is what every action request has in common.
type actionRequest interface {
	GetName() string
	GetEtag() string
	GetRequestId() string
}

// act runs one action: parse the name and etag, then the pipeline.
func (s *CaseService) act(ctx context.Context, req actionRequest, cmd casework.Command) (caseflow.Result, error) {
	id, err := parseCaseName("name", req.GetName())
	if err != nil {
		return caseflow.Result{}, err
	}
	version, err := parseEtag("etag", req.GetEtag())
	if err != nil {
		return caseflow.Result{}, err
	}
	cmd.RequestID = req.GetRequestId()
	res, err := s.flow.Act(ctx, caller(ctx), id, version, cmd)
	if err != nil {
		return res, notFound(err, caseName(id))
	}
	return res, nil
}

// do runs an action and renders its result for the caller.
func (s *CaseService) do(ctx context.Context, req actionRequest, cmd casework.Command) (*mediationv1.Case, *mediationv1.CaseEvent, error) {
	res, err := s.act(ctx, req, cmd)
	if err != nil {
		return nil, nil, err
	}
	return s.respond(ctx, res.Case, res.Event)
}

// respond renders an action's result for the caller. The action is
// made: a failure here (recording an unmasked read) is reported as an
// unknown outcome, never as a refusal.
func (s *CaseService) respond(ctx context.Context, c casework.Case, ev casework.Event) (*mediationv1.Case, *mediationv1.CaseEvent, error) {
	pc, err := s.view1(ctx, c)
	if err != nil {
		return nil, nil, store.AfterChange(err)
	}
	return pc, s.eventToProto(ev), nil
}

// AcceptCase accepts a registered dispute.
func (s *CaseService) AcceptCase(ctx context.Context, req *mediationv1.AcceptCaseRequest) (*mediationv1.AcceptCaseResponse, error) {
	pc, pev, err := s.do(ctx, req, casework.Command{Action: casework.ActionAccept, Reason: req.GetComment()})
	if err != nil {
		return nil, err
	}
	return &mediationv1.AcceptCaseResponse{Case: pc, Event: pev}, nil
}

// RejectCase rejects a registered dispute.
func (s *CaseService) RejectCase(ctx context.Context, req *mediationv1.RejectCaseRequest) (*mediationv1.RejectCaseResponse, error) {
	pc, pev, err := s.do(ctx, req, casework.Command{Action: casework.ActionReject, Reason: req.GetReason()})
	if err != nil {
		return nil, err
	}
	return &mediationv1.RejectCaseResponse{Case: pc, Event: pev}, nil
}

// AssignCase assigns or reassigns a case.
func (s *CaseService) AssignCase(ctx context.Context, req *mediationv1.AssignCaseRequest) (*mediationv1.AssignCaseResponse, error) {
	pc, pev, err := s.do(ctx, req, casework.Command{
		Action: casework.ActionAssign, Reason: req.GetReason(),
		Organization: req.GetOrganization(), Mediator: req.GetMediator(),
	})
	if err != nil {
		return nil, err
	}
	return &mediationv1.AssignCaseResponse{Case: pc, Event: pev}, nil
}

// StartMediation starts mediation of an assigned case.
func (s *CaseService) StartMediation(ctx context.Context, req *mediationv1.StartMediationRequest) (*mediationv1.StartMediationResponse, error) {
	pc, pev, err := s.do(ctx, req, casework.Command{Action: casework.ActionStartMediation, Reason: req.GetComment()})
	if err != nil {
		return nil, err
	}
	return &mediationv1.StartMediationResponse{Case: pc, Event: pev}, nil
}

// RecordAgreement records the agreement of a successful mediation.
func (s *CaseService) RecordAgreement(ctx context.Context, req *mediationv1.RecordAgreementRequest) (*mediationv1.RecordAgreementResponse, error) {
	cmd := casework.Command{Action: casework.ActionRecordAgreement, Agreement: agreementFromProto(req.GetAgreement())}
	pc, pev, err := s.do(ctx, req, cmd)
	if err != nil {
		return nil, err
	}
	return &mediationv1.RecordAgreementResponse{Case: pc, Event: pev}, nil
}

// RecordFailure ends a mediation without agreement.
func (s *CaseService) RecordFailure(ctx context.Context, req *mediationv1.RecordFailureRequest) (*mediationv1.RecordFailureResponse, error) {
	pc, pev, err := s.do(ctx, req, casework.Command{
		Action: casework.ActionRecordFailure, Reason: req.GetReason(),
		FailureReason: enumToDomain[casework.FailureReason](mediationv1.FailureReason_name, "FAILURE_REASON_", int32(req.GetReasonCode())),
	})
	if err != nil {
		return nil, err
	}
	return &mediationv1.RecordFailureResponse{Case: pc, Event: pev}, nil
}

// WithdrawCase records the applicant's withdrawal.
func (s *CaseService) WithdrawCase(ctx context.Context, req *mediationv1.WithdrawCaseRequest) (*mediationv1.WithdrawCaseResponse, error) {
	pc, pev, err := s.do(ctx, req, casework.Command{Action: casework.ActionWithdraw, Reason: req.GetReason()})
	if err != nil {
		return nil, err
	}
	return &mediationv1.WithdrawCaseResponse{Case: pc, Event: pev}, nil
}

// CloseCase closes an agreed case.
func (s *CaseService) CloseCase(ctx context.Context, req *mediationv1.CloseCaseRequest) (*mediationv1.CloseCaseResponse, error) {
	pc, pev, err := s.do(ctx, req, casework.Command{Action: casework.ActionClose, Reason: req.GetComment(), NoFollowUpReason: req.GetNoFollowUpReason()})
	if err != nil {
		return nil, err
	}
	return &mediationv1.CloseCaseResponse{Case: pc, Event: pev}, nil
}
