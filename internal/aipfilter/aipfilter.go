// Package aipfilter compiles Google AIP-160 filter expressions
// (https://google.aip.dev/160), as written by users in the filter field of
// List methods, into PostgreSQL boolean expressions for a WHERE clause.
//
// The package knows nothing of the service that uses it: the caller
// describes the filterable fields with a [Schema], and [Compile] turns a
// filter into SQL text plus the values to bind to its positional
// parameters. Every literal the user writes becomes a bound parameter; the
// only SQL text that comes from outside the package is the column
// expressions of the schema, which the caller controls.
//
// # Grammar
//
// The supported subset of AIP-160 is:
//
//	filter     := [ expression ]
//	expression := sequence { "AND" sequence }
//	sequence   := factor { factor }
//	factor     := term { "OR" term }
//	term       := [ "NOT" | "-" ] simple
//	simple     := "(" expression ")" | comparison
//	comparison := field op value
//	op         := "=" | "!=" | "<" | "<=" | ">" | ">=" | ":"
//
// As in AIP-160, OR binds tighter than AND: "a AND b OR c" means
// "a AND (b OR c)". Comparisons written next to each other without a
// keyword ("a b", a sequence) are joined with AND, as AIP-160 specifies.
// The keywords AND, OR and NOT are recognised in upper case only; a lower
// case "and" is reported with a hint. NOT and "-" negate a single
// comparison or parenthesised group and cannot be repeated. The has
// operator ":" means "=" for the scalar fields this package supports.
//
// A field is a name made of letters, digits, "_" and "." that starts with a
// letter or "_"; it must be a key of the schema, compared case-sensitively.
// A value is one of:
//
//   - a string in double or single quotes, in which \", \' and \\ are the
//     only escapes;
//   - a bare word of letters, digits, "_", "-", "." and "/", such as
//     MEDIATING, true, 42 or mediators/li-hong. Any other character, such
//     as the ":" of a timestamp, requires quotes.
//
// Whitespace between tokens is insignificant. A filter of at most
// [MaxLength] characters, with parentheses nested at most [MaxDepth] deep
// and at most [MaxComparisons] comparisons, is accepted; an empty or
// all-whitespace filter imposes no condition.
//
// # Field types
//
// What a comparison means depends on the [Type] of its field; see the
// constants for details. In short: [String] and [Enum] fields support
// equality only, [Timestamp] and [Int] fields support every operator,
// [Bool] fields take true or false, and [Prefix] fields match hierarchical
// 6-digit codes such as GB/T 2260 region codes.
//
// # NULL
//
// The generated SQL treats a NULL column as having no value: "field = v"
// and the ordering comparisons are false for it, while "field != v" is true
// (it compiles to IS DISTINCT FROM), and NOT treats an unknown result as
// false before negating it. So "mediator != x", "NOT mediator = x" and
// "-mediator = x" all select the rows whose mediator is unset as well.
//
// # Errors
//
// A filter the user must correct yields an [*Error] carrying the 1-based
// character position of the problem and a message meant to be shown to the
// user as is. A mistake of the caller, such as an invalid schema, yields an
// ordinary error instead.
package aipfilter

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// Limits on a filter, so that a single request cannot make parsing or the
// resulting query arbitrarily expensive.
const (
	// MaxLength is the maximum length of a filter in characters (Unicode
	// code points), matching the limit of the API's filter field.
	MaxLength = 2000
	// MaxDepth is the maximum nesting depth of parentheses.
	MaxDepth = 32
	// MaxComparisons is the maximum number of comparisons in a filter.
	MaxComparisons = 100
)

// maxParam is the highest positional parameter number PostgreSQL accepts.
const maxParam = 65535

// Type is the kind of value a filterable field holds; it decides which
// operators a comparison may use, how its literal is checked and converted,
// and what SQL it compiles to.
type Type int

