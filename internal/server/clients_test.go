package server_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/fieldmaskpb"
	"google.golang.org/protobuf/types/known/timestamppb"

	spb "google.golang.org/genproto/googleapis/rpc/status"

	"github.com/mediationd/mediationd/internal/casework"
	mediationv1 "github.com/mediationd/mediationd/proto/mediation/v1"
)

// result is what a call returned, whichever the transport.
type result struct {
	c          *mediationv1.Case
	ev         *mediationv1.CaseEvent
	st         *status.Status // nil on success
	httpStatus int            // 0 over gRPC
}

func (r result) code() codes.Code {
	if r.st == nil {
		return codes.OK
	}
	return r.st.Code()
}

// client runs the same scenario over gRPC or over the REST gateway.
type client interface {
	name() string
	create(t *testing.T, c *mediationv1.Case, requestID string) result
	get(t *testing.T, name string) result
	act(t *testing.T, name string, cmd casework.Command, etag string) result
	events(t *testing.T, name string) []*mediationv1.CaseEvent
}

type grpcClient struct{ e *env }

func (g grpcClient) name() string { return "grpc" }

func grpcResult(c *mediationv1.Case, ev *mediationv1.CaseEvent, err error) result {
	if err != nil {
		return result{st: status.Convert(err)}
	}
	return result{c: c, ev: ev}
}

func (g grpcClient) create(t *testing.T, c *mediationv1.Case, requestID string) result {
	resp, err := g.e.cases.CreateCase(context.Background(), &mediationv1.CreateCaseRequest{Case: c, RequestId: requestID})
	return grpcResult(resp.GetCase(), nil, err)
}

func (g grpcClient) get(t *testing.T, name string) result {
	resp, err := g.e.cases.GetCase(context.Background(), &mediationv1.GetCaseRequest{Name: name})
	return grpcResult(resp.GetCase(), nil, err)
}

