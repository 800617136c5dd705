package server_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

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
			req.Agreement = &mediationv1.Agreement{Terms: cmd.Agreement.Terms}
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
		r, err := cs.CloseCase(ctx, &mediationv1.CloseCaseRequest{Name: name, Etag: etag, RequestId: cmd.RequestID, Comment: cmd.Reason})
		return grpcResult(r.GetCase(), r.GetEvent(), err)
	}
	t.Fatalf("no gRPC call for %s", cmd.Action)
	return result{}
}

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
	if err := protojson.Unmarshal(raw, out); err != nil {
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
	case casework.ActionAccept, casework.ActionStartMediation, casework.ActionClose:
		body["comment"] = cmd.Reason
	case casework.ActionReject, casework.ActionRecordFailure, casework.ActionWithdraw:
		body["reason"] = cmd.Reason
	case casework.ActionAssign:
		body["organization"], body["mediator"], body["reason"] = cmd.Organization, cmd.Mediator, cmd.Reason
	case casework.ActionRecordAgreement:
		if cmd.Agreement != nil {
			body["agreement"] = map[string]string{"terms": cmd.Agreement.Terms}
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
