package server_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"buf.build/go/protovalidate"
	"github.com/jackc/pgx/v5"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
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

	"github.com/mediationd/mediationd/internal/auth"
	"github.com/mediationd/mediationd/internal/authn"
	"github.com/mediationd/mediationd/internal/casework"
	"github.com/mediationd/mediationd/internal/pgtest"
	"github.com/mediationd/mediationd/internal/server"
	"github.com/mediationd/mediationd/internal/store"
	mediationv1 "github.com/mediationd/mediationd/proto/mediation/v1"
)

// everyAPIMethodDescriptor lists every method of the mediation.v1
// services, from every proto file of the package (so a new service is
// covered as soon as it exists), sorted by full gRPC method name
// (/mediation.v1.CaseService/GetCase).
func everyAPIMethodDescriptor() []protoreflect.MethodDescriptor {
	var out []protoreflect.MethodDescriptor
	protoregistry.GlobalFiles.RangeFilesByPackage("mediation.v1", func(fd protoreflect.FileDescriptor) bool {
		for i := range fd.Services().Len() {
			sd := fd.Services().Get(i)
			for j := range sd.Methods().Len() {
				out = append(out, sd.Methods().Get(j))
			}
		}
		return true
	})
	slices.SortFunc(out, func(a, b protoreflect.MethodDescriptor) int {
		return strings.Compare(grpcMethodName(a), grpcMethodName(b))
	})
	return out
}

// grpcMethodName is the gRPC name of a method, /package.Service/Method.
func grpcMethodName(md protoreflect.MethodDescriptor) string {
	return "/" + string(md.Parent().FullName()) + "/" + string(md.Name())
}

// fuzzServer is a server for a whole fuzz run: the fuzz function's body
// runs once per fuzzing process, and each input reuses the server.
type fuzzServer struct {
	baseURL string
	http    *http.Client
	grpc    *grpc.ClientConn
	token   string // the administrator's
	db      *pgx.Conn
	// fingerprintSQL sums up every table a refused request must not
	// change: its row count and the newest transaction that wrote a row.
	fingerprintSQL string
	// n numbers the inputs, for the ids of what they create.
	n int
	// cases holds a case in each of fuzzStates, by index, until an input
	// changes it. A refused input changes nothing (the fuzz test checks
	// it), so its case serves the next input too.
	cases map[int]string
}

// fuzzStates are the states a case route's case is brought to; past them
// the route names a case that does not exist.
var fuzzStates = []casework.State{casework.StateIntake, casework.StateAccepted, casework.StateAssigned, casework.StateMediating, casework.StateAgreed}

// fuzzMissingCase is a well-formed case name that names no case.
const fuzzMissingCase = "cases/00000000-0000-4000-8000-000000000000"

// fuzzSteps bring a new case from INTAKE to the next state each.
var fuzzSteps = []struct{ verb, body string }{
	{"accept", `{}`},
	{"assign", `{"organization": "organizations/xifeng-women", "mediator": "mediators/li-hong"}`},
	{"startMediation", `{}`},
	{"recordAgreement", `{"agreement": {"terms": "王建国自2026年12月起每月10日前支付赡养费800元。", "facts": "赡养费纠纷"}}`},
}

// caseIn returns a case in fuzzStates[state] that no input has changed,
// registering one if need be, so that every input starts from the same
// case whatever the inputs before it did: its etag is v1 in INTAKE, v2 in
// ACCEPTED, and so on.
func (fs *fuzzServer) caseIn(tb testing.TB, state int) string {
	tb.Helper()
	if state >= len(fuzzStates) {
		return fuzzMissingCase
	}
	if name, ok := fs.cases[state]; ok {
		return name
	}
	var created struct{ Case struct{ Name string } }
	fs.mustDo(tb, http.MethodPost, "/v1/cases", fuzzCaseBody, &created)
	for _, s := range fuzzSteps[:state] {
		fs.mustDo(tb, http.MethodPost, "/v1/"+created.Case.Name+":"+s.verb, s.body, nil)
	}
	fs.cases[state] = created.Case.Name
	return created.Case.Name
}

// fuzzPassword is the password of the fuzz server's administrator.
const fuzzPassword = "fuzz horse battery staple"

// unwatchedTables may change when a request is refused: failed sign-ins
// are counted to throttle guessing. The audit trail, which records
// refusals, is counted but not compared (refusalMayChange).
var (
	unwatchedTables  = []string{"login_failures", "schema_migrations"}
	refusalMayChange = []string{"audit_events"}
)

