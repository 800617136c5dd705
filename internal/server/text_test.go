package server

import (
	"slices"
	"strings"
	"testing"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/mem"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/fieldmaskpb"
	"google.golang.org/protobuf/types/known/structpb"

	mediationv1 "github.com/mediationd/mediationd/proto/mediation/v1"
)

// violations lists the field violations of err as field=reason.
func violations(t *testing.T, err error) []string {
	t.Helper()
	if err == nil {
		return nil
	}
	st := status.Convert(err)
	if st.Code() != codes.InvalidArgument {
		t.Fatalf("%v, want INVALID_ARGUMENT", err)
	}
	var out []string
	for _, d := range st.Details() {
		if br, ok := d.(*errdetails.BadRequest); ok {
			for _, v := range br.GetFieldViolations() {
				out = append(out, v.GetField()+"="+v.GetReason())
				if !strings.Contains(st.Message(), v.GetField()+": "+v.GetDescription()) {
					t.Errorf("the message %q lacks %s: %s", st.Message(), v.GetField(), v.GetDescription())
				}
			}
		}
	}
	return out
}

// TestTextRule checks the paths the rule names for strings anywhere in a
// message: nested, in lists, in map keys and values, in a oneof.
func TestTextRule(t *testing.T) {
	many := &mediationv1.CreateCaseRequest{Case: &mediationv1.Case{}}
	for range 30 {
		many.Case.Parties = append(many.Case.Parties, &mediationv1.Party{Name: "\x00"})
	}
	for _, tc := range []struct {
		what string
		m    proto.Message
		want []string
	}{
		{"clean", &mediationv1.CreateCaseRequest{Case: &mediationv1.Case{Summary: "赡养费纠纷", Parties: []*mediationv1.Party{{Name: "王秀英"}}}}, nil},
		{"nested", &mediationv1.CreateCaseRequest{Case: &mediationv1.Case{Summary: "赡养\x00费"}}, []string{"case.summary=string.no_nul"}},
		{"in a list", &mediationv1.CreateCaseRequest{Case: &mediationv1.Case{Parties: []*mediationv1.Party{{Name: "王秀英"}, {Name: "王建国\x00"}}}},
			[]string{"case.parties[1].name=string.no_nul"}},
		{"not UTF-8 and a NUL", &mediationv1.CreateCaseRequest{RequestId: "\xff", Case: &mediationv1.Case{Summary: "\x00"}},
			[]string{"case.summary=string.no_nul", "request_id=string.utf8"}},
		{"a field mask", &mediationv1.UpdateCaseRequest{UpdateMask: &fieldmaskpb.FieldMask{Paths: []string{"summary", "x\x00"}}},
			[]string{"update_mask.paths[1]=string.no_nul"}},
		{"a list of strings", &mediationv1.ScheduleSessionRequest{Participants: []string{"a", "b", "\xc0"}}, []string{"participants[2]=string.utf8"}},
		{"map key", &structpb.Struct{Fields: map[string]*structpb.Value{"a\x00": structpb.NewBoolValue(true)}}, []string{`fields["a\x00"]=string.no_nul`}},
		{"map value, in a oneof", &structpb.Struct{Fields: map[string]*structpb.Value{"k": structpb.NewStringValue("\x00")}}, []string{`fields["k"].string_value=string.no_nul`}},
		{"bounded", many, nil},
	} {
		got := violations(t, requestTextError(newRequestCodec(), tc.m))
		slices.Sort(got)
		if tc.what == "bounded" {
			if len(got) != maxTextViolations {
				t.Errorf("%s: %d violations, want %d", tc.what, len(got), maxTextViolations)
			}
			continue
		}
		if !slices.Equal(got, tc.want) {
			t.Errorf("%s: %v, want %v", tc.what, got, tc.want)
		}
	}
}

// TestRequestCodec checks that a request which does not decode is not an
// error of the codec (grpc-go would answer INTERNAL) but a refusal that
// checkText finds, naming the string that is not UTF-8, once.
func TestRequestCodec(t *testing.T) {
	str := func(num protowire.Number, s string) []byte {
		return protowire.AppendString(protowire.AppendTag(nil, num, protowire.BytesType), s)
	}
	msg := func(num protowire.Number, parts ...[]byte) []byte {
		return protowire.AppendBytes(protowire.AppendTag(nil, num, protowire.BytesType), slices.Concat(parts...))
	}
	// CreateCaseRequest{case: {parties: [{name: "王秀英"}, {name: "\xff"}]}, request_id: "\xfe"}
	req := slices.Concat(msg(1, msg(9, str(1, "王秀英")), msg(9, str(1, "\xff"))), str(2, "\xfe"))
	var m mediationv1.CreateCaseRequest
	if proto.Unmarshal(req, &m) == nil {
		t.Fatal("protobuf decoded a string that is not UTF-8")
	}
	// Struct{fields: {"\xff": {string_value: "\xfe"}}}
	entry := slices.Concat(str(1, "\xff"), msg(2, str(3, "\xfe")))
	mapReq := msg(1, entry)

	c := newRequestCodec()
	for _, tc := range []struct {
		what string
		data []byte
		m    proto.Message
		want []string
		text string // in the message when no field is named
	}{
		{"nested, listed", req, &mediationv1.CreateCaseRequest{}, []string{"case.parties[1].name=string.utf8", "request_id=string.utf8"}, ""},
		{"map", mapReq, &structpb.Struct{}, []string{`fields["\xff"].string_value=string.utf8`, `fields["\xff"]=string.utf8`}, ""},
		{"truncated", []byte{0x0a, 0x80}, &mediationv1.CreateCaseRequest{}, nil, "mediation.v1.CreateCaseRequest"},
	} {
		if err := c.Unmarshal(mem.BufferSlice{mem.SliceBuffer(tc.data)}, tc.m); err != nil {
			t.Fatalf("%s: Unmarshal: %v", tc.what, err)
		}
		if proto.Size(tc.m) != 0 {
			t.Errorf("%s: the undecodable message holds %v", tc.what, tc.m)
		}
		err := c.take(tc.m)
		if err == nil {
			t.Fatalf("%s: no refusal noted", tc.what)
		}
		got := violations(t, err)
		slices.Sort(got)
		if !slices.Equal(got, tc.want) {
			t.Errorf("%s: %v, want %v", tc.what, got, tc.want)
		}
		if !strings.Contains(err.Error(), tc.text) {
			t.Errorf("%s: %v does not say %q", tc.what, err, tc.text)
		}
		if err := c.take(tc.m); err != nil {
			t.Errorf("%s: taken twice: %v", tc.what, err)
		}
	}

	var ok mediationv1.GetCaseRequest
	if err := c.Unmarshal(mem.BufferSlice{mem.SliceBuffer(str(1, "cases/x"))}, &ok); err != nil || ok.GetName() != "cases/x" || c.take(&ok) != nil {
		t.Errorf("a good request: %v, %v", err, &ok)
	}
}
