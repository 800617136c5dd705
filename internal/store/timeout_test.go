package store_test

import (
	"context"
	"errors"
	"testing"

	"github.com/mediationd/mediationd/internal/store"
)

// TestStatementTimeout: the store's connections carry the statement
// timeout, and a statement it ends is told from the caller's own
// cancellation.
func TestStatementTimeout(t *testing.T) {
	st, _ := newStore(t)
	ctx := context.Background()
	var timeout string
	if err := st.Pool().QueryRow(ctx, `SHOW statement_timeout`).Scan(&timeout); err != nil {
		t.Fatal(err)
	}
	if timeout != "10s" {
		t.Errorf("statement_timeout = %q, want 10s", timeout)
	}

	tx, err := st.Pool().Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback(ctx)
	if _, err := tx.Exec(ctx, `SET LOCAL statement_timeout = 50`); err != nil {
		t.Fatal(err)
	}
	_, err = tx.Exec(ctx, `SELECT pg_sleep(5)`)
	if err == nil || !store.TooSlow(ctx, err) {
		t.Fatalf("a statement the timeout ended: %v, not told as too slow", err)
	}

	canceled, cancel := context.WithCancel(ctx)
	cancel()
	if store.TooSlow(canceled, err) {
		t.Error("a statement ended by the caller's cancellation was told as too slow")
	}
	if store.TooSlow(ctx, errors.New("other")) {
		t.Error("another error was told as too slow")
	}
}
