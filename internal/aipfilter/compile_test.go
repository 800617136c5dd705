package aipfilter

import (
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"
)

var (
	caseStates   = []string{"INTAKE", "ACCEPTED", "ASSIGNED", "MEDIATING", "AGREED", "CLOSED"}
	disputeTypes = []string{"MARRIAGE_FAMILY", "NEIGHBOR", "CONTRACT_DEBT", "LABOR", "OTHER"}
)

// enumOf accepts a value with or without the proto enum prefix and maps
// it to the lower-case stored form.
func enumOf(prefix string, values []string) func(string) (string, bool) {
	return func(lit string) (string, bool) {
		v := strings.TrimPrefix(lit, prefix)
		if !slices.Contains(values, v) {
			return "", false
		}
		return strings.ToLower(v), true
	}
}

// testSchema resembles the schema of ListCases.
var testSchema = Schema{
	"state":        {Column: "c.state", Type: Enum, Enum: enumOf("CASE_STATE_", caseStates), EnumValues: caseStates},
	"dispute_type": {Column: "c.dispute_type", Type: Enum, Enum: enumOf("DISPUTE_TYPE_", disputeTypes), EnumValues: disputeTypes},
	"region_code":  {Column: "c.region_code", Type: Prefix},
	"mediator": {Column: "c.mediator", Type: String, Validate: func(lit string) error {
		if id, ok := strings.CutPrefix(lit, "mediators/"); !ok || id == "" || strings.Contains(id, "/") {
			return errors.New(`use a mediator resource name such as "mediators/li-hong"`)
		}
		return nil
	}},
	"organization": {Column: "c.organization", Type: String},
	"create_time":  {Column: "c.create_time", Type: Timestamp},
	"overdue":      {Column: "c.overdue", Type: Bool},
	"party_count":  {Column: "c.party_count", Type: Int},
}

func ts(s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return t.UTC()
}