// startFuzzServer builds a server as startWith does, for a testing.TB
// (startWith takes a *testing.T), on a fresh database, with an
// administrator, the directory entries assignments name, and a case in
// each open state.
func startFuzzServer(tb testing.TB) *fuzzServer {
	tb.Helper()
	dsn := pgtest.NewDatabase(tb)
	ctx, cancel := context.WithCancel(context.Background())
	st, err := store.Open(ctx, dsn, store.Options{MaxConns: 10})
	if err != nil {
		cancel()
		tb.Fatal(err)
	}
	srv, err := server.New(ctx, server.Config{Store: st, Location: time.UTC, OverdueInterval: -1, TallyFoldInterval: -1, ReadinessInterval: time.Second})
	if err != nil {
		cancel()
		tb.Fatal(err)
	}
	grpcLis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		cancel()
		tb.Fatal(err)
	}
	httpLis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		cancel()
		tb.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx, grpcLis, httpLis) }()
	var db *pgx.Conn
	conn, err := grpc.NewClient(grpcLis.Addr().String(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		cancel()
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		conn.Close()
		if db != nil {
			db.Close(context.Background())
		}
		cancel()
		select {
		case err := <-done:
			if err != nil {
				tb.Errorf("Serve: %v", err)
			}
		case <-time.After(30 * time.Second):
			tb.Error("server did not stop within 30s")
		}
		st.Close()
	})
	if db, err = pgx.Connect(ctx, dsn); err != nil {
		tb.Fatal(err)
	}

	fs := &fuzzServer{baseURL: "http://" + httpLis.Addr().String(), http: &http.Client{Timeout: 30 * time.Second}, grpc: conn, db: db, cases: map[int]string{}}
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	if _, err := st.CreateUser(ctx, store.User{Username: "root", DisplayName: "系统管理员", Role: auth.RoleAdmin}, authn.HashPassword(fuzzPassword), now); err != nil {
		tb.Fatal(err)
	}
	if _, err := st.CreateOrganization(ctx, casework.Organization{
		ID: "xifeng-women", DisplayName: "西峰区巾帼调解工作室", Type: casework.OrgWomenStudio, RegionCode: "621002", Active: true,
	}, now); err != nil {
		tb.Fatal(err)
	}
	if _, err := st.CreateMediator(ctx, casework.Mediator{ID: "li-hong", DisplayName: "李红", OrganizationID: "xifeng-women", Active: true}, now); err != nil {
		tb.Fatal(err)
	}

	// The entries the PATCH routes change, apart from those cases are
	// assigned to, so that no input can stop the next from assigning.
	if _, err := st.CreateOrganization(ctx, casework.Organization{
		ID: "fuzz-patch-org", DisplayName: "西峰区北街街道人民调解委员会", Type: casework.OrgTownshipCommittee, RegionCode: "621002", Active: true,
	}, now); err != nil {
		tb.Fatal(err)
	}
	if _, err := st.CreateMediator(ctx, casework.Mediator{ID: "fuzz-patch-mediator", DisplayName: "张敏", OrganizationID: "fuzz-patch-org", Active: true}, now); err != nil {
		tb.Fatal(err)
	}

	var signIn struct{ Token string }
	fs.mustDo(tb, http.MethodPost, "/v1/sessions", fmt.Sprintf(`{"username": "root", "password": %q}`, fuzzPassword), &signIn)
	fs.token = signIn.Token

	// Every table but the unwatched ones, found in the catalog so that
	// tables added later are watched too.
	rows, err := db.Query(ctx, `SELECT table_name FROM information_schema.tables
		WHERE table_schema = current_schema() AND table_type = 'BASE TABLE' ORDER BY table_name`)
	if err != nil {
		tb.Fatal(err)
	}
	tables, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		tb.Fatal(err)
	}
	var parts []string
	for _, table := range tables {
		if slices.Contains(unwatchedTables, table) {
			continue
		}
		ident := pgx.Identifier{table}.Sanitize()
		// An insert or a delete changes the count; an update writes a
		// row version whose xmin is newer than any before.
		parts = append(parts, fmt.Sprintf(`SELECT %s AS t, count(*) AS n, coalesce(max(xmin::text::bigint), 0)::text AS h FROM %s`,
			fuzzQuoteLiteral(table), ident))
	}
	if len(parts) < 10 {
		tb.Fatalf("only %d tables to watch: %v", len(parts), tables)
	}
	fs.fingerprintSQL = strings.Join(parts, " UNION ALL ") + " ORDER BY t"
	return fs
}

