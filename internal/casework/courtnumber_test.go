package casework

import "testing"

func TestNumberCourt(t *testing.T) {
	for _, tt := range []struct {
		number, court string
		ok            bool
	}{
		{"（2026）甘1002民特5号", "甘1002", true},
		{"（2026）甘1027民诉前调确12号", "甘1027", true},
		{" (2025)甘10民终3号 ", "甘10", true},
		{"〔2026〕京0105民初1号", "京0105", true},
		{"（2026）甘民终1号", "", false},    // a high court: no digits to compare
		{"（2026）最高法民申1号", "", false},  // likewise
		{"甘1002民特5号", "", false},      // no year
		{"（26）甘1002民特5号", "", false},  // not a year
		{"（2026甘1002民特5号", "", false}, // unclosed
		{"（2026）1002民特5号", "", false}, // no court character
		{"（2026）新m5", "", false},
		{"", "", false},
		{"民特字第5号", "", false},
	} {
		court, ok := NumberCourt(tt.number)
		if court != tt.court || ok != tt.ok {
			t.Errorf("NumberCourt(%q) = %q, %v; want %q, %v", tt.number, court, ok, tt.court, tt.ok)
		}
	}
}
