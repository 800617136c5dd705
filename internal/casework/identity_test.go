package casework_test

import (
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/mediationd/mediationd/internal/casework"
)

// idNow is the current time of the identity tests.
var idNow = time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)

// withCheckDigit appends the GB 11643 check character to 17 digits,
// computed independently of the package.
func withCheckDigit(t testing.TB, first17 string) string {
	t.Helper()
	if len(first17) != 17 {
		t.Fatalf("withCheckDigit(%q): need 17 digits", first17)
	}
	weights := []int{7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2}
	sum := 0
	for i, w := range weights {
		sum += int(first17[i]-'0') * w
	}
	return first17 + string("10X98765432"[sum%11])
}

// withUSCCCheck appends the GB 32100 check character to 17 characters.
func withUSCCCheck(t testing.TB, first17 string) string {
	t.Helper()
	const charset = "0123456789ABCDEFGHJKLMNPQRTUWXY"
	weights := []int{1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28}
	sum := 0
	for i, w := range weights {
		v := strings.IndexByte(charset, first17[i])
		if v < 0 {
			t.Fatalf("withUSCCCheck(%q): %q is not in the charset", first17, first17[i])
		}
		sum += v * w
	}
	return first17 + string(charset[(31-sum%31)%31])
}

// Known-valid resident identity numbers, with their check digits worked
// by hand: digit × weight (7 9 10 5 8 4 2 1 6 3 7 9 10 5 8 4 2), summed,
// modulo 11, then mapped through "10X98765432".
const (
	// The example of GB 11643-1999 itself (Beijing Chaoyang, 1949-12-31):
	// 7+9+0+5+0+20+2+9+24+27+7+18+30+5+0+0+4 = 167; 167 mod 11 = 2 → X.
	idStandardExample = "11010519491231002X"
	// A fictitious woman of Xifeng district (621002), born 1985-03-15:
	// 42+18+10+0+0+8+2+9+48+15+0+27+10+25+0+0+4 = 218; 218 mod 11 = 9 → 3.
	idXifeng = "621002198503150023"
	// The standard's other example (Shantou, 1880-01-01), whose check
	// digit is right but whose birth year is before 1900:
	// 28+36+0+25+16+16+2+8+48+0+0+9+0+5+0+0+2 = 195; 195 mod 11 = 8 → 4.
	idBefore1900 = "440524188001010014"
)

// A known-valid unified social credit code: with the charset values
// 9 1 3 5 0 1 0 0 M=21 0 0 0 1 0 0 Y=30 4 and the weights
// 1 3 9 27 19 26 16 17 20 29 25 13 8 24 10 30 28, the sum is
// 9+3+27+135+0+26+0+0+420+0+0+0+8+0+0+900+112 = 1640; 1640 mod 31 = 28;
// (31-28) mod 31 = 3 → '3'.
const usccExample = "91350100M000100Y43"

func TestCheckResidentIDValid(t *testing.T) {
	valid := []string{
		idStandardExample,
		idXifeng,
		"11010519491231002x", // lower-case x is accepted
		withCheckDigit(t, "62100219480315002"),
		withCheckDigit(t, "62102119000101001"), // earliest year
		withCheckDigit(t, "65010120000229123"), // leap day
		withCheckDigit(t, "81000020260301001"), // born today
		withCheckDigit(t, "71000019991231999"),
		withCheckDigit(t, "82000019700101000"),
	}
	for _, s := range valid {
		if err := casework.CheckResidentID(s, idNow); err != nil {
			t.Errorf("CheckResidentID(%q) = %v, want nil", s, err)
		}
	}
}

