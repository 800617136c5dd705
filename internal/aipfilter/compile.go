package aipfilter

import (
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
)

// rfc3339RE is the exact form of an RFC 3339 timestamp, which
// time.Parse checks only loosely (it accepts a one-digit hour, for one).
var rfc3339RE = regexp.MustCompile(`^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]+)?(Z|[+-][0-9]{2}:[0-9]{2})$`)

// compiler turns a parsed filter into SQL, checking each comparison
// against the schema and binding its literal.
type compiler struct {
	src      string
	schema   Schema
	firstArg int
	spell    Spelling
	sql      strings.Builder
	args     []any
}

// emit appends the SQL for n.
func (c *compiler) emit(n *node) error {
	switch n.kind {
	case kindCmp:
		return c.comparison(n)
	case kindNot:
		c.sql.WriteString("(NOT COALESCE(")
		if err := c.emit(n.kids[0]); err != nil {
			return err
		}
		c.sql.WriteString(", FALSE))")
		return nil
	}
	sep := " AND "
	if n.kind == kindOr {
		sep = " OR "
	}
	c.sql.WriteByte('(')
	for i, k := range n.kids {
		if i > 0 {
			c.sql.WriteString(sep)
		}
		if err := c.emit(k); err != nil {
			return err
		}
	}
	c.sql.WriteByte(')')
	return nil
}

// comparison checks a comparison against its field's type and appends its
// SQL.
func (c *compiler) comparison(n *node) error {
	f, ok := c.schema[n.field]
	if !ok {
		hint := "no fields can be filtered on here"
		if len(c.schema) > 0 {
			hint = "filterable fields are: " + strings.Join(slices.Sorted(maps.Keys(c.schema)), ", ")
		}
		return c.errAt(n.fieldPos, "", "unknown field "+quote(n.field), hint)
	}
	ordering := n.op != "=" && n.op != "!=" && n.op != ":"
	if ordering && f.Type != Timestamp && f.Type != Int {
		return c.errAt(n.opPos, n.field, fmt.Sprintf("operator %q cannot be used with %v fields", n.op, f.Type), "use =, != or :")
	}
	lit := n.value.text
	switch f.Type {
	case String:
		if err := c.validate(n, f); err != nil {
			return err
		}
		c.simple(f.Column, n.op, lit)
	case Enum:
		spelled := lit
		if c.spell != nil {
			spelled = c.spell(n.field, lit)
		}
		stored, ok := spelled, slices.Contains(f.EnumValues, spelled)
		if f.Enum != nil {
			stored, ok = f.Enum(spelled)
		}
		if !ok {
			hint := ""
			if len(f.EnumValues) > 0 {
				hint = "one of: " + strings.Join(f.EnumValues, ", ")
			}
			return c.errAt(n.value.pos, n.field, "unknown value "+quote(lit), hint)
		}
		c.simple(f.Column, n.op, stored)
	case Timestamp:
		t, err := time.Parse(time.RFC3339, lit)
		if err != nil || !rfc3339RE.MatchString(lit) {
			if _, derr := time.Parse(time.DateOnly, lit); derr == nil {
				return c.errAt(n.value.pos, n.field, quote(lit)+" has no time of day and UTC offset",
					fmt.Sprintf("add a time and UTC offset, such as %q", lit+"T00:00:00Z"))
			}
			return c.errAt(n.value.pos, n.field, quote(lit)+" is not an RFC 3339 timestamp",
				`use a form such as "2026-01-31T00:00:00Z" or "2026-01-31T00:00:00+08:00"`)
		}
		c.simple(f.Column, n.op, t.UTC())
	case Bool:
		if lit != "true" && lit != "false" {
			return c.errAt(n.value.pos, n.field, quote(lit)+" is not a boolean", "use true or false")
		}
		c.simple(f.Column, n.op, lit == "true")
	case Int:
		i, err := strconv.ParseInt(lit, 10, 64)
		if err != nil {
			msg := quote(lit) + " is not an integer"
			if ne, ok := err.(*strconv.NumError); ok && ne.Err == strconv.ErrRange {
				msg = quote(lit) + " is out of range for a 64-bit integer"
			}
			return c.errAt(n.value.pos, n.field, msg, "")
		}
		c.simple(f.Column, n.op, i)
	case Prefix:
		if !isCode(lit) {
			return c.errAt(n.value.pos, n.field, quote(lit)+" is not a 6-digit code",
				`use exactly 6 digits, such as "621002"; a code ending in 00 or 0000 also matches the codes below it`)
		}
		if err := c.validate(n, f); err != nil {
			return err
		}
		prefix := lit
		for range 2 {
			if p, ok := strings.CutSuffix(prefix, "00"); ok {
				prefix = p
			}
		}
		if prefix == lit {
			c.simple(f.Column, n.op, lit)
			break
		}
		if n.op == "!=" {
			c.sql.WriteString("(NOT COALESCE(" + f.Column + " LIKE " + c.bind(prefix+"%") + ", FALSE))")
		} else {
			c.sql.WriteString("(" + f.Column + " LIKE " + c.bind(prefix+"%") + ")")
		}
	default:
		// Unreachable: Compile checks the schema first.
		return fmt.Errorf("aipfilter: field %q has invalid type %v", n.field, f.Type)
	}
	return nil
}

// simple appends "(column op $n)" binding arg, with = for the has operator
// and IS DISTINCT FROM for !=, so that a NULL column counts as different.
func (c *compiler) simple(column, op string, arg any) {
	switch op {
	case ":":
		op = "="
	case "!=":
		op = "IS DISTINCT FROM"
	}
	c.sql.WriteString("(" + column + " " + op + " " + c.bind(arg) + ")")
}

// bind records arg as the next parameter and returns its placeholder.
func (c *compiler) bind(arg any) string {
	c.args = append(c.args, arg)
	return "$" + strconv.Itoa(c.firstArg+len(c.args)-1)
}

// validate applies the field's Validate function, if any, to the literal.
func (c *compiler) validate(n *node, f Field) error {
	if f.Validate == nil {
		return nil
	}
	if err := f.Validate(n.value.text); err != nil {
		return c.errAt(n.value.pos, n.field, "invalid value "+quote(n.value.text), err.Error())
	}
	return nil
}

func (c *compiler) errAt(off int, field, msg, hint string) error {
	return &Error{Pos: runePos(c.src, off), Field: field, Msg: msg, Hint: hint}
}

// isCode reports whether s is exactly six ASCII digits.
func isCode(s string) bool {
	if len(s) != 6 {
		return false
	}
	for i := range len(s) {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}
