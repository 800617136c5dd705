package aipfilter

import (
	"fmt"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// nodeKind distinguishes the nodes of a parsed filter.
type nodeKind int

const (
	kindAnd nodeKind = iota // all kids hold
	kindOr                  // at least one kid holds
	kindNot                 // the single kid does not hold
	kindCmp                 // a comparison of a field with a value
)

// node is one node of a parsed filter. Positions are byte offsets into the
// filter text.
type node struct {
	kind  nodeKind
	kids  []*node // kindAnd and kindOr: two or more; kindNot: one
	paren bool    // written in parentheses, so not merged into its parent

	field    string // kindCmp: the field name as written
	fieldPos int
	op       string // kindCmp: one of = != < <= > >= :
	opPos    int
	value    value // kindCmp
}

// value is the literal of a comparison.
type value struct {
	text   string // unquoted and unescaped
	quoted bool
	pos    int // byte offset of the first character (the quote, if quoted)
}

// String renders the node in a compact prefix form, for tests and
// debugging.
func (n *node) String() string {
	switch n.kind {
	case kindCmp:
		v := n.value.text
		if n.value.quoted {
			v = strconv.Quote(v)
		}
		return n.field + " " + n.op + " " + v
	case kindNot:
		return "NOT(" + n.kids[0].String() + ")"
	}
	parts := make([]string, len(n.kids))
	for i, k := range n.kids {
		parts[i] = k.String()
	}
	name := "AND"
	if n.kind == kindOr {
		name = "OR"
	}
	return name + "(" + strings.Join(parts, ", ") + ")"
}

// parser is a recursive-descent parser over the filter text; it scans
// tokens on demand because whether "-" negates or starts a value depends
// on where it appears.
type parser struct {
	src   string
	off   int // byte offset of the next unread character
	depth int // current parenthesis nesting
	ncmp  int // comparisons seen so far
}

// parse parses a filter into a tree, or returns nil for an empty filter.
// It checks syntax and limits only; field names and values are checked
// against the schema by the compiler.
func parse(src string) (*node, error) {
	if err := checkText(src); err != nil {
		return nil, err
	}
	p := &parser{src: src}
	p.skipSpace()
	if p.eof() {
		return nil, nil
	}
	n, err := p.expression()
	if err != nil {
		return nil, err
	}
	p.skipSpace()
	if !p.eof() {
		if p.src[p.off] == ')' {
			return nil, p.errAt(p.off, "", "unbalanced parenthesis", `")" has no matching "("`)
		}
		return nil, p.unexpected(p.off)
	}
	return n, nil
}

// checkText enforces the length limit and refuses text that cannot be
// bound as a PostgreSQL text value: invalid UTF-8 and control characters
// other than whitespace.
func checkText(src string) error {
	if n := utf8.RuneCountInString(src); n > MaxLength {
		return &Error{
			Msg:  fmt.Sprintf("too long (%d characters)", n),
			Hint: fmt.Sprintf("the maximum is %d characters", MaxLength),
		}
	}
	pos := 0
	for off := 0; off < len(src); {
		r, size := utf8.DecodeRuneInString(src[off:])
		pos++
		if r == utf8.RuneError && size == 1 {
			return &Error{Pos: pos, Msg: "invalid UTF-8 text"}
		}
		if (r < 0x20 || r == 0x7f) && !unicode.IsSpace(r) {
			return &Error{Pos: pos, Msg: fmt.Sprintf("control character %U is not allowed", r)}
		}
		off += size
	}
	return nil
}

// expression := sequence { "AND" sequence }
func (p *parser) expression() (*node, error) {
	first, err := p.sequence()
	if err != nil {
		return nil, err
	}
	kids := []*node{first}
	for {
		p.skipSpace()
		w, end := scanName(p.src[p.off:])
		if w != "AND" {
			break
		}
		kwPos := p.off
		p.off += end
		if err := p.needOperand(kwPos, "AND"); err != nil {
			return nil, err
		}
		n, err := p.sequence()
		if err != nil {
			return nil, err
		}
		kids = append(kids, n)
	}
	return join(kindAnd, kids), nil
}

// sequence := factor { factor }, the factors being implicitly joined with
// AND.
func (p *parser) sequence() (*node, error) {
	first, err := p.factor()
	if err != nil {
		return nil, err
	}
	kids := []*node{first}
	for {
		p.skipSpace()
		if p.eof() || p.src[p.off] == ')' {
			break
		}
		if w, _ := scanName(p.src[p.off:]); w == "AND" {
			break
		}
		n, err := p.factor()
		if err != nil {
			return nil, err
		}
		kids = append(kids, n)
	}
	return join(kindAnd, kids), nil
}

// factor := term { "OR" term }
func (p *parser) factor() (*node, error) {
	first, err := p.term()
	if err != nil {
		return nil, err
	}
	kids := []*node{first}
	for {
		p.skipSpace()
		w, end := scanName(p.src[p.off:])
		if w != "OR" {
			break
		}
		kwPos := p.off
		p.off += end
		if err := p.needOperand(kwPos, "OR"); err != nil {
			return nil, err
		}
		n, err := p.term()
		if err != nil {
			return nil, err
		}
		kids = append(kids, n)
	}
	return join(kindOr, kids), nil
}

// term := [ "NOT" | "-" ] simple
func (p *parser) term() (*node, error) {
	p.skipSpace()
	start := p.off
	var neg string
	if w, end := scanName(p.src[p.off:]); w == "NOT" {
		neg = "NOT"
		p.off += end
	} else if !p.eof() && p.src[p.off] == '-' {
		neg = "-"
		p.off++
	}
	if neg == "" {
		return p.simple()
	}
	if err := p.needOperand(start, neg); err != nil {
		return nil, err
	}
	if w, _ := scanName(p.src[p.off:]); w == "NOT" || p.src[p.off] == '-' {
		return nil, p.errAt(p.off, "", "a negation cannot be negated again", "remove both negations, or use parentheses")
	}
	n, err := p.simple()
	if err != nil {
		return nil, err
	}
	return &node{kind: kindNot, kids: []*node{n}}, nil
}

// simple := "(" expression ")" | comparison
func (p *parser) simple() (*node, error) {
	p.skipSpace()
	if p.eof() {
		return nil, p.errAt(p.off, "", "expected a comparison", "")
	}
	switch p.src[p.off] {
	case ')':
		return nil, p.errAt(p.off, "", "unbalanced parenthesis", `")" has no matching "("`)
	case '(':
	default:
		return p.comparison()
	}
	open := p.off
	if p.depth >= MaxDepth {
		return nil, p.errAt(open, "", "parentheses nested too deeply", fmt.Sprintf("at most %d levels are allowed", MaxDepth))
	}
	p.depth++
	p.off++
	p.skipSpace()
	if !p.eof() && p.src[p.off] == ')' {
		return nil, p.errAt(open, "", "empty parentheses", "put a comparison inside them or remove them")
	}
	if p.eof() {
		return nil, p.errAt(open, "", "unbalanced parenthesis", `"(" is never closed`)
	}
	n, err := p.expression()
	if err != nil {
		return nil, err
	}
	p.skipSpace()
	if p.eof() {
		return nil, p.errAt(open, "", "unbalanced parenthesis", `"(" is never closed`)
	}
	if p.src[p.off] != ')' {
		return nil, p.unexpected(p.off)
	}
	p.off++
	p.depth--
	n.paren = true
	return n, nil
}

// comparison := field op value
func (p *parser) comparison() (*node, error) {
	fieldPos := p.off
	name, end := scanName(p.src[p.off:])
	if end == 0 {
		return nil, p.unexpected(p.off)
	}
	if isKeyword(name) {
		return nil, p.errAt(fieldPos, "", fmt.Sprintf("unexpected %s", name), `expected a field name, "(" or NOT`)
	}
	p.off += end
	p.skipSpace()
	opPos := p.off
	op := p.scanOp()
	if op == "" {
		hint := "use one of =, !=, <, <=, >, >=, :"
		if isKeyword(strings.ToUpper(name)) {
			hint = "the keywords AND, OR and NOT must be written in upper case"
		}
		return nil, p.errAt(fieldPos, "", "expected a comparison operator after "+quote(name), hint)
	}
	p.skipSpace()
	v, err := p.value(op, opPos)
	if err != nil {
		return nil, err
	}
	p.ncmp++
	if p.ncmp > MaxComparisons {
		return nil, p.errAt(fieldPos, "", "too many comparisons", fmt.Sprintf("at most %d are allowed", MaxComparisons))
	}
	return &node{kind: kindCmp, field: name, fieldPos: fieldPos, op: op, opPos: opPos, value: v}, nil
}

// scanOp consumes a comparison operator, returning "" if there is none.
func (p *parser) scanOp() string {
	if p.eof() {
		return ""
	}
	next := byte(0)
	if p.off+1 < len(p.src) {
		next = p.src[p.off+1]
	}
	var op string
	switch c := p.src[p.off]; {
	case c == '=' || c == ':':
		op = string(c)
	case c == '!' && next == '=':
		op = "!="
	case (c == '<' || c == '>') && next == '=':
		op = string(c) + "="
	case c == '<' || c == '>':
		op = string(c)
	}
	p.off += len(op)
	return op
}

// value scans the literal after the operator op at opPos.
func (p *parser) value(op string, opPos int) (value, error) {
	missing := func(hint string) error {
		return p.errAt(opPos, "", "expected a value after "+strconv.Quote(op), hint)
	}
	if p.eof() {
		return value{}, missing("")
	}
	v := value{pos: p.off}
	if c := p.src[p.off]; c == '"' || c == '\'' {
		text, err := p.quoted()
		if err != nil {
			return value{}, err
		}
		v.text, v.quoted = text, true
	} else {
		end := p.off
		for end < len(p.src) {
			r, size := utf8.DecodeRuneInString(p.src[end:])
			if !isBareRune(r) {
				break
			}
			end += size
		}
		if end == p.off {
			return value{}, missing("found " + p.describe(p.off))
		}
		v.text = p.src[p.off:end]
		if isKeyword(v.text) {
			return value{}, missing(fmt.Sprintf("found the keyword %s; put it in quotes to use it as a value", v.text))
		}
		p.off = end
	}
	if !p.eof() {
		r, _ := utf8.DecodeRuneInString(p.src[p.off:])
		if !unicode.IsSpace(r) && r != '(' && r != ')' {
			hint := `put values that contain it in quotes, e.g. "2026-01-31T00:00:00Z"`
			if v.quoted {
				hint = "separate the next comparison with a space"
			}
			return value{}, p.errAt(p.off, "", "unexpected "+p.describe(p.off)+" after a value", hint)
		}
	}
	return v, nil
}

// quoted scans a single- or double-quoted string and returns its content.
func (p *parser) quoted() (string, error) {
	start := p.off
	q := p.src[start]
	var b strings.Builder
	for off := start + 1; off < len(p.src); {
		c := p.src[off]
		switch {
		case c == q:
			p.off = off + 1
			return b.String(), nil
		case c == '\\':
			if off+1 >= len(p.src) {
				off++
				continue
			}
			r, size := utf8.DecodeRuneInString(p.src[off+1:])
			if r != '\\' && r != '"' && r != '\'' {
				return "", p.errAt(off, "", "unsupported escape sequence "+quote(`\`+string(r)), `inside quotes only \", \' and \\ are escapes`)
			}
			b.WriteRune(r)
			off += 1 + size
		default:
			_, size := utf8.DecodeRuneInString(p.src[off:])
			b.WriteString(p.src[off : off+size])
			off += size
		}
	}
	return "", p.errAt(start, "", "unterminated string", fmt.Sprintf("add the closing %c", q))
}

// needOperand reports an error unless something that can start a term
// follows the keyword or "-" kw at kwPos.
func (p *parser) needOperand(kwPos int, kw string) error {
	p.skipSpace()
	if p.eof() || p.src[p.off] == ')' {
		return p.errAt(kwPos, "", "expected a comparison after "+strconv.Quote(kw), "")
	}
	return nil
}

// unexpected reports a character that cannot start or continue a
// comparison.
func (p *parser) unexpected(off int) error {
	return p.errAt(off, "", "unexpected "+p.describe(off), `expected a field name, "(" or NOT`)
}

// describe names the character at off for a message.
func (p *parser) describe(off int) string {
	if off >= len(p.src) {
		return "end of filter"
	}
	r, _ := utf8.DecodeRuneInString(p.src[off:])
	return strconv.Quote(string(r))
}

func (p *parser) eof() bool { return p.off >= len(p.src) }

func (p *parser) skipSpace() {
	for !p.eof() {
		r, size := utf8.DecodeRuneInString(p.src[p.off:])
		if !unicode.IsSpace(r) {
			return
		}
		p.off += size
	}
}

// errAt returns an *Error for the text at byte offset off.
func (p *parser) errAt(off int, field, msg, hint string) error {
	return &Error{Pos: runePos(p.src, off), Field: field, Msg: msg, Hint: hint}
}

// runePos converts a byte offset into a 1-based character position.
func runePos(src string, off int) int {
	off = min(max(off, 0), len(src))
	return utf8.RuneCountInString(src[:off]) + 1
}

// join combines kids with kind, merging kids of the same kind that were
// not written in parentheses, so "a AND b AND c" is one node.
func join(kind nodeKind, kids []*node) *node {
	if len(kids) == 1 {
		return kids[0]
	}
	n := &node{kind: kind}
	for _, k := range kids {
		if k.kind == kind && !k.paren {
			n.kids = append(n.kids, k.kids...)
		} else {
			n.kids = append(n.kids, k)
		}
	}
	return n
}

// scanName returns the field name or keyword at the start of s and its
// length in bytes, or ("", 0) if s does not start with one.
func scanName(s string) (string, int) {
	end := 0
	for end < len(s) {
		r, size := utf8.DecodeRuneInString(s[end:])
		ok := unicode.IsLetter(r) || r == '_' || (end > 0 && (unicode.IsDigit(r) || r == '.'))
		if !ok {
			break
		}
		end += size
	}
	return s[:end], end
}

func isKeyword(w string) bool { return w == "AND" || w == "OR" || w == "NOT" }

// isBareRune reports whether r may appear in an unquoted value.
func isBareRune(r rune) bool {
	return unicode.IsLetter(r) || unicode.IsDigit(r) || strings.ContainsRune("_-./", r)
}

// quote quotes user text for a message, shortening it if it is long.
func quote(s string) string {
	const maxRunes = 40
	if utf8.RuneCountInString(s) > maxRunes {
		s = string([]rune(s)[:maxRunes]) + "…"
	}
	return strconv.Quote(s)
}