func TestCompile(t *testing.T) {
	tests := []struct {
		filter   string
		firstArg int
		wantSQL  string
		wantArgs []any
	}{
		{"", 1, "TRUE", nil},
		{"   ", 5, "TRUE", nil},

		// The examples from the API documentation.
		{`state = MEDIATING AND region_code = "621002"`, 1,
			"((c.state = $1) AND (c.region_code = $2))", []any{"mediating", "621002"}},
		{`(state = INTAKE OR state = ACCEPTED) AND dispute_type = MARRIAGE_FAMILY`, 1,
			"(((c.state = $1) OR (c.state = $2)) AND (c.dispute_type = $3))", []any{"intake", "accepted", "marriage_family"}},
		{`state != CLOSED AND create_time >= "2026-01-01T00:00:00Z"`, 1,
			"((c.state IS DISTINCT FROM $1) AND (c.create_time >= $2))", []any{"closed", ts("2026-01-01T00:00:00Z")}},
		{`mediator = "mediators/li-hong"`, 1, "(c.mediator = $1)", []any{"mediators/li-hong"}},
		{`overdue = true`, 1, "(c.overdue = $1)", []any{true}},
		{`NOT state = CLOSED`, 1, "(NOT COALESCE((c.state = $1), FALSE))", []any{"closed"}},

		// Precedence and grouping.
		{`state = INTAKE AND overdue = true OR party_count > 2`, 1,
			"((c.state = $1) AND ((c.overdue = $2) OR (c.party_count > $3)))", []any{"intake", true, int64(2)}},
		{`state = INTAKE OR overdue = true AND party_count > 2`, 1,
			"(((c.state = $1) OR (c.overdue = $2)) AND (c.party_count > $3))", []any{"intake", true, int64(2)}},
		{`state = INTAKE overdue = false`, 1,
			"((c.state = $1) AND (c.overdue = $2))", []any{"intake", false}},
		{`-(state = INTAKE OR state = ACCEPTED) organization = "x"`, 1,
			"((NOT COALESCE(((c.state = $1) OR (c.state = $2)), FALSE)) AND (c.organization = $3))", []any{"intake", "accepted", "x"}},

		// Numbering starts at firstArg.
		{`state = MEDIATING AND region_code = "621002"`, 7,
			"((c.state = $7) AND (c.region_code = $8))", []any{"mediating", "621002"}},

		// Enums: prefixed, quoted and has forms.
		{`state = CASE_STATE_MEDIATING`, 1, "(c.state = $1)", []any{"mediating"}},
		{`state = "MEDIATING"`, 1, "(c.state = $1)", []any{"mediating"}},
		{`state:MEDIATING`, 1, "(c.state = $1)", []any{"mediating"}},

		// Region codes.
		{`region_code = "620000"`, 1, "(c.region_code LIKE $1)", []any{"62%"}},
		{`region_code = 621000`, 1, "(c.region_code LIKE $1)", []any{"6210%"}},
		{`region_code = 621002`, 1, "(c.region_code = $1)", []any{"621002"}},
		{`region_code = 620100`, 1, "(c.region_code LIKE $1)", []any{"6201%"}},
		{`region_code = 000000`, 1, "(c.region_code LIKE $1)", []any{"00%"}},
		{`region_code : 621000`, 1, "(c.region_code LIKE $1)", []any{"6210%"}},
		{`region_code != 621000`, 1, "(NOT COALESCE(c.region_code LIKE $1, FALSE))", []any{"6210%"}},
		{`region_code != "621002"`, 1, "(c.region_code IS DISTINCT FROM $1)", []any{"621002"}},

		// Timestamps are bound in UTC, with every operator.
		{`create_time < "2026-01-31T08:00:00+08:00"`, 1, "(c.create_time < $1)", []any{ts("2026-01-31T00:00:00Z")}},
		{`create_time <= '2026-01-31T00:00:00.5Z'`, 1, "(c.create_time <= $1)", []any{ts("2026-01-31T00:00:00.5Z")}},
		{`create_time > "2026-01-31T00:00:00Z"`, 1, "(c.create_time > $1)", []any{ts("2026-01-31T00:00:00Z")}},
		{`create_time = "2026-01-31T00:00:00Z"`, 1, "(c.create_time = $1)", []any{ts("2026-01-31T00:00:00Z")}},
		{`create_time != "2026-01-31T00:00:00Z"`, 1, "(c.create_time IS DISTINCT FROM $1)", []any{ts("2026-01-31T00:00:00Z")}},

		// Integers and booleans.
		{`party_count >= -3`, 1, "(c.party_count >= $1)", []any{int64(-3)}},
		{`party_count <= "9223372036854775807"`, 1, "(c.party_count <= $1)", []any{int64(9223372036854775807)}},
		{`party_count != 2`, 1, "(c.party_count IS DISTINCT FROM $1)", []any{int64(2)}},
		{`overdue != false`, 1, "(c.overdue IS DISTINCT FROM $1)", []any{false}},
		{`overdue:"true"`, 1, "(c.overdue = $1)", []any{true}},

		// Strings: literals are bound, never spliced into the SQL.
		{`organization = "x' OR 1=1 --"`, 1, "(c.organization = $1)", []any{"x' OR 1=1 --"}},
		{`organization = 西峰区人民调解委员会`, 1, "(c.organization = $1)", []any{"西峰区人民调解委员会"}},
		{`organization:"a"`, 1, "(c.organization = $1)", []any{"a"}},
		{`organization != ""`, 1, "(c.organization IS DISTINCT FROM $1)", []any{""}},
	}
	for _, tt := range tests {
		t.Run(tt.filter, func(t *testing.T) {
			sql, args, err := Compile(tt.filter, testSchema, tt.firstArg)
			if err != nil {
				t.Fatalf("Compile(%q): %v", tt.filter, err)
			}
			if sql != tt.wantSQL {
				t.Errorf("Compile(%q) sql\n got %s\nwant %s", tt.filter, sql, tt.wantSQL)
			}
			if !reflect.DeepEqual(args, tt.wantArgs) {
				t.Errorf("Compile(%q) args\n got %#v\nwant %#v", tt.filter, args, tt.wantArgs)
			}
		})
	}
}

