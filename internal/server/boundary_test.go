package server_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	spb "google.golang.org/genproto/googleapis/rpc/status"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/mem"
	"google.golang.org/grpc/metadata"
	reflectionpb "google.golang.org/grpc/reflection/grpc_reflection_v1"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protodesc"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"
	"google.golang.org/protobuf/types/descriptorpb"
	"google.golang.org/protobuf/types/dynamicpb"

	"github.com/mediationd/mediationd/internal/auth"
	"github.com/mediationd/mediationd/internal/casework"
	"github.com/mediationd/mediationd/internal/pgtest"
	"github.com/mediationd/mediationd/internal/reqinfo"
	"github.com/mediationd/mediationd/internal/server"
	"github.com/mediationd/mediationd/internal/store"
	mediationv1 "github.com/mediationd/mediationd/proto/mediation/v1"
)

// textLeaf is a path from a request type to one of its string fields,
// through nested messages; a list on the way holds one element.
type textLeaf []protoreflect.FieldDescriptor

// field is the path as the server's field violations write it:
// case.parties[0].name.
func (l textLeaf) field() string {
	var b strings.Builder
	for i, fd := range l {
		if i > 0 {
			b.WriteByte('.')
		}
		b.WriteString(string(fd.Name()))
		if fd.IsList() {
			b.WriteString("[0]")
		}
	}
	return b.String()
}

// dotted is the path of proto names joined by dots, as in an HTTP rule's
// path variables, and whether no list is on the way.
func (l textLeaf) dotted() (string, bool) {
	names := make([]string, len(l))
	for i, fd := range l {
		if fd.IsList() && i < len(l)-1 {
			return "", false
		}
		names[i] = string(fd.Name())
	}
	return strings.Join(names, "."), true
}

// textLeaves lists the paths to every string field reachable from md,
// entering each message type once per path (so recursive types end).
func textLeaves(md protoreflect.MessageDescriptor) []textLeaf {
	var out []textLeaf
	var walk func(md protoreflect.MessageDescriptor, prefix textLeaf, open map[protoreflect.FullName]bool)
	walk = func(md protoreflect.MessageDescriptor, prefix textLeaf, open map[protoreflect.FullName]bool) {
		open[md.FullName()] = true
		defer delete(open, md.FullName())
		fields := md.Fields()
		for i := range fields.Len() {
			fd := fields.Get(i)
			path := append(prefix[:len(prefix):len(prefix)], fd)
			switch {
			case fd.IsMap():
				// The API has no maps; the server's own tests cover them.
			case fd.Kind() == protoreflect.StringKind:
				out = append(out, path)
			case fd.Kind() == protoreflect.MessageKind && !open[fd.Message().FullName()]:
				walk(fd.Message(), path, open)
			}
		}
	}
	walk(md, nil, map[protoreflect.FullName]bool{})
	return out
}

// setText sets the string at leaf in m to text, making the messages and
// list elements on the way.
func setText(m protoreflect.Message, leaf textLeaf, text string) {
	for _, fd := range leaf[:len(leaf)-1] {
		if fd.IsList() {
			l := m.Mutable(fd).List()
			e := l.NewElement()
			l.Append(e)
			m = e.Message()
			continue
		}
		m = m.Mutable(fd).Message()
	}
	fd := leaf[len(leaf)-1]
	if fd.IsList() {
		m.Mutable(fd).List().Append(protoreflect.ValueOfString(text))
		return
	}
	m.Set(fd, protoreflect.ValueOfString(text))
}

// wireText is the protobuf binary form of a message whose only content is
// text at leaf, written by hand so that text need not be UTF-8 (protobuf
// refuses to encode that).
func wireText(leaf textLeaf, text string) []byte {
	b := protowire.AppendTag(nil, leaf[len(leaf)-1].Number(), protowire.BytesType)
	b = protowire.AppendString(b, text)
	for i := len(leaf) - 2; i >= 0; i-- {
		outer := protowire.AppendTag(nil, leaf[i].Number(), protowire.BytesType)
		b = protowire.AppendBytes(outer, b)
	}
	return b
}

// rawRequest is a request already in protobuf's binary form.
type rawRequest []byte

// rawCodec sends rawRequest as it is, and decodes answers as protobuf.
type rawCodec struct{}

func (rawCodec) Name() string { return "proto" }

func (rawCodec) Marshal(v any) (mem.BufferSlice, error) {
	r, ok := v.(rawRequest)
	if !ok {
		return nil, fmt.Errorf("rawCodec sends rawRequest, not %T", v)
	}
	return mem.BufferSlice{mem.SliceBuffer(r)}, nil
}

func (rawCodec) Unmarshal(data mem.BufferSlice, v any) error {
	return proto.Unmarshal(data.Materialize(), v.(proto.Message))
}

// newResponse returns an empty response message of a method.
func newResponse(t testing.TB, md protoreflect.MethodDescriptor) proto.Message {
	t.Helper()
	mt, err := protoregistry.GlobalTypes.FindMessageByName(md.Output().FullName())
	if err != nil {
		t.Fatal(err)
	}
	return mt.New().Interface()
}

// restPathVar is a path variable of an HTTP rule: its field path and its
// pattern, e.g. {name=cases/*}.
var restPathVar = regexp.MustCompile(`\{([a-z_.]+)(?:=([^}]*))?\}`)

