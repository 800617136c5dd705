package server_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	spb "google.golang.org/genproto/googleapis/rpc/status"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"
	"google.golang.org/protobuf/types/known/fieldmaskpb"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/mediationd/mediationd/internal/auth"
	"github.com/mediationd/mediationd/internal/casework"
	"github.com/mediationd/mediationd/internal/pgtest"
	"github.com/mediationd/mediationd/internal/reqinfo"
	"github.com/mediationd/mediationd/internal/server"
	"github.com/mediationd/mediationd/internal/store"
	mediationv1 "github.com/mediationd/mediationd/proto/mediation/v1"
)

// The personal data of the parties in TestPersonalDataNeverReachesLogs:
// resident ID numbers with valid check digits, the same numbers one digit
// off (as a clerk mistypes them), phone numbers and addresses.
const (
	piiID1        = "621002198503150023" // 王秀英, born 1985-03-15
	piiID2        = "621002195005010024" // 王建国, born 1950-05-01
	piiID3        = "11010519491231002X" // 李律师, sent with a lower-case x
	piiID1Typo    = "621002198503150024" // piiID1 with a wrong check digit
	piiID2Typo    = "621002195005010025"
	piiMobile     = "13809341234"
	piiLandline   = "0934-8621234"
	piiMobileTypo = "1380934123" // a digit short
	piiAddress1   = "西峰区肖金镇米王村十二号"
	piiAddress2   = "庆城县驿马镇东环路8号"
	piiPassword1  = "Xifeng-mediation-2026!"
	piiPassword2  = "another secret phrase 13809341234"
	piiWrongPass  = "guess 621002198503150023"
)

// piiSecrets returns every spelling of the personal data and credentials
// that must never appear in a log line.
func piiSecrets() []string {
	return []string{
		piiID1, piiID2, piiID3, strings.ToLower(piiID3), piiID1Typo, piiID2Typo,
		piiMobile, "138 0934 1234", "138-0934-1234", "+86 138 0934 1234", "+8613809341234", piiMobileTypo,
		piiLandline, "0934 8621234", "09348621234",
		piiAddress1, piiAddress2, "米王村十二号", "东环路8号",
		testPassword, piiPassword1, piiPassword2, piiWrongPass,
	}
}

// piiLogBuffer collects the server's log output; handlers write to it
// from many goroutines.
type piiLogBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *piiLogBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *piiLogBuffer) Bytes() []byte {
	b.mu.Lock()
	defer b.mu.Unlock()
	return bytes.Clone(b.buf.Bytes())
}

// piiCaller calls an API method over one transport.
type piiCaller interface {
	name() string
	// call calls method (/mediation.v1.Service/Method) with req, as the
	// caller of ctx (see as), and returns the response or the refusal.
	call(t *testing.T, ctx context.Context, method string, req proto.Message) (proto.Message, *status.Status)
}

// piiMethod finds the descriptor of a full gRPC method name.
func piiMethod(t *testing.T, method string) protoreflect.MethodDescriptor {
	t.Helper()
	name := strings.ReplaceAll(strings.TrimPrefix(method, "/"), "/", ".")
	d, err := protoregistry.GlobalFiles.FindDescriptorByName(protoreflect.FullName(name))
	if err != nil {
		t.Fatalf("no method %s: %v", method, err)
	}
	md, ok := d.(protoreflect.MethodDescriptor)
	if !ok {
		t.Fatalf("%s is a %T", method, d)
	}
	return md
}

func piiNewResponse(t *testing.T, md protoreflect.MethodDescriptor) proto.Message {
	t.Helper()
	mt, err := protoregistry.GlobalTypes.FindMessageByName(md.Output().FullName())
	if err != nil {
		t.Fatal(err)
	}
	return mt.New().Interface()
}

// piiGRPC calls over a connection of its own whose interceptor notes
// every method called and tags each call with a request id pii-grpc-n.
type piiGRPC struct {
	conn *grpc.ClientConn
}

func (piiGRPC) name() string { return "grpc" }

func (g piiGRPC) call(t *testing.T, ctx context.Context, method string, req proto.Message) (proto.Message, *status.Status) {
	t.Helper()
	resp := piiNewResponse(t, piiMethod(t, method))
	if err := g.conn.Invoke(ctx, method, req, resp); err != nil {
		return nil, status.Convert(err)
	}
	return resp, nil
}

// piiREST calls through the REST gateway, turning the request into the
// HTTP method, path, query and body its google.api.http rule gives, as a
// REST client would write them. Each call carries the request id
// pii-rest-n.
type piiREST struct {
	e   *env
	seq *int
}

func (piiREST) name() string { return "rest" }

var piiPathVar = regexp.MustCompile(`\{([a-z_.]+)(?:=[^}]*)?\}`)

