package casework_test

import (
	"errors"
	"regexp"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/mediationd/mediationd/internal/casework"
)

// validatorsNow is the current time of FuzzValidators: birth dates in
// resident ID numbers may not lie after it.
var validatorsNow = time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)

// yuanPattern is the rule the protos give Obligation.amount; ParseYuan
// must accept exactly the strings it matches, so that what passed
// protovalidate never fails later in the service, and the other way round.
var yuanPattern = regexp.MustCompile(`^[0-9]{1,12}([.][0-9]{1,2})?$`)

// exampleNumbers are the numbers the validators' messages quote as
// examples; a fuzzed value that is part of one of them may legitimately
// appear in a message.
var exampleNumbers = []string{"13812345678", "0934-8621234-123", "0934-8621234", "甘1002"}

// FuzzValidators feeds the identity, phone and money validators, the masks
// and NewCase.Validate with arbitrary strings. Besides not panicking:
//
//   - a mask keeps the value's length in runes and shows at most the first
//     and last 4 characters of an ID number of 12 or more (8 of an
//     18-character resident ID), the last 2 of a shorter one, and of a
//     phone number at most its first 3 and last 4 digits (mobile), its area
//     code and last 2 digits (landline) or its last 2 characters (invalid);
//   - a resident ID that validates still validates after
//     NormalizeResidentID, and any single changed digit makes it fail;
//   - a unified social credit code that validates has the check character
//     GB 32100 gives it;
//   - ParseYuan accepts exactly the protos' amount pattern and round-trips
//     through FormatYuan;
//   - NewCase.Validate returns nil or a *casework.FieldError on a case.*
//     field, in valid UTF-8, that does not repeat an ID or phone number;
//     normalizing twice changes nothing.
func FuzzValidators(f *testing.F) {
	// idNumber, phone, amount, summary, regionCode, partyName, partyID,
	// disputeType, source, role, idType
	f.Add("621002198503150023", "13809341234", "5000.50", "赡养费纠纷：申请人要求被申请人每月支付赡养费", "621002",
		"王秀英", "p1", "MARRIAGE_FAMILY", "WALK_IN", "APPLICANT", "RESIDENT_ID_CARD")
	f.Add("62100219850315002x", "+86 138 0934 1234", "800", "邻里纠纷", "621021",
		"张三", "", "NEIGHBOR", "HOTLINE_12348", "APPLICANT", "RESIDENT_ID_CARD")
	f.Add("621002198503150024", "0934-8621234", "0.5", "合同纠纷", "621000",
		"李四", "a-1", "CONTRACT_DEBT", "ONLINE", "RESPONDENT", "RESIDENT_ID_CARD")
	f.Add("91350100M000100Y43", "0934-8621234-123", "999999999999.99", "劳动争议：拖欠工资", "620000",
		"某某建筑有限公司", "co", "LABOR", "POLICE", "APPLICANT", "UNIFIED_SOCIAL_CREDIT_CODE")
	f.Add("E12345678", "09348621234", "1.", "", "021002",
		" ", "agent", "OTHER", "COURT_DELEGATED", "AGENT", "PASSPORT")
	f.Add("", "", "", "   ", "62100", "王建国", "p1", "", "", "", "")
	f.Add(" 621002195005010024 ", "138-0934-1234", "00012.3", "x", "621002",
		"王建国", "P-2", "DAMAGES", "GRID_SWEEP", "THIRD_PARTY", "RESIDENT_ID_CARD")
	f.Add("６21002198503150023", "１３８０９３４１２３４", "５０", "\xff", "62100２",
		"\xffname", "p\xff", "MARRIAGE_FAMILY", "WALK_IN", "APPLICANT", "RESIDENT_ID_CARD")

	f.Fuzz(func(t *testing.T, idNumber, phone, amount, summary, regionCode, partyName, partyID, disputeType, source, role, idType string) {
		checkIDValidators(t, idNumber)
		checkPhoneValidators(t, phone)
		checkYuan(t, amount)

		n := casework.NewCase{
			DisputeType: casework.DisputeType(disputeType),
			Source:      casework.Source(source),
			Summary:     summary,
			RegionCode:  regionCode,
			Parties: []casework.Party{
				{
					Name: partyName, ID: partyID, Role: casework.PartyRole(role),
					IDType: casework.IDType(idType), IDNumber: idNumber, Phone: phone,
					Address: "西峰区肖金镇米王村十二号",
				},
				{
					Name: "王建国", Role: casework.RoleRespondent,
					IDType: casework.IDResidentCard, IDNumber: idNumber, Phone: phone,
				},
			},
		}
		if idType == string(casework.IDUnifiedSocialCreditCode) {
			n.Parties[1].Name, n.Parties[1].Kind = "西峰区某商贸有限公司", casework.KindLegalPerson
			n.Parties[1].IDType = casework.IDUnifiedSocialCreditCode
		}
		if role == string(casework.RoleAgent) {
			n.Parties[0].RepresentedPartyIDs = []string{"p1", "p2"}
		}
		others := []string{summary, regionCode, partyName, partyID, disputeType, source, role, idType, "p1", "p2"}

		// The raw registration: Validate must cope with what Normalize
		// would have cleaned.
		checkValidateError(t, n.Validate(validatorsNow), idNumber, phone, others)

		norm := n
		norm.Normalize()
		err := norm.Validate(validatorsNow)
		checkValidateError(t, err, idNumber, phone, others)

		again := norm
		again.Normalize()
		if string(again.Hash()) != string(norm.Hash()) {
			t.Errorf("Normalize is not idempotent: %+v, then %+v", norm, again)
		}
		if err2 := again.Validate(validatorsNow); (err == nil) != (err2 == nil) {
			t.Errorf("Validate after one Normalize: %v; after two: %v", err, err2)
		}
		if err != nil {
			return
		}
		// A registration that validates has what the API promises.
		if !regexp.MustCompile(`^[1-9][0-9]{5}$`).MatchString(norm.RegionCode) {
			t.Errorf("region code %q validated", norm.RegionCode)
		}
		for i, p := range norm.Parties {
			if p.IDType == casework.IDResidentCard {
				if err := casework.CheckResidentID(p.IDNumber, validatorsNow); err != nil {
					t.Errorf("parties[%d]: stored ID number %q does not validate: %v", i, p.IDNumber, err)
				}
			}
			if p.Phone != "" && casework.NormalizePhone(p.Phone) != p.Phone {
				t.Errorf("parties[%d]: stored phone %q is not normalized", i, p.Phone)
			}
		}
	})
}