func TestCheckResidentIDInvalid(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"empty", "", "must be 18 characters (17 digits and a check digit), got 0"},
		{"17 digits", idXifeng[:17], "must be 18 characters (17 digits and a check digit), got 17"},
		{"19 digits", idXifeng + "1", "must be 18 characters (17 digits and a check digit), got 19"},
		{"old 15-digit number", "621002850315002", "must be 18 characters (17 digits and a check digit), got 15"},
		{"surrounding space", " " + idXifeng, "got 19"},
		{"letter inside", "6210021985031500A3", `character 17 is 'A': the first 17 characters must be digits`},
		{"space inside", "621002 98503150023", "character 7 is a space"},
		{"full-width digit", "６21002198503150023", "character 1 is the full-width '６' (switch the input method to half-width, 半角)"},
		{"bad check character", "62100219850315002Y", `character 18 is 'Y': the last character must be a digit or X`},
		{"check digit", "621002198503150024", "check digit should be 3, not 4: the number was probably mistyped"},
		{"check digit X expected", "110105194912310021", "check digit should be X, not 1"},
		{"two digits swapped", "621002198503150203", "check digit should be"},
		{"province 00", withCheckDigit(t, "00100219850315002"), "address code begins with 00, which is not a province-level region"},
		{"province 16", withCheckDigit(t, "16100219850315002"), "address code begins with 16"},
		{"province 99", withCheckDigit(t, "99100219850315002"), "address code begins with 99"},
		{"month 13", withCheckDigit(t, "62100219991332002"), "the birth date in the number (characters 7 to 14) is not a real date"},
		{"month 00", withCheckDigit(t, "62100219990001002"), "the birth date in the number (characters 7 to 14) is not a real date"},
		{"day 00", withCheckDigit(t, "62100219990100002"), "the birth date in the number (characters 7 to 14) is not a real date"},
		{"30 February", withCheckDigit(t, "62100220000230002"), "the birth date in the number (characters 7 to 14) is not a real date"},
		{"29 February of a common year", withCheckDigit(t, "62100219000229002"), "the birth date in the number (characters 7 to 14) is not a real date"},
		{"before 1900", idBefore1900, "the birth date in the number (characters 7 to 14) is before 1900"},
		{"tomorrow", withCheckDigit(t, "62100220260302002"), "the birth date in the number (characters 7 to 14) is in the future"},
		{"next century", withCheckDigit(t, "62100221260101002"), "in the future"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := casework.CheckResidentID(tt.in, idNow)
			if err == nil {
				t.Fatalf("CheckResidentID(%q) = nil, want an error containing %q", tt.in, tt.want)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("CheckResidentID(%q) = %q, want it to contain %q", tt.in, err, tt.want)
			}
		})
	}
}

func TestCheckResidentIDFutureUsesNowsDate(t *testing.T) {
	id := withCheckDigit(t, "62100220260301002")
	endOfDay := time.Date(2026, 3, 1, 23, 59, 0, 0, time.FixedZone("CST", 8*3600))
	if err := casework.CheckResidentID(id, endOfDay); err != nil {
		t.Errorf("born on now's date: %v", err)
	}
	if err := casework.CheckResidentID(id, endOfDay.AddDate(0, 0, -1)); err == nil {
		t.Error("born the day after now's date: got nil, want an error")
	}
}

func TestCheckResidentIDErrorKeepsNumberPrivate(t *testing.T) {
	for _, in := range []string{"621002198503150024", idXifeng[:17], withCheckDigit(t, "99100219850315002")} {
		err := casework.CheckResidentID(in, idNow)
		if err == nil || strings.Contains(err.Error(), in) || strings.Contains(err.Error(), in[:12]) {
			t.Errorf("CheckResidentID(%q) = %v: want an error that does not repeat the number", in, err)
		}
	}
}

