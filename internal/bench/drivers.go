package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/google/uuid"
	"google.golang.org/grpc"
	"google.golang.org/grpc/metadata"

	"github.com/mediationd/mediationd/internal/api"
	"github.com/mediationd/mediationd/internal/auth"
	"github.com/mediationd/mediationd/internal/caseflow"
	"github.com/mediationd/mediationd/internal/casework"
	"github.com/mediationd/mediationd/internal/reqinfo"
	"github.com/mediationd/mediationd/internal/store"
	mediationv1 "github.com/mediationd/mediationd/proto/mediation/v1"
)

// caseRef is what a client knows of a case it works on.
type caseRef struct {
	name string
	id   uuid.UUID // for the store driver
	etag string    // the etag of the last response
	// version is etag as a number, for the store driver.
	version int64
	// next is the index in lifecycle of the next call on the case.
	next int
	// n numbers the case within its client, to vary assignments.
	n int
}

// driver makes the benchmark's calls one way: over gRPC, over REST, or
// straight to the store. A driver serves one client at a time.
type driver interface {
	// create registers a case with a fresh request id.
	create(ctx context.Context, n int) (caseRef, error)
	// act applies lifecycle action k to c with c's etag and updates c.
	act(ctx context.Context, c *caseRef, k opKind) error
	get(ctx context.Context, name string) error
	list(ctx context.Context, filter string) error
	events(ctx context.Context, name string) error
}

// grpcDriver calls the CaseService over a gRPC connection with a bearer
// token.
type grpcDriver struct {
	cases mediationv1.CaseServiceClient
	md    metadata.MD
}

func newGRPCDriver(conn grpc.ClientConnInterface, token string) *grpcDriver {
	return &grpcDriver{cases: mediationv1.NewCaseServiceClient(conn), md: metadata.Pairs("authorization", "Bearer "+token)}
}

func (d *grpcDriver) ctx(ctx context.Context) context.Context {
	return metadata.NewOutgoingContext(ctx, d.md)
}

func (d *grpcDriver) create(ctx context.Context, n int) (caseRef, error) {
	resp, err := d.cases.CreateCase(d.ctx(ctx), &mediationv1.CreateCaseRequest{Case: protoCase(n), RequestId: uuid.NewString()})
	if err != nil {
		return caseRef{}, fmt.Errorf("CreateCase: %w", err)
	}
	c := resp.GetCase()
	if c.GetName() == "" || c.GetEtag() == "" {
		return caseRef{}, errors.New("CreateCase: no name or etag in the answer")
	}
	return caseRef{name: c.GetName(), etag: c.GetEtag(), next: 1, n: n}, nil
}

// actionResponse is what every action response has.
type actionResponse interface {
	GetCase() *mediationv1.Case
}

func (d *grpcDriver) act(ctx context.Context, c *caseRef, k opKind) error {
	ctx = d.ctx(ctx)
	var (
		resp actionResponse
		err  error
	)
	switch k {
	case opAccept:
		resp, err = d.cases.AcceptCase(ctx, &mediationv1.AcceptCaseRequest{Name: c.name, Etag: c.etag})
	case opAssign:
		org, med := assignee(c.n)
		resp, err = d.cases.AssignCase(ctx, &mediationv1.AssignCaseRequest{Name: c.name, Etag: c.etag, Organization: org, Mediator: med, Reason: assignReason})
	case opStartMediation:
		resp, err = d.cases.StartMediation(ctx, &mediationv1.StartMediationRequest{Name: c.name, Etag: c.etag})
	case opScheduleSession:
		resp, err = d.cases.ScheduleSession(ctx, &mediationv1.ScheduleSessionRequest{Name: c.name, Etag: c.etag,
			StartTime: protoSessionStart(), Place: sessionPlace, Participants: participants})
	case opRecordSession:
		resp, err = d.cases.RecordSession(ctx, &mediationv1.RecordSessionRequest{Name: c.name, Etag: c.etag,
			Session: c.name + "/sessions/1", Minutes: sessionMinutes, Result: sessionResult})
	case opRecordAgreement:
		resp, err = d.cases.RecordAgreement(ctx, &mediationv1.RecordAgreementRequest{Name: c.name, Etag: c.etag, Agreement: protoAgreement()})
	case opRecordFollowUp:
		resp, err = d.cases.RecordFollowUp(ctx, &mediationv1.RecordFollowUpRequest{Name: c.name, Etag: c.etag,
			Findings: followUpText, PartyIds: []string{"p1"}, PerformanceStatus: mediationv1.PerformanceStatus_PERFORMANCE_STATUS_PERFORMED})
	case opClose:
		resp, err = d.cases.CloseCase(ctx, &mediationv1.CloseCaseRequest{Name: c.name, Etag: c.etag})
	default:
		return fmt.Errorf("%s is not a lifecycle action", k)
	}
	if err != nil {
		return fmt.Errorf("%s %s: %w", k, c.name, err)
	}
	etag := resp.GetCase().GetEtag()
	if etag == "" {
		return fmt.Errorf("%s %s: no etag in the answer", k, c.name)
	}
	c.etag = etag
	return nil
}

