package store

import (
	"context"
	"fmt"
	"math"
	"strconv"
	"time"

	"github.com/google/uuid"

	"github.com/mediationd/mediationd/internal/aipfilter"
	"github.com/mediationd/mediationd/internal/casework"
	"github.com/mediationd/mediationd/internal/identity"
)

// FeedCursor is a position in the change feed: after the event of case
// CaseID at Version written by transaction TxID, in (TxID, CaseID,
// Version) order. The zero cursor is before every event.
type FeedCursor struct {
	TxID    uint64
	CaseID  uuid.UUID
	Version int64
}

// feedEnd is the largest case id, so that a cursor (t, feedEnd,
// MaxInt64) is after every event of transaction t.
var feedEnd = uuid.Must(uuid.Parse("ffffffff-ffff-ffff-ffff-ffffffffffff"))

// feedFilter is what ListCaseChanges' filter may name.
var feedFilter = aipfilter.Schema{
	"case": {Column: "('cases/' || e.case_id::text)", Type: aipfilter.String, Validate: func(lit string) error {
		if !casePattern.MatchString(lit) {
			return fmt.Errorf("a case is cases/{uuid}, as in Case.name")
		}
		return nil
	}},
	"action": enumField("e.action", append([]casework.Action{casework.ActionCreate}, casework.Actions...)),
}

// ListCaseChanges reads the events of the cases in scope after the
// cursor, oldest first by writing transaction, at most limit, filtered
// (AIP-160 over case and action). It returns only events of transactions
// below the oldest one still running, so that none can commit later
// behind the cursor it returns; that cursor is where the next call
// continues, also when the page is empty.
func (s *Store) ListCaseChanges(ctx context.Context, after FeedCursor, filter string, spell aipfilter.Spelling, limit int, scope identity.CaseScope) ([]casework.Event, FeedCursor, error) {
	where, args, err := compileFilter(filter, spell, feedFilter, 1)
	if err != nil {
		return nil, after, err
	}
	args = append(args, strconv.FormatUint(after.TxID, 10), after.CaseID, after.Version, limit)
	n := len(args)
	cond := scopeCondition(scope, &args)
	// One statement, one snapshot: the horizon is the oldest transaction
	// running when the page was read; every transaction below it has ended,
	// so the events below it are all visible now and none can appear later.
	rows, err := s.pool.Query(ctx, fmt.Sprintf(`WITH horizon AS MATERIALIZED (SELECT pg_snapshot_xmin(pg_current_snapshot()) AS xmin),
		page AS (
			SELECT e.txid, e.case_id, e.version, e.action, e.from_state, e.to_state, e.outcome, e.actor, e.occur_time, e.request_id, e.data
			FROM case_events e JOIN cases c ON c.id = e.case_id
			WHERE (e.txid, e.case_id, e.version) > ($%d::xid8, $%d::uuid, $%d::bigint)
				AND e.txid < (SELECT xmin FROM horizon)
				AND (%s) AND %s
			ORDER BY e.txid, e.case_id, e.version LIMIT $%d
		)
		SELECT h.xmin::text, p.txid::text, p.case_id, p.version, p.action, p.from_state, p.to_state, p.outcome, p.actor, p.occur_time, p.request_id, p.data
		FROM horizon h LEFT JOIN page p ON true
		ORDER BY p.txid, p.case_id, p.version`, n-3, n-2, n-1, where, cond, n), args...)
	if err != nil {
		return nil, after, fmt.Errorf("list case changes: %w", err)
	}
	defer rows.Close()
	var out []casework.Event
	next := after
	var horizon uint64
	for rows.Next() {
		var xmin string
		var txid *string
		var caseID *uuid.UUID
		var version *int64
		var action *casework.Action
		var from, to *casework.State
		var outcome *casework.Outcome
		var actor *string
		var t *time.Time
		var rid *uuid.UUID
		var data *casework.EventData
		if err := rows.Scan(&xmin, &txid, &caseID, &version, &action, &from, &to, &outcome, &actor, &t, &rid, &data); err != nil {
			return nil, after, fmt.Errorf("list case changes: %w", err)
		}
		if horizon, err = strconv.ParseUint(xmin, 10, 64); err != nil {
			return nil, after, fmt.Errorf("list case changes: horizon %q: %w", xmin, err)
		}
		if txid == nil {
			continue // no event: the row only carries the horizon
		}
		tx, err := strconv.ParseUint(*txid, 10, 64)
		if err != nil {
			return nil, after, fmt.Errorf("list case changes: transaction id %q: %w", *txid, err)
		}
		ev := casework.Event{CaseID: *caseID, Version: *version, Action: *action, From: *from, To: *to, Outcome: *outcome, Actor: *actor, Time: *t, Data: *data}
		if rid != nil {
			ev.RequestID = rid.String()
		}
		out = append(out, ev)
		next = FeedCursor{TxID: tx, CaseID: ev.CaseID, Version: ev.Version}
	}
	if err := rows.Err(); err != nil {
		return nil, after, fmt.Errorf("list case changes: %w", err)
	}
	if len(out) < limit && horizon > 0 {
		// Every event below the horizon was read: the next page starts
		// there, so that a court's poll does not rescan older events of
		// other courts.
		if end := (FeedCursor{TxID: horizon - 1, CaseID: feedEnd, Version: math.MaxInt64}); end.TxID >= next.TxID {
			next = end
		}
	}
	return out, next, nil
}
