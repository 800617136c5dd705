package server

import (
	"bytes"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/grpc-ecosystem/grpc-gateway/v2/runtime"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	mediationv1 "github.com/mediationd/mediationd/proto/mediation/v1"
)

// TestCheckJSONBody checks what the gateway's decoder refuses before
// protojson sees a body, and that it lets good bodies and syntax errors
// (which protojson names) through.
func TestCheckJSONBody(t *testing.T) {
	for _, tc := range []struct {
		body string
		want string // in the error; "" = no error
	}{
		{`{"summary": "赡养费"}`, ""},
		{"{\"summary\": \"x\"} \r\n\t", ""},
		{`{"summary": "😀 \ud83d\ude00 \u00e9 \" \\ud800"}`, ""},
		{`{"summary": 1`, ""},
		{`{"summary": "x"}xx`, `data after its JSON value, at byte 16: "xx"`},
		{`{}{}`, `at byte 2: "{}"`},
		{`{} "` + strings.Repeat("x", 40), `"\"xxxxxxxxxxxxxxxxxxx…"`},
		{`{"summary": "\ud800"}`, `lone surrogate escape \ud800 at byte 13`},
		{`{"summary": "\udc00\ud83d\ude00"}`, `lone surrogate escape \udc00 at byte 13`},
		{`{"summary": "\ud83d\u0041"}`, `lone surrogate escape \ud83d`},
		{`{"summary": "x\ud83d"}`, `lone surrogate escape \ud83d at byte 14`},
		{`{"\udfff": 1}`, `lone surrogate escape \udfff at byte 2`},
		{"{\"summary\": \"a\xffb\"}", "not UTF-8: byte 14 (0xff)"},
		{"{\"summary\": \"\xed\xa0\x80\"}", "not UTF-8: byte 13 (0xed)"},
	} {
		err := checkJSONBody([]byte(tc.body))
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("%q: %v", tc.body, err)
		case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
			t.Errorf("%q: %v, want %q", tc.body, err, tc.want)
		}
	}
}

// TestStrictJSONAsJSONPb checks that the gateway's marshaler encodes and
// decodes exactly as runtime.JSONPb, whose work it shortens: the same bytes
// for messages large and small (one at a time, reusing its buffers) and for
// a value that is no message, and the same message from a body.
func TestStrictJSONAsJSONPb(t *testing.T) {
	plain := &runtime.JSONPb{}
	strict := strictJSON{&runtime.JSONPb{}}
	page := &mediationv1.ListCasesResponse{NextPageToken: "tok"}
	for i := range 60 {
		page.Cases = append(page.Cases, &mediationv1.Case{
			Name: fmt.Sprintf("cases/%d", i), Summary: strings.Repeat("邻里纠纷，", i),
			Parties:    []*mediationv1.Party{{Name: "张三", Phone: "138****5678"}, {Name: "李四", Address: "甘肃省****"}},
			CreateTime: timestamppb.New(time.Date(2026, 1, 2, 3, 4, 5, 6, time.UTC)),
		})
	}
	for _, v := range []any{page, &mediationv1.ListCasesResponse{}, page, &mediationv1.Case{Summary: "x"}, map[string]int{"a": 1}} {
		want, err := plain.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		got, err := strict.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%T: strictJSON gave %d bytes %.80q, JSONPb %d bytes %.80q", v, len(got), got, len(want), want)
		}
	}
	body, err := plain.Marshal(page.Cases[7])
	if err != nil {
		t.Fatal(err)
	}
	for _, b := range [][]byte{body, append(append([]byte(" \n"), body...), '\n'), []byte("null"), []byte(`{"summary": 1`), []byte(`{"nope": 1}`)} {
		var want, got mediationv1.Case
		wantErr := plain.NewDecoder(bytes.NewReader(b)).Decode(&want)
		gotErr := strict.NewDecoder(bytes.NewReader(b)).Decode(&got)
		if (gotErr == nil) != (wantErr == nil) || !proto.Equal(&got, &want) {
			t.Errorf("%.40q: strictJSON decoded %v (%v), JSONPb %v (%v)", b, &got, gotErr, &want, wantErr)
		}
	}
}
