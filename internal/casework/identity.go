package casework

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// The validators below check the identity documents and phone numbers of
// parties. Each returns nil or an error whose message is a reason in plain
// words, without a field name, so that callers can put it in a
// FieldError.Message. The messages never repeat the whole value: identity
// and phone numbers are personal data and errors end up in logs.

// residentIDWeights are the ISO 7064 MOD 11-2 weights of the first 17
// digits of a resident identity number (GB 11643-1999).
var residentIDWeights = [17]int{7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2}

// residentIDCheckChars maps the weighted sum modulo 11 to the check
// character.
const residentIDCheckChars = "10X98765432"

// CheckResidentID checks a 居民身份证号码 (GB 11643-1999): 17 digits and a
// check character; the first two digits a province-level region code; a
// real birth date in characters 7 to 14, from 1900 and not after now's date
// (in now's location); and the ISO 7064 MOD 11-2 check character, which
// catches every single mistyped digit and every swap of two adjacent
// digits. A lower-case x as check character is accepted;
// NormalizeResidentID turns it into the X that is stored and printed.
func CheckResidentID(s string, now time.Time) error {
	rs := []rune(s)
	if len(rs) != 18 {
		return fmt.Errorf("must be 18 characters (17 digits and a check digit), got %d", len(rs))
	}
	for i, r := range rs[:17] {
		if r < '0' || r > '9' {
			return fmt.Errorf("character %d is %s: the first 17 characters must be digits", i+1, charName(r))
		}
	}
	last := rs[17]
	if (last < '0' || last > '9') && last != 'X' && last != 'x' {
		return fmt.Errorf("character 18 is %s: the last character must be a digit or X", charName(last))
	}
	if !isProvinceCode(s[:2]) {
		return fmt.Errorf("address code begins with %s, which is not a province-level region: the number was probably mistyped", s[:2])
	}
	if err := checkBirthDate(s[6:14], now); err != nil {
		return err
	}
	want := residentIDCheckDigit(s[:17])
	if got := byte(unicode.ToUpper(last)); got != want {
		return fmt.Errorf("check digit should be %c, not %c: the number was probably mistyped", want, got)
	}
	return nil
}

// residentIDCheckDigit returns the check character of 17 ASCII digits.
func residentIDCheckDigit(digits string) byte {
	sum := 0
	for i, w := range residentIDWeights {
		sum += int(digits[i]-'0') * w
	}
	return residentIDCheckChars[sum%11]
}

// isProvinceCode reports whether two digits are a GB/T 2260 province-level
// code: the provinces, autonomous regions and municipalities, Taiwan (71),
// Hong Kong (81) and Macao (82).
func isProvinceCode(code string) bool {
	n := int(code[0]-'0')*10 + int(code[1]-'0')
	switch {
	case 11 <= n && n <= 15, 21 <= n && n <= 23, 31 <= n && n <= 37,
		41 <= n && n <= 46, 50 <= n && n <= 54, 61 <= n && n <= 65:
		return true
	}
	return n == 71 || n == 81 || n == 82
}

// checkBirthDate checks the eight digits YYYYMMDD of a birth date.
func checkBirthDate(date string, now time.Time) error {
	y := atoiDigits(date[:4])
	m := time.Month(atoiDigits(date[4:6]))
	d := atoiDigits(date[6:])
	t := time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
	if ty, tm, td := t.Date(); ty != y || tm != m || td != d {
		return errors.New("the birth date in the number (characters 7 to 14) is not a real date")
	}
	if y < 1900 {
		return errors.New("the birth date in the number (characters 7 to 14) is before 1900")
	}
	ny, nm, nd := now.Date()
	if t.After(time.Date(ny, nm, nd, 0, 0, 0, 0, time.UTC)) {
		return errors.New("the birth date in the number (characters 7 to 14) is in the future")
	}
	return nil
}

// atoiDigits converts a short string of ASCII digits to an int.
func atoiDigits(s string) int {
	n := 0
	for i := 0; i < len(s); i++ {
		n = n*10 + int(s[i]-'0')
	}
	return n
}