func (g grpcClient) act(t *testing.T, name string, cmd casework.Command, etag string) result {
	ctx := context.Background()
	cs := g.e.cases
	switch cmd.Action {
	case casework.ActionAccept:
		r, err := cs.AcceptCase(ctx, &mediationv1.AcceptCaseRequest{Name: name, Etag: etag, RequestId: cmd.RequestID, Comment: cmd.Reason})
		return grpcResult(r.GetCase(), r.GetEvent(), err)
	case casework.ActionReject:
		r, err := cs.RejectCase(ctx, &mediationv1.RejectCaseRequest{Name: name, Etag: etag, RequestId: cmd.RequestID, Reason: cmd.Reason})
		return grpcResult(r.GetCase(), r.GetEvent(), err)
	case casework.ActionAssign:
		r, err := cs.AssignCase(ctx, &mediationv1.AssignCaseRequest{Name: name, Etag: etag, RequestId: cmd.RequestID, Organization: cmd.Organization, Mediator: cmd.Mediator, Reason: cmd.Reason})
		return grpcResult(r.GetCase(), r.GetEvent(), err)
	case casework.ActionStartMediation:
		r, err := cs.StartMediation(ctx, &mediationv1.StartMediationRequest{Name: name, Etag: etag, RequestId: cmd.RequestID, Comment: cmd.Reason})
		return grpcResult(r.GetCase(), r.GetEvent(), err)
	case casework.ActionRecordAgreement:
		req := &mediationv1.RecordAgreementRequest{Name: name, Etag: etag, RequestId: cmd.RequestID}
		if cmd.Agreement != nil {
			req.Agreement = &mediationv1.Agreement{Terms: cmd.Agreement.Terms, Facts: cmd.Agreement.Facts}
		}
		r, err := cs.RecordAgreement(ctx, req)
		return grpcResult(r.GetCase(), r.GetEvent(), err)
	case casework.ActionRecordFailure:
		r, err := cs.RecordFailure(ctx, &mediationv1.RecordFailureRequest{Name: name, Etag: etag, RequestId: cmd.RequestID, Reason: cmd.Reason})
		return grpcResult(r.GetCase(), r.GetEvent(), err)
	case casework.ActionWithdraw:
		r, err := cs.WithdrawCase(ctx, &mediationv1.WithdrawCaseRequest{Name: name, Etag: etag, RequestId: cmd.RequestID, Reason: cmd.Reason})
		return grpcResult(r.GetCase(), r.GetEvent(), err)
	case casework.ActionClose:
		r, err := cs.CloseCase(ctx, &mediationv1.CloseCaseRequest{Name: name, Etag: etag, RequestId: cmd.RequestID, Comment: cmd.Reason, NoFollowUpReason: cmd.NoFollowUpReason})
		return grpcResult(r.GetCase(), r.GetEvent(), err)
	case casework.ActionUpdate:
		c := &mediationv1.Case{Name: name, Etag: etag, Summary: cmd.Update.Summary, EscalationRisk: cmd.Update.EscalationRisk}
		r, err := cs.UpdateCase(ctx, &mediationv1.UpdateCaseRequest{Case: c, UpdateMask: &fieldmaskpb.FieldMask{Paths: cmd.Update.Fields}, RequestId: cmd.RequestID})
		return grpcResult(r.GetCase(), r.GetEvent(), err)
	case casework.ActionRecuse:
		r, err := cs.RecuseCase(ctx, &mediationv1.RecuseCaseRequest{Name: name, Etag: etag, RequestId: cmd.RequestID, Reason: cmd.Reason})
		return grpcResult(r.GetCase(), r.GetEvent(), err)
	case casework.ActionExtendDeadline:
		r, err := cs.ExtendDeadline(ctx, &mediationv1.ExtendDeadlineRequest{Name: name, Etag: etag, RequestId: cmd.RequestID, Reason: cmd.Reason, ConsentingPartyIds: cmd.ConsentingPartyIDs})
		return grpcResult(r.GetCase(), r.GetEvent(), err)
	case casework.ActionScheduleSession:
		r, err := cs.ScheduleSession(ctx, &mediationv1.ScheduleSessionRequest{Name: name, Etag: etag, RequestId: cmd.RequestID,
			StartTime: timestamppb.New(cmd.Session.StartTime), Place: cmd.Session.Place, Participants: cmd.Session.Participants})
		return grpcResult(r.GetCase(), r.GetEvent(), err)
	case casework.ActionRecordSession:
		r, err := cs.RecordSession(ctx, &mediationv1.RecordSessionRequest{Name: name, Etag: etag, RequestId: cmd.RequestID,
			Session: sessionName(name, cmd.Session.Number), Minutes: cmd.Session.Minutes, Result: cmd.Session.Result})
		return grpcResult(r.GetCase(), r.GetEvent(), err)
	case casework.ActionCancelSession:
		r, err := cs.CancelSession(ctx, &mediationv1.CancelSessionRequest{Name: name, Etag: etag, RequestId: cmd.RequestID,
			Session: sessionName(name, cmd.Session.Number), Reason: cmd.Reason})
		return grpcResult(r.GetCase(), r.GetEvent(), err)
	case casework.ActionRequestConfirmation:
		r, err := cs.RequestJudicialConfirmation(ctx, &mediationv1.RequestJudicialConfirmationRequest{Name: name, Etag: etag, RequestId: cmd.RequestID,
			CourtCode: cmd.Confirmation.CourtCode, CourtName: cmd.Confirmation.CourtName})
		return grpcResult(r.GetCase(), r.GetEvent(), err)
	case casework.ActionRecordConfirmation:
		r, err := cs.RecordConfirmationDecision(ctx, &mediationv1.RecordConfirmationDecisionRequest{Name: name, Etag: etag, RequestId: cmd.RequestID,
			Decision: mediationv1.ConfirmationDecision_CONFIRMATION_DECISION_CONFIRMED, DocumentNumber: cmd.Confirmation.DocumentNumber})
		return grpcResult(r.GetCase(), r.GetEvent(), err)
	case casework.ActionRecordPerformance:
		r, err := cs.RecordPerformance(ctx, &mediationv1.RecordPerformanceRequest{Name: name, Etag: etag, RequestId: cmd.RequestID,
			Status: mediationv1.PerformanceStatus_PERFORMANCE_STATUS_PERFORMED, Remarks: cmd.Reason})
		return grpcResult(r.GetCase(), r.GetEvent(), err)
	case casework.ActionRecordFollowUp:
		r, err := cs.RecordFollowUp(ctx, &mediationv1.RecordFollowUpRequest{Name: name, Etag: etag, RequestId: cmd.RequestID,
			Findings: cmd.FollowUp.Findings, PartyIds: cmd.FollowUp.PartyIDs,
			PerformanceStatus: mediationv1.PerformanceStatus(mediationv1.PerformanceStatus_value["PERFORMANCE_STATUS_"+string(cmd.FollowUp.PerformanceStatus)])})
		return grpcResult(r.GetCase(), r.GetEvent(), err)
	}
	t.Fatalf("no gRPC call for %s", cmd.Action)
	return result{}
}

func sessionName(caseName string, n int) string { return fmt.Sprintf("%s/sessions/%d", caseName, n) }

func (g grpcClient) events(t *testing.T, name string) []*mediationv1.CaseEvent {
	resp, err := g.e.cases.ListCaseEvents(context.Background(), &mediationv1.ListCaseEventsRequest{Parent: name, PageSize: 1000})
	if err != nil {
		t.Fatalf("ListCaseEvents: %v", err)
	}
	return resp.GetEvents()
}

type restClient struct{ e *env }

func (h restClient) name() string { return "rest" }

// do sends a request and decodes the response into out, or the error body
// into a status.
func (h restClient) do(t *testing.T, method, path string, body any, out proto.Message) result {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			t.Fatal(err)
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, h.e.baseURL+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := h.e.http.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	r := result{httpStatus: resp.StatusCode}
	if resp.StatusCode != http.StatusOK {
		var sp spb.Status
		if err := protojson.Unmarshal(raw, &sp); err != nil {
			t.Fatalf("%s %s: %d with a body that is not a status: %s", method, path, resp.StatusCode, raw)
		}
		r.st = status.FromProto(&sp)
		return r
	}
	// Action responses share case and event; decode any into one type.
	if err := (protojson.UnmarshalOptions{DiscardUnknown: true}).Unmarshal(raw, out); err != nil {
		t.Fatalf("%s %s: decode %s: %v", method, path, raw, err)
	}
	return r
}