func TestCompileErrors(t *testing.T) {
	tests := []struct {
		filter  string
		want    string
		wantPos int
	}{
		{`stat = MEDIATING`,
			`filter: unknown field "stat" at position 1; filterable fields are: create_time, dispute_type, mediator, organization, overdue, party_count, region_code, state`, 1},
		{`State = MEDIATING`,
			`filter: unknown field "State" at position 1; filterable fields are: create_time, dispute_type, mediator, organization, overdue, party_count, region_code, state`, 1},
		{`state = MEDIATE`,
			`filter: state: unknown value "MEDIATE" at position 9; one of: INTAKE, ACCEPTED, ASSIGNED, MEDIATING, AGREED, CLOSED`, 9},
		{`state = mediating`,
			`filter: state: unknown value "mediating" at position 9; one of: INTAKE, ACCEPTED, ASSIGNED, MEDIATING, AGREED, CLOSED`, 9},
		{`state < MEDIATING`, `filter: state: operator "<" cannot be used with enum fields at position 7; use =, != or :`, 7},
		{`organization >= "a"`, `filter: organization: operator ">=" cannot be used with string fields at position 14; use =, != or :`, 14},
		{`overdue > true`, `filter: overdue: operator ">" cannot be used with boolean fields at position 9; use =, != or :`, 9},
		{`region_code < 620000`, `filter: region_code: operator "<" cannot be used with code fields at position 13; use =, != or :`, 13},
		{`create_time >= "yesterday"`,
			`filter: create_time: "yesterday" is not an RFC 3339 timestamp at position 16; use a form such as "2026-01-31T00:00:00Z" or "2026-01-31T00:00:00+08:00"`, 16},
		{`create_time >= yesterday`,
			`filter: create_time: "yesterday" is not an RFC 3339 timestamp at position 16; use a form such as "2026-01-31T00:00:00Z" or "2026-01-31T00:00:00+08:00"`, 16},
		{`create_time >= "2026-01-31T00:00:00"`,
			`filter: create_time: "2026-01-31T00:00:00" is not an RFC 3339 timestamp at position 16; use a form such as "2026-01-31T00:00:00Z" or "2026-01-31T00:00:00+08:00"`, 16},
		{`create_time = "2026-01-31T0:00:00Z"`,
			`filter: create_time: "2026-01-31T0:00:00Z" is not an RFC 3339 timestamp at position 15; use a form such as "2026-01-31T00:00:00Z" or "2026-01-31T00:00:00+08:00"`, 15},
		{`create_time = "2026-01-31T00:00:00,5Z"`,
			`filter: create_time: "2026-01-31T00:00:00,5Z" is not an RFC 3339 timestamp at position 15; use a form such as "2026-01-31T00:00:00Z" or "2026-01-31T00:00:00+08:00"`, 15},
		{`create_time = "2026-02-30T00:00:00Z"`,
			`filter: create_time: "2026-02-30T00:00:00Z" is not an RFC 3339 timestamp at position 15; use a form such as "2026-01-31T00:00:00Z" or "2026-01-31T00:00:00+08:00"`, 15},
		{`create_time >= 2026-01-31`,
			`filter: create_time: "2026-01-31" has no time of day and UTC offset at position 16; add a time and UTC offset, such as "2026-01-31T00:00:00Z"`, 16},
		{`overdue = yes`, `filter: overdue: "yes" is not a boolean at position 11; use true or false`, 11},
		{`overdue = TRUE`, `filter: overdue: "TRUE" is not a boolean at position 11; use true or false`, 11},
		{`party_count = many`, `filter: party_count: "many" is not an integer at position 15`, 15},
		{`party_count = 1.5`, `filter: party_count: "1.5" is not an integer at position 15`, 15},
		{`party_count = 99999999999999999999`, `filter: party_count: "99999999999999999999" is out of range for a 64-bit integer at position 15`, 15},
		{`region_code = "62100"`,
			`filter: region_code: "62100" is not a 6-digit code at position 15; use exactly 6 digits, such as "621002"; a code ending in 00 or 0000 also matches the codes below it`, 15},
		{`region_code = 62100a`,
			`filter: region_code: "62100a" is not a 6-digit code at position 15; use exactly 6 digits, such as "621002"; a code ending in 00 or 0000 also matches the codes below it`, 15},
		{`region_code = "62%000"`,
			`filter: region_code: "62%000" is not a 6-digit code at position 15; use exactly 6 digits, such as "621002"; a code ending in 00 or 0000 also matches the codes below it`, 15},
		{`region_code = "６２１００２"`,
			`filter: region_code: "６２１００２" is not a 6-digit code at position 15; use exactly 6 digits, such as "621002"; a code ending in 00 or 0000 also matches the codes below it`, 15},
		{`mediator = "li-hong"`,
			`filter: mediator: invalid value "li-hong" at position 12; use a mediator resource name such as "mediators/li-hong"`, 12},
		// The first problem in the text is reported, after syntax errors.
		{`state = INTAKE AND stat = CLOSED`, `filter: unknown field "stat" at position 20; filterable fields are: create_time, dispute_type, mediator, organization, overdue, party_count, region_code, state`, 20},
		{`stat = INTAKE AND (`, `filter: unbalanced parenthesis at position 19; "(" is never closed`, 19},
		// Long values are shortened in messages.
		{`state = ` + strings.Repeat("X", 100),
			`filter: state: unknown value "` + strings.Repeat("X", 40) + `…" at position 9; one of: INTAKE, ACCEPTED, ASSIGNED, MEDIATING, AGREED, CLOSED`, 9},
	}
	for _, tt := range tests {
		t.Run(tt.filter, func(t *testing.T) {
			sql, args, err := Compile(tt.filter, testSchema, 1)
			if err == nil {
				t.Fatalf("Compile(%q) = %q, %v; want error", tt.filter, sql, args)
			}
			if sql != "" || args != nil {
				t.Errorf("Compile(%q) returned %q, %v with its error", tt.filter, sql, args)
			}
			var fe *Error
			if !errors.As(err, &fe) {
				t.Fatalf("Compile(%q) error %T, want *Error", tt.filter, err)
			}
			if got := err.Error(); got != tt.want {
				t.Errorf("Compile(%q) error\n got %s\nwant %s", tt.filter, got, tt.want)
			}
			if fe.Pos != tt.wantPos {
				t.Errorf("Compile(%q) error Pos = %d, want %d", tt.filter, fe.Pos, tt.wantPos)
			}
		})
	}
}