func TestNormalizeResidentID(t *testing.T) {
	tests := []struct{ in, want string }{
		{"11010519491231002x", "11010519491231002X"},
		{"  11010519491231002x\t", "11010519491231002X"},
		{"\u300011010519491231002X\u3000", "11010519491231002X"},
		{idXifeng, idXifeng},
		{"x123", "x123"},
		{"", ""},
	}
	for _, tt := range tests {
		if got := casework.NormalizeResidentID(tt.in); got != tt.want {
			t.Errorf("NormalizeResidentID(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestCheckUnifiedSocialCreditCode(t *testing.T) {
	valid := []string{
		usccExample,
		withUSCCCheck(t, "91621002MA7KQ8R2X"),
		withUSCCCheck(t, "12621000438925604"), // a public institution
		withUSCCCheck(t, "53621002MJY000001"),
	}
	for _, s := range valid {
		if err := casework.CheckUnifiedSocialCreditCode(s); err != nil {
			t.Errorf("CheckUnifiedSocialCreditCode(%q) = %v, want nil", s, err)
		}
	}
	tests := []struct {
		name, in, want string
	}{
		{"empty", "", "must be 18 characters, got 0"},
		{"17 characters", usccExample[:17], "must be 18 characters, got 17"},
		{"old organization code", "79075467-X", "must be 18 characters, got 10"},
		{"check character", "91350100M000100Y44", "check character should be 3, not 4: the code was probably mistyped"},
		{"letter O for zero", "91350100MO00100Y43", "character 10 is the letter O, which the code never uses: perhaps the digit 0 was meant"},
		{"letter I for one", "9I350100M000100Y43", "character 2 is the letter I"},
		{"letter S", "91350100M000100S43", "perhaps the digit 5 was meant"},
		{"letter Z", "91350100M000100Z43", "perhaps the digit 2 was meant"},
		{"letter V", "91350100M000100V43", "character 16 is the letter V, which the code never uses"},
		{"lower case", "91350100m000100Y43", "character 9 is the lower-case 'm': letters in the code are upper case"},
		{"hyphen", "91350100-000100Y43", "character 9 is '-': the code has only digits and upper-case letters"},
		{"full-width", "９1350100M000100Y43", "the full-width '９'"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := casework.CheckUnifiedSocialCreditCode(tt.in)
			if err == nil {
				t.Fatalf("CheckUnifiedSocialCreditCode(%q) = nil, want an error containing %q", tt.in, tt.want)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("CheckUnifiedSocialCreditCode(%q) = %q, want it to contain %q", tt.in, err, tt.want)
			}
		})
	}
}

// TestCheckUnifiedSocialCreditCodeCatchesOneCharacterErrors changes each
// character of a valid code to every other character of the charset: the
// modulus 31 is prime, so every such change must be caught.
func TestCheckUnifiedSocialCreditCodeCatchesOneCharacterErrors(t *testing.T) {
	const charset = "0123456789ABCDEFGHJKLMNPQRTUWXY"
	for i := range len(usccExample) {
		for _, c := range []byte(charset) {
			if c == usccExample[i] {
				continue
			}
			changed := usccExample[:i] + string(c) + usccExample[i+1:]
			if casework.CheckUnifiedSocialCreditCode(changed) == nil {
				t.Errorf("%q (character %d changed) passes", changed, i+1)
			}
		}
	}
}

func TestCheckMobilePhone(t *testing.T) {
	valid := []struct{ in, normal string }{
		{"13812345678", "13812345678"},
		{"19912345678", "19912345678"},
		{"138 1234 5678", "13812345678"},
		{"138-1234-5678", "13812345678"},
		{"+8613812345678", "13812345678"},
		{"+86 138 1234 5678", "13812345678"},
		{"+86-138-1234-5678", "13812345678"},
		{"8613812345678", "13812345678"},
		{" 13812345678 ", "13812345678"},
		{"0934-8621234", "0934-8621234"},
		{"09348621234", "0934-8621234"},
		{"0934 8621234", "0934-8621234"},
		{"0934-86212345", "0934-86212345"},
		{"010-62345678", "010-62345678"},
		{"01062345678", "010-62345678"},
		{"021-6234567", "021-6234567"},
		{"0934-8621234-123", "0934-8621234-123"},
		{"09348621234-8", "0934-8621234-8"},
		{"0934 862 1234", "0934-8621234"},
	}
	for _, tt := range valid {
		if err := casework.CheckMobilePhone(tt.in); err != nil {
			t.Errorf("CheckMobilePhone(%q) = %v, want nil", tt.in, err)
		}
		got := casework.NormalizePhone(tt.in)
		if got != tt.normal {
			t.Errorf("NormalizePhone(%q) = %q, want %q", tt.in, got, tt.normal)
		}
		if err := casework.CheckMobilePhone(got); err != nil {
			t.Errorf("CheckMobilePhone(NormalizePhone(%q)) = %v, want nil", tt.in, err)
		}
		if again := casework.NormalizePhone(got); again != got {
			t.Errorf("NormalizePhone(%q) = %q, want it unchanged", got, again)
		}
	}

	invalid := []struct {
		name, in, want string
	}{
		{"empty", "", "required: a mobile number such as 13812345678 or a landline such as 0934-8621234"},
		{"blank", "   ", "required"},
		{"10 digits", "1381234567", "a mobile number has 11 digits, got 10"},
		{"12 digits", "138123456789", "a mobile number has 11 digits, got 12"},
		{"begins 12", "12812345678", "a mobile number begins with 13 to 19, not 12"},
		{"begins 10", "10812345678", "not 10"},
		{"+86 and 10 digits", "+86 138 1234 567", "a mobile number has 11 digits, got 10"},
		{"+86 alone", "+86", "a mobile number has 11 digits, got 0"},
		{"foreign", "+1 415 555 0100", "only mainland numbers are accepted"},
		{"international prefix", "0085212345678", "only mainland numbers are accepted"},
		{"+86 landline", "+86 934 8621234", "a mobile number has 11 digits, got 10"},
		{"86 and not a mobile", "8627000000000", "a mobile number begins with 13 to 19, not 27"},
		{"+86 0 landline", "+86 0934 8621234", "after +86 only a mobile number is accepted"},
		{"letters", "138abcd5678", "contains 'a': a phone number has only digits, spaces and hyphens"},
		{"full-width digits", "１３８１２３４５６７８", "contains the full-width '１'"},
		{"parentheses", "(0934)8621234", "contains '('"},
		{"neither", "5551234", "must begin with 1 (a mobile number) or with the area code of a landline"},
		{"short local number", "0934-862123", "the number after area code 0934 must have 7 or 8 digits, got 6"},
		{"long local number", "0934-862123456", "the number after area code 0934 must have 7 or 8 digits, got 9"},
		{"local number begins 1", "010-12345678", "the number after area code 010 cannot begin with 1"},
		{"local number begins 0", "0934-0621234", "cannot begin with 0"},
		{"3-digit area code that is not one", "093-48621234", "area code 093 does not exist"},
		{"4-digit area code beginning 02", "0291-8621234", "area code 0291 does not exist"},
		{"01x other than 010", "011-62345678", "area code 011 does not exist"},
		{"area code alone", "0934", "the number after area code 0934 must have 7 or 8 digits, got 0"},
		{"3-digit area code alone", "093", "a landline needs its area code and a 7- or 8-digit number"},
		{"0", "0", "area code 0 is too short"},
		{"hyphen only", "-", "required"},
		{"doubled hyphen", "0934--8621234", "write a landline as area code, number and optional extension"},
		{"trailing hyphen", "0934-8621234-", "write a landline as area code"},
		{"leading hyphen", "-0934-8621234", "write a landline as area code"},
		{"too many groups", "0934-862-1234-5", "write a landline as area code"},
		{"long extension", "0934-8621234-1234567", "an extension has at most 6 digits, got 7"},
	}
	for _, tt := range invalid {
		t.Run(tt.name, func(t *testing.T) {
			err := casework.CheckMobilePhone(tt.in)
			if err == nil {
				t.Fatalf("CheckMobilePhone(%q) = nil, want an error containing %q", tt.in, tt.want)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("CheckMobilePhone(%q) = %q, want it to contain %q", tt.in, err, tt.want)
			}
			if got := casework.NormalizePhone(tt.in); got != strings.TrimSpace(tt.in) {
				t.Errorf("NormalizePhone(%q) = %q, want the input trimmed", tt.in, got)
			}
		})
	}
}

func TestMaskIDNumber(t *testing.T) {
	tests := []struct{ in, want string }{
		{"62100219850315002X", "6210**********002X"},
		{" 621002198503150023 ", "6210**********0023"},
		{"621002850315002", "6210*******5002"}, // a 15-digit number of the first generation
		{"123456789012", "1234****9012"},
		{"E12345678", "*******78"}, // a passport
		{"12345678901", "*********01"},
		{"123", "*23"},
		{"12", "**"},
		{"7", "*"},
		{"", ""},
		{"港澳居民来往内地通行证", "*********行证"},
	}
	for _, tt := range tests {
		got := casework.MaskIDNumber(tt.in)
		if got != tt.want {
			t.Errorf("MaskIDNumber(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestMaskPhone(t *testing.T) {
	tests := []struct{ in, want string }{
		{"13812345678", "138****5678"},
		{"+86 138-1234-5678", "138****5678"},
		{"0934-8621234", "0934-*****34"},
		{"09348621234", "0934-*****34"},
		{"010-62345678", "010-******78"},
		{"0934-8621234-123", "0934-*****34-***"},
		{"12345", "***45"}, // not a phone number: only the last 2 stay
		{"5", "*"},
		{"", ""},
	}
	for _, tt := range tests {
		got := casework.MaskPhone(tt.in)
		if got != tt.want {
			t.Errorf("MaskPhone(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func FuzzCheckResidentID(f *testing.F) {
	for _, s := range []string{
		idStandardExample, idXifeng, idBefore1900, "11010519491231002x",
		"", "1", "621002198503150024", "62100219991332002X", "６21002198503150023",
		"62100220260302002X", "\xff\xfe21002198503150023", "99100219850315002X",
	} {
		f.Add(s)
	}
	weights := []int{7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2}
	f.Fuzz(func(t *testing.T, s string) {
		err := casework.CheckResidentID(s, idNow)
		norm := casework.NormalizeResidentID(s)
		if casework.NormalizeResidentID(norm) != norm {
			t.Errorf("NormalizeResidentID is not idempotent on %q", s)
		}
		if err != nil {
			if msg := err.Error(); msg == "" || !utf8.ValidString(msg) {
				t.Errorf("CheckResidentID(%q): error message %q is empty or not UTF-8", s, msg)
			}
			return
		}
		if len(s) != 18 {
			t.Fatalf("CheckResidentID(%q) = nil for an input of %d bytes", s, len(s))
		}
		sum := 0
		for i, w := range weights {
			if s[i] < '0' || s[i] > '9' {
				t.Fatalf("CheckResidentID(%q) = nil with a non-digit at %d", s, i+1)
			}
			sum += int(s[i]-'0') * w
		}
		want := "10X98765432"[sum%11]
		if got := strings.ToUpper(s[17:]); got != string(want) {
			t.Fatalf("CheckResidentID(%q) = nil, but the check digit should be %c", s, want)
		}
		if casework.CheckResidentID(norm, idNow) != nil {
			t.Errorf("CheckResidentID(NormalizeResidentID(%q)) fails", s)
		}
		if masked := casework.MaskIDNumber(s); masked[4:14] != "**********" {
			t.Errorf("MaskIDNumber(%q) = %q: the middle is not masked", s, masked)
		}
	})
}

func FuzzPhone(f *testing.F) {
	for _, s := range []string{
		"13812345678", "+86 138 1234 5678", "0934-8621234-123", "09348621234", "010-62345678",
		"", "+", "+86", "-", "0", "0-", "00", "0934--1", "８６", "86", "8601", "8627000000000",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		err := casework.CheckMobilePhone(s)
		norm := casework.NormalizePhone(s)
		masked := casework.MaskPhone(s)
		if utf8.RuneCountInString(strings.TrimSpace(s)) > 2 && !strings.Contains(masked, "*") {
			t.Errorf("MaskPhone(%q) = %q: nothing is masked", s, masked)
		}
		if err != nil {
			return
		}
		if errNorm := casework.CheckMobilePhone(norm); errNorm != nil {
			t.Fatalf("CheckMobilePhone(%q) = nil but CheckMobilePhone(NormalizePhone) = %v", s, errNorm)
		}
		if again := casework.NormalizePhone(norm); again != norm {
			t.Errorf("NormalizePhone not idempotent: %q → %q → %q", s, norm, again)
		}
		if strings.ContainsAny(norm, " +") {
			t.Errorf("NormalizePhone(%q) = %q", s, norm)
		}
		if casework.MaskPhone(norm) != masked {
			t.Errorf("MaskPhone(%q) = %q but MaskPhone(%q) = %q", s, masked, norm, casework.MaskPhone(norm))
		}
	})
}

func TestAgeOn(t *testing.T) {
	d := func(s string) time.Time {
		v, err := time.Parse(time.DateOnly, s)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	for _, tc := range []struct {
		born, on string
		want     int
	}{
		{"2000-03-01", "2025-03-01", 25}, // day-of-year would say 24: 2000 is a leap year
		{"2001-03-01", "2024-02-29", 22}, // and 23 here
		{"2000-02-29", "2025-02-28", 24},
		{"2000-02-29", "2025-03-01", 25},
		{"1950-05-01", "2026-04-30", 75},
		{"1950-05-01", "2026-05-01", 76},
	} {
		if got := casework.AgeOn(d(tc.born), d(tc.on)); got != tc.want {
			t.Errorf("AgeOn(%s, %s) = %d, want %d", tc.born, tc.on, got, tc.want)
		}
	}
}