func (d *grpcDriver) get(ctx context.Context, name string) error {
	if _, err := d.cases.GetCase(d.ctx(ctx), &mediationv1.GetCaseRequest{Name: name}); err != nil {
		return fmt.Errorf("GetCase %s: %w", name, err)
	}
	return nil
}

func (d *grpcDriver) list(ctx context.Context, filter string) error {
	if _, err := d.cases.ListCases(d.ctx(ctx), &mediationv1.ListCasesRequest{Filter: filter, PageSize: 50}); err != nil {
		return fmt.Errorf("ListCases %q: %w", filter, err)
	}
	return nil
}

func (d *grpcDriver) events(ctx context.Context, name string) error {
	if _, err := d.cases.ListCaseEvents(d.ctx(ctx), &mediationv1.ListCaseEventsRequest{Parent: name}); err != nil {
		return fmt.Errorf("ListCaseEvents %s: %w", name, err)
	}
	return nil
}

// restDriver calls the REST gateway with JSON bodies as the README shows.
type restDriver struct {
	client *http.Client
	base   string // http://host:port/v1/
	auth   string
	buf    bytes.Buffer
}

func newRESTDriver(client *http.Client, httpAddr, token string) *restDriver {
	return &restDriver{client: client, base: "http://" + httpAddr + "/v1/", auth: "Bearer " + token}
}

// restCaseAnswer is the part of a case answer the client reads.
type restCaseAnswer struct {
	Case struct {
		Name string `json:"name"`
		Etag string `json:"etag"`
	} `json:"case"`
}

// do sends a request and, if out is set, decodes the JSON answer into it.
func (d *restDriver) do(ctx context.Context, method, path string, body []byte, out any) error {
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, d.base+path, rd)
	if err != nil {
		return fmt.Errorf("%s %s: %w", method, path, err)
	}
	req.Header.Set("Authorization", d.auth)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := d.client.Do(req)
	if err != nil {
		return fmt.Errorf("%s %s: %w", method, path, err)
	}
	defer resp.Body.Close()
	d.buf.Reset()
	if _, err := d.buf.ReadFrom(resp.Body); err != nil {
		return fmt.Errorf("%s %s: read answer: %w", method, path, err)
	}
	if resp.StatusCode != http.StatusOK {
		msg := d.buf.String()
		if len(msg) > 300 {
			msg = msg[:300] + "…"
		}
		return fmt.Errorf("%s %s: %s: %s", method, path, resp.Status, msg)
	}
	if out != nil {
		if err := json.Unmarshal(d.buf.Bytes(), out); err != nil {
			return fmt.Errorf("%s %s: decode answer: %w", method, path, err)
		}
	}
	return nil
}

func (d *restDriver) create(ctx context.Context, n int) (caseRef, error) {
	body, err := restCase(n)
	if err != nil {
		return caseRef{}, err
	}
	var out restCaseAnswer
	if err := d.do(ctx, http.MethodPost, "cases?requestId="+uuid.NewString(), body, &out); err != nil {
		return caseRef{}, err
	}
	if out.Case.Name == "" || out.Case.Etag == "" {
		return caseRef{}, errors.New("POST /v1/cases: no name or etag in the answer")
	}
	return caseRef{name: out.Case.Name, etag: out.Case.Etag, next: 1, n: n}, nil
}

func (d *restDriver) act(ctx context.Context, c *caseRef, k opKind) error {
	verb, ok := restVerb[k]
	if !ok {
		return fmt.Errorf("%s is not a lifecycle action", k)
	}
	body, err := restAction(k, c.name, c.etag, c.n)
	if err != nil {
		return err
	}
	var out restCaseAnswer
	if err := d.do(ctx, http.MethodPost, c.name+":"+verb, body, &out); err != nil {
		return err
	}
	if out.Case.Etag == "" {
		return fmt.Errorf("POST /v1/%s:%s: no etag in the answer", c.name, verb)
	}
	c.etag = out.Case.Etag
	return nil
}