func TestCompileEnumValuesOnly(t *testing.T) {
	schema := Schema{"source": {Column: "c.source", Type: Enum, EnumValues: []string{"WALK_IN", "ONLINE"}}}
	sql, args, err := Compile("source = ONLINE", schema, 1)
	if err != nil || sql != "(c.source = $1)" || !reflect.DeepEqual(args, []any{"ONLINE"}) {
		t.Errorf("Compile = %q, %v, %v", sql, args, err)
	}
	_, _, err = Compile("source = CASE_SOURCE_ONLINE", schema, 1)
	want := `filter: source: unknown value "CASE_SOURCE_ONLINE" at position 10; one of: WALK_IN, ONLINE`
	if err == nil || err.Error() != want {
		t.Errorf("Compile error = %v, want %s", err, want)
	}
}

func TestCompileEmptySchema(t *testing.T) {
	_, _, err := Compile("a = 1", nil, 1)
	want := `filter: unknown field "a" at position 1; no fields can be filtered on here`
	if err == nil || err.Error() != want {
		t.Errorf("Compile error = %v, want %s", err, want)
	}
	if sql, args, err := Compile("", nil, 1); sql != "TRUE" || args != nil || err != nil {
		t.Errorf(`Compile("") = %q, %v, %v`, sql, args, err)
	}
}

