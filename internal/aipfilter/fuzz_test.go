package aipfilter

import (
	"errors"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

var placeholderRE = regexp.MustCompile(`\$[0-9]+`)

// sqlWords is every token other than a placeholder that may appear in
// compiled SQL for testSchema: its columns, operators and keywords.
var sqlWords = func() map[string]bool {
	m := map[string]bool{}
	for _, w := range strings.Fields("( ) , = < <= > >= AND OR NOT COALESCE FALSE TRUE IS DISTINCT FROM LIKE") {
		m[w] = true
	}
	for _, f := range testSchema {
		m[f.Column] = true
	}
	return m
}()

func FuzzCompile(f *testing.F) {
	for _, s := range []string{
		`state = MEDIATING AND region_code = "621002"`,
		`(state = INTAKE OR state = ACCEPTED) AND dispute_type = MARRIAGE_FAMILY`,
		`state != CLOSED AND create_time >= "2026-01-01T00:00:00Z"`,
		`mediator = "mediators/li-hong"`,
		`overdue = true`,
		`NOT state = CLOSED`,
		`state = INTAKE AND overdue = true OR party_count > 2`,
		`state = INTAKE overdue = false -region_code = 620000`,
		`-(state = INTAKE OR state = ACCEPTED) organization = 'x\'y'`,
		`region_code != 621000 AND create_time < "2026-01-31T08:00:00+08:00"`,
		`organization = "a \"b\" \\ c" OR organization:西峰`,
		`party_count >= -3 AND party_count <= 9223372036854775807`,
		``,
		`((((state = MEDIATING))))`,
		`(state = INTAKE`,
		`state = MEDIATE`,
		`stat = MEDIATING`,
		`create_time >= 2026-01-01T00:00:00Z`,
		`create_time >= "yesterday"`,
		`state = INTAKE and region_code = 621002`,
		"a = \xff\x00",
	} {
		f.Add(s, uint8(0))
	}
	f.Add(`state = MEDIATING AND region_code = "621002"`, uint8(41))

	f.Fuzz(func(t *testing.T, filter string, arg uint8) {
		firstArg := int(arg) + 1
		sql, args, err := Compile(filter, testSchema, firstArg)
		if err != nil {
			var fe *Error
			if !errors.As(err, &fe) {
				t.Fatalf("Compile(%q) error %T %v, want *Error", filter, err, err)
			}
			if fe.Pos < 0 || fe.Pos > utf8.RuneCountInString(filter)+1 {
				t.Fatalf("Compile(%q) error position %d out of range: %v", filter, fe.Pos, err)
			}
			if sql != "" || args != nil {
				t.Fatalf("Compile(%q) returned %q, %v with error %v", filter, sql, args, err)
			}
			return
		}

		// Placeholders are numbered consecutively from firstArg, one per
		// argument.
		ph := placeholderRE.FindAllString(sql, -1)
		if len(ph) != len(args) {
			t.Fatalf("Compile(%q) = %q with %d placeholders but %d args", filter, sql, len(ph), len(args))
		}
		for i, p := range ph {
			if want := "$" + strconv.Itoa(firstArg+i); p != want {
				t.Fatalf("Compile(%q) = %q: placeholder %d is %s, want %s", filter, sql, i, p, want)
			}
		}

		// Parentheses are balanced.
		depth := 0
		for _, c := range sql {
			switch c {
			case '(':
				depth++
			case ')':
				depth--
			}
			if depth < 0 {
				break
			}
		}
		if depth != 0 {
			t.Fatalf("Compile(%q) = %q: unbalanced parentheses", filter, sql)
		}

		// Nothing from the filter reaches the SQL except through
		// parameters: every token is a column, operator, keyword or
		// placeholder.
		spaced := strings.NewReplacer("(", " ( ", ")", " ) ", ",", " , ").Replace(sql)
		for _, tok := range strings.Fields(placeholderRE.ReplaceAllString(spaced, "")) {
			if !sqlWords[tok] {
				t.Fatalf("Compile(%q) = %q: unexpected token %q", filter, sql, tok)
			}
		}

		for _, a := range args {
			switch a.(type) {
			case string, bool, int64, time.Time:
			default:
				t.Fatalf("Compile(%q): argument of type %T", filter, a)
			}
		}
		if strings.TrimSpace(filter) == "" && sql != "TRUE" {
			t.Fatalf("Compile(%q) = %q, want TRUE", filter, sql)
		}
	})
}