// charName names a character that does not belong in an input, with a
// hint for the mistakes people make when typing on a Chinese keyboard.
func charName(r rune) string {
	switch {
	case r >= '！' && r <= '～':
		return fmt.Sprintf("the full-width %q (switch the input method to half-width, 半角)", r)
	case unicode.IsSpace(r):
		return "a space"
	}
	return fmt.Sprintf("%q", r)
}

// NormalizeResidentID trims surrounding white space from a resident
// identity number and upper-cases a trailing x, giving the form that is
// stored, compared and printed.
func NormalizeResidentID(s string) string {
	s = strings.TrimSpace(s)
	if strings.HasSuffix(s, "x") {
		s = s[:len(s)-1] + "X"
	}
	return s
}

// usccCharset is the alphabet of the unified social credit code: digits
// and the upper-case letters other than I, O, S, V and Z. A character's
// index is its value in the check-character computation.
const usccCharset = "0123456789ABCDEFGHJKLMNPQRTUWXY"

// usccWeights are the weights of the first 17 characters of a unified
// social credit code (GB 32100-2015): 3^i mod 31.
var usccWeights = [17]int{1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28}

// CheckUnifiedSocialCreditCode checks a 统一社会信用代码 (GB 32100-2015),
// the identifier of a legal person or other organization: 18 characters
// from digits and upper-case letters other than I, O, S, V and Z, the last
// a check character computed modulo 31 over the first 17.
func CheckUnifiedSocialCreditCode(s string) error {
	rs := []rune(s)
	if len(rs) != 18 {
		return fmt.Errorf("must be 18 characters, got %d", len(rs))
	}
	sum := 0
	for i, r := range rs {
		v := strings.IndexRune(usccCharset, r)
		if v < 0 {
			return usccCharError(i, r)
		}
		if i < 17 {
			sum += v * usccWeights[i]
		}
	}
	want := usccCharset[(31-sum%31)%31]
	if got := rs[17]; got != rune(want) {
		return fmt.Errorf("check character should be %c, not %c: the code was probably mistyped", want, got)
	}
	return nil
}

// usccLookalikes maps the letters a unified social credit code never uses
// to the digits they are usually mistaken for.
var usccLookalikes = map[rune]rune{'I': '1', 'O': '0', 'S': '5', 'Z': '2'}

// usccCharError explains why character i of a unified social credit code
// is not allowed.
func usccCharError(i int, r rune) error {
	if d, ok := usccLookalikes[r]; ok {
		return fmt.Errorf("character %d is the letter %c, which the code never uses: perhaps the digit %c was meant", i+1, r, d)
	}
	switch {
	case r == 'V':
		return fmt.Errorf("character %d is the letter V, which the code never uses (nor I, O, S or Z)", i+1)
	case r >= 'a' && r <= 'z':
		return fmt.Errorf("character %d is the lower-case %q: letters in the code are upper case", i+1, r)
	}
	return fmt.Errorf("character %d is %s: the code has only digits and upper-case letters", i+1, charName(r))
}

// phoneNumber is a parsed mainland phone number.
type phoneNumber struct {
	mobile bool
	area   string // a landline's area code, e.g. 0934
	local  string // a mobile's 11 digits, or a landline's number after the area code
	ext    string // a landline's extension, if any
}

// String returns the stored form: 11 digits for a mobile, and
// area-number[-extension] for a landline.
func (p phoneNumber) String() string {
	if p.mobile {
		return p.local
	}
	s := p.area + "-" + p.local
	if p.ext != "" {
		s += "-" + p.ext
	}
	return s
}

// errPhoneEmpty reports an empty phone number.
var errPhoneEmpty = errors.New("required: a mobile number such as 13812345678 or a landline such as 0934-8621234")

