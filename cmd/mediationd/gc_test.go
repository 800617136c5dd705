package main

import (
	"runtime/debug"
	"testing"
)

// TestTuneGC checks that the service sets its collector goal only when the
// operator set none through GOGC.
func TestTuneGC(t *testing.T) {
	prev := debug.SetGCPercent(100)
	t.Cleanup(func() { debug.SetGCPercent(prev) })

	tuneGC(func(k string) string {
		if k == "GOGC" {
			return "150"
		}
		return ""
	})
	if got := debug.SetGCPercent(100); got != 100 {
		t.Errorf("with GOGC set, the goal became %d; want it left as the runtime read it", got)
	}

	tuneGC(func(string) string { return "" })
	if got := debug.SetGCPercent(100); got != gcPercent {
		t.Errorf("without GOGC, the goal is %d; want %d", got, gcPercent)
	}
}