func (h piiREST) call(t *testing.T, ctx context.Context, method string, req proto.Message) (proto.Message, *status.Status) {
	t.Helper()
	md := piiMethod(t, method)
	verb, tmpl, bodyField, ok := server.HTTPBinding(md)
	if !ok {
		t.Fatalf("%s has no HTTP rule", method)
	}
	m := req.ProtoReflect()
	skip := map[string]bool{}
	path := piiPathVar.ReplaceAllStringFunc(tmpl, func(v string) string {
		fieldPath := piiPathVar.FindStringSubmatch(v)[1]
		skip[fieldPath] = true
		return piiFieldString(t, m, fieldPath)
	})
	query := url.Values{}
	var body []byte
	var err error
	switch b := bodyField; b {
	case "*":
		body, err = protojson.Marshal(req)
	case "":
		piiQuery(t, query, m, skip)
	default:
		fd := m.Descriptor().Fields().ByName(protoreflect.Name(b))
		body, err = protojson.Marshal(m.Get(fd).Message().Interface())
		skip[b] = true
		piiQuery(t, query, m, skip)
	}
	if err != nil {
		t.Fatalf("%s: %v", method, err)
	}
	target := h.e.baseURL + path
	if len(query) > 0 {
		target += "?" + query.Encode()
	}
	hreq, err := http.NewRequestWithContext(ctx, verb, target, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	hreq.Header.Set("Content-Type", "application/json")
	*h.seq++
	hreq.Header.Set("X-Request-Id", fmt.Sprintf("pii-rest-%d", *h.seq))
	token, _ := ctx.Value(tokenKey{}).(string)
	if token == "" {
		token = h.e.token
	}
	if token != "-" {
		hreq.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(hreq)
	if err != nil {
		t.Fatalf("%s %s: %v", verb, target, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK {
		var sp spb.Status
		if err := protojson.Unmarshal(raw, &sp); err != nil {
			t.Fatalf("%s %s: %d with a body that is not a status: %s", verb, target, resp.StatusCode, raw)
		}
		return nil, status.FromProto(&sp)
	}
	out := piiNewResponse(t, md)
	if err := (protojson.UnmarshalOptions{DiscardUnknown: true}).Unmarshal(raw, out); err != nil {
		t.Fatalf("%s %s: %v in %s", verb, target, err, raw)
	}
	return out, nil
}

// piiFieldString reads the string at a dotted field path.
func piiFieldString(t *testing.T, m protoreflect.Message, path string) string {
	t.Helper()
	names := strings.Split(path, ".")
	for i, n := range names {
		fd := m.Descriptor().Fields().ByName(protoreflect.Name(n))
		if fd == nil {
			t.Fatalf("no field %s in %s", path, m.Descriptor().FullName())
		}
		if i == len(names)-1 {
			return m.Get(fd).String()
		}
		m = m.Get(fd).Message()
	}
	return ""
}

// piiQuery puts the set fields of m that are not in skip into query
// parameters, as grpc-gateway reads them.
func piiQuery(t *testing.T, q url.Values, m protoreflect.Message, skip map[string]bool) {
	t.Helper()
	m.Range(func(fd protoreflect.FieldDescriptor, v protoreflect.Value) bool {
		if skip[string(fd.Name())] {
			return true
		}
		key := fd.JSONName()
		scalar := func(v protoreflect.Value) string {
			if fd.Enum() != nil {
				return string(fd.Enum().Values().ByNumber(v.Enum()).Name())
			}
			return fmt.Sprint(v.Interface())
		}
		switch {
		case fd.Message() != nil && fd.Message().FullName() == "google.protobuf.FieldMask":
			q.Set(key, strings.Join(v.Message().Interface().(*fieldmaskpb.FieldMask).GetPaths(), ","))
		case fd.Message() != nil:
			t.Fatalf("%s: a message in the query", fd.FullName())
		case fd.IsList():
			for i := range v.List().Len() {
				q.Add(key, scalar(v.List().Get(i)))
			}
		default:
			q.Set(key, scalar(v))
		}
		return true
	})
}

// piiRun is the scenario on one transport.
type piiRun struct {
	t   *testing.T
	c   piiCaller
	sfx string // makes the ids of this run's users, organizations... unique
	// The tokens of an organization lead of xifeng-women and of the
	// mediator li-hong of that organization: both see the cases assigned
	// there unmasked.
	lead, mediator string
	// receiver is the URL of a webhook receiver that answers 500.
	receiver string
	// credentials collects the session tokens and API key secrets the run
	// is given, which must not be logged either.
	credentials *[]string
}

// ok calls a method that must succeed.
func (r *piiRun) ok(ctx context.Context, method string, req proto.Message) proto.Message {
	r.t.Helper()
	resp, st := r.c.call(r.t, ctx, method, req)
	if st != nil {
		r.t.Fatalf("%s %s: %v", r.c.name(), method, st.Err())
	}
	return resp
}

// refused calls a method that must be refused with code.
func (r *piiRun) refused(ctx context.Context, method string, req proto.Message, code codes.Code) {
	r.t.Helper()
	_, st := r.c.call(r.t, ctx, method, req)
	if st.Code() != code {
		r.t.Errorf("%s %s: %v, want %v", r.c.name(), method, st.Err(), code)
	}
}

const (
	piiCases = "/mediation.v1.CaseService/"
	piiDir   = "/mediation.v1.DirectoryService/"
	piiAuth  = "/mediation.v1.AuthService/"
	piiUsers = "/mediation.v1.UserService/"
	piiAudit = "/mediation.v1.AuditService/"
	piiHooks = "/mediation.v1.WebhookService/"
	piiFeed  = "/mediation.v1.CaseFeedService/"
)

// piiCase is a registration whose parties carry every kind of personal
// data, spelled as clerks type it (spaces, a lower-case x).
func piiCase(summary string) *mediationv1.Case {
	return &mediationv1.Case{
		DisputeType: mediationv1.DisputeType_DISPUTE_TYPE_MARRIAGE_FAMILY,
		Source:      mediationv1.CaseSource_CASE_SOURCE_WALK_IN,
		Summary:     summary,
		RegionCode:  "621002",
		Parties: []*mediationv1.Party{
			{Name: "王秀英", Role: mediationv1.PartyRole_PARTY_ROLE_APPLICANT, IdType: mediationv1.IdType_ID_TYPE_RESIDENT_ID_CARD,
				IdNumber: piiID1, Phone: "+86 138 0934 1234", Address: piiAddress1, BirthDate: "1985-03-15"},
			{Name: "王建国", Role: mediationv1.PartyRole_PARTY_ROLE_RESPONDENT, IdType: mediationv1.IdType_ID_TYPE_RESIDENT_ID_CARD,
				IdNumber: piiID2, Phone: "0934 8621234", Address: piiAddress2},
			{Name: "李律师", Role: mediationv1.PartyRole_PARTY_ROLE_AGENT, IdType: mediationv1.IdType_ID_TYPE_RESIDENT_ID_CARD,
				IdNumber: strings.ToLower(piiID3), Phone: "138-0934-1234", RepresentedPartyIds: []string{"p1"}},
		},
	}
}

// create registers a case and brings it to state with actions that need
// no further data.
func (r *piiRun) create(summary string, state casework.State) *mediationv1.Case {
	r.t.Helper()
	ctx := context.Background()
	c := r.ok(ctx, piiCases+"CreateCase", &mediationv1.CreateCaseRequest{Case: piiCase(summary), RequestId: uuid.NewString()}).(*mediationv1.CreateCaseResponse).GetCase()
	steps := []struct {
		until casework.State
		do    func() *mediationv1.Case
	}{
		{casework.StateAccepted, func() *mediationv1.Case {
			return r.ok(ctx, piiCases+"AcceptCase", &mediationv1.AcceptCaseRequest{Name: c.GetName(), Etag: c.GetEtag()}).(*mediationv1.AcceptCaseResponse).GetCase()
		}},
		{casework.StateAssigned, func() *mediationv1.Case {
			return r.ok(ctx, piiCases+"AssignCase", &mediationv1.AssignCaseRequest{Name: c.GetName(),
				Organization: "organizations/xifeng-women", Mediator: "mediators/li-hong"}).(*mediationv1.AssignCaseResponse).GetCase()
		}},
		{casework.StateMediating, func() *mediationv1.Case {
			return r.ok(ctx, piiCases+"StartMediation", &mediationv1.StartMediationRequest{Name: c.GetName()}).(*mediationv1.StartMediationResponse).GetCase()
		}},
	}
	for _, s := range steps {
		if slices.Index(casework.States, state) < slices.Index(casework.States, s.until) {
			break
		}
		c = s.do()
	}
	return c
}

// drive calls every method of the API at least once, with successes and
// refusals, as the administrator and as the lead and mediator who see the
// personal data unmasked.
func (r *piiRun) drive() {
	t := r.t
	bg := context.Background()
	lead, med := as(bg, r.lead), as(bg, r.mediator)

	// Who am I, what can be done.
	r.ok(bg, piiAuth+"GetCaller", &mediationv1.GetCallerRequest{})
	r.ok(lead, piiAuth+"GetCaller", &mediationv1.GetCallerRequest{})
	r.ok(med, piiCases+"GetWorkflow", &mediationv1.GetWorkflowRequest{})

	// Registrations refused for their personal data: a mistyped ID
	// number, a phone number a digit short, a social credit code with a
	// letter the code never uses.
	typo := piiCase("赡养纠纷")
	typo.Parties[0].IdNumber = piiID1Typo
	r.refused(bg, piiCases+"CreateCase", &mediationv1.CreateCaseRequest{Case: typo}, codes.InvalidArgument)
	typo = piiCase("赡养纠纷")
	typo.Parties[1].IdNumber = piiID2Typo
	r.refused(med, piiCases+"CreateCase", &mediationv1.CreateCaseRequest{Case: typo}, codes.InvalidArgument)
	typo = piiCase("赡养纠纷")
	typo.Parties[0].Phone = piiMobileTypo
	r.refused(bg, piiCases+"CreateCase", &mediationv1.CreateCaseRequest{Case: typo}, codes.InvalidArgument)
	typo = piiCase("赡养纠纷")
	typo.Parties[1].IdType, typo.Parties[1].Kind, typo.Parties[1].IdNumber = mediationv1.IdType_ID_TYPE_UNIFIED_SOCIAL_CREDIT_CODE, mediationv1.PartyKind_PARTY_KIND_LEGAL_PERSON, "91350100M0001OOY43"
	r.refused(bg, piiCases+"CreateCase", &mediationv1.CreateCaseRequest{Case: typo}, codes.InvalidArgument)

	// Case A goes the whole way to closure with an agreement.
	a := r.create("赡养费纠纷：申请人要求被申请人每月支付赡养费", casework.StateIntake)
	r.ok(bg, piiCases+"GetCase", &mediationv1.GetCaseRequest{Name: a.GetName()})
	r.refused(bg, piiCases+"GetCase", &mediationv1.GetCaseRequest{Name: "cases/" + piiMobile}, codes.InvalidArgument)
	r.ok(bg, piiCases+"ListCases", &mediationv1.ListCasesRequest{Filter: `case_number = "` + piiMobile + `"`})
	r.ok(bg, piiCases+"ListCases", &mediationv1.ListCasesRequest{Filter: `case_number = "` + piiID1 + `" OR region_code = "621002"`, OrderBy: "create_time"})
	r.refused(bg, piiCases+"ListCases", &mediationv1.ListCasesRequest{Filter: `phone = "` + piiMobile + `"`}, codes.InvalidArgument)
	r.refused(bg, piiCases+"ListCases", &mediationv1.ListCasesRequest{Filter: `id_number:` + piiID2}, codes.InvalidArgument)
	r.refused(bg, piiCases+"ListCases", &mediationv1.ListCasesRequest{PageToken: piiMobile}, codes.InvalidArgument)
	r.ok(bg, piiCases+"GetCaseStatistics", &mediationv1.GetCaseStatisticsRequest{Filter: `case_number = "` + piiID1 + `" OR region_code = "621002"`,
		GroupBy: mediationv1.StatisticsGrouping_STATISTICS_GROUPING_MEDIATOR})
	r.refused(bg, piiCases+"GetCaseStatistics", &mediationv1.GetCaseStatisticsRequest{Filter: `phone = "` + piiMobile + `"`}, codes.InvalidArgument)
	a = r.ok(bg, piiCases+"AcceptCase", &mediationv1.AcceptCaseRequest{Name: a.GetName(), Etag: a.GetEtag(), Comment: "受理；申请人电话" + piiMobile}).(*mediationv1.AcceptCaseResponse).GetCase()
	r.refused(bg, piiCases+"AcceptCase", &mediationv1.AcceptCaseRequest{Name: a.GetName()}, codes.FailedPrecondition)
	r.ok(bg, piiCases+"SuggestAssignment", &mediationv1.SuggestAssignmentRequest{Name: a.GetName()})
	r.ok(bg, piiCases+"AssignCase", &mediationv1.AssignCaseRequest{Name: a.GetName(), Etag: a.GetEtag(),
		Organization: "organizations/xifeng-women", Mediator: "mediators/li-hong"})
	// The lead and the mediator read the case unmasked.
	for _, ctx := range []context.Context{lead, med} {
		got := r.ok(ctx, piiCases+"GetCase", &mediationv1.GetCaseRequest{Name: a.GetName()}).(*mediationv1.GetCaseResponse).GetCase()
		if got.GetParties()[0].GetIdNumber() != piiID1 || got.GetParties()[0].GetPhone() != piiMobile || got.GetParties()[0].GetAddress() != piiAddress1 {
			t.Fatalf("%s: the lead or mediator reads %v, want the personal data unmasked", r.c.name(), got.GetParties()[0])
		}
		r.ok(ctx, piiCases+"ListCases", &mediationv1.ListCasesRequest{Filter: `state = ASSIGNED`})
	}
	// Corrections: the summary; then the parties with a mistyped number.
	a = r.ok(med, piiCases+"UpdateCase", &mediationv1.UpdateCaseRequest{
		Case:       &mediationv1.Case{Name: a.GetName(), Summary: "赡养费纠纷：每月800元，住" + piiAddress1},
		UpdateMask: &fieldmaskpb.FieldMask{Paths: []string{"summary"}},
	}).(*mediationv1.UpdateCaseResponse).GetCase()
	wrong := piiCase("x")
	wrong.Name = a.GetName()
	wrong.Parties[0].IdNumber = piiID1Typo
	r.refused(med, piiCases+"UpdateCase", &mediationv1.UpdateCaseRequest{Case: wrong, UpdateMask: &fieldmaskpb.FieldMask{Paths: []string{"parties"}}}, codes.InvalidArgument)
	r.refused(med, piiCases+"UpdateCase", &mediationv1.UpdateCaseRequest{Case: &mediationv1.Case{Name: a.GetName()},
		UpdateMask: &fieldmaskpb.FieldMask{Paths: []string{"case_number"}}}, codes.InvalidArgument)
	r.refused(med, piiCases+"UpdateCase", &mediationv1.UpdateCaseRequest{Case: &mediationv1.Case{Name: a.GetName()}}, codes.InvalidArgument)

	// Sessions.
	start := timestamppb.New(time.Now().Add(48 * time.Hour).Truncate(time.Second))
	r.ok(med, piiCases+"ScheduleSession", &mediationv1.ScheduleSessionRequest{Name: a.GetName(), StartTime: start,
		Place: piiAddress1, Participants: []string{"王秀英（" + piiMobile + "）", "王建国"}})
	r.ok(med, piiCases+"ScheduleSession", &mediationv1.ScheduleSessionRequest{Name: a.GetName(), StartTime: start, Place: "西峰区人民调解中心"})
	r.ok(med, piiCases+"RecordSession", &mediationv1.RecordSessionRequest{Name: a.GetName(), Session: a.GetName() + "/sessions/1",
		Minutes: "调解笔录：申请人王秀英（身份证号" + piiID1 + "，电话" + piiMobile + "）陈述……", Result: "达成初步意向"})
	r.refused(med, piiCases+"RecordSession", &mediationv1.RecordSessionRequest{Name: a.GetName(), Session: a.GetName() + "/sessions/1", Minutes: "再记"}, codes.FailedPrecondition)
	r.ok(med, piiCases+"CancelSession", &mediationv1.CancelSessionRequest{Name: a.GetName(), Session: a.GetName() + "/sessions/2", Reason: "被申请人外出务工，电话" + piiLandline + "无人接听"})
	r.ok(lead, piiCases+"ListCaseSessions", &mediationv1.ListCaseSessionsRequest{Parent: a.GetName()})
	r.ok(med, piiCases+"ExtendDeadline", &mediationv1.ExtendDeadlineRequest{Name: a.GetName(), Reason: "双方同意延期", ConsentingPartyIds: []string{"p1", "p2"}})
	r.refused(med, piiCases+"ExtendDeadline", &mediationv1.ExtendDeadlineRequest{Name: a.GetName(), Reason: "再延期", ConsentingPartyIds: []string{"p1"}}, codes.FailedPrecondition)
	r.ok(med, piiCases+"StartMediation", &mediationv1.StartMediationRequest{Name: a.GetName(), Comment: "开始调解"})
	r.refused(med, piiCases+"RecordAgreement", &mediationv1.RecordAgreementRequest{Name: a.GetName(), Agreement: &mediationv1.Agreement{Terms: "支付", Facts: "x",
		Obligations: []*mediationv1.Obligation{{ObligorPartyId: "p9", Description: "赡养费", Amount: "800"}}}}, codes.InvalidArgument)
	r.ok(med, piiCases+"RecordAgreement", &mediationv1.RecordAgreementRequest{Name: a.GetName(), Agreement: &mediationv1.Agreement{
		Terms:       "王建国（身份证号" + piiID2 + "）自2026年12月起每月10日前支付赡养费800元。",
		Facts:       "申请人王秀英，住" + piiAddress1 + "，电话" + piiMobile + "。",
		Obligations: []*mediationv1.Obligation{{ObligorPartyId: "p2", ObligeePartyId: "p1", Description: "赡养费", Amount: "800.00"}},
	}})
	r.ok(med, piiCases+"GetAgreementDocument", &mediationv1.GetAgreementDocumentRequest{Name: a.GetName()})
	r.ok(med, piiCases+"RequestJudicialConfirmation", &mediationv1.RequestJudicialConfirmationRequest{Name: a.GetName(), CourtCode: "甘1002", CourtName: "庆阳市西峰区人民法院"})
	r.ok(lead, piiCases+"RecordConfirmationDecision", &mediationv1.RecordConfirmationDecisionRequest{Name: a.GetName(),
		Decision: mediationv1.ConfirmationDecision_CONFIRMATION_DECISION_CONFIRMED, DocumentNumber: "（2026）甘1002民特5号"})
	r.ok(med, piiCases+"RecordPerformance", &mediationv1.RecordPerformanceRequest{Name: a.GetName(),
		Status: mediationv1.PerformanceStatus_PERFORMANCE_STATUS_PARTLY_PERFORMED, Remarks: "电话" + piiLandline + "回访，已付两个月"})
	r.refused(med, piiCases+"RecordFollowUp", &mediationv1.RecordFollowUpRequest{Name: a.GetName(), Findings: "x", PartyIds: []string{"p9"}}, codes.InvalidArgument)
	r.ok(med, piiCases+"RecordFollowUp", &mediationv1.RecordFollowUpRequest{Name: a.GetName(), Visitor: "李红", PartyIds: []string{"p1"},
		Purpose: "回访履行情况", Findings: "到" + piiAddress1 + "回访，已按月支付", PerformanceStatus: mediationv1.PerformanceStatus_PERFORMANCE_STATUS_PERFORMED})
	r.ok(lead, piiCases+"ListCaseFollowUps", &mediationv1.ListCaseFollowUpsRequest{Parent: a.GetName()})
	r.ok(med, piiCases+"CloseCase", &mediationv1.CloseCaseRequest{Name: a.GetName(), Comment: "结案"})
	r.ok(med, piiCases+"ListCaseEvents", &mediationv1.ListCaseEventsRequest{Parent: a.GetName()})
	r.ok(bg, piiCases+"ListCaseEvents", &mediationv1.ListCaseEventsRequest{Parent: a.GetName(), PageSize: 3})

	// Case B: rejected, with the reason naming the mistyped number.
	b := r.create("邻里纠纷", casework.StateIntake)
	r.ok(bg, piiCases+"RejectCase", &mediationv1.RejectCaseRequest{Name: b.GetName(), Reason: "身份证号" + piiID1Typo + "与本人不符"})
	// Case C: the mediator recuses, then the applicant withdraws.
	c := r.create("赡养纠纷", casework.StateAssigned)
	r.ok(med, piiCases+"RecuseCase", &mediationv1.RecuseCaseRequest{Name: c.GetName(), Reason: "与申请人系亲属，住" + piiAddress2})
	r.refused(bg, piiCases+"AssignCase", &mediationv1.AssignCaseRequest{Name: c.GetName(),
		Organization: "organizations/xifeng-women", Mediator: "mediators/li-hong", Reason: "重新分派"}, codes.FailedPrecondition)
	r.ok(bg, piiCases+"WithdrawCase", &mediationv1.WithdrawCaseRequest{Name: c.GetName(), Reason: "申请人撤回，电话" + piiMobile})
	// Case D: mediation fails.
	d := r.create("赡养纠纷", casework.StateMediating)
	r.ok(med, piiCases+"RecordFailure", &mediationv1.RecordFailureRequest{Name: d.GetName(), Reason: "被申请人拒绝调解",
		ReasonCode: mediationv1.FailureReason_FAILURE_REASON_PARTY_REFUSES})

	// The directory.
	r.ok(med, piiDir+"ListRegions", &mediationv1.ListRegionsRequest{Filter: `parent = "regions/621000"`})
	r.ok(bg, piiDir+"GetRegion", &mediationv1.GetRegionRequest{Name: "regions/621002"})
	r.ok(bg, piiDir+"UpdateRegion", &mediationv1.UpdateRegionRequest{Region: &mediationv1.Region{Name: "regions/621002"},
		UpdateMask: &fieldmaskpb.FieldMask{Paths: []string{"auto_assign"}}})
	org := "organizations/room-" + r.sfx
	r.ok(bg, piiDir+"CreateOrganization", &mediationv1.CreateOrganizationRequest{OrganizationId: "room-" + r.sfx, Organization: &mediationv1.Organization{
		DisplayName: "西峰区肖金镇人民调解委员会", Type: mediationv1.OrganizationType_ORGANIZATION_TYPE_TOWNSHIP_COMMITTEE, RegionCode: "621002",
		Address: piiAddress1, Phone: piiLandline}})
	r.ok(lead, piiDir+"GetOrganization", &mediationv1.GetOrganizationRequest{Name: org})
	r.ok(bg, piiDir+"ListOrganizations", &mediationv1.ListOrganizationsRequest{Filter: `region_code = "621002"`})
	r.refused(bg, piiDir+"ListOrganizations", &mediationv1.ListOrganizationsRequest{Filter: `phone = "` + piiLandline + `"`}, codes.InvalidArgument)
	r.ok(bg, piiDir+"UpdateOrganization", &mediationv1.UpdateOrganizationRequest{Organization: &mediationv1.Organization{Name: org, Phone: piiMobile},
		UpdateMask: &fieldmaskpb.FieldMask{Paths: []string{"phone"}}})
	r.ok(bg, piiDir+"DeactivateOrganization", &mediationv1.DeactivateOrganizationRequest{Name: org})
	r.ok(bg, piiDir+"ActivateOrganization", &mediationv1.ActivateOrganizationRequest{Name: org})
	mediator := "mediators/med-" + r.sfx
	r.ok(bg, piiDir+"CreateMediator", &mediationv1.CreateMediatorRequest{MediatorId: "med-" + r.sfx, Mediator: &mediationv1.Mediator{
		DisplayName: "赵调解", Organization: org, Phone: piiMobile}})
	r.ok(med, piiDir+"GetMediator", &mediationv1.GetMediatorRequest{Name: mediator})
	r.ok(bg, piiDir+"ListMediators", &mediationv1.ListMediatorsRequest{Filter: `organization = "` + org + `"`})
	r.ok(bg, piiDir+"UpdateMediator", &mediationv1.UpdateMediatorRequest{Mediator: &mediationv1.Mediator{Name: mediator, Phone: "138 0934 1234"},
		UpdateMask: &fieldmaskpb.FieldMask{Paths: []string{"phone"}}})
	r.ok(bg, piiDir+"DeactivateMediator", &mediationv1.DeactivateMediatorRequest{Name: mediator})
	r.ok(bg, piiDir+"ActivateMediator", &mediationv1.ActivateMediatorRequest{Name: mediator})
	r.ok(lead, piiDir+"ListDeadlineRules", &mediationv1.ListDeadlineRulesRequest{})
	source := map[string]mediationv1.CaseSource{"g": mediationv1.CaseSource_CASE_SOURCE_ONLINE, "r": mediationv1.CaseSource_CASE_SOURCE_HOTLINE_12348}[r.sfx]
	rule := r.ok(bg, piiDir+"CreateDeadlineRule", &mediationv1.CreateDeadlineRuleRequest{DeadlineRuleId: "rule-" + r.sfx, DeadlineRule: &mediationv1.DeadlineRule{
		DisplayName: "巾帼工作室", Source: source, OrganizationType: mediationv1.OrganizationType_ORGANIZATION_TYPE_WOMEN_STUDIO, Days: 20}}).(*mediationv1.CreateDeadlineRuleResponse).GetDeadlineRule()
	rule = r.ok(bg, piiDir+"UpdateDeadlineRule", &mediationv1.UpdateDeadlineRuleRequest{DeadlineRule: &mediationv1.DeadlineRule{Name: rule.GetName(), Days: 25},
		UpdateMask: &fieldmaskpb.FieldMask{Paths: []string{"days"}}}).(*mediationv1.UpdateDeadlineRuleResponse).GetDeadlineRule()
	r.ok(bg, piiDir+"DeleteDeadlineRule", &mediationv1.DeleteDeadlineRuleRequest{Name: rule.GetName(), Etag: rule.GetEtag()})

	// Users and their passwords.
	user := "users/wang-" + r.sfx
	r.ok(bg, piiUsers+"CreateUser", &mediationv1.CreateUserRequest{UserId: "wang-" + r.sfx, Password: piiPassword1,
		User: &mediationv1.User{DisplayName: "王调解", Role: mediationv1.Role_ROLE_MEDIATOR, Mediator: mediator}})
	r.refused(bg, piiUsers+"CreateUser", &mediationv1.CreateUserRequest{UserId: "short-" + r.sfx, Password: "13809341234",
		User: &mediationv1.User{DisplayName: "王调解", Role: mediationv1.Role_ROLE_AUDITOR}}, codes.InvalidArgument)
	r.ok(bg, piiUsers+"GetUser", &mediationv1.GetUserRequest{Name: user})
	r.ok(bg, piiUsers+"ListUsers", &mediationv1.ListUsersRequest{PageSize: 2})
	r.ok(bg, piiUsers+"UpdateUser", &mediationv1.UpdateUserRequest{User: &mediationv1.User{Name: user, DisplayName: "王调解员"},
		UpdateMask: &fieldmaskpb.FieldMask{Paths: []string{"display_name"}}})
	r.refused(bg, piiUsers+"UpdateUser", &mediationv1.UpdateUserRequest{User: &mediationv1.User{Name: user},
		UpdateMask: &fieldmaskpb.FieldMask{Paths: []string{"password_hash"}}}, codes.InvalidArgument)
	r.ok(bg, piiUsers+"SetPassword", &mediationv1.SetPasswordRequest{Name: user, Password: piiPassword2})
	r.refused(bg, piiUsers+"SetPassword", &mediationv1.SetPasswordRequest{Name: user, Password: "1380934"}, codes.InvalidArgument)
	r.refused(bg, piiAuth+"CreateSession", &mediationv1.CreateSessionRequest{Username: "wang-" + r.sfx, Password: piiPassword1}, codes.Unauthenticated)
	r.refused(bg, piiAuth+"CreateSession", &mediationv1.CreateSessionRequest{Username: "wang-" + r.sfx, Password: piiWrongPass}, codes.Unauthenticated)
	r.refused(bg, piiAuth+"CreateSession", &mediationv1.CreateSessionRequest{Username: piiMobile, Password: piiPassword2}, codes.Unauthenticated)
	session := r.ok(bg, piiAuth+"CreateSession", &mediationv1.CreateSessionRequest{Username: "wang-" + r.sfx, Password: piiPassword2}).(*mediationv1.CreateSessionResponse)
	*r.credentials = append(*r.credentials, session.GetToken())
	r.ok(as(bg, session.GetToken()), piiAuth+"GetCaller", &mediationv1.GetCallerRequest{})
	r.refused(as(bg, session.GetToken()), piiUsers+"ListUsers", &mediationv1.ListUsersRequest{}, codes.PermissionDenied)
	r.ok(as(bg, session.GetToken()), piiAuth+"DeleteSession", &mediationv1.DeleteSessionRequest{})
	r.refused(as(bg, session.GetToken()), piiAuth+"GetCaller", &mediationv1.GetCallerRequest{}, codes.Unauthenticated)
	r.ok(bg, piiUsers+"DeactivateUser", &mediationv1.DeactivateUserRequest{Name: user})
	r.refused(bg, piiAuth+"CreateSession", &mediationv1.CreateSessionRequest{Username: "wang-" + r.sfx, Password: piiPassword2}, codes.Unauthenticated)
	r.ok(bg, piiUsers+"ActivateUser", &mediationv1.ActivateUserRequest{Name: user})

	// API keys: a court's system refers a case and reads it.
	key := r.ok(bg, piiUsers+"CreateApiKey", &mediationv1.CreateApiKeyRequest{ApiKey: &mediationv1.ApiKey{
		DisplayName: "西峰区人民法院诉调对接系统", Role: mediationv1.Role_ROLE_COURT_DESK, CourtCode: "甘1002"}}).(*mediationv1.CreateApiKeyResponse)
	*r.credentials = append(*r.credentials, key.GetSecret())
	court := as(bg, key.GetSecret())
	referral := piiCase("委派调解：民间借贷纠纷")
	referral.Source = mediationv1.CaseSource_CASE_SOURCE_COURT_DELEGATED
	referral.DisputeType = mediationv1.DisputeType_DISPUTE_TYPE_CONTRACT_DEBT
	referral.CourtReferral = &mediationv1.CourtReferral{CourtCode: "甘1002", CourtCaseNumber: "（2026）甘1002民诉前调" + r.sfx + "号"}
	ref := r.ok(court, piiCases+"CreateCase", &mediationv1.CreateCaseRequest{Case: referral}).(*mediationv1.CreateCaseResponse).GetCase()
	r.ok(court, piiCases+"GetCase", &mediationv1.GetCaseRequest{Name: ref.GetName()})
	r.ok(court, piiCases+"ListCases", &mediationv1.ListCasesRequest{Filter: `court_case_number = "` + piiID1 + `"`})

	// The court's webhooks carry the referral's parties to a receiver that
	// refuses them (so that failed sends are logged too), and its change
	// feed reads them.
	hook := r.ok(court, piiHooks+"CreateWebhookEndpoint", &mediationv1.CreateWebhookEndpointRequest{WebhookEndpoint: &mediationv1.WebhookEndpoint{
		Url: r.receiver + "/" + r.sfx, Description: "联系人电话" + piiMobile}}).(*mediationv1.CreateWebhookEndpointResponse)
	*r.credentials = append(*r.credentials, hook.GetSecret())
	hookName := hook.GetWebhookEndpoint().GetName()
	r.ok(court, piiHooks+"GetWebhookEndpoint", &mediationv1.GetWebhookEndpointRequest{Name: hookName})
	r.ok(court, piiHooks+"ListWebhookEndpoints", &mediationv1.ListWebhookEndpointsRequest{})
	r.ok(court, piiHooks+"UpdateWebhookEndpoint", &mediationv1.UpdateWebhookEndpointRequest{
		WebhookEndpoint: &mediationv1.WebhookEndpoint{Name: hookName, Description: "住" + piiAddress1},
		UpdateMask:      &fieldmaskpb.FieldMask{Paths: []string{"description"}}})
	rotated := r.ok(court, piiHooks+"RotateWebhookSecret", &mediationv1.RotateWebhookSecretRequest{Name: hookName}).(*mediationv1.RotateWebhookSecretResponse)
	*r.credentials = append(*r.credentials, rotated.GetSecret())
	r.ok(bg, piiCases+"AcceptCase", &mediationv1.AcceptCaseRequest{Name: ref.GetName(), Comment: "受理；电话" + piiMobile})
	var deliveries []*mediationv1.WebhookDelivery
	for deadline := time.Now().Add(30 * time.Second); len(deliveries) == 0; {
		deliveries = r.ok(court, piiHooks+"ListWebhookDeliveries", &mediationv1.ListWebhookDeliveriesRequest{Parent: hookName,
			Filter: `case = "` + ref.GetName() + `"`}).(*mediationv1.ListWebhookDeliveriesResponse).GetWebhookDeliveries()
		if time.Now().After(deadline) {
			t.Fatalf("%s: no webhook delivery of %s within 30 s", r.c.name(), ref.GetName())
		}
		time.Sleep(50 * time.Millisecond)
	}
	r.ok(court, piiHooks+"RedeliverWebhookDelivery", &mediationv1.RedeliverWebhookDeliveryRequest{Name: deliveries[0].GetName()})
	r.ok(court, piiHooks+"DisableWebhookEndpoint", &mediationv1.DisableWebhookEndpointRequest{Name: hookName, Reason: "对接人" + piiMobile + "休假"})
	r.ok(court, piiHooks+"EnableWebhookEndpoint", &mediationv1.EnableWebhookEndpointRequest{Name: hookName})
	r.ok(court, piiFeed+"ListCaseChanges", &mediationv1.ListCaseChangesRequest{PageSize: 100})
	r.refused(court, piiFeed+"ListCaseChanges", &mediationv1.ListCaseChangesRequest{PageToken: piiID1}, codes.InvalidArgument)
	r.ok(court, piiHooks+"DeleteWebhookEndpoint", &mediationv1.DeleteWebhookEndpointRequest{Name: hookName})

	r.ok(bg, piiUsers+"ListApiKeys", &mediationv1.ListApiKeysRequest{})
	r.ok(bg, piiUsers+"RevokeApiKey", &mediationv1.RevokeApiKeyRequest{Name: key.GetApiKey().GetName()})
	r.refused(court, piiAuth+"GetCaller", &mediationv1.GetCallerRequest{}, codes.Unauthenticated)

	// The audit trail, searched for the numbers.
	r.ok(bg, piiAudit+"ListAuditEvents", &mediationv1.ListAuditEventsRequest{Filter: `resource = "` + a.GetName() + `"`, PageSize: 10})
	r.ok(bg, piiAudit+"ListAuditEvents", &mediationv1.ListAuditEventsRequest{Filter: `actor = "` + piiMobile + `" AND kind = LOGIN_FAILED`})
	r.refused(med, piiAudit+"ListAuditEvents", &mediationv1.ListAuditEventsRequest{}, codes.PermissionDenied)

	// Calls without a credential, and with one that is not.
	r.refused(as(bg, "-"), piiCases+"GetCase", &mediationv1.GetCaseRequest{Name: a.GetName()}, codes.Unauthenticated)
	r.refused(as(bg, piiID1), piiCases+"ListCases", &mediationv1.ListCasesRequest{}, codes.Unauthenticated)
}

// TestPersonalDataNeverReachesLogs runs every method of the API, over
// gRPC and over REST, with cases full of personal data, with the server
// logging every call, and then searches the log for the ID numbers,
// phone numbers, addresses, passwords and credentials: none may be there.
func TestPersonalDataNeverReachesLogs(t *testing.T) {
	logs := &piiLogBuffer{}
	logger := slog.New(reqinfo.LogHandler(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})))
	receiver := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "refused", http.StatusInternalServerError)
	}))
	t.Cleanup(receiver.Close)
	e := startWith(t, pgtest.NewDatabase(t), func(c *server.Config) {
		c.Logger = logger
		c.OverdueInterval = -1
		c.Webhooks = server.WebhookOptions{Deliver: true, Keys: testKeyring(t), AllowedNetworks: loopback,
			Schedule: []time.Duration{20 * time.Millisecond, 50 * time.Millisecond}, PollInterval: 20 * time.Millisecond}
	})
	qingyang(t, e)
	for _, id := range []string{piiID1, piiID2, piiID3} {
		if err := casework.CheckResidentID(id, time.Now()); err != nil {
			t.Fatalf("%s: %v", id, err)
		}
	}
	for _, id := range []string{piiID1Typo, piiID2Typo} {
		if casework.CheckResidentID(id, time.Now()) == nil {
			t.Fatalf("%s is valid, want a near miss", id)
		}
	}
	lead := e.signIn(t, store.User{Username: "pii-lead", DisplayName: "巾帼工作室负责人", Role: auth.RoleOrganizationLead, OrganizationID: "xifeng-women"})
	mediator := e.signIn(t, store.User{Username: "pii-mediator", DisplayName: "李红", Role: auth.RoleMediator, MediatorID: "li-hong"})

	// A gRPC connection that notes the methods it calls and tags each
	// call with a request id.
	var mu sync.Mutex
	called := map[string]bool{}
	grpcSeq := 0
	conn, err := grpc.NewClient(e.conn.Target(), grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithUnaryInterceptor(func(ctx context.Context, method string, req, reply any, cc *grpc.ClientConn, invoker grpc.UnaryInvoker, opts ...grpc.CallOption) error {
			mu.Lock()
			called[method] = true
			grpcSeq++
			id := fmt.Sprintf("pii-grpc-%d", grpcSeq)
			mu.Unlock()
			ctx = metadata.AppendToOutgoingContext(e.withToken(ctx), "x-request-id", id)
			return invoker(ctx, method, req, reply, cc, opts...)
		}))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	restSeq := 0
	drove := true
	credentials := []string{e.token, lead, mediator}
	for _, c := range []piiCaller{piiGRPC{conn}, piiREST{e, &restSeq}} {
		drove = t.Run(c.name(), func(t *testing.T) {
			r := &piiRun{t: t, c: c, sfx: c.name()[:1], lead: lead, mediator: mediator, receiver: receiver.URL, credentials: &credentials}
			r.drive()
		}) && drove
	}
	// The agreement page, which the HTTP side serves itself.
	if resp, body := httpGet(t, e, "/v1/cases/"+strings.TrimPrefix(piiFirstCase(t, e), "cases/")+"/agreement.html", map[string]string{"X-Request-Id": "pii-page"}); resp.StatusCode != http.StatusOK {
		t.Errorf("agreement page: %d %s", resp.StatusCode, body)
	}

	if err := e.stop(); err != nil {
		t.Fatal(err)
	}
	raw := logs.Bytes()
	records := piiRecords(t, raw)

	// Every method was called over gRPC, as the interceptor saw, and the
	// server logged each over both transports.
	loggedBy := map[string]map[string]bool{"grpc": {}, "rest": {}}
	for _, rec := range records {
		id, _ := rec["request_id"].(string)
		method, _ := rec["method"].(string)
		for transport := range loggedBy {
			if strings.HasPrefix(id, "pii-"+transport+"-") && method != "" {
				loggedBy[transport][method] = true
			}
		}
	}
	for _, md := range everyAPIMethodDescriptor() {
		if !drove {
			break // the scenario stopped early: the leaks below still count
		}
		m := grpcMethodName(md)
		if !called[m] {
			t.Errorf("%s was not called over gRPC", m)
		}
		for transport, logged := range loggedBy {
			if !logged[m] {
				t.Errorf("no log line for %s over %s (with a pii-%s- request id)", m, transport, transport)
			}
		}
	}
	if len(records) < 2*len(everyAPIMethodDescriptor()) {
		t.Errorf("only %d log records: is logging switched off?", len(records))
	}

	// Nothing personal in any of it, in the raw bytes or in the decoded
	// strings.
	secrets := append(piiSecrets(), credentials...)
	if len(credentials) != 11 {
		t.Errorf("%d credentials collected, want 11 (3 sign-ins, and per transport a session, an API key and two webhook secrets)", len(credentials))
	}
	for _, s := range secrets {
		if bytes.Contains(raw, []byte(s)) {
			t.Errorf("the log contains %q", s)
		}
	}
	for _, rec := range records {
		for _, v := range piiStrings(rec) {
			for _, s := range secrets {
				if strings.Contains(v, s) {
					line, _ := json.Marshal(rec)
					t.Errorf("a log record contains %q: %s", s, line)
				}
			}
		}
		if lvl, _ := rec["level"].(string); lvl == "ERROR" {
			line, _ := json.Marshal(rec)
			t.Errorf("an error was logged: %s", line)
		}
	}
}

