package api

import (
	"strings"
	"testing"
	"unicode/utf8"
)

// runeMaskedAddress is maskedAddress without its shortcut.
func runeMaskedAddress(a string) string {
	const keep = 3
	if utf8.RuneCountInString(a) <= keep {
		return strings.Repeat("*", utf8.RuneCountInString(a))
	}
	r := []rune(a)
	return string(r[:keep]) + "****"
}

var addressSamples = []string{"", "a", "西峰", "西峰区", "西峰区肖", "西峰区肖金镇米王村", "abc", "abcd", "a\xffbc", "西\xff峰区肖",
	"西峰区\xff", "\xe8\xa5", "西峰区\xe8\xa5", "😀😀😀😀", "西 峰 区"}

// TestMaskedAddressAsBefore checks maskedAddress against how it masked
// before its shortcut, on the samples.
func TestMaskedAddressAsBefore(t *testing.T) {
	for _, a := range addressSamples {
		if got, want := maskedAddress(a), runeMaskedAddress(a); got != want {
			t.Errorf("maskedAddress(%q) = %q, want %q", a, got, want)
		}
	}
}

// FuzzMaskedAddress is TestMaskedAddressAsBefore on any input.
func FuzzMaskedAddress(f *testing.F) {
	for _, a := range addressSamples {
		f.Add(a)
	}
	f.Fuzz(func(t *testing.T, a string) {
		if got, want := maskedAddress(a), runeMaskedAddress(a); got != want {
			t.Errorf("maskedAddress(%q) = %q, want %q", a, got, want)
		}
	})
}

func BenchmarkMaskedAddress(b *testing.B) {
	for _, fn := range []func(string) string{maskedAddress, runeMaskedAddress} {
		b.Run("", func(b *testing.B) {
			for b.Loop() {
				fn("西峰区肖金镇米王村")
			}
		})
	}
}
