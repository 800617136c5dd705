package casework

import (
	"strings"
	"testing"
)

// maskSamples are identity and phone numbers as stored and as typed, valid
// and not, with the characters that change how they are counted.
var maskSamples = []string{
	"", " ", "1", "12", "123", "13909341234", "13909341234 ", " 13909341234", "12909341234", "1390934123", "139093412345",
	"1390934123x", "+8613909341234", "8613909341234", "139 0934 1234", "139-0934-1234", "0934-8621234", "0934-8621234-123",
	"09348621234", "010-12345678", "621002195005010024", "62100219500501002X", " 621002195005010024 ", "62100219500501",
	"91621000MA71234567", "６２１００２１９５００５０１００２４", "6210021950050100２4", "甲乙丙丁戊己庚辛壬癸子丑", "a\xffbcdefghijklm",
	"\xff\xfe\xfd\xfc\xfb\xfa\xf9\xf8\xf7\xf6\xf5\xf4", "0934-862123４",
}

// TestMaskShortcutsAsTheParse checks MaskPhone and MaskIDNumber against
// how they masked before their shortcuts, on the samples.
func TestMaskShortcutsAsTheParse(t *testing.T) {
	for _, s := range maskSamples {
		checkMasks(t, s)
	}
}

// FuzzMasks is TestMaskShortcutsAsTheParse on any input.
func FuzzMasks(f *testing.F) {
	for _, s := range maskSamples {
		f.Add(s)
	}
	f.Fuzz(checkMasks)
}

func checkMasks(t *testing.T, s string) {
	if got, want := MaskPhone(s), parsedMaskPhone(s); got != want {
		t.Errorf("MaskPhone(%q) = %q, want %q", s, got, want)
	}
	if got, want := MaskIDNumber(s), runeMaskIDNumber(s); got != want {
		t.Errorf("MaskIDNumber(%q) = %q, want %q", s, got, want)
	}
}

// parsedMaskPhone is MaskPhone without its shortcut.
func parsedMaskPhone(s string) string {
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

// runeMaskIDNumber is MaskIDNumber without its shortcut.
func runeMaskIDNumber(s string) string {
	rs := []rune(strings.TrimSpace(s))
	if len(rs) >= 12 {
		return string(rs[:4]) + strings.Repeat("*", len(rs)-8) + string(rs[len(rs)-4:])
	}
	return maskAllButLast(rs, 2)
}

func BenchmarkMasks(b *testing.B) {
	for _, bm := range []struct {
		name string
		fn   func(string) string
		in   string
	}{
		{"MaskPhone/mobile", MaskPhone, "13909341234"}, {"parsedMaskPhone/mobile", parsedMaskPhone, "13909341234"},
		{"MaskIDNumber", MaskIDNumber, "621002195005010024"}, {"runeMaskIDNumber", runeMaskIDNumber, "621002195005010024"},
	} {
		b.Run(bm.name, func(b *testing.B) {
			for b.Loop() {
				bm.fn(bm.in)
			}
		})
	}
}