// parsePhone parses a mainland mobile number, optionally after +86 or 86,
// or a landline with its area code, allowing spaces and hyphens between
// groups of digits.
func parsePhone(s string) (phoneNumber, error) {
	compact := strings.Map(func(r rune) rune {
		if unicode.IsSpace(r) {
			return -1
		}
		return r
	}, s)
	if compact == "" {
		return phoneNumber{}, errPhoneEmpty
	}
	international := false
	if rest, ok := strings.CutPrefix(compact, "+"); ok {
		if !strings.HasPrefix(rest, "86") {
			return phoneNumber{}, errors.New("only mainland numbers are accepted: a country code must be +86")
		}
		compact, international = rest, true
	}
	digits := strings.ReplaceAll(compact, "-", "")
	for _, r := range digits {
		if r < '0' || r > '9' {
			return phoneNumber{}, fmt.Errorf("contains %s: a phone number has only digits, spaces and hyphens", charName(r))
		}
	}
	if international || (len(digits) == 13 && strings.HasPrefix(digits, "86")) {
		digits = digits[2:]
		if strings.HasPrefix(digits, "0") {
			return phoneNumber{}, errors.New("after +86 only a mobile number is accepted: write a landline with its area code, e.g. 0934-8621234")
		}
		return parseMobile(digits)
	}
	if digits == "" {
		return phoneNumber{}, errPhoneEmpty
	}
	switch digits[0] {
	case '1':
		return parseMobile(digits)
	case '0':
		return parseLandline(compact)
	}
	return phoneNumber{}, errors.New("must begin with 1 (a mobile number) or with the area code of a landline, e.g. 0934-8621234")
}

// parseMobile checks the digits of a mainland mobile number.
func parseMobile(digits string) (phoneNumber, error) {
	if len(digits) != 11 {
		return phoneNumber{}, fmt.Errorf("a mobile number has 11 digits, got %d", len(digits))
	}
	if digits[0] != '1' || digits[1] < '3' {
		return phoneNumber{}, fmt.Errorf("a mobile number begins with 13 to 19, not %s", digits[:2])
	}
	return phoneNumber{mobile: true, local: digits}, nil
}

// parseLandline parses a landline written as area code, number and
// extension, each group separated by a hyphen; the hyphen after the area
// code may be left out. Area codes are 010, 020 to 029, or four digits
// 03xx to 09xx, so the area code can be told from the number without it.
func parseLandline(s string) (phoneNumber, error) {
	parts := strings.Split(s, "-")
	if len(parts) > 3 || slices.Contains(parts, "") {
		return phoneNumber{}, errors.New("write a landline as area code, number and optional extension, e.g. 0934-8621234 or 0934-8621234-123")
	}
	if len(parts[0]) < 3 {
		return phoneNumber{}, fmt.Errorf("area code %s is too short: area codes are 010, 020 to 029, or four digits such as 0934", parts[0])
	}
	areaLen := 4
	switch parts[0][1] {
	case '0':
		return phoneNumber{}, errors.New("only mainland numbers are accepted: write a mobile number with +86, or a landline with its area code")
	case '1', '2':
		areaLen = 3
	}
	var p phoneNumber
	switch {
	case len(parts) == 3:
		p.area, p.local, p.ext = parts[0], parts[1], parts[2]
	case len(parts) == 2 && len(parts[0]) <= 4:
		p.area, p.local = parts[0], parts[1]
	case len(parts[0]) < areaLen:
		return phoneNumber{}, errors.New("a landline needs its area code and a 7- or 8-digit number, e.g. 0934-8621234")
	default:
		p.area, p.local = parts[0][:areaLen], parts[0][areaLen:]
		if len(parts) == 2 {
			p.ext = parts[1]
		}
	}
	switch {
	case len(p.area) != areaLen || (areaLen == 3 && p.area[1] == '1' && p.area != "010"):
		return phoneNumber{}, fmt.Errorf("area code %s does not exist: area codes are 010, 020 to 029, or four digits such as 0934", p.area)
	case len(p.local) < 7 || len(p.local) > 8:
		return phoneNumber{}, fmt.Errorf("the number after area code %s must have 7 or 8 digits, got %d", p.area, len(p.local))
	case p.local[0] < '2':
		return phoneNumber{}, fmt.Errorf("the number after area code %s cannot begin with %c", p.area, p.local[0])
	case len(p.ext) > 6:
		return phoneNumber{}, fmt.Errorf("an extension has at most 6 digits, got %d", len(p.ext))
	}
	return p, nil
}