// piiFirstCase returns the name of the oldest case.
func piiFirstCase(t *testing.T, e *env) string {
	t.Helper()
	resp, err := e.cases.ListCases(t.Context(), &mediationv1.ListCasesRequest{OrderBy: "create_time", PageSize: 1})
	if err != nil || len(resp.GetCases()) == 0 {
		t.Fatalf("ListCases: %v", err)
	}
	return resp.GetCases()[0].GetName()
}

// piiRecords parses the JSON log, one record a line.
func piiRecords(t *testing.T, raw []byte) []map[string]any {
	t.Helper()
	var out []map[string]any
	for line := range bytes.Lines(raw) {
		var rec map[string]any
		if err := json.Unmarshal(line, &rec); err != nil {
			t.Fatalf("a log line that is not JSON: %v: %s", err, line)
		}
		out = append(out, rec)
	}
	if len(out) == 0 {
		t.Fatal("nothing was logged")
	}
	return out
}

// piiStrings returns every string in a decoded JSON value.
func piiStrings(v any) []string {
	switch v := v.(type) {
	case string:
		return []string{v}
	case map[string]any:
		var out []string
		for k, x := range v {
			out = append(out, k)
			out = append(out, piiStrings(x)...)
		}
		return out
	case []any:
		var out []string
		for _, x := range v {
			out = append(out, piiStrings(x)...)
		}
		return out
	}
	return nil
}