func fuzzQuoteLiteral(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

// fuzzCaseBody is a registration with personal data, as a court desk or a
// mediation room sends it.
const fuzzCaseBody = `{
	"disputeType": "DISPUTE_TYPE_MARRIAGE_FAMILY",
	"source": "CASE_SOURCE_WALK_IN",
	"summary": "赡养费纠纷：申请人要求被申请人每月支付赡养费",
	"regionCode": "621002",
	"parties": [
		{"name": "王秀英", "role": "PARTY_ROLE_APPLICANT", "idType": "ID_TYPE_RESIDENT_ID_CARD", "idNumber": "621002195005010024", "phone": "13809341234", "address": "西峰区肖金镇米王村十二号"},
		{"name": "王建国", "role": "PARTY_ROLE_RESPONDENT", "idType": "ID_TYPE_RESIDENT_ID_CARD", "idNumber": "621002198503150023", "phone": "0934-8621234"}
	]}`

// do sends body to path with the administrator's token and returns the
// status and the response body.
func (fs *fuzzServer) do(ctx context.Context, method, path string, body []byte) (int, []byte, error) {
	req, err := http.NewRequestWithContext(ctx, method, fs.baseURL+path, bytes.NewReader(body))
	if err != nil {
		return 0, nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	if fs.token != "" {
		req.Header.Set("Authorization", "Bearer "+fs.token)
	}
	resp, err := fs.http.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	return resp.StatusCode, raw, err
}

func (fs *fuzzServer) mustDo(tb testing.TB, method, path, body string, out any) {
	tb.Helper()
	code, raw, err := fs.do(context.Background(), method, path, []byte(body))
	if err != nil {
		tb.Fatalf("%s %s: %v", method, path, err)
	}
	if code != http.StatusOK {
		tb.Fatalf("%s %s: %d %s", method, path, code, raw)
	}
	if out != nil {
		if err := json.Unmarshal(raw, out); err != nil {
			tb.Fatalf("%s %s: %v in %s", method, path, err, raw)
		}
	}
}

// fingerprint sums up the watched tables.
func (fs *fuzzServer) fingerprint(tb testing.TB) map[string]string {
	tb.Helper()
	rows, err := fs.db.Query(context.Background(), fs.fingerprintSQL)
	if err != nil {
		tb.Fatalf("fingerprint the database: %v", err)
	}
	out := map[string]string{}
	var table, hash string
	var n int64
	if _, err := pgx.ForEachRow(rows, []any{&table, &n, &hash}, func() error {
		out[table] = fmt.Sprintf("%d rows, newest written by transaction %s", n, hash)
		return nil
	}); err != nil {
		tb.Fatalf("fingerprint the database: %v", err)
	}
	return out
}

// alive checks /healthz.
func (fs *fuzzServer) alive(tb testing.TB) {
	tb.Helper()
	code, raw, err := fs.do(context.Background(), http.MethodGet, "/healthz", nil)
	if err != nil || code != http.StatusOK {
		tb.Fatalf("the server is not alive: /healthz = %d %s, %v", code, raw, err)
	}
}

// fuzzRoute is a REST method that takes a JSON body. {case} stands for a
// case made for the input, {n} for the input's number (so that what one
// input creates does not collide with what another did).
type fuzzRoute struct{ method, path string }

var fuzzRoutes = []fuzzRoute{
	{http.MethodPost, "/v1/cases"},
	{http.MethodPost, "/v1/cases?requestId=6f1c2b9e-3d4a-4e5f-8a7b-9c0d1e2f3a4b"},
	{http.MethodPatch, "/v1/{case}"},
	{http.MethodPatch, "/v1/{case}?updateMask=summary,escalation_risk"},
	{http.MethodPost, "/v1/{case}:accept"},
	{http.MethodPost, "/v1/{case}:reject"},
	{http.MethodPost, "/v1/{case}:assign"},
	{http.MethodPost, "/v1/{case}:startMediation"},
	{http.MethodPost, "/v1/{case}:recordAgreement"},
	{http.MethodPost, "/v1/{case}:recordFailure"},
	{http.MethodPost, "/v1/{case}:withdraw"},
	{http.MethodPost, "/v1/{case}:close"},
	{http.MethodPost, "/v1/{case}:recuse"},
	{http.MethodPost, "/v1/{case}:extendDeadline"},
	{http.MethodPost, "/v1/{case}:scheduleSession"},
	{http.MethodPost, "/v1/{case}:recordSession"},
	{http.MethodPost, "/v1/{case}:cancelSession"},
	{http.MethodPost, "/v1/{case}:requestConfirmation"},
	{http.MethodPost, "/v1/{case}:recordConfirmation"},
	{http.MethodPost, "/v1/{case}:recordPerformance"},
	{http.MethodPost, "/v1/{case}:recordFollowUp"},
	{http.MethodPost, "/v1/organizations?organizationId=fuzz-org-{n}"},
	{http.MethodPatch, "/v1/organizations/fuzz-patch-org"},
	{http.MethodPost, "/v1/mediators?mediatorId=fuzz-mediator-{n}"},
	{http.MethodPatch, "/v1/mediators/fuzz-patch-mediator"},
	{http.MethodPost, "/v1/deadlineRules?deadlineRuleId=fuzz-rule-{n}"},
	{http.MethodPost, "/v1/sessions"},
	{http.MethodPost, "/v1/users?userId=fuzz-user-{n}&password=fuzz-password-123"},
	{http.MethodPost, "/v1/apiKeys"},
}

// fuzzMethods are the HTTP methods tried on a route: 0 is the route's own.
var fuzzMethods = []string{"", http.MethodPost, http.MethodPatch, http.MethodPut, http.MethodDelete, http.MethodGet}

// fuzzRouteIndex returns the index of a route, for seeds.
func fuzzRouteIndex(tb testing.TB, method, path string) uint8 {
	for i, r := range fuzzRoutes {
		if r.method == method && r.path == path {
			return uint8(i)
		}
	}
	tb.Fatalf("no fuzz route %s %s", method, path)
	return 0
}

// FuzzRESTBodies sends arbitrary bodies to the REST methods that take one,
// as the administrator, to one server started for the whole run. route
// picks the route and, for a case route, the state of a case registered
// for the input (route / len(fuzzRoutes): INTAKE, ACCEPTED, ASSIGNED,
// MEDIATING, AGREED, or a case that does not exist); method 0 is the
// route's own HTTP method, others try POST, PATCH, PUT, DELETE and GET on
// it.
//
// The server must never answer 5xx (503 included: the database is there)
// nor fail to answer; a route's own method may take only a body that is
// one JSON value (or empty); every refusal must be a JSON google.rpc.Status with
// a code and a message; a refused request must change no table other than
// the audit trail and the failed sign-ins; and /healthz must answer
// afterwards.
func FuzzRESTBodies(f *testing.F) {
	fs := startFuzzServer(f)

	post := http.MethodPost
	// The case of a seed is given by its state: 0 INTAKE, 1 ACCEPTED,
	// 2 ASSIGNED, 3 MEDIATING, 4 AGREED, 5 a case that does not exist.
	for _, s := range []struct {
		route string
		verb  string
		body  string
		state int
	}{
		{"/v1/cases", post, fuzzCaseBody, 0},
		{"/v1/cases", post, `{"disputeType": "DISPUTE_TYPE_NEIGHBOR", "source": "CASE_SOURCE_COURT_DELEGATED", "summary": "邻里纠纷", "regionCode": "621002",
			"courtReferral": {"courtCode": "甘1002", "courtCaseNumber": "（2026）甘1002民诉前调123号"},
			"parties": [{"name": "张三", "role": "PARTY_ROLE_APPLICANT", "idType": "ID_TYPE_RESIDENT_ID_CARD", "idNumber": "621002198503150024"}]}`, 0},
		{"/v1/cases", post, `{"parties": [{"name": "某公司", "role": 1, "kind": "PARTY_KIND_LEGAL_PERSON", "idType": 6, "idNumber": "91350100M000100Y43"}], "disputeType": 4, "source": 1, "summary": "x", "regionCode": "621002"}`, 0},
		{"/v1/{case}", http.MethodPatch, `{"summary": "更正：赡养费每月800元", "escalationRisk": true}`, 0},
		{"/v1/{case}?updateMask=summary,escalation_risk", http.MethodPatch, `{"summary": "x", "etag": "v1"}`, 0},
		{"/v1/{case}:accept", post, `{"etag": "v1", "comment": "符合受理条件"}`, 0},
		{"/v1/{case}:assign", post, `{"organization": "organizations/xifeng-women", "mediator": "mediators/li-hong", "reason": "改派"}`, 1},
		{"/v1/{case}:recordAgreement", post, `{"agreement": {"terms": "每月支付800元", "facts": "赡养费纠纷", "obligations": [{"obligorPartyId": "p2", "obligeePartyId": "p1", "description": "赡养费", "amount": "800.00", "dueDate": "2026-12-10"}]}}`, 3},
		{"/v1/{case}:scheduleSession", post, `{"startTime": "2026-03-02T09:00:00+08:00", "place": "西峰区巾帼调解工作室", "participants": ["王秀英", "王建国"], "kind": "SESSION_KIND_BILATERAL"}`, 2},
		{"/v1/{case}:extendDeadline", post, `{"reason": "双方同意延期", "consentingPartyIds": ["p1", "p2"]}`, 2},
		{"/v1/{case}:recordFollowUp", post, `{"findings": "已按月支付", "partyIds": ["p1"], "performanceStatus": "PERFORMANCE_STATUS_PERFORMED", "visitor": "李红"}`, 4},
		{"/v1/organizations?organizationId=fuzz-org-{n}", post, `{"displayName": "西峰区北街街道人民调解委员会", "type": "ORGANIZATION_TYPE_TOWNSHIP_COMMITTEE", "regionCode": "621002", "phone": "0934-8621234"}`, 0},
		{"/v1/mediators?mediatorId=fuzz-mediator-{n}", post, `{"displayName": "张敏", "organization": "organizations/xifeng-women", "phone": "13809341234"}`, 0},
		{"/v1/sessions", post, `{"username": "root", "password": "wrong password"}`, 0},
		{"/v1/users?userId=fuzz-user-{n}&password=fuzz-password-123", post, `{"displayName": "李红", "role": "ROLE_MEDIATOR", "mediator": "mediators/li-hong"}`, 0},
		{"/v1/apiKeys", post, `{"displayName": "西峰区人民法院诉调对接系统", "role": "ROLE_COURT_DESK", "courtCode": "甘1002"}`, 0},
		{"/v1/cases", post, `{"parties": [{"name": "\u0000", "role": "PARTY_ROLE_APPLICANT"}], "summary": "\ud800"}`, 0},
		// Text the database cannot store (see FuzzRequestText).
		{"/v1/sessions", post, `{"username": "root\u0000", "password": "x"}`, 0},
		{"/v1/{case}?updateMask=summary,escalation_risk", http.MethodPatch, `{"summary": "赡养费\u0000"}`, 0},
		{"/v1/{case}", http.MethodPatch, "{\"summary\": \"\xff\"}", 0},
		{"/v1/{case}:reject", post, `{"reason": "\u0000"}`, 0},
		{"/v1/{case}:scheduleSession", post, `{"startTime": "2026-03-02T09:00:00+08:00", "place": "调解室\u0000", "participants": ["王秀英"]}`, 2},
		{"/v1/apiKeys", post, `{"displayName": "\u0000", "role": "ROLE_COURT_DESK", "courtCode": "甘1002"}`, 0},
		{"/v1/organizations/fuzz-patch-org", http.MethodPatch, `{"displayName": "西峰区\u0000"}`, 0},
		// Data after the JSON value.
		{"/v1/sessions", post, `{"username": "root", "password": "wrong password"}xx`, 0},
		{"/v1/{case}:accept", post, `{"comment": "符合受理条件"}{}`, 0},
		{"/v1/cases", post, `[]`, 0},
		{"/v1/cases", post, `{"disputeType": "DISPUTE_TYPE_MARRIAGE_FAMILY", "parties": {}}`, 0},
		{"/v1/{case}:assign", post, `{"organization": 7}`, 5},
		{"/v1/cases", post, ``, 0},
	} {
		route := int(fuzzRouteIndex(f, s.verb, s.route)) + s.state*len(fuzzRoutes)
		f.Add(uint8(0), uint8(route), []byte(s.body))
	}

	f.Fuzz(func(t *testing.T, method, route uint8, body []byte) {
		r := fuzzRoutes[int(route)%len(fuzzRoutes)]
		verb := fuzzMethods[int(method)%len(fuzzMethods)]
		if verb == "" {
			verb = r.method
		}
		fs.n++
		path := strings.ReplaceAll(r.path, "{n}", fmt.Sprint(fs.n))
		state := -1
		if strings.Contains(path, "{case}") {
			state = int(route) / len(fuzzRoutes) % (len(fuzzStates) + 1)
			path = strings.ReplaceAll(path, "{case}", fs.caseIn(t, state))
		}

		before := fs.fingerprint(t)
		ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
		defer cancel()
		code, raw, err := fs.do(ctx, verb, path, body)
		if err != nil {
			fs.alive(t)
			t.Fatalf("%s %s %q: no answer: %v", verb, path, body, err)
		}
		fs.alive(t)
		if code >= 500 {
			t.Fatalf("%s %s %q: %d %s", verb, path, body, code, raw)
		}
		if code >= 200 && code < 300 {
			delete(fs.cases, state) // the input may have changed it
			if !json.Valid(raw) {
				t.Fatalf("%s %s %q: %d with a body that is not JSON: %q", verb, path, body, code, raw)
			}
			// The route's own method reads the body: what it took was one
			// JSON value, or nothing. (Other methods may ignore the body.)
			if b := bytes.TrimSpace(body); verb == r.method && len(b) > 0 && !json.Valid(b) {
				t.Fatalf("%s %s %q: %d for a body that is not one JSON value", verb, path, body, code)
			}
			return
		}
		var st spb.Status
		if err := protojson.Unmarshal(raw, &st); err != nil {
			t.Fatalf("%s %s %q: %d with a body that is not a google.rpc.Status (%v): %s", verb, path, body, code, err, raw)
		}
		if st.GetCode() == int32(codes.OK) || strings.TrimSpace(st.GetMessage()) == "" {
			t.Fatalf("%s %s %q: %d with status code %d, message %q", verb, path, body, code, st.GetCode(), st.GetMessage())
		}
		after := fs.fingerprint(t)
		for table, was := range before {
			if now := after[table]; now != was && !slices.Contains(refusalMayChange, table) {
				t.Errorf("%s %s %q was refused (%d %s) but changed table %s: %s → %s",
					verb, path, body, code, st.GetMessage(), table, was, now)
			}
		}
		if len(after) != len(before) {
			t.Errorf("%s %s %q was refused but the tables changed: %v → %v", verb, path, body, before, after)
		}
	})
}

// fuzzRequestTypes returns the request message types of every API method, by
// full name.
func fuzzRequestTypes(tb testing.TB) ([]protoreflect.MessageType, map[string]protoreflect.MessageType) {
	tb.Helper()
	byName := map[string]protoreflect.MessageType{}
	var list []protoreflect.MessageType
	for _, md := range everyAPIMethodDescriptor() {
		name := md.Input().FullName()
		if _, seen := byName[string(name)]; seen {
			continue
		}
		mt, err := protoregistry.GlobalTypes.FindMessageByName(name)
		if err != nil {
			tb.Fatalf("%s: %v", name, err)
		}
		byName[string(name)] = mt
		list = append(list, mt)
	}
	return list, byName
}

// FuzzProtoValidation decodes arbitrary bytes as a request message, in
// the binary format (gRPC) and as JSON (REST), and runs protovalidate on
// what decodes, as the server's validate interceptor does. It must not
// panic; it must answer nil or a *protovalidate.ValidationError (a
// compilation or runtime error would make the server answer INTERNAL);
// each violation must name a rule and render as the google.rpc.BadRequest
// the server sends; and a message must get the same verdict after a trip
// through JSON, as the gateway would give it.
//
// typeName picks the message type by full name (mediation.v1.GetCaseRequest);
// a name that is none picks one by the sum of its bytes.
func FuzzProtoValidation(f *testing.F) {
	list, byName := fuzzRequestTypes(f)
	v, err := protovalidate.New()
	if err != nil {
		f.Fatal(err)
	}
	add := func(m proto.Message) {
		name := string(m.ProtoReflect().Descriptor().FullName())
		b, err := proto.Marshal(m)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(name, b)
		j, err := protojson.Marshal(m)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(name, j)
	}
	add(&mediationv1.GetCaseRequest{Name: "cases/6f1c2b9e-3d4a-4e5f-8a7b-9c0d1e2f3a4b"})
	add(&mediationv1.AssignCaseRequest{Name: "cases/6f1c2b9e-3d4a-4e5f-8a7b-9c0d1e2f3a4b", Organization: "organizations/xifeng-women", Mediator: "mediators/li-hong", RequestId: "not-a-uuid"})
	add(&mediationv1.ListCasesRequest{Filter: `case_number = "13809341234"`, PageSize: -1})
	add(&mediationv1.CreateUserRequest{UserId: "li.hong", Password: "short", User: &mediationv1.User{DisplayName: " ", Role: mediationv1.Role(99)}})
	f.Add("mediation.v1.CreateCaseRequest", []byte(`{"case": {"parties": [{"name": "王秀英", "role": "PARTY_ROLE_APPLICANT", "idNumber": "621002198503150023", "birthDate": "1985-03-15"}], "regionCode": "621002"}}`))
	f.Add("mediation.v1.ScheduleSessionRequest", []byte(`{"name": "cases/x", "startTime": "2026-03-02T09:00:00Z", "participants": [""]}`))
	f.Add("mediation.v1.ExtendDeadlineRequest", []byte{0x2a, 0x00, 0x2a, 0x03, 'p', '1', '2'})
	f.Add("", []byte{0x0a, 0x80})

	f.Fuzz(func(t *testing.T, typeName string, data []byte) {
		mt, ok := byName[typeName]
		if !ok {
			sum := 0
			for _, b := range []byte(typeName) {
				sum += int(b)
			}
			mt = list[sum%len(list)]
		}
		m := mt.New().Interface()
		if proto.Unmarshal(data, m) == nil {
			verdict := fuzzCheckValidation(t, v, m)
			// The same message as the gateway would decode it from JSON.
			if j, err := protojson.Marshal(m); err == nil {
				m2 := mt.New().Interface()
				if err := protojson.Unmarshal(j, m2); err == nil {
					if again := fuzzCheckValidation(t, v, m2); again != verdict {
						t.Errorf("%s: %d violations from the binary form, %d after a trip through JSON %s", mt.Descriptor().FullName(), verdict, again, j)
					}
				}
			}
		}
		m = mt.New().Interface()
		if protojson.Unmarshal(data, m) == nil {
			fuzzCheckValidation(t, v, m)
		}
	})
}

// fuzzCheckValidation validates m and returns how many violations it has.
func fuzzCheckValidation(t *testing.T, v protovalidate.Validator, m proto.Message) int {
	t.Helper()
	err := v.Validate(m)
	if err == nil {
		return 0
	}
	var verr *protovalidate.ValidationError
	if !errors.As(err, &verr) {
		t.Fatalf("%s: Validate returned %T %v, not a ValidationError (the server would answer INTERNAL)", m.ProtoReflect().Descriptor().FullName(), err, err)
	}
	if len(verr.Violations) == 0 {
		t.Fatalf("%s: a ValidationError without violations", m.ProtoReflect().Descriptor().FullName())
	}
	br := &errdetails.BadRequest{}
	for _, vi := range verr.Violations {
		if vi.Proto.GetRuleId() == "" && vi.Proto.GetMessage() == "" {
			t.Errorf("%s: a violation with neither rule id nor message: %v", m.ProtoReflect().Descriptor().FullName(), vi.Proto)
		}
		br.FieldViolations = append(br.FieldViolations, &errdetails.BadRequest_FieldViolation{
			Field:       protovalidate.FieldPathString(vi.Proto.GetField()),
			Description: vi.Proto.GetMessage(),
			Reason:      vi.Proto.GetRuleId(),
		})
	}
	if _, err := status.New(codes.InvalidArgument, err.Error()).WithDetails(br); err != nil {
		t.Errorf("%s: the violations do not make a google.rpc.BadRequest: %v", m.ProtoReflect().Descriptor().FullName(), err)
	}
	return len(verr.Violations)
}

// fuzzTextTargets are the strings the API's requests reach, each with its
// method, for FuzzRequestText.
func fuzzTextTargets() []fuzzTextTarget {
	var out []fuzzTextTarget
	for _, md := range everyAPIMethodDescriptor() {
		for _, leaf := range textLeaves(md.Input()) {
			out = append(out, fuzzTextTarget{md, leaf})
		}
	}
	return out
}

type fuzzTextTarget struct {
	md   protoreflect.MethodDescriptor
	leaf textLeaf
}

// fuzzTextIndex returns the index of a method's string, for seeds.
func fuzzTextIndex(tb testing.TB, targets []fuzzTextTarget, method, field string) uint16 {
	for i, tg := range targets {
		if grpcMethodName(tg.md) == "/mediation.v1."+method && tg.leaf.field() == field {
			return uint16(i)
		}
	}
	tb.Fatalf("no string %s in %s", field, method)
	return 0
}

// unindexed drops the list indices of a field path, [0] and the like.
var listIndex = regexp.MustCompile(`\[[0-9]+\]`)

// FuzzRequestText puts arbitrary text in one string of a request of any
// method of the API (target picks the method and the string), made bad if
// it is not already: a NUL character is appended to text that is UTF-8
// without one. It sends it over gRPC, in protobuf's binary form written by
// hand (so that bytes which are not UTF-8 go as they are), and over REST,
// in the path, query or JSON body, where the method's HTTP rule reads it.
//
// Each call must be refused with INVALID_ARGUMENT (400 over REST) naming
// the field: over REST the gateway's JSON decoder may refuse a body first
// (bytes that are not UTF-8, a field mask path it cannot read), which must
// be 400 too. Nothing may answer 5xx or INTERNAL, the server must stay up,
// and no table may change, the audit trail included: the text never
// reaches the database.
func FuzzRequestText(f *testing.F) {
	fs := startFuzzServer(f)
	targets := fuzzTextTargets()
	for _, s := range []struct{ method, field, text string }{
		{"CaseService/CreateCase", "case.summary", "赡养费纠纷\x00"},
		{"CaseService/CreateCase", "case.parties[0].name", "\x00"},
		{"CaseService/CreateCase", "case.court_referral.court_case_number", "（2026）甘1002民诉前调\x00号"},
		{"CaseService/CreateCase", "request_id", "\xff"},
		{"CaseService/UpdateCase", "case.summary", "\xed\xa0\x80"},
		{"CaseService/UpdateCase", "update_mask.paths[0]", "summary,\x00"},
		{"CaseService/RejectCase", "reason", "不符合受理条件\xc0\x80"},
		{"CaseService/GetCase", "name", "cases/6f1c2b9e-3d4a-4e5f-8a7b-9c0d1e2f3a4b\x00"},
		{"CaseService/ListCases", "filter", `summary = "\x00"`},
		{"CaseService/ScheduleSession", "place", "西峰区/调解室:1?#\x00"},
		{"CaseService/ScheduleSession", "participants[0]", "%00"},
		{"AuthService/CreateSession", "username", "demo-lead\x00"},
		{"AuthService/CreateSession", "password", "\x80password"},
		{"UserService/CreateUser", "user.display_name", "李红\x00"},
		{"UserService/CreateApiKey", "api_key.display_name", "\x00"},
		{"DirectoryService/UpdateOrganization", "organization.display_name", "西峰区\x00"},
		{"DirectoryService/GetOrganization", "name", "organizations/..\x00"},
		{"AuditService/ListAuditEvents", "page_token", "\xfe\xff"},
	} {
		f.Add(fuzzTextIndex(f, targets, s.method, s.field), s.text)
	}

	f.Fuzz(func(t *testing.T, target uint16, text string) {
		tg := targets[int(target)%len(targets)]
		if utf8.ValidString(text) && !strings.Contains(text, "\x00") {
			text += "\x00"
		}
		method, field := grpcMethodName(tg.md), tg.leaf.field()
		want := listIndex.ReplaceAllString(field, "")
		names := func(st *status.Status) bool {
			for _, d := range st.Details() {
				if br, ok := d.(*errdetails.BadRequest); ok {
					for _, v := range br.GetFieldViolations() {
						if listIndex.ReplaceAllString(v.GetField(), "") == want {
							return true
						}
					}
				}
			}
			return false
		}
		before := fs.fingerprint(t)

		ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
		defer cancel()
		ctx = metadata.AppendToOutgoingContext(ctx, "authorization", "Bearer "+fs.token)
		err := fs.grpc.Invoke(ctx, method, rawRequest(wireText(tg.leaf, text)), newResponse(t, tg.md), grpc.ForceCodecV2(rawCodec{}))
		if st := status.Convert(err); st.Code() != codes.InvalidArgument || !names(st) {
			t.Errorf("gRPC %s with %q in %s: %v, want INVALID_ARGUMENT naming %s", method, text, field, err, field)
		}

		if verb, target, body, ok := restText(tg.md, tg.leaf, text); ok {
			code, raw, err := fs.do(ctx, verb, target, body)
			if err != nil {
				fs.alive(t)
				t.Fatalf("REST %s %s %q: no answer: %v", verb, target, body, err)
			}
			var sp spb.Status
			if err := protojson.Unmarshal(raw, &sp); err != nil {
				t.Fatalf("REST %s %s %q: %d with a body that is not a google.rpc.Status (%v): %s", verb, target, body, code, err, raw)
			}
			st := status.FromProto(&sp)
			inBody := len(body) > len("{}") // else in the path or the query
			switch {
			case code != http.StatusBadRequest || st.Code() != codes.InvalidArgument:
				t.Errorf("REST %s %s %q: %d %s, want 400 INVALID_ARGUMENT", verb, target, body, code, raw)
			case !names(st) && !inBody:
				t.Errorf("REST %s %s %q: %s names no %s", verb, target, body, raw, field)
			}
		}

		fs.alive(t)
		after := fs.fingerprint(t)
		for table, was := range before {
			if now := after[table]; now != was {
				t.Errorf("%s with %q in %s changed table %s: %s → %s", method, text, field, table, was, now)
			}
		}
	})
}