// restText places text at leaf of a request of method md where the
// method's HTTP rule reads it (path, body or query), as a REST client
// would write it, with the other path variables filled with well-formed
// names; in the path, a slash of text becomes an underscore. The body is
// JSON written by hand, so text goes in as it is, UTF-8
// or not. ok is false if the rule cannot carry the leaf (a list of
// messages in the query).
func restText(md protoreflect.MethodDescriptor, leaf textLeaf, text string) (verb, target string, body []byte, ok bool) {
	verb, tmpl, bodyField, bound := server.HTTPBinding(md)
	if !bound {
		return "", "", nil, false
	}
	dotted, plain := leaf.dotted()
	inPath := false
	path := restPathVar.ReplaceAllStringFunc(tmpl, func(v string) string {
		sub := restPathVar.FindStringSubmatch(v)
		pattern := sub[2]
		if pattern == "" {
			pattern = "*"
		}
		value := strings.ReplaceAll(pattern, "**", "*")
		if plain && sub[1] == dotted {
			inPath = true
			i := strings.LastIndex(value, "*")
			// A slash, even escaped, would make another path: the routes
			// match segments of the unescaped path.
			segment := url.PathEscape(strings.ReplaceAll(text, "/", "_"))
			return value[:i] + segment + strings.ReplaceAll(value[i+1:], "*", "x")
		}
		return strings.ReplaceAll(value, "*", "x")
	})
	query := url.Values{}
	body = []byte("{}")
	switch b := bodyField; {
	case inPath:
	case b == "*":
		body = jsonText(leaf, text)
	case b != "" && string(leaf[0].Name()) == b:
		body = jsonText(leaf[1:], text)
	default:
		if !plain {
			return "", "", nil, false
		}
		key := make([]string, 0, len(leaf))
		for _, fd := range leaf {
			if fd.Message() != nil && fd.Message().FullName() == "google.protobuf.FieldMask" {
				// A field mask is one parameter of comma-separated paths.
				key = append(key, fd.JSONName())
				break
			}
			key = append(key, fd.JSONName())
		}
		query.Set(strings.Join(key, "."), text)
		if verb == http.MethodGet || verb == http.MethodDelete {
			body = nil
		}
	}
	target = path
	if len(query) > 0 {
		target += "?" + query.Encode()
	}
	return verb, target, body, true
}

// jsonText is the JSON of a message whose only content is text at leaf.
// A field mask is a JSON string. Bytes that are not UTF-8 go in as they
// are.
func jsonText(leaf textLeaf, text string) []byte {
	if len(leaf) == 0 {
		return jsonString(text)
	}
	fd := leaf[0]
	var inner []byte
	if fd.Message() != nil && fd.Message().FullName() == "google.protobuf.FieldMask" {
		inner = jsonString(text)
	} else {
		inner = jsonText(leaf[1:], text)
	}
	if fd.IsList() {
		inner = append(append([]byte("["), inner...), ']')
	}
	return fmt.Appendf(nil, `{%q: %s}`, fd.JSONName(), inner)
}

// jsonString quotes s as a JSON string, escaping quotes, backslashes and
// control characters (the NUL as \u0000) and leaving every other byte,
// valid UTF-8 or not, as it is.
func jsonString(s string) []byte {
	b := []byte{'"'}
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '"' || c == '\\':
			b = append(b, '\\', c)
		case c < 0x20:
			b = fmt.Appendf(b, `\u%04x`, c)
		default:
			b = append(b, c)
		}
	}
	return append(b, '"')
}

// restCall sends a REST request with the administrator's token and
// returns the HTTP status and the refusal, nil on success.
func restCall(t testing.TB, client *http.Client, baseURL, verb, target string, body []byte) (int, *status.Status, []byte) {
	t.Helper()
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequest(verb, baseURL+target, rd)
	if err != nil {
		t.Fatalf("%s %s: %v", verb, target, err)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := client.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", verb, target, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode == http.StatusOK {
		return resp.StatusCode, nil, raw
	}
	var sp spb.Status
	if err := protojson.Unmarshal(raw, &sp); err != nil {
		t.Fatalf("%s %s: %d with a body that is not a status: %q", verb, target, resp.StatusCode, raw)
	}
	return resp.StatusCode, status.FromProto(&sp), raw
}

// violation returns the field violation of st for field, nil if none.
func violation(st *status.Status, field string) *errdetails.BadRequest_FieldViolation {
	for _, d := range st.Details() {
		if br, ok := d.(*errdetails.BadRequest); ok {
			for _, v := range br.GetFieldViolations() {
				if v.GetField() == field {
					return v
				}
			}
		}
	}
	return nil
}

// checkTextRefusal checks that a call with bad text at field was refused
// with INVALID_ARGUMENT (and 400 over REST) and a field violation of that
// field with the rule's reason.
func checkTextRefusal(t *testing.T, what string, st *status.Status, httpStatus int, field, reason string) {
	t.Helper()
	switch {
	case st == nil:
		t.Errorf("%s: accepted", what)
	case st.Code() != codes.InvalidArgument || (httpStatus != 0 && httpStatus != http.StatusBadRequest):
		t.Errorf("%s: %d %v, want 400 INVALID_ARGUMENT", what, httpStatus, st.Err())
	case violation(st, field) == nil:
		t.Errorf("%s: %v names no field %s", what, st.Err(), field)
	case violation(st, field).GetReason() != reason:
		t.Errorf("%s: reason %q, want %q", what, violation(st, field).GetReason(), reason)
	case !strings.Contains(st.Message(), field+": "):
		t.Errorf("%s: the message %q does not name %s", what, st.Message(), field)
	}
}