// TestRefusalsDoNotEchoPersonalDataIntoLogs sends personal data in
// fields that do not hold any — an etag, an update mask, a filter value, a
// party id — as a clerk pasting into the wrong box does. The refusals
// quote the value back, and the rpc log line records the refusal's
// message, so the number reaches the log. So does a party's name in the
// refusal of an extension one party has not consented to. Refusal
// messages may quote what the client sent, so the rpc log line carries only
// the refusal's reason and field paths.
func TestRefusalsDoNotEchoPersonalDataIntoLogs(t *testing.T) {
	logs := &piiLogBuffer{}
	logger := slog.New(reqinfo.LogHandler(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})))
	e := startWith(t, pgtest.NewDatabase(t), func(c *server.Config) { c.Logger = logger; c.OverdueInterval = -1 })
	qingyang(t, e)
	r := &piiRun{t: t, c: piiGRPC{e.conn}, sfx: "x", credentials: new([]string)}
	bg := context.Background()
	accepted := r.create("赡养纠纷", casework.StateAccepted)
	mediating := r.create("赡养纠纷", casework.StateMediating)

	type echo struct {
		method string
		req    proto.Message
		leaked string
	}
	echoes := []echo{
		{piiCases + "ListCases", &mediationv1.ListCasesRequest{Filter: `region_code = "` + piiMobile + `"`}, piiMobile},
		{piiCases + "ListCases", &mediationv1.ListCasesRequest{Filter: `state = ` + piiID1}, piiID1},
		{piiCases + "ListCases", &mediationv1.ListCasesRequest{Filter: `create_time > "` + piiID1 + `"`}, piiID1},
		{piiCases + "ListCases", &mediationv1.ListCasesRequest{OrderBy: piiMobile}, piiMobile},
		{piiDir + "ListOrganizations", &mediationv1.ListOrganizationsRequest{Filter: `region_code = "` + piiMobile + `"`}, piiMobile},
		{piiAudit + "ListAuditEvents", &mediationv1.ListAuditEventsRequest{Filter: `event_time > "` + piiID1 + `"`}, piiID1},
		{piiCases + "AcceptCase", &mediationv1.AcceptCaseRequest{Name: accepted.GetName(), Etag: piiMobile}, piiMobile},
		{piiCases + "UpdateCase", &mediationv1.UpdateCaseRequest{Case: &mediationv1.Case{Name: "cases/" + piiMobile}, UpdateMask: &fieldmaskpb.FieldMask{Paths: []string{"summary"}}}, piiMobile},
		{piiCases + "UpdateCase", &mediationv1.UpdateCaseRequest{Case: &mediationv1.Case{Name: accepted.GetName()}, UpdateMask: &fieldmaskpb.FieldMask{Paths: []string{piiMobile}}}, piiMobile},
		{piiCases + "ExtendDeadline", &mediationv1.ExtendDeadlineRequest{Name: accepted.GetName(), Reason: "延期", ConsentingPartyIds: []string{piiMobile}}, piiMobile},
		{piiCases + "ExtendDeadline", &mediationv1.ExtendDeadlineRequest{Name: accepted.GetName(), Reason: "延期", ConsentingPartyIds: []string{"p1"}}, "王建国"},
		{piiCases + "RecordAgreement", &mediationv1.RecordAgreementRequest{Name: mediating.GetName(), Agreement: &mediationv1.Agreement{Terms: "支付", Facts: "x",
			Obligations: []*mediationv1.Obligation{{ObligorPartyId: piiMobile, Description: "赡养费"}}}}, piiMobile},
		{piiDir + "DeactivateOrganization", &mediationv1.DeactivateOrganizationRequest{Name: "organizations/xifeng-women", Etag: piiMobile}, piiMobile},
	}
	for _, x := range echoes {
		if _, st := r.c.call(t, bg, x.method, x.req); st == nil {
			t.Fatalf("%s %v succeeded", x.method, x.req)
		}
	}
	if err := e.stop(); err != nil {
		t.Fatal(err)
	}
	for _, rec := range piiRecords(t, logs.Bytes()) {
		id, _ := rec["request_id"].(string)
		method, _ := rec["method"].(string)
		leaked := map[string]bool{}
		for _, v := range piiStrings(rec) {
			for _, x := range echoes {
				if method == x.method && strings.Contains(v, x.leaked) && !leaked[x.leaked] {
					leaked[x.leaked] = true
					t.Errorf("%s (request %s): the log line carries %q: %s", method, id, x.leaked, v)
				}
			}
		}
	}
}