func (d *restDriver) get(ctx context.Context, name string) error {
	return d.do(ctx, http.MethodGet, name, nil, nil)
}

func (d *restDriver) list(ctx context.Context, filter string) error {
	return d.do(ctx, http.MethodGet, "cases?pageSize=50&filter="+url.QueryEscape(filter), nil, nil)
}

func (d *restDriver) events(ctx context.Context, name string) error {
	return d.do(ctx, http.MethodGet, name+"/events", nil, nil)
}

// storeDriver is the baseline: it calls the action pipeline
// (internal/caseflow) and the store as the service's handlers do
// (internal/api), in this process, without gRPC, HTTP, authentication,
// masking or encoding. Its changes carry an audit context as the service's
// do, so that every statement is the one the service sends, automatic
// assignment after an acceptance included.
type storeDriver struct {
	st    *store.Store
	flow  *caseflow.Flow
	p     auth.Principal
	scope auth.CaseScope
}

func newStoreDriver(st *store.Store, p auth.Principal) *storeDriver {
	return &storeDriver{st: st, flow: caseflow.New(st, nil, servicePolicy(), nil), p: p, scope: auth.ScopeOf(p)}
}

// servicePolicy is the policy mediationd runs with by default.
func servicePolicy() casework.Policy {
	loc, err := time.LoadLocation("Asia/Shanghai")
	if err != nil {
		loc = time.UTC
	}
	return casework.Policy{GroupDisputeApplicants: casework.DefaultPolicy.GroupDisputeApplicants, Location: loc}
}

// caller is the principal with the audit context the service would attach
// to call k.
func (d *storeDriver) caller(k opKind) caseflow.Caller {
	return caseflow.Caller{Principal: d.p, Audit: &store.AuditContext{
		ClientAddress: "127.0.0.1:0",
		Method:        "/mediation.v1.CaseService/" + grpcMethod[k],
		RequestID:     reqinfo.NewID(),
	}}
}

func (d *storeDriver) create(ctx context.Context, n int) (caseRef, error) {
	c, _, err := d.flow.Create(ctx, d.caller(opCreate), domainCase(n), uuid.NewString())
	if err != nil {
		return caseRef{}, fmt.Errorf("store create: %w", err)
	}
	return caseRef{name: "cases/" + c.ID.String(), id: c.ID, version: c.Version, etag: api.Etag(c.Version), next: 1, n: n}, nil
}

func (d *storeDriver) act(ctx context.Context, c *caseRef, k opKind) error {
	cmd, err := domainCommand(k, c.n)
	if err != nil {
		return err
	}
	if c.id == uuid.Nil {
		if c.id, err = parseName(c.name); err != nil {
			return err
		}
		if c.version, err = parseEtag(c.etag); err != nil {
			return err
		}
	}
	res, err := d.flow.Act(ctx, d.caller(k), c.id, c.version, cmd)
	if err != nil {
		return fmt.Errorf("store %s %s: %w", k, c.name, err)
	}
	next := res.Case
	c.version, c.etag = next.Version, api.Etag(next.Version)
	return nil
}

func (d *storeDriver) get(ctx context.Context, name string) error {
	id, err := parseName(name)
	if err != nil {
		return err
	}
	if _, err := d.st.GetCaseIn(ctx, id, d.scope); err != nil {
		return fmt.Errorf("store get %s: %w", name, err)
	}
	return nil
}

func (d *storeDriver) list(ctx context.Context, filter string) error {
	scope := d.scope
	if _, err := d.st.ListCases(ctx, store.ListCasesParams{Filter: filter, Limit: 50, Scope: &scope}); err != nil {
		return fmt.Errorf("store list %q: %w", filter, err)
	}
	return nil
}

func (d *storeDriver) events(ctx context.Context, name string) error {
	id, err := parseName(name)
	if err != nil {
		return err
	}
	// 100 is the service's default page of events.
	if _, _, err := d.st.ListEventsIn(ctx, id, 0, 100, d.scope); err != nil {
		return fmt.Errorf("store events %s: %w", name, err)
	}
	return nil
}

func parseName(name string) (uuid.UUID, error) {
	id, err := uuid.Parse(strings.TrimPrefix(name, "cases/"))
	if err != nil {
		return uuid.Nil, fmt.Errorf("case name %q: %w", name, err)
	}
	return id, nil
}

func parseEtag(etag string) (int64, error) {
	v, ok := api.ParseEtag(etag)
	if !ok {
		return 0, fmt.Errorf("%q is not an etag of the service", etag)
	}
	return v, nil
}