func (h restClient) create(t *testing.T, c *mediationv1.Case, requestID string) result {
	var out mediationv1.CreateCaseResponse
	b, err := protojson.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	path := "/v1/cases"
	if requestID != "" {
		path += "?requestId=" + requestID
	}
	r := h.do(t, http.MethodPost, path, json.RawMessage(b), &out)
	r.c = out.GetCase()
	return r
}

func (h restClient) get(t *testing.T, name string) result {
	var out mediationv1.GetCaseResponse
	r := h.do(t, http.MethodGet, "/v1/"+name, nil, &out)
	r.c = out.GetCase()
	return r
}

func (h restClient) act(t *testing.T, name string, cmd casework.Command, etag string) result {
	body := map[string]any{}
	if etag != "" {
		body["etag"] = etag
	}
	if cmd.RequestID != "" {
		body["requestId"] = cmd.RequestID
	}
	switch cmd.Action {
	case casework.ActionAccept, casework.ActionStartMediation:
		body["comment"] = cmd.Reason
	case casework.ActionClose:
		body["comment"], body["noFollowUpReason"] = cmd.Reason, cmd.NoFollowUpReason
	case casework.ActionReject, casework.ActionRecordFailure, casework.ActionWithdraw, casework.ActionRecuse:
		body["reason"] = cmd.Reason
	case casework.ActionExtendDeadline:
		body["reason"], body["consentingPartyIds"] = cmd.Reason, cmd.ConsentingPartyIDs
	case casework.ActionScheduleSession:
		body["startTime"], body["place"], body["participants"] = cmd.Session.StartTime.Format(time.RFC3339), cmd.Session.Place, cmd.Session.Participants
	case casework.ActionRecordSession:
		body["session"], body["minutes"], body["result"] = sessionName(name, cmd.Session.Number), cmd.Session.Minutes, cmd.Session.Result
	case casework.ActionCancelSession:
		body["session"], body["reason"] = sessionName(name, cmd.Session.Number), cmd.Reason
	case casework.ActionRequestConfirmation:
		body["courtCode"], body["courtName"] = cmd.Confirmation.CourtCode, cmd.Confirmation.CourtName
	case casework.ActionRecordConfirmation:
		body["decision"], body["documentNumber"] = "CONFIRMATION_DECISION_CONFIRMED", cmd.Confirmation.DocumentNumber
	case casework.ActionRecordPerformance:
		body["status"], body["remarks"] = "PERFORMANCE_STATUS_PERFORMED", cmd.Reason
	case casework.ActionRecordFollowUp:
		body["findings"], body["partyIds"] = cmd.FollowUp.Findings, cmd.FollowUp.PartyIDs
		if ps := cmd.FollowUp.PerformanceStatus; ps != "" {
			body["performanceStatus"] = "PERFORMANCE_STATUS_" + string(ps)
		}
	case casework.ActionUpdate:
		var out mediationv1.UpdateCaseResponse
		body = map[string]any{"summary": cmd.Update.Summary, "escalationRisk": cmd.Update.EscalationRisk}
		if etag != "" {
			body["etag"] = etag
		}
		path := "/v1/" + name + "?updateMask=" + strings.Join(cmd.Update.Fields, ",")
		if cmd.RequestID != "" {
			path += "&requestId=" + cmd.RequestID
		}
		r := h.do(t, http.MethodPatch, path, body, &out)
		r.c, r.ev = out.GetCase(), out.GetEvent()
		return r
	case casework.ActionAssign:
		body["organization"], body["mediator"], body["reason"] = cmd.Organization, cmd.Mediator, cmd.Reason
	case casework.ActionRecordAgreement:
		if cmd.Agreement != nil {
			b, err := protojson.Marshal(&mediationv1.Agreement{Terms: cmd.Agreement.Terms, Facts: cmd.Agreement.Facts})
			if err != nil {
				t.Fatal(err)
			}
			body["agreement"] = json.RawMessage(b)
		}
	}
	// Every action response has the same shape: the case and the event.
	var out mediationv1.AcceptCaseResponse
	r := h.do(t, http.MethodPost, "/v1/"+name+":"+string(cmd.Action), body, &out)
	r.c, r.ev = out.GetCase(), out.GetEvent()
	return r
}

func (h restClient) events(t *testing.T, name string) []*mediationv1.CaseEvent {
	var out mediationv1.ListCaseEventsResponse
	if r := h.do(t, http.MethodGet, "/v1/"+name+"/events?pageSize=1000", nil, &out); r.st != nil {
		t.Fatalf("ListCaseEvents: %v", r.st)
	}
	return out.GetEvents()
}

func clients(e *env) []client { return []client{grpcClient{e}, restClient{e}} }