// checkValidateError checks an error of NewCase.Validate: a FieldError on
// a case field, in valid UTF-8, that repeats neither the ID number nor
// the phone number.
func checkValidateError(t *testing.T, err error, idNumber, phone string, others []string) {
	t.Helper()
	if err == nil {
		return
	}
	var fe *casework.FieldError
	if !errors.As(err, &fe) {
		t.Fatalf("Validate returned %T %v, want *casework.FieldError", err, err)
	}
	if !strings.HasPrefix(fe.Field, "case.") || fe.Message == "" {
		t.Errorf("Validate: field %q, message %q", fe.Field, fe.Message)
	}
	if !utf8.ValidString(fe.Field) || !utf8.ValidString(fe.Message) {
		t.Errorf("Validate: field %q or message %q is not valid UTF-8 (it goes into a protobuf string)", fe.Field, fe.Message)
	}
	msg := err.Error()
	for _, secret := range personalNumberForms(idNumber, phone) {
		if revealable(secret, others) && strings.Contains(msg, secret) {
			t.Errorf("Validate's error repeats the personal number %q: %s", secret, msg)
		}
	}
}

// personalNumberForms returns the spellings of an ID and a phone number
// that an error message must not repeat.
func personalNumberForms(idNumber, phone string) []string {
	return []string{
		strings.TrimSpace(idNumber), casework.NormalizeResidentID(idNumber), strings.ToUpper(strings.TrimSpace(idNumber)),
		strings.TrimSpace(phone), casework.NormalizePhone(phone),
	}
}

// revealable reports whether s would identify a person if a message
// repeated it: a number-like value of 12 characters or more that is not
// part of another input or of an example the messages quote.
func revealable(s string, others []string) bool {
	if utf8.RuneCountInString(s) < 12 {
		return false
	}
	for _, r := range s {
		if !strings.ContainsRune("0123456789Xx+- ", r) {
			return false
		}
	}
	for _, o := range append(others, exampleNumbers...) {
		if strings.Contains(o, s) {
			return false
		}
	}
	return true
}

