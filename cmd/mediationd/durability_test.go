package main

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"testing"

	"github.com/mediationd/mediationd/internal/pgtest"
	"github.com/mediationd/mediationd/internal/store"
)

// TestDurabilityWarning: against a database without a synchronous standby
// (the test server), the service warns once, saying what to set; for the
// private cluster, which has no standby by design, it only notes it at
// info level.
func TestDurabilityWarning(t *testing.T) {
	st, err := store.Open(context.Background(), pgtest.NewDatabase(t), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	for _, private := range []bool{false, true} {
		var buf bytes.Buffer
		log := slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelInfo}))
		checkDurability(context.Background(), st, private, log)
		out := buf.String()
		warnings := strings.Count(out, "level=WARN")
		switch {
		case !private && (warnings != 1 || !strings.Contains(out, "synchronous_mode_strict: true")):
			t.Errorf("external database: %d warnings, want one naming synchronous_mode_strict:\n%s", warnings, out)
		case private && (warnings != 0 || !strings.Contains(out, "level=INFO") || !strings.Contains(out, "no standby")):
			t.Errorf("private cluster: want one info line and no warning:\n%s", out)
		}
	}
}
