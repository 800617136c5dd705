package casework

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// yearBrackets are the brackets a case number puts its year in: full-width
// （）, ASCII () and the 六角括号 〔〕 some courts print.
var yearBrackets = [][2]string{{"（", "）"}, {"(", ")"}, {"〔", "〕"}}

// NumberCourt returns the court a court's case or document number names,
// when the number follows the national format (最高人民法院《关于人民法院
// 案件案号的若干规定》): the year in brackets, the court's code, the case
// type and the sequence, as in （2026）甘1002民特5号, whose court is 甘1002.
// The court's code is read as one character (the province's abbreviation)
// followed by digits; a number in another form, or whose court part is not
// of that shape (a high court's 甘, the 最高法), gives false: the number
// then says nothing this function can compare.
func NumberCourt(number string) (string, bool) {
	s := strings.TrimSpace(number)
	var rest string
	for _, b := range yearBrackets {
		after, ok := strings.CutPrefix(s, b[0])
		if !ok {
			continue
		}
		year, tail, ok := strings.Cut(after, b[1])
		if !ok || len(year) != 4 || strings.Trim(year, "0123456789") != "" {
			return "", false
		}
		rest = tail
		break
	}
	r, size := utf8.DecodeRuneInString(rest)
	if r == utf8.RuneError || r < utf8.RuneSelf || !unicode.Is(unicode.Han, r) {
		return "", false
	}
	digits := len(rest[size:]) - len(strings.TrimLeft(rest[size:], "0123456789"))
	if digits == 0 {
		return "", false
	}
	return rest[:size+digits], true
}
