package server_test

import (
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/mediationd/mediationd/internal/pgtest"
	"github.com/mediationd/mediationd/internal/server"
)

// TestHousekeepingRuns checks that the server runs the housekeeping job by
// itself: failed sign-ins older than the throttling window disappear,
// recent ones stay.
func TestHousekeepingRuns(t *testing.T) {
	dsn := pgtest.NewDatabase(t)
	e := startWith(t, dsn, func(c *server.Config) {
		c.OverdueInterval = -1
		c.HousekeepingInterval = 50 * time.Millisecond
	})
	ctx := t.Context()
	now := time.Now()
	if _, err := e.store.Pool().Exec(ctx, `INSERT INTO login_failures (username, client_address, failure_time)
		VALUES ('old', '192.0.2.1', $1), ('recent', '192.0.2.1', $2)`, now.Add(-time.Hour), now); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		rows, err := e.store.Pool().Query(ctx, `SELECT username FROM login_failures ORDER BY username`)
		if err != nil {
			t.Fatal(err)
		}
		names, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			t.Fatal(err)
		}
		if len(names) == 1 && names[0] == "recent" {
			return
		}
		if len(names) == 0 || time.Now().After(deadline) {
			t.Fatalf("failed sign-ins left: %q, want only the recent one", names)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