func checkIDValidators(t *testing.T, s string) {
	t.Helper()
	residentErr := casework.CheckResidentID(s, validatorsNow)
	usccErr := casework.CheckUnifiedSocialCreditCode(s)
	for _, err := range []error{residentErr, usccErr} {
		if err != nil && (err.Error() == "" || !utf8.ValidString(err.Error())) {
			t.Errorf("%q: error message %q is empty or not UTF-8", s, err.Error())
		}
	}

	// The mask.
	trimmed := []rune(strings.TrimSpace(s))
	masked := casework.MaskIDNumber(s)
	out := []rune(masked)
	if len(out) != len(trimmed) {
		t.Fatalf("MaskIDNumber(%q) = %q: %d runes for %d", s, masked, len(out), len(trimmed))
	}
	keepHead, keepTail := 0, 2
	if len(trimmed) >= 12 {
		keepHead, keepTail = 4, 4
	}
	if len(trimmed) <= keepTail {
		keepTail = 0
	}
	shown := 0
	for i, r := range out {
		visible := i < keepHead || i >= len(out)-keepTail
		switch {
		case visible && r != trimmed[i]:
			t.Fatalf("MaskIDNumber(%q) = %q: character %d changed", s, masked, i+1)
		case !visible && r != '*':
			t.Fatalf("MaskIDNumber(%q) = %q: character %d is not masked", s, masked, i+1)
		case visible:
			shown++
		}
	}
	if len(trimmed) == 18 && shown > 8 {
		t.Fatalf("MaskIDNumber(%q) = %q shows %d characters of an 18-character number", s, masked, shown)
	}

	if residentErr == nil {
		norm := casework.NormalizeResidentID(s)
		if err := casework.CheckResidentID(norm, validatorsNow); err != nil {
			t.Fatalf("CheckResidentID(%q) = nil but CheckResidentID(NormalizeResidentID) = %v", s, err)
		}
		if norm != strings.ToUpper(s) || strings.ContainsRune(norm, 'x') {
			t.Errorf("NormalizeResidentID(%q) = %q", s, norm)
		}
		// MOD 11-2 catches every single mistyped character.
		b := []byte(norm)
		for i := range b {
			orig := b[i]
			for _, c := range []byte("0123456789X") {
				if c == orig || (c == 'X' && i < 17) {
					continue
				}
				b[i] = c
				if casework.CheckResidentID(string(b), validatorsNow) == nil {
					t.Fatalf("CheckResidentID(%q) = nil: one character away from the valid %q", b, norm)
				}
			}
			b[i] = orig
		}
	}

	if usccErr == nil {
		const charset = "0123456789ABCDEFGHJKLMNPQRTUWXY"
		weights := []int{1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28}
		if len(s) != 18 {
			t.Fatalf("CheckUnifiedSocialCreditCode(%q) = nil for %d bytes", s, len(s))
		}
		sum := 0
		for i, w := range weights {
			v := strings.IndexByte(charset, s[i])
			if v < 0 {
				t.Fatalf("CheckUnifiedSocialCreditCode(%q) = nil with %q at %d", s, s[i], i+1)
			}
			sum += v * w
		}
		if want := charset[(31-sum%31)%31]; s[17] != want {
			t.Fatalf("CheckUnifiedSocialCreditCode(%q) = nil, but the check character is %c", s, want)
		}
	}
}

func checkPhoneValidators(t *testing.T, s string) {
	t.Helper()
	err := casework.CheckMobilePhone(s)
	norm := casework.NormalizePhone(s)
	masked := casework.MaskPhone(s)
	digits := 0
	for _, r := range masked {
		if r >= '0' && r <= '9' {
			digits++
		}
	}
	if err != nil {
		if msg := err.Error(); msg == "" || !utf8.ValidString(msg) {
			t.Errorf("CheckMobilePhone(%q): error message %q is empty or not UTF-8", s, msg)
		}
		if norm != strings.TrimSpace(s) {
			t.Errorf("NormalizePhone(%q) = %q for an invalid number, want it trimmed only", s, norm)
		}
		trimmed := []rune(strings.TrimSpace(s))
		if n := utf8.RuneCountInString(masked); n != len(trimmed) {
			t.Fatalf("MaskPhone(%q) = %q: %d runes for %d", s, masked, n, len(trimmed))
		}
		if digits > 2 {
			t.Fatalf("MaskPhone(%q) = %q shows %d digits of an invalid number", s, masked, digits)
		}
		return
	}
	if casework.CheckMobilePhone(norm) != nil || casework.NormalizePhone(norm) != norm {
		t.Fatalf("NormalizePhone(%q) = %q, which is not a normalized valid number", s, norm)
	}
	parts := strings.Split(norm, "-")
	if len(parts) == 1 {
		if len(norm) != 11 || masked != norm[:3]+"****"+norm[7:] {
			t.Fatalf("MaskPhone(%q) = %q for the mobile number %q", s, masked, norm)
		}
		return
	}
	area, local := parts[0], parts[1]
	if !strings.HasPrefix(masked, area+"-") || strings.Contains(masked, local) || digits > len(area)+2 {
		t.Fatalf("MaskPhone(%q) = %q for the landline %q", s, masked, norm)
	}
}

func checkYuan(t *testing.T, s string) {
	t.Helper()
	fen, err := casework.ParseYuan(s)
	if want := yuanPattern.MatchString(s); (err == nil) != want {
		t.Fatalf("ParseYuan(%q) = %d, %v; the protos' amount pattern matches: %v", s, fen, err, want)
	}
	if err != nil {
		return
	}
	if fen < 0 {
		t.Fatalf("ParseYuan(%q) = %d", s, fen)
	}
	// The value, computed digit by digit.
	whole, frac, _ := strings.Cut(s, ".")
	frac += strings.Repeat("0", 2-len(frac))
	var want int64
	for _, c := range whole + frac {
		want = want*10 + int64(c-'0')
	}
	if fen != want {
		t.Fatalf("ParseYuan(%q) = %d, want %d", s, fen, want)
	}
	formatted := casework.FormatYuan(fen)
	back, err := casework.ParseYuan(formatted)
	if err != nil || back != fen {
		t.Fatalf("ParseYuan(%q) = %d; FormatYuan = %q; ParseYuan of that = %d, %v", s, fen, formatted, back, err)
	}
}
