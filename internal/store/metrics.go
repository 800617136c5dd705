package store

import (
	"context"
	"fmt"
	"time"

	"github.com/mediationd/mediationd/internal/casework"
)

// Gauges is what the metrics report about the backlog: the outbox's
// undelivered rows and the open cases. It is read in one statement so that
// a scrape costs the database one round trip.
type Gauges struct {
	// OutboxPending is how many outbox rows wait for delivery.
	OutboxPending int64
	// OldestPending is the create time of the first undelivered outbox row
	// (the head of the queue, by insertion order); zero when none waits.
	OldestPending time.Time
	// Overdue is how many open cases (accepted, assigned or in mediation)
	// are flagged overdue.
	Overdue int64
	// Open counts the cases of each state but CLOSED; every open state is
	// present, with 0 when no case is in it.
	Open map[casework.State]int64
	// CommitsReplicated: the database acknowledges a commit only once a
	// synchronous standby has it (see Durability), as the service's
	// connections see the settings now; false on a single server.
	CommitsReplicated bool
}

// OpenStates are the states of a case that is not closed, the keys of
// Gauges.Open.
var OpenStates = []casework.State{
	casework.StateIntake, casework.StateAccepted, casework.StateAssigned,
	casework.StateMediating, casework.StateAgreed,
}

// gaugesSQL reads Gauges. The outbox parts use the outbox_pending partial
// index; the case counts the cases_state_seq index.
const gaugesSQL = `
SELECT
	(SELECT count(*) FROM outbox WHERE deliver_time IS NULL),
	(SELECT create_time FROM outbox WHERE deliver_time IS NULL ORDER BY id LIMIT 1),
	(SELECT count(*) FROM cases WHERE overdue AND state IN ('ACCEPTED', 'ASSIGNED', 'MEDIATING')),
	(SELECT coalesce(jsonb_object_agg(state, n), '{}'::jsonb)
	   FROM (SELECT state, count(*) AS n FROM cases WHERE state <> 'CLOSED' GROUP BY state) AS s),
	current_setting('synchronous_commit'), current_setting('synchronous_standby_names')`

// Gauges reads the backlog figures the metrics report.
func (s *Store) Gauges(ctx context.Context) (Gauges, error) {
	var (
		g      Gauges
		oldest *time.Time
		open   map[string]int64
		d      Durability
	)
	if err := s.pool.QueryRow(ctx, gaugesSQL).Scan(&g.OutboxPending, &oldest, &g.Overdue, &open,
		&d.SynchronousCommit, &d.SynchronousStandbyNames); err != nil {
		return Gauges{}, fmt.Errorf("read backlog gauges: %w", err)
	}
	if oldest != nil {
		g.OldestPending = *oldest
	}
	g.CommitsReplicated = d.replicated()
	g.Open = make(map[casework.State]int64, len(OpenStates))
	for _, st := range OpenStates {
		g.Open[st] = open[string(st)]
	}
	return g, nil
}