// registeredMethods lists the methods of every service the server
// registers, as its reflection service lists them, from the descriptors
// compiled into the binary.
func registeredMethods(t *testing.T, conn *grpc.ClientConn) []protoreflect.MethodDescriptor {
	t.Helper()
	stream, err := reflectionpb.NewServerReflectionClient(conn).ServerReflectionInfo(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	defer stream.CloseSend()
	if err := stream.Send(&reflectionpb.ServerReflectionRequest{MessageRequest: &reflectionpb.ServerReflectionRequest_ListServices{}}); err != nil {
		t.Fatal(err)
	}
	resp, err := stream.Recv()
	if err != nil {
		t.Fatal(err)
	}
	var out []protoreflect.MethodDescriptor
	for _, s := range resp.GetListServicesResponse().GetService() {
		d, err := protoregistry.GlobalFiles.FindDescriptorByName(protoreflect.FullName(s.GetName()))
		if err != nil {
			t.Fatalf("service %s: %v", s.GetName(), err)
		}
		methods := d.(protoreflect.ServiceDescriptor).Methods()
		for i := range methods.Len() {
			out = append(out, methods.Get(i))
		}
	}
	return out
}

// callAny calls a unary or streaming method with one request and returns
// the status of its first answer.
func callAny(ctx context.Context, t *testing.T, conn *grpc.ClientConn, md protoreflect.MethodDescriptor, req any, opts ...grpc.CallOption) *status.Status {
	t.Helper()
	method := grpcMethodName(md)
	if !md.IsStreamingClient() && !md.IsStreamingServer() {
		return status.Convert(conn.Invoke(ctx, method, req, newResponse(t, md), opts...))
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	stream, err := conn.NewStream(ctx, &grpc.StreamDesc{ServerStreams: md.IsStreamingServer(), ClientStreams: md.IsStreamingClient()}, method, opts...)
	if err != nil {
		return status.Convert(err)
	}
	if err := stream.SendMsg(req); err != nil {
		t.Fatalf("%s: send: %v", method, err)
	}
	if err := stream.CloseSend(); err != nil {
		t.Fatalf("%s: close: %v", method, err)
	}
	return status.Convert(stream.RecvMsg(newResponse(t, md)))
}

// TestTextEveryMethod sends, to every method of every service the server
// registers (the API's, health and reflection), a request with a NUL
// character in one of its strings, for each string its request type
// reaches, over gRPC and, for the API, over REST (in the path, the query
// or the body, where the method's HTTP rule reads it); then the same with
// bytes that are not UTF-8. Each must be INVALID_ARGUMENT (400) naming the
// field.
func TestTextEveryMethod(t *testing.T) {
	e := start(t)
	ctx := t.Context()
	methods := registeredMethods(t, e.conn)
	api := map[string]bool{}
	for _, md := range everyAPIMethodDescriptor() {
		api[grpcMethodName(md)] = true
	}
	const nul, notUTF8 = "a\x00b", "a\xffb"
	var grpcCalls, restCalls int
	tried := map[string]bool{}
	for _, md := range methods {
		method := grpcMethodName(md)
		mt, err := protoregistry.GlobalTypes.FindMessageByName(md.Input().FullName())
		if err != nil {
			t.Fatal(err)
		}
		leaves := textLeaves(md.Input())
		if len(leaves) > 0 {
			tried[method] = true
		}
		methodREST := 0
		for _, leaf := range leaves {
			field := leaf.field()
			req := mt.New()
			setText(req, leaf, nul)
			checkTextRefusal(t, fmt.Sprintf("gRPC %s %s with a NUL", method, field), callAny(ctx, t, e.conn, md, req.Interface()), 0, field, "string.no_nul")
			st := callAny(ctx, t, e.conn, md, rawRequest(wireText(leaf, notUTF8)), grpc.ForceCodecV2(rawCodec{}))
			checkTextRefusal(t, fmt.Sprintf("gRPC %s %s not UTF-8", method, field), st, 0, field, "string.utf8")
			grpcCalls += 2

			if !api[method] {
				continue // no REST route
			}
			verb, target, body, ok := restText(md, leaf, nul)
			if !ok {
				continue
			}
			methodREST++
			code, st, _ := restCall(t, e.http, e.baseURL, verb, target, body)
			checkTextRefusal(t, fmt.Sprintf("REST %s %s (%s) with a NUL in %s", verb, target, body, field), st, code, field, "string.no_nul")
			restCalls++

			// Outside a JSON body, bytes that are not UTF-8 reach the
			// message; in one, the JSON decoder refuses them (see
			// TestRESTBodyNotUTF8).
			if verb, target, body, _ := restText(md, leaf, notUTF8); !bytes.Contains(body, []byte(notUTF8)) {
				code, st, _ := restCall(t, e.http, e.baseURL, verb, target, body)
				checkTextRefusal(t, fmt.Sprintf("REST %s %s not UTF-8 in %s", verb, target, field), st, code, field, "string.utf8")
				restCalls++
			}
		}
		if api[method] && len(leaves) > 0 && methodREST == 0 {
			t.Errorf("%s: no string field of %s could be sent over REST", method, md.Input().FullName())
		}
	}
	// Every method that takes text was tried: the API's (but those whose
	// request is empty), health and reflection.
	for m := range api {
		if !tried[m] && !slices.Contains([]string{"/mediation.v1.AuthService/DeleteSession", "/mediation.v1.AuthService/GetCaller", "/mediation.v1.CaseService/GetWorkflow"}, m) {
			t.Errorf("%s was not tried", m)
		}
	}
	for _, m := range []string{"/grpc.health.v1.Health/Check", "/grpc.health.v1.Health/Watch", "/grpc.reflection.v1.ServerReflection/ServerReflectionInfo"} {
		if !tried[m] {
			t.Errorf("%s was not tried", m)
		}
	}
	t.Logf("%d methods, %d gRPC calls, %d REST calls", len(methods), grpcCalls, restCalls)

	// The pages served beside the gateway call the API through the same
	// loopback.
	for target, field := range map[string]string{
		"/v1/cases/a%00b/agreement.html":         "name",
		"/v1/caseStatistics.csv?filter=a%00b":    "filter",
		"/v1/caseStatistics.csv?filter=a%FFb":    "filter",
		"/v1/cases/6f1c%FF/agreement.html":       "name",
		"/v1/caseStatistics.csv?groupBy=a%00b":   "group_by",
		"/v1/caseStatistics.csv?group_by=%00%FF": "group_by",
	} {
		code, st, _ := restCall(t, e.http, e.baseURL, http.MethodGet, target, nil)
		if st == nil || code != http.StatusBadRequest || st.Code() != codes.InvalidArgument || violation(st, field) == nil {
			t.Errorf("GET %s: %d %v, want 400 INVALID_ARGUMENT naming %s", target, code, st.Err(), field)
		}
	}
}

// TestRESTBodyNotUTF8 sends a JSON body that is not UTF-8, and one with a
// lone surrogate escape (no character): the gateway's decoder refuses
// them with 400, saying what is wrong and where.
func TestRESTBodyNotUTF8(t *testing.T) {
	e := start(t)
	for body, want := range map[string]string{
		"{\"summary\": \"a\xffb\"}": "not UTF-8: byte 14",
		`{"summary": "\ud800"}`:     `lone surrogate escape \ud800 at byte 13`,
	} {
		code, st, raw := restCall(t, e.http, e.baseURL, http.MethodPost, "/v1/cases", []byte(body))
		if code != http.StatusBadRequest || st.Code() != codes.InvalidArgument {
			t.Errorf("%q: %d %s, want 400 INVALID_ARGUMENT", body, code, raw)
			continue
		}
		if !strings.Contains(st.Message(), want) {
			t.Errorf("%q: %q does not say %q", body, st.Message(), want)
		}
	}
}

// TestRESTBodyTrailingData sends JSON bodies followed by something else:
// 400 saying so, where the body alone is taken (whitespace after it is
// fine).
func TestRESTBodyTrailingData(t *testing.T) {
	e := start(t)
	qingyang(t, e)
	e.signIn(t, store.User{Username: "trailing", DisplayName: "负责人", Role: roleLead, OrganizationID: "xifeng-women"})
	created, err := e.cases.CreateCase(t.Context(), &mediationv1.CreateCaseRequest{Case: familyCase("621002")})
	if err != nil {
		t.Fatal(err)
	}
	name := created.GetCase().GetName()
	newCase := `{"disputeType": "DISPUTE_TYPE_NEIGHBOR", "source": "CASE_SOURCE_WALK_IN", "summary": "邻里纠纷", "regionCode": "621002",
		"parties": [{"name": "张三", "role": "PARTY_ROLE_APPLICANT"}, {"name": "李四", "role": "PARTY_ROLE_RESPONDENT"}]}`
	for _, tc := range []struct{ verb, path, body string }{
		{http.MethodPost, "/v1/cases", newCase},
		{http.MethodPatch, "/v1/" + name + "?updateMask=summary", `{"summary": "更正"}`},
		{http.MethodPost, "/v1/sessions", `{"username": "trailing", "password": "` + testPassword + `"}`},
	} {
		for _, tail := range []string{"xx", "{}", `"more"`, "\x00"} {
			body := tc.body + tail
			code, st, raw := restCall(t, e.http, e.baseURL, tc.verb, tc.path, []byte(body))
			if code != http.StatusBadRequest || st.Code() != codes.InvalidArgument || !strings.Contains(st.Message(), "data after its JSON value") {
				t.Errorf("%s %s with %q after the body: %d %s, want 400 saying there is data after the JSON", tc.verb, tc.path, tail, code, raw)
			}
		}
		if code, _, raw := restCall(t, e.http, e.baseURL, tc.verb, tc.path, []byte(tc.body+" \r\n")); code != http.StatusOK {
			t.Errorf("%s %s with whitespace after the body: %d %s", tc.verb, tc.path, code, raw)
		}
	}
}

// TestNULInStoredText covers the requests found to answer 500 when a
// text held a NUL: each is now 400 naming the field, and the same request
// without the NUL succeeds, so it is the NUL that is refused.
func TestNULInStoredText(t *testing.T) {
	e := startCases(t)
	qingyang(t, e)
	c, err := e.cases.CreateCase(t.Context(), &mediationv1.CreateCaseRequest{Case: familyCase("621002")})
	if err != nil {
		t.Fatal(err)
	}
	name := c.GetCase().GetName()
	assigned := bring(t, grpcClient{e}, casework.StateAssigned).GetName()
	e.signIn(t, store.User{Username: "nul-lead", DisplayName: "负责人", Role: roleLead, OrganizationID: "xifeng-women"})

	referral := func(text string) string {
		return `{"disputeType": "DISPUTE_TYPE_NEIGHBOR", "source": "CASE_SOURCE_COURT_DELEGATED", "summary": "邻里纠纷", "regionCode": "621002",
			"courtReferral": {"courtCode": "甘1002", "courtCaseNumber": ` + text + `},
			"parties": [{"name": "张三", "role": "PARTY_ROLE_APPLICANT"}, {"name": "李四", "role": "PARTY_ROLE_RESPONDENT"}]}`
	}
	for _, tc := range []struct {
		what, verb, path, field string
		body                    func(text string) string
	}{
		{"CreateCase summary", http.MethodPost, "/v1/cases", "case.summary", func(s string) string {
			return `{"disputeType": "DISPUTE_TYPE_NEIGHBOR", "source": "CASE_SOURCE_WALK_IN", "summary": ` + s + `, "regionCode": "621002",
				"parties": [{"name": "张三", "role": "PARTY_ROLE_APPLICANT"}, {"name": "李四", "role": "PARTY_ROLE_RESPONDENT"}]}`
		}},
		{"CreateCase party name", http.MethodPost, "/v1/cases", "case.parties[1].name", func(s string) string {
			return `{"disputeType": "DISPUTE_TYPE_NEIGHBOR", "source": "CASE_SOURCE_WALK_IN", "summary": "邻里纠纷", "regionCode": "621002",
				"parties": [{"name": "张三", "role": "PARTY_ROLE_APPLICANT"}, {"name": ` + s + `, "role": "PARTY_ROLE_RESPONDENT"}]}`
		}},
		{"CreateCase court case number", http.MethodPost, "/v1/cases", "case.court_referral.court_case_number", referral},
		{"UpdateCase summary", http.MethodPatch, "/v1/" + name + "?updateMask=summary", "case.summary", func(s string) string {
			return `{"summary": ` + s + `}`
		}},
		{"ScheduleSession place", http.MethodPost, "/v1/" + assigned + ":scheduleSession", "place", func(s string) string {
			return `{"startTime": "2026-12-02T09:00:00+08:00", "place": ` + s + `, "participants": ["张三"]}`
		}},
		{"RejectCase reason", http.MethodPost, "/v1/" + name + ":reject", "reason", func(s string) string {
			return `{"reason": ` + s + `}`
		}},
		{"CreateUser display name", http.MethodPost, "/v1/users", "user.display_name", func(s string) string {
			return `{"userId": "nul-user", "password": "nul-password-123", "user": {"displayName": ` + s + `, "role": "ROLE_MEDIATOR", "mediator": "mediators/li-hong"}}`
		}},
		{"CreateApiKey display name", http.MethodPost, "/v1/apiKeys", "api_key.display_name", func(s string) string {
			return `{"displayName": ` + s + `, "role": "ROLE_COURT_DESK", "courtCode": "甘1002"}`
		}},
		{"UpdateOrganization display name", http.MethodPatch, "/v1/organizations/xifeng-township", "organization.display_name", func(s string) string {
			return `{"displayName": ` + s + `}`
		}},
		{"CreateSession username", http.MethodPost, "/v1/sessions", "username", func(s string) string {
			return `{"username": ` + s + `, "password": "` + testPassword + `"}`
		}},
	} {
		good := map[string]string{"case.court_referral.court_case_number": `"（2026）甘1002民诉前调7号"`, "username": `"nul-lead"`}[tc.field]
		if good == "" {
			good = `"正常的文字"`
		}
		bad := good[:len(good)-1] + `\u0000"`
		path := tc.path
		code, st, _ := restCall(t, e.http, e.baseURL, tc.verb, path, []byte(tc.body(bad)))
		checkTextRefusal(t, tc.what+" with a NUL", st, code, tc.field, "string.no_nul")
		if code, _, raw := restCall(t, e.http, e.baseURL, tc.verb, path, []byte(tc.body(good))); code != http.StatusOK {
			t.Errorf("%s without the NUL: %d %s", tc.what, code, raw)
		}
	}

	// gRPC: a summary with a NUL.
	bad := familyCase("621002")
	bad.Summary = "赡养\x00纠纷"
	_, err = e.cases.CreateCase(t.Context(), &mediationv1.CreateCaseRequest{Case: bad})
	checkTextRefusal(t, "gRPC CreateCase summary with a NUL", status.Convert(err), 0, "case.summary", "string.no_nul")
}

// TestGRPCNotUTF8 sends over gRPC a request whose string is not UTF-8,
// which protobuf refuses to decode: INVALID_ARGUMENT naming where the
// string is, not INTERNAL. Bytes that are no protobuf message at all are
// INVALID_ARGUMENT too.
func TestGRPCNotUTF8(t *testing.T) {
	e := start(t)
	method := "/mediation.v1.CaseService/CreateCase"
	md := mediationv1.File_mediation_v1_case_service_proto.Services().ByName("CaseService").Methods().ByName("CreateCase")
	parties := md.Input().Fields().ByName("case").Message().Fields().ByName("parties")
	name := parties.Message().Fields().ByName("name")
	// case { parties { name: "张三" } parties { name: "\xff" } }
	first := protowire.AppendString(protowire.AppendTag(nil, name.Number(), protowire.BytesType), "张三")
	second := protowire.AppendString(protowire.AppendTag(nil, name.Number(), protowire.BytesType), "\xff")
	var c []byte
	for _, p := range [][]byte{first, second} {
		c = protowire.AppendBytes(protowire.AppendTag(c, parties.Number(), protowire.BytesType), p)
	}
	msg := protowire.AppendBytes(protowire.AppendTag(nil, 1, protowire.BytesType), c)
	err := e.conn.Invoke(t.Context(), method, rawRequest(msg), newResponse(t, md), grpc.ForceCodecV2(rawCodec{}))
	checkTextRefusal(t, "a party name not UTF-8", status.Convert(err), 0, "case.parties[1].name", "string.utf8")

	err = e.conn.Invoke(t.Context(), method, rawRequest{0x0a, 0x80}, newResponse(t, md), grpc.ForceCodecV2(rawCodec{}))
	if st := status.Convert(err); st.Code() != codes.InvalidArgument || !strings.Contains(st.Message(), "mediation.v1.CreateCaseRequest") {
		t.Errorf("truncated bytes: %v, want INVALID_ARGUMENT naming the request type", err)
	}
	if !utf8.ValidString(status.Convert(err).Message()) {
		t.Errorf("the refusal's message is not UTF-8")
	}
}

// reflectionClient resolves symbols as grpcurl does, through the server's
// reflection service, on one stream.
type reflectionClient struct {
	t      *testing.T
	stream reflectionpb.ServerReflection_ServerReflectionInfoClient
	files  map[string]*descriptorpb.FileDescriptorProto
}

func (r *reflectionClient) ask(req *reflectionpb.ServerReflectionRequest) (*reflectionpb.ServerReflectionResponse, error) {
	if err := r.stream.Send(req); err != nil && !errors.Is(err, io.EOF) {
		return nil, err
	}
	// After a refusal, Send says io.EOF and Recv says why.
	resp, err := r.stream.Recv()
	if err != nil {
		return nil, err
	}
	if e := resp.GetErrorResponse(); e != nil {
		return nil, status.Error(codes.Code(e.GetErrorCode()), e.GetErrorMessage())
	}
	return resp, nil
}

// list is grpcurl's `list`: the names of the services.
func (r *reflectionClient) list() ([]string, error) {
	resp, err := r.ask(&reflectionpb.ServerReflectionRequest{MessageRequest: &reflectionpb.ServerReflectionRequest_ListServices{}})
	if err != nil {
		return nil, err
	}
	var names []string
	for _, s := range resp.GetListServicesResponse().GetService() {
		names = append(names, s.GetName())
	}
	return names, nil
}

// describe is grpcurl's `describe`: the descriptor of a symbol, built
// from the files the server sends (the symbol's and those it imports).
func (r *reflectionClient) describe(symbol string) (protoreflect.Descriptor, error) {
	resp, err := r.ask(&reflectionpb.ServerReflectionRequest{MessageRequest: &reflectionpb.ServerReflectionRequest_FileContainingSymbol{FileContainingSymbol: symbol}})
	if err != nil {
		return nil, err
	}
	for _, b := range resp.GetFileDescriptorResponse().GetFileDescriptorProto() {
		var fd descriptorpb.FileDescriptorProto
		if err := proto.Unmarshal(b, &fd); err != nil {
			return nil, err
		}
		r.files[fd.GetName()] = &fd
	}
	set := &descriptorpb.FileDescriptorSet{}
	for _, fd := range r.files {
		set.File = append(set.File, fd)
	}
	files, err := protodesc.NewFiles(set)
	if err != nil {
		return nil, err
	}
	return files.FindDescriptorByName(protoreflect.FullName(symbol))
}

// invoke calls a method as grpcurl does with -d: the request is JSON
// decoded into a message built from the reflected descriptor, the answer
// a message of the same kind.
func invokeDynamic(ctx context.Context, conn *grpc.ClientConn, sd protoreflect.ServiceDescriptor, method, reqJSON string) (*dynamicpb.Message, error) {
	md := sd.Methods().ByName(protoreflect.Name(method))
	if md == nil {
		return nil, fmt.Errorf("%s has no method %s", sd.FullName(), method)
	}
	in := dynamicpb.NewMessage(md.Input())
	if err := protojson.Unmarshal([]byte(reqJSON), in); err != nil {
		return nil, err
	}
	out := dynamicpb.NewMessage(md.Output())
	return out, conn.Invoke(ctx, "/"+string(sd.FullName())+"/"+method, in, out)
}

// TestGRPCurlWithoutToken does what the README's grpcurl section does,
// with a client that has no token and no compiled protos, only what
// reflection tells it: list the services, describe the case service and a
// message, sign in, check health; then, with the token, list cases. Every
// other method still wants a token.
func TestGRPCurlWithoutToken(t *testing.T) {
	e := start(t)
	waitReady(t, e)
	e.signIn(t, store.User{Username: "demo-supervisor", DisplayName: "庆阳市司法局", Role: auth.RoleSupervisor, RegionCode: "621000"})
	conn, err := grpc.NewClient(e.conn.Target(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	ctx := t.Context()
	stream, err := reflectionpb.NewServerReflectionClient(conn).ServerReflectionInfo(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer stream.CloseSend()
	r := &reflectionClient{t: t, stream: stream, files: map[string]*descriptorpb.FileDescriptorProto{}}

	// grpcurl -plaintext localhost:9090 list
	services, err := r.list()
	if err != nil {
		t.Fatalf("list without a token: %v", err)
	}
	for _, want := range []string{"mediation.v1.AuthService", "mediation.v1.CaseService", "mediation.v1.DirectoryService",
		"mediation.v1.UserService", "mediation.v1.AuditService", "grpc.health.v1.Health", "grpc.reflection.v1.ServerReflection"} {
		if !slices.Contains(services, want) {
			t.Errorf("list: %v lacks %s", services, want)
		}
	}

	// grpcurl -plaintext localhost:9090 describe mediation.v1.CaseService
	d, err := r.describe("mediation.v1.CaseService")
	if err != nil {
		t.Fatalf("describe mediation.v1.CaseService: %v", err)
	}
	cases, ok := d.(protoreflect.ServiceDescriptor)
	if !ok || cases.Methods().ByName("CreateCase") == nil || cases.Methods().Len() != mediationv1.File_mediation_v1_case_service_proto.Services().ByName("CaseService").Methods().Len() {
		t.Errorf("describe mediation.v1.CaseService: %v", d)
	}
	// grpcurl -plaintext localhost:9090 describe mediation.v1.Case
	d, err = r.describe("mediation.v1.Case")
	if err != nil {
		t.Fatalf("describe mediation.v1.Case: %v", err)
	}
	if m, ok := d.(protoreflect.MessageDescriptor); !ok || m.Fields().ByName("summary") == nil {
		t.Errorf("describe mediation.v1.Case: %v", d)
	}

	// grpcurl -plaintext -d '{"username": ..., "password": ...}' localhost:9090 mediation.v1.AuthService/CreateSession
	d, err = r.describe("mediation.v1.AuthService")
	if err != nil {
		t.Fatalf("describe mediation.v1.AuthService: %v", err)
	}
	session, err := invokeDynamic(ctx, conn, d.(protoreflect.ServiceDescriptor), "CreateSession",
		`{"username": "demo-supervisor", "password": "`+testPassword+`"}`)
	if err != nil {
		t.Fatalf("CreateSession without a token: %v", err)
	}
	token := session.Get(session.Descriptor().Fields().ByName("token")).String()
	if token == "" {
		t.Fatalf("CreateSession answered %v", session)
	}

	// grpcurl -plaintext localhost:9090 grpc.health.v1.Health/Check
	d, err = r.describe("grpc.health.v1.Health")
	if err != nil {
		t.Fatalf("describe grpc.health.v1.Health: %v", err)
	}
	health, err := invokeDynamic(ctx, conn, d.(protoreflect.ServiceDescriptor), "Check", `{}`)
	if err != nil {
		t.Fatalf("Health/Check without a token: %v", err)
	}
	if st := health.Get(health.Descriptor().Fields().ByName("status")).Enum(); st != 1 {
		t.Errorf("Health/Check: status %d, want SERVING", st)
	}

	// grpcurl -plaintext -H "authorization: Bearer $TOKEN" -d '{"filter": "state = MEDIATING", "page_size": 10}' ... ListCases
	withToken := metadata.AppendToOutgoingContext(ctx, "authorization", "Bearer "+token)
	if _, err := invokeDynamic(withToken, conn, cases, "ListCases", `{"filter": "state = MEDIATING", "page_size": 10}`); err != nil {
		t.Errorf("ListCases with the token: %v", err)
	}
	// Without it, the API's other methods still want one.
	for _, m := range []string{"ListCases", "GetWorkflow"} {
		if _, err := invokeDynamic(ctx, conn, cases, m, `{}`); status.Code(err) != codes.Unauthenticated {
			t.Errorf("%s without a token: %v, want UNAUTHENTICATED", m, err)
		}
	}
	if _, err := invokeDynamic(ctx, conn, d.(protoreflect.ServiceDescriptor), "Check", `{}`); err != nil {
		t.Errorf("Health/Check again: %v", err)
	}
}

// TestBodyOverLimit sends bodies over the size limit with a Content-Length
// and chunked (no length): both are 413 saying the limit. Bodies at the
// limit, chunked or not, are read.
func TestBodyOverLimit(t *testing.T) {
	const limit = 2048
	e := startWith(t, pgtest.NewDatabase(t), func(c *server.Config) { c.MaxRequestBytes = limit })
	e.signIn(t, store.User{Username: "limit", DisplayName: "系统管理员", Role: auth.RoleAdmin})
	signIn := func(size int) string {
		body := `{"username": "limit", "password": "` + testPassword + `"}`
		return body + strings.Repeat(" ", size-len(body))
	}
	for _, tc := range []struct {
		size    int
		chunked bool
		want    int
	}{
		{limit + 1, false, http.StatusRequestEntityTooLarge},
		{limit + 1, true, http.StatusRequestEntityTooLarge},
		{10 * limit, true, http.StatusRequestEntityTooLarge},
		{limit, false, http.StatusOK},
		{limit, true, http.StatusOK},
	} {
		resp := postRaw(t, e.baseURL, "/v1/sessions", signIn(tc.size), tc.chunked)
		raw, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != tc.want {
			t.Errorf("%d bytes, chunked %v: %d %s, want %d", tc.size, tc.chunked, resp.StatusCode, raw, tc.want)
			continue
		}
		if tc.want == http.StatusRequestEntityTooLarge && !strings.Contains(string(raw), "exceeds the limit of 2048 bytes") {
			t.Errorf("%d bytes, chunked %v: %s does not say the limit", tc.size, tc.chunked, raw)
		}
	}
}

// postRaw writes a POST request on a connection of its own, the body sent
// with a Content-Length or chunked (Transfer-Encoding: chunked, in chunks
// of 1000 bytes), and reads the response.
func postRaw(t *testing.T, baseURL, path, body string, chunked bool) *http.Response {
	t.Helper()
	conn, err := net.Dial("tcp", strings.TrimPrefix(baseURL, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	var b strings.Builder
	fmt.Fprintf(&b, "POST %s HTTP/1.1\r\nHost: mediationd\r\nContent-Type: application/json\r\nConnection: close\r\n", path)
	if !chunked {
		fmt.Fprintf(&b, "Content-Length: %d\r\n\r\n%s", len(body), body)
	} else {
		b.WriteString("Transfer-Encoding: chunked\r\n\r\n")
		for rest := body; rest != ""; {
			n := min(len(rest), 1000)
			fmt.Fprintf(&b, "%x\r\n%s\r\n", n, rest[:n])
			rest = rest[n:]
		}
		b.WriteString("0\r\n\r\n")
	}
	if _, err := io.WriteString(conn, b.String()); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatal(err)
	}
	return resp
}

// TestClientAddressSameForm signs in and registers a case over gRPC and
// over REST from the loopback: the audit trail and the log lines give the
// client's address in one form, the IP address without a port.
func TestClientAddressSameForm(t *testing.T) {
	var logs piiLogBuffer
	e := startWith(t, pgtest.NewDatabase(t), func(c *server.Config) {
		c.Logger = slog.New(reqinfo.LogHandler(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug})))
	})
	qingyang(t, e)
	e.signIn(t, store.User{Username: "address", DisplayName: "负责人", Role: roleLead, OrganizationID: "xifeng-women"})
	ctx := t.Context()

	// gRPC
	md := metadata.Pairs("x-request-id", "address-grpc-login")
	if _, err := mediationv1.NewAuthServiceClient(e.conn).CreateSession(metadata.NewOutgoingContext(ctx, md),
		&mediationv1.CreateSessionRequest{Username: "address", Password: testPassword}); err != nil {
		t.Fatal(err)
	}
	md = metadata.Pairs("x-request-id", "address-grpc-case")
	if _, err := e.cases.CreateCase(metadata.NewOutgoingContext(ctx, md), &mediationv1.CreateCaseRequest{Case: familyCase("621002")}); err != nil {
		t.Fatal(err)
	}
	// REST
	for id, call := range map[string][2]string{
		"address-rest-login": {"/v1/sessions", `{"username": "address", "password": "` + testPassword + `"}`},
		"address-rest-case": {"/v1/cases", `{"disputeType": "DISPUTE_TYPE_NEIGHBOR", "source": "CASE_SOURCE_WALK_IN", "summary": "邻里纠纷", "regionCode": "621002",
			"parties": [{"name": "张三", "role": "PARTY_ROLE_APPLICANT"}, {"name": "李四", "role": "PARTY_ROLE_RESPONDENT"}]}`},
	} {
		resp, raw := httpDo(t, e, http.MethodPost, call[0], call[1], map[string]string{"X-Request-Id": id})
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("%s: %d %s", call[0], resp.StatusCode, raw)
		}
	}

	rows, err := e.store.Pool().Query(ctx, `SELECT request_id, kind, client_address FROM audit_events WHERE request_id LIKE 'address-%' ORDER BY request_id, kind`)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for rows.Next() {
		var id, kind, addr string
		if err := rows.Scan(&id, &kind, &addr); err != nil {
			t.Fatal(err)
		}
		seen[id] = true
		if addr != "127.0.0.1" {
			t.Errorf("audit %s %s: client address %q, want 127.0.0.1", id, kind, addr)
		}
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"address-grpc-login", "address-grpc-case", "address-rest-login", "address-rest-case"} {
		if !seen[id] {
			t.Errorf("no audit row for %s", id)
		}
	}

	peers := map[string]string{}
	for line := range strings.SplitSeq(string(logs.Bytes()), "\n") {
		var rec struct {
			Msg       string `json:"msg"`
			RequestID string `json:"request_id"`
			Peer      string `json:"peer"`
		}
		if json.Unmarshal([]byte(line), &rec) == nil && rec.Msg == "rpc" && strings.HasPrefix(rec.RequestID, "address-") {
			peers[rec.RequestID] = rec.Peer
		}
	}
	for _, id := range []string{"address-grpc-login", "address-grpc-case", "address-rest-login", "address-rest-case"} {
		if peers[id] != "127.0.0.1" {
			t.Errorf("log line of %s: peer %q, want 127.0.0.1 (all: %v)", id, peers[id], peers)
		}
	}
}