func TestCompileCallerErrors(t *testing.T) {
	okField := Field{Column: "c.x", Type: String}
	tests := []struct {
		name     string
		schema   Schema
		firstArg int
		want     string
	}{
		{"firstArg zero", Schema{"x": okField}, 0, "firstArg 0 is outside 1..65436"},
		{"firstArg too big", Schema{"x": okField}, 65437, "firstArg 65437 is outside 1..65436"},
		{"no column", Schema{"x": {Type: String}}, 1, `field "x" has no Column`},
		{"no type", Schema{"x": {Column: "c.x"}}, 1, `field "x" has invalid type Type(0)`},
		{"bad name", Schema{"x-y": okField}, 1, `"x-y" is not a usable field name`},
		{"keyword name", Schema{"AND": okField}, 1, `"AND" is not a usable field name`},
		{"empty name", Schema{"": okField}, 1, `"" is not a usable field name`},
		{"enum without values", Schema{"x": {Column: "c.x", Type: Enum}}, 1, `enum field "x" has neither Enum nor EnumValues`},
		{"values on string", Schema{"x": {Column: "c.x", Type: String, EnumValues: []string{"A"}}}, 1, `string field "x" must not set Enum or EnumValues`},
		{"validate on bool", Schema{"x": {Column: "c.x", Type: Bool, Validate: func(string) error { return nil }}}, 1, `boolean field "x" must not set Validate`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// Even an empty filter reports a broken schema, so that it
			// shows up in the first test that uses it.
			for _, filter := range []string{"", "x = 1"} {
				_, _, err := Compile(filter, tt.schema, tt.firstArg)
				if err == nil || !strings.Contains(err.Error(), tt.want) {
					t.Fatalf("Compile(%q) error = %v, want one containing %s", filter, err, tt.want)
				}
				var fe *Error
				if errors.As(err, &fe) {
					t.Errorf("Compile(%q) returned *Error %v for a caller mistake", filter, err)
				}
			}
		})
	}
	if err := testSchema.Check(); err != nil {
		t.Errorf("testSchema.Check() = %v", err)
	}
}

func TestErrorFormat(t *testing.T) {
	tests := []struct {
		err  Error
		want string
	}{
		{Error{Msg: "too long"}, "filter: too long"},
		{Error{Pos: 3, Msg: "m"}, "filter: m at position 3"},
		{Error{Pos: 3, Field: "f", Msg: "m", Hint: "h"}, "filter: f: m at position 3; h"},
	}
	for _, tt := range tests {
		if got := tt.err.Error(); got != tt.want {
			t.Errorf("Error() = %q, want %q", got, tt.want)
		}
	}
}

func ExampleCompile() {
	schema := Schema{
		"state":       {Column: "c.state", Type: Enum, EnumValues: []string{"INTAKE", "MEDIATING", "CLOSED"}},
		"region_code": {Column: "c.region_code", Type: Prefix},
	}
	sql, args, err := Compile(`state = MEDIATING AND region_code = "621000"`, schema, 2)
	fmt.Println(sql, args, err)

	_, _, err = Compile(`state = MEDIATE`, schema, 2)
	fmt.Println(err)
	// Output:
	// ((c.state = $2) AND (c.region_code LIKE $3)) [MEDIATING 6210%] <nil>
	// filter: state: unknown value "MEDIATE" at position 9; one of: INTAKE, MEDIATING, CLOSED
}

// TestCompileSpelled: a spelling maps the user's names of enum values to
// the schema's before they are looked up; an unknown one is quoted as the
// user wrote it.
func TestCompileSpelled(t *testing.T) {
	schema := Schema{"state": {Column: "c.state", Type: Enum, EnumValues: []string{"OPEN", "CLOSED"}}}
	spell := func(field, lit string) string {
		if field != "state" {
			t.Errorf("spelling asked for field %q", field)
		}
		return strings.TrimPrefix(lit, "STATE_")
	}
	sql, args, err := CompileSpelled("state = STATE_OPEN OR state = CLOSED", schema, 1, spell)
	if err != nil || len(args) != 2 || args[0] != "OPEN" || args[1] != "CLOSED" {
		t.Fatalf("CompileSpelled = %q, %v, %v", sql, args, err)
	}
	if _, _, err := Compile("state = STATE_OPEN", schema, 1); err == nil {
		t.Error("without the spelling, STATE_OPEN was accepted")
	}
	_, _, err = CompileSpelled("state = STATE_GONE", schema, 1, spell)
	if err == nil || !strings.Contains(err.Error(), `"STATE_GONE"`) {
		t.Errorf("unknown value: %v", err)
	}
}