// The field types. The zero Type is invalid, so that a [Field] whose Type
// was forgotten is caught by [Schema.Check].
const (
	// String compares text for equality: =, : and != are allowed, ordering
	// operators are not (text order is rarely what a user means). The
	// literal is bound as a string after the optional Field.Validate check.
	String Type = iota + 1
	// Enum compares against one of a fixed set of values with =, : or !=.
	// Field.Enum maps the literal as written to the stored value that is
	// bound; without it the literal must be one of Field.EnumValues and is
	// bound unchanged.
	Enum
	// Timestamp compares a point in time with any operator. The literal
	// must be an RFC 3339 timestamp with a UTC offset, such as
	// "2026-01-31T00:00:00Z" or "2026-01-31T08:00:00+08:00", and is bound
	// as a time.Time in UTC. A plain date is refused rather than read as
	// midnight UTC, because that midnight is 08:00 in China and would
	// silently shift day boundaries.
	Timestamp
	// Bool compares with true or false using =, : or !=; the literal is
	// bound as a bool.
	Bool
	// Int compares a decimal integer with any operator; the literal is
	// bound as an int64.
	Int
	// Prefix matches hierarchical 6-digit codes such as GB/T 2260 region
	// codes (province XX0000, city XXXX00, county XXXXXX) with =, : or !=.
	// Trailing "00" pairs, at most two, are dropped from the literal and the
	// rest matched as a prefix: "620000" matches every code starting with
	// "62", "621000" every code starting with "6210", and "621002" only
	// itself. A prefix compiles to column LIKE $n with the bound value
	// being the prefix followed by "%" (safe, as the literal is digits
	// only); a full code compiles to column = $n. != is the negation. The
	// column must be text.
	Prefix
)

// String returns the lower-case name of the type, as used in messages.
func (t Type) String() string {
	switch t {
	case String:
		return "string"
	case Enum:
		return "enum"
	case Timestamp:
		return "timestamp"
	case Bool:
		return "boolean"
	case Int:
		return "integer"
	case Prefix:
		return "code"
	}
	return "Type(" + strconv.Itoa(int(t)) + ")"
}

// Field describes one filterable field: the SQL it compiles to and how its
// literals are checked.
type Field struct {
	// Column is the SQL expression the field compiles to, such as
	// "c.state". It is inserted verbatim, so it must come from the caller,
	// never from a user, and must be a single operand: a column reference,
	// a function call or a parenthesised expression.
	Column string
	// Type decides the allowed operators and how literals are converted.
	Type Type
	// Enum maps a literal of an [Enum] field, as the user wrote it, to the
	// value stored in the database; ok is false for an unknown literal.
	// It lets the caller accept several spellings, such as "MEDIATING" and
	// "CASE_STATE_MEDIATING". It must be nil for other types.
	Enum func(lit string) (stored string, ok bool)
	// EnumValues lists the accepted literals of an [Enum] field, for error
	// messages; when Enum is nil it is also the set of accepted literals.
	// It must be empty for other types.
	EnumValues []string
	// Validate optionally checks the literal of a [String] or [Prefix]
	// field, for example against a resource-name pattern. Its error text
	// is shown to the user, so it should say what a valid value looks
	// like. It must be nil for other types.
	Validate func(lit string) error
}

// Schema maps the field names users may filter on, in the API's snake_case
// spelling, to their descriptions.
type Schema map[string]Field

// Check reports whether the schema is usable: every name is a valid field
// name that is not a keyword, every field has a Column and a valid Type,
// and Enum, EnumValues and Validate are set only where they apply. Compile
// calls it on every use; callers may call it once at start-up to fail
// early.
func (s Schema) Check() error {
	var errs []error
	for name, f := range s {
		if w, n := scanName(name); n != len(name) || n == 0 || isKeyword(w) {
			errs = append(errs, fmt.Errorf("aipfilter: schema: %q is not a usable field name", name))
			continue
		}
		if strings.TrimSpace(f.Column) == "" {
			errs = append(errs, fmt.Errorf("aipfilter: schema: field %q has no Column", name))
		}
		switch f.Type {
		case String, Enum, Timestamp, Bool, Int, Prefix:
		default:
			errs = append(errs, fmt.Errorf("aipfilter: schema: field %q has invalid type %v", name, f.Type))
			continue
		}
		if f.Type == Enum {
			if f.Enum == nil && len(f.EnumValues) == 0 {
				errs = append(errs, fmt.Errorf("aipfilter: schema: enum field %q has neither Enum nor EnumValues", name))
			}
		} else if f.Enum != nil || len(f.EnumValues) > 0 {
			errs = append(errs, fmt.Errorf("aipfilter: schema: %v field %q must not set Enum or EnumValues", f.Type, name))
		}
		if f.Validate != nil && f.Type != String && f.Type != Prefix {
			errs = append(errs, fmt.Errorf("aipfilter: schema: %v field %q must not set Validate", f.Type, name))
		}
	}
	return errors.Join(errs...)
}

