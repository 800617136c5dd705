package server

import (
	"strings"
	"testing"
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
