package store_test

import (
	"context"
	"maps"
	"testing"
	"time"

	"github.com/mediationd/mediationd/internal/casework"
	"github.com/mediationd/mediationd/internal/store"
)

// TestGauges checks the backlog figures against cases brought into every
// state, an overdue run and a partly delivered outbox.
func TestGauges(t *testing.T) {
	st, _ := newCaseStore(t)
	ctx := context.Background()

	g, err := st.Gauges(ctx)
	if err != nil {
		t.Fatal(err)
	}
	empty := map[casework.State]int64{}
	for _, s := range store.OpenStates {
		empty[s] = 0
	}
	if g.OutboxPending != 0 || !g.OldestPending.IsZero() || g.Overdue != 0 || !maps.Equal(g.Open, empty) {
		t.Errorf("empty database: %+v", g)
	}
	// The test server has no standby: the gauge says what Durability says.
	d, err := st.Durability(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if g.CommitsReplicated != d.Replicated || d.Replicated {
		t.Errorf("commits replicated: gauges %v, Durability %+v; want false on a server without a standby", g.CommitsReplicated, d)
	}

	want := map[casework.State]int64{}
	for _, s := range store.OpenStates {
		want[s] = 0
	}
	for _, s := range []casework.State{casework.StateIntake, casework.StateIntake, casework.StateAccepted,
		casework.StateAssigned, casework.StateMediating, casework.StateMediating, casework.StateAgreed, casework.StateClosed} {
		bring(t, st, s)
		if s != casework.StateClosed {
			want[s]++
		}
	}
	marked, err := st.MarkOverdue(ctx, t0.AddDate(1, 0, 0), 100)
	if err != nil {
		t.Fatal(err)
	}
	if marked == 0 {
		t.Fatal("the overdue run marked nothing; the test needs overdue cases")
	}
	// The oldest three rows are delivered; the head of the queue is the
	// fourth.
	if _, err := st.Pool().Exec(ctx, `UPDATE outbox SET deliver_time = $1 WHERE id IN (SELECT id FROM outbox ORDER BY id LIMIT 3)`, t0); err != nil {
		t.Fatal(err)
	}
	var pending int64
	var head time.Time
	if err := st.Pool().QueryRow(ctx, `SELECT (SELECT count(*) FROM outbox) - 3,
		(SELECT create_time FROM outbox ORDER BY id OFFSET 3 LIMIT 1)`).Scan(&pending, &head); err != nil {
		t.Fatal(err)
	}

	g, err = st.Gauges(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if g.OutboxPending != pending || !g.OldestPending.Equal(head) {
		t.Errorf("outbox: %d pending, oldest %v; want %d, %v", g.OutboxPending, g.OldestPending, pending, head)
	}
	if open := want[casework.StateAccepted] + want[casework.StateAssigned] + want[casework.StateMediating]; g.Overdue != int64(marked) || g.Overdue != open {
		t.Errorf("overdue = %d; the run marked %d of %d accepted, assigned or mediating cases", g.Overdue, marked, open)
	}
	if !maps.Equal(g.Open, want) {
		t.Errorf("open = %v, want %v", g.Open, want)
	}

	ctx, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := st.Gauges(ctx); err == nil {
		t.Error("Gauges with a cancelled context succeeded")
	}
}
