package aipfilter

import (
	"errors"
	"reflect"
	"strings"
	"testing"
)

func TestParse(t *testing.T) {
	tests := []struct {
		filter string
		want   string // node.String(), or "" for no condition
	}{
		{"", ""},
		{" \t\n\u3000", ""},
		{"state = MEDIATING", "state = MEDIATING"},
		{"state=MEDIATING", "state = MEDIATING"},
		{"  state\t=\nMEDIATING  ", "state = MEDIATING"},
		{"state\u3000=\u3000MEDIATING", "state = MEDIATING"},

		// Operators.
		{"a != 1", "a != 1"},
		{"a < 1", "a < 1"},
		{"a <= 1", "a <= 1"},
		{"a > 1", "a > 1"},
		{"a >= 1", "a >= 1"},
		{"a:1", "a : 1"},
		{"a<=1", "a <= 1"},

		// Values.
		{`m = "mediators/li-hong"`, `m = "mediators/li-hong"`},
		{`m = mediators/li-hong`, `m = mediators/li-hong`},
		{`m = 'single'`, `m = "single"`},
		{`m = "a \"b\" \\ c"`, `m = "a \"b\" \\ c"`},
		{`m = 'it\'s "x"'`, `m = "it's \"x\""`},
		{`m = "x AND y OR (z)"`, `m = "x AND y OR (z)"`},
		{`m = ""`, `m = ""`},
		{`t >= "2026-01-01T00:00:00Z"`, `t >= "2026-01-01T00:00:00Z"`},
		{`a = -5`, `a = -5`},
		{`a = 1.5`, `a = 1.5`},
		{`a = true`, `a = true`},
		{`org = 西峰区人民调解委员会`, `org = 西峰区人民调解委员会`},
		{`组织 = "调解"`, `组织 = "调解"`},
		{`a.b_c = x`, `a.b_c = x`},
		{`_x = 1`, `_x = 1`},

		// Keywords are whole upper-case words only.
		{"ANDROID = 1", "ANDROID = 1"},
		{"NOTE = 1 ORDER = 2", "AND(NOTE = 1, ORDER = 2)"},

		// Precedence: OR binds tighter than AND.
		{"a = 1 AND b = 2 OR c = 3", "AND(a = 1, OR(b = 2, c = 3))"},
		{"a = 1 OR b = 2 AND c = 3", "AND(OR(a = 1, b = 2), c = 3)"},
		{"a = 1 OR b = 2 OR c = 3", "OR(a = 1, b = 2, c = 3)"},
		{"a = 1 AND b = 2 AND c = 3", "AND(a = 1, b = 2, c = 3)"},
		{"(a = 1 AND b = 2) OR c = 3", "OR(AND(a = 1, b = 2), c = 3)"},
		{"(a = 1 OR b = 2) AND c = 3", "AND(OR(a = 1, b = 2), c = 3)"},
		{"(a = 1 AND b = 2) AND c = 3", "AND(AND(a = 1, b = 2), c = 3)"},
		{"((a = 1))", "a = 1"},
		{"(a=1)AND(b=2)", "AND(a = 1, b = 2)"},

		// Implicit AND by juxtaposition, looser than OR.
		{"a = 1 b = 2", "AND(a = 1, b = 2)"},
		{"a = 1 b = 2 OR c = 3", "AND(a = 1, OR(b = 2, c = 3))"},
		{"a = 1 b = 2 AND c = 3", "AND(a = 1, b = 2, c = 3)"},
		{`a = "x"(b = 2)`, "AND(a = \"x\", b = 2)"},

		// Negation applies to one term.
		{"NOT a = 1", "NOT(a = 1)"},
		{"-a = 1", "NOT(a = 1)"},
		{"- a = 1", "NOT(a = 1)"},
		{"NOT(a = 1)", "NOT(a = 1)"},
		{"NOT a = 1 OR b = 2", "OR(NOT(a = 1), b = 2)"},
		{"-(a = 1 OR b = 2)", "NOT(OR(a = 1, b = 2))"},
		{"a = 1 -b = 2", "AND(a = 1, NOT(b = 2))"},
		{"a = x-y", "a = x-y"},
	}
	for _, tt := range tests {
		t.Run(tt.filter, func(t *testing.T) {
			n, err := parse(tt.filter)
			if err != nil {
				t.Fatalf("parse(%q): %v", tt.filter, err)
			}
			got := ""
			if n != nil {
				got = n.String()
			}
			if got != tt.want {
				t.Errorf("parse(%q) = %s, want %s", tt.filter, got, tt.want)
			}
		})
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		filter string
		want   string
	}{
		{"(state = INTAKE", `filter: unbalanced parenthesis at position 1; "(" is never closed`},
		{"(", `filter: unbalanced parenthesis at position 1; "(" is never closed`},
		{"state = INTAKE)", `filter: unbalanced parenthesis at position 15; ")" has no matching "("`},
		{")", `filter: unbalanced parenthesis at position 1; ")" has no matching "("`},
		{"(a = 1))", `filter: unbalanced parenthesis at position 8; ")" has no matching "("`},
		{"()", `filter: empty parentheses at position 1; put a comparison inside them or remove them`},
		{"state =", `filter: expected a value after "=" at position 7`},
		{"state = ", `filter: expected a value after "=" at position 7`},
		{"state = )", `filter: expected a value after "=" at position 7; found ")"`},
		{"a = *", `filter: expected a value after "=" at position 3; found "*"`},
		{"a = = 1", `filter: expected a value after "=" at position 3; found "="`},
		{"a = AND", `filter: expected a value after "=" at position 3; found the keyword AND; put it in quotes to use it as a value`},
		{"state", `filter: expected a comparison operator after "state" at position 1; use one of =, !=, <, <=, >, >=, :`},
		{"a ! 1", `filter: expected a comparison operator after "a" at position 1; use one of =, !=, <, <=, >, >=, :`},
		{"state = INTAKE and region_code = 621002", `filter: expected a comparison operator after "and" at position 16; the keywords AND, OR and NOT must be written in upper case`},
		{"state = INTAKE or state = CLOSED", `filter: expected a comparison operator after "or" at position 16; the keywords AND, OR and NOT must be written in upper case`},
		{"not state = INTAKE", `filter: expected a comparison operator after "not" at position 1; the keywords AND, OR and NOT must be written in upper case`},
		{"AND state = INTAKE", `filter: unexpected AND at position 1; expected a field name, "(" or NOT`},
		{"a = 1 AND OR b = 2", `filter: unexpected OR at position 11; expected a field name, "(" or NOT`},
		{"state = INTAKE AND", `filter: expected a comparison after "AND" at position 16`},
		{"state = INTAKE OR ", `filter: expected a comparison after "OR" at position 16`},
		{"(a = 1 AND)", `filter: expected a comparison after "AND" at position 8`},
		{"NOT", `filter: expected a comparison after "NOT" at position 1`},
		{"-", `filter: expected a comparison after "-" at position 1`},
		{"NOT NOT a = 1", `filter: a negation cannot be negated again at position 5; remove both negations, or use parentheses`},
		{"- -a = 1", `filter: a negation cannot be negated again at position 3; remove both negations, or use parentheses`},
		{"= 5", `filter: unexpected "=" at position 1; expected a field name, "(" or NOT`},
		{`"a" = 5`, `filter: unexpected "\"" at position 1; expected a field name, "(" or NOT`},
		{"1a = 5", `filter: unexpected "1" at position 1; expected a field name, "(" or NOT`},
		{"a = 1 = 2", `filter: unexpected "=" at position 7; expected a field name, "(" or NOT`},
		{`a = "abc`, `filter: unterminated string at position 5; add the closing "`},
		{`a = 'abc\'`, `filter: unterminated string at position 5; add the closing '`},
		{`a = "abc\`, `filter: unterminated string at position 5; add the closing "`},
		{`a = "a\nb"`, `filter: unsupported escape sequence "\\n" at position 7; inside quotes only \", \' and \\ are escapes`},
		{`create_time >= 2026-01-01T00:00:00Z`, `filter: unexpected ":" after a value at position 29; put values that contain it in quotes, e.g. "2026-01-31T00:00:00Z"`},
		{`a = "x"b = 1`, `filter: unexpected "b" after a value at position 8; separate the next comparison with a space`},
		{"a = 1\x00", `filter: control character U+0000 is not allowed at position 6`},
		{"a = \xff", `filter: invalid UTF-8 text at position 5`},
		// Positions count characters, not bytes.
		{`org = "调解" AND`, `filter: expected a comparison after "AND" at position 12`},
		{"西峰 = \xff", `filter: invalid UTF-8 text at position 6`},
	}
	for _, tt := range tests {
		t.Run(tt.filter, func(t *testing.T) {
			n, err := parse(tt.filter)
			if err == nil {
				t.Fatalf("parse(%q) = %v, want error %s", tt.filter, n, tt.want)
			}
			var fe *Error
			if !errors.As(err, &fe) {
				t.Fatalf("parse(%q) error %T, want *Error", tt.filter, err)
			}
			if got := err.Error(); got != tt.want {
				t.Errorf("parse(%q) error\n got %s\nwant %s", tt.filter, got, tt.want)
			}
		})
	}
}

func TestParseLimits(t *testing.T) {
	nested := func(depth int) string {
		return strings.Repeat("(", depth) + "a = 1" + strings.Repeat(")", depth)
	}
	comparisons := func(n int) string {
		return strings.TrimSuffix(strings.Repeat("a = 1 OR ", n), " OR ")
	}
	tests := []struct {
		name    string
		filter  string
		wantErr string // "" for success
	}{
		{"max depth", nested(MaxDepth), ""},
		{"too deep", nested(MaxDepth + 1), "filter: parentheses nested too deeply at position 33; at most 32 levels are allowed"},
		{"very deep", strings.Repeat("(", 1000), "filter: parentheses nested too deeply at position 33; at most 32 levels are allowed"},
		{"max comparisons", comparisons(MaxComparisons), ""},
		{"too many comparisons", comparisons(MaxComparisons + 1), "filter: too many comparisons at position 901; at most 100 are allowed"},
		{"max length", "a = 1" + strings.Repeat(" ", MaxLength-5), ""},
		{"max length in characters", `a = "` + strings.Repeat("调", MaxLength-6) + `"`, ""},
		{"too long", "a = 1" + strings.Repeat(" ", MaxLength-4), "filter: too long (2001 characters); the maximum is 2000 characters"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := parse(tt.filter)
			switch {
			case tt.wantErr == "" && err != nil:
				t.Fatalf("parse: %v", err)
			case tt.wantErr != "" && (err == nil || err.Error() != tt.wantErr):
				t.Fatalf("parse error = %v, want %s", err, tt.wantErr)
			}
		})
	}
}

func TestComparisons(t *testing.T) {
	got, err := Comparisons(`a = "x" AND (b >= 2 OR NOT c:"y z")`)
	if err != nil {
		t.Fatal(err)
	}
	want := []Comparison{{"a", "=", "x"}, {"b", ">=", "2"}, {"c", ":", "y z"}}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("Comparisons = %+v, want %+v", got, want)
	}
	if got, err := Comparisons("  "); err != nil || got != nil {
		t.Fatalf("empty filter: %v, %v", got, err)
	}
	if _, err := Comparisons(`a = `); err == nil {
		t.Fatal("a syntax error was not reported")
	}
}