// Compile parses filter and returns an equivalent SQL boolean expression
// over the schema's columns, using positional parameters numbered
// consecutively from $firstArg, together with the values for those
// parameters in order. Callers building a larger query pass the number of
// the first parameter not yet used.
//
// The expression is fully parenthesised and can be joined to other
// conditions with AND as is. An empty or all-whitespace filter compiles to
// "TRUE" with no arguments, so the result can always be used without a
// special case.
//
// A problem with the filter is returned as an [*Error]. An invalid schema,
// or a firstArg that leaves no room for the parameters a filter may need
// (it must be between 1 and 65436), is reported as another error.
func Compile(filter string, schema Schema, firstArg int) (sql string, args []any, err error) {
	return CompileSpelled(filter, schema, firstArg, nil)
}

// Spelling turns a literal of an [Enum] field, as a user wrote it, into
// the schema's spelling before it is looked up: an API may accept its own
// names for stored values (CASE_STATE_MEDIATING for MEDIATING) without
// the schema, which describes the storage, knowing them. Error messages
// quote the literal as the user wrote it.
type Spelling func(field, lit string) string

// CompileSpelled is [Compile] with a [Spelling] of enum literals; nil is
// the schema's own spelling.
func CompileSpelled(filter string, schema Schema, firstArg int, spell Spelling) (sql string, args []any, err error) {
	if firstArg < 1 || firstArg > maxParam-MaxComparisons+1 {
		return "", nil, fmt.Errorf("aipfilter: firstArg %d is outside 1..%d", firstArg, maxParam-MaxComparisons+1)
	}
	if err := schema.Check(); err != nil {
		return "", nil, err
	}
	root, err := parse(filter)
	if err != nil {
		return "", nil, err
	}
	if root == nil {
		return "TRUE", nil, nil
	}
	c := compiler{src: filter, schema: schema, firstArg: firstArg, spell: spell}
	if err := c.emit(root); err != nil {
		return "", nil, err
	}
	return c.sql.String(), c.args, nil
}

// Error is a problem with a filter that the user must correct. Its Error
// method gives a complete message suitable for an INVALID_ARGUMENT
// response, such as
//
//	filter: state: unknown value "MEDIATE" at position 9; one of: INTAKE, ACCEPTED
type Error struct {
	// Pos is the 1-based position, in characters, of the offending text in
	// the filter, or 0 when the problem concerns the filter as a whole.
	Pos int
	// Field is the schema field the problem concerns, or "" if none.
	Field string
	// Msg says what is wrong.
	Msg string
	// Hint, possibly empty, says how to put it right.
	Hint string
}

// Error formats the problem as "filter: [field: ]msg[ at position n][; hint]".
func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("filter: ")
	if e.Field != "" {
		b.WriteString(e.Field)
		b.WriteString(": ")
	}
	b.WriteString(e.Msg)
	if e.Pos > 0 {
		b.WriteString(" at position ")
		b.WriteString(strconv.Itoa(e.Pos))
	}
	if e.Hint != "" {
		b.WriteString("; ")
		b.WriteString(e.Hint)
	}
	return b.String()
}

// Comparison is one comparison of a filter, as written.
type Comparison struct {
	Field string
	Op    string // one of = != < <= > >= :
	Value string // unquoted and unescaped
}

// Comparisons lists the comparisons of a filter, wherever they stand in
// it (under AND, OR or NOT), in the order written; an empty filter has
// none. It checks the syntax only: a caller that needs the meaning
// compiles the filter too.
func Comparisons(filter string) ([]Comparison, error) {
	root, err := parse(filter)
	if err != nil || root == nil {
		return nil, err
	}
	var out []Comparison
	var walk func(n *node)
	walk = func(n *node) {
		if n.kind == kindCmp {
			out = append(out, Comparison{Field: n.field, Op: n.op, Value: n.value.text})
			return
		}
		for _, k := range n.kids {
			walk(k)
		}
	}
	walk(root)
	return out, nil
}