// CheckMobilePhone checks a party's contact number: a mainland mobile
// number (11 digits, 13x to 19x), optionally after +86 or 86, or a landline
// with its area code and an optional extension, such as 0934-8621234 or
// 0934-8621234-123. Spaces and hyphens between groups of digits are
// allowed.
func CheckMobilePhone(s string) error {
	_, err := parsePhone(s)
	return err
}

// NormalizePhone returns the stored form of a phone number that
// CheckMobilePhone accepts: a mobile number as its 11 digits, without
// country code, spaces or hyphens; a landline as 0934-8621234, with a
// hyphen after the area code and before an extension only. Any other input
// is returned with surrounding white space trimmed, so that
// CheckMobilePhone can still say what is wrong with it.
func NormalizePhone(s string) string {
	p, err := parsePhone(s)
	if err != nil {
		return strings.TrimSpace(s)
	}
	return p.String()
}

// MaskIDNumber hides most of an identity number for pages and exports
// that do not need it whole: a number of 12 characters or more keeps its
// first 4 and last 4 (6210**********123X); a shorter one keeps its last 2
// only, and one of 2 characters or fewer is masked whole.
func MaskIDNumber(s string) string {
	s = strings.TrimSpace(s)
	if len(s) >= 12 && isASCII(s) {
		// Every number a case stores: a character is a byte.
		return s[:4] + strings.Repeat("*", len(s)-8) + s[len(s)-4:]
	}
	rs := []rune(s)
	if len(rs) >= 12 {
		return string(rs[:4]) + strings.Repeat("*", len(rs)-8) + string(rs[len(rs)-4:])
	}
	return maskAllButLast(rs, 2)
}

// MaskPhone hides most of a phone number: 138****5678 for a mobile; for a
// landline the area code and the number's last 2 digits stay
// (0934-*****34), and an extension is masked. Input that is not a valid
// number keeps only its last 2 characters.
func MaskPhone(s string) string {
	if isStoredMobile(s) {
		// A mobile number as NormalizePhone stores it, which parsePhone
		// takes as it is: spare it the parse.
		return s[:3] + "****" + s[7:]
	}
	p, err := parsePhone(s)
	if err != nil {
		return maskAllButLast([]rune(strings.TrimSpace(s)), 2)
	}
	if p.mobile {
		return p.local[:3] + "****" + p.local[7:]
	}
	m := p.area + "-" + maskAllButLast([]rune(p.local), 2)
	if p.ext != "" {
		m += "-" + strings.Repeat("*", len(p.ext))
	}
	return m
}

// isStoredMobile reports whether s is a mobile number as NormalizePhone
// writes it: 11 digits, beginning with 13 to 19.
func isStoredMobile(s string) bool {
	if len(s) != 11 || s[0] != '1' || s[1] < '3' {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// isASCII reports whether s has only ASCII characters.
func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

// maskAllButLast replaces every rune but the last keep with '*'; when the
// value has no more than keep runes, it masks them all.
func maskAllButLast(rs []rune, keep int) string {
	if len(rs) <= keep {
		return strings.Repeat("*", len(rs))
	}
	return strings.Repeat("*", len(rs)-keep) + string(rs[len(rs)-keep:])
}

// AgeOn is the age in whole years on the date of now of someone born on
// the date of born (a leap-day birthday counts from 1 March in other
// years).
func AgeOn(born, now time.Time) int {
	age := now.Year() - born.Year()
	if now.Month() < born.Month() || now.Month() == born.Month() && now.Day() < born.Day() {
		age--
	}
	return age
}
