package dataset

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"
	"golang.org/x/sync/errgroup"

	"github.com/mediationd/mediationd/internal/casework"
	"github.com/mediationd/mediationd/internal/store"
)

// loadedTables are the tables COPY fills; their secondary indexes are
// dropped during the load and built again after it.
var loadedTables = []string{"cases", "case_events", "case_sessions", "case_follow_ups", "court_referral_claims"}

// The columns COPY fills, as store.WriteCaseHistories fills them.
var (
	caseColumns = []string{"id", "case_number", "version", "state", "outcome", "dispute_type", "source", "summary",
		"region_code", "parties", "organization", "mediator", "agreement", "closing_reason", "create_time", "update_time",
		"close_time", "court_referral", "court_code", "court_case_number", "group_dispute", "escalation_risk",
		"family_violence", "minors_involved", "accept_time", "deadline", "due_time", "overdue", "recused_mediators",
		"failure", "confirmation", "performance_status", "follow_up_count", "session_count", "no_follow_up_reason",
		"intake_organization"}
	eventColumns    = []string{"case_id", "region_code", "version", "action", "from_state", "to_state", "outcome", "actor", "occur_time", "request_id", "data"}
	claimColumns    = []string{"court_code", "court_case_number", "case_id", "region_code", "body_hash"}
	sessionColumns  = []string{"case_id", "region_code", "number", "kind", "start_time", "place", "online", "participants", "status", "minutes", "result", "cancel_reason", "create_time", "update_time"}
	followUpColumns = []string{"case_id", "region_code", "number", "visit_time", "visitor", "party_ids", "purpose", "findings", "performance_status", "create_time"}
)

// batchRows are the rows of one batch of cases.
type batchRows struct {
	cases, events, claims, sessions, followUps [][]any
	// numbering: the scheme region, region, year and number of each case.
	schemes, regions []string
	years            []int
	seqs             []int64
}

// index is a secondary index dropped for the load.
type index struct{ name, def string }

// copyAll decides and copies the cases of specs with opt.Workers
// connections, with the tables' secondary indexes dropped (and built again
// after, also when the load fails), then raises the case-number counters
// to the numbers drawn.
func (l *loader) copyAll(ctx context.Context, specs []spec, rep *Report) (err error) {
	if len(specs) == 0 {
		return nil
	}
	// Case numbers in the order of registration within each scheme and
	// year, as the service draws them.
	seqs := make([]int64, len(specs))
	type counter struct {
		scheme string
		year   int
	}
	last := map[counter]int64{}
	for i, s := range specs {
		pc := l.tmpls[s.tmpl].pc
		k := counter{l.schemes[pc.New.RegionCode], time.Unix(s.created, 0).In(l.plan.Location).Year()}
		last[k]++
		seqs[i] = last[k]
	}
	dropped, err := dropIndexes(ctx, l.st)
	if err != nil {
		return err
	}
	l.logf("dropped %d secondary indexes for the load", len(dropped))
	defer func() {
		t := time.Now()
		if ierr := createIndexes(context.WithoutCancel(ctx), l.st, dropped, l.logf); ierr != nil {
			err = errors.Join(err, ierr)
		}
		rep.Indexes = time.Since(t)
	}()

	prog := &progress{l: l, total: len(specs), start: time.Now()}
	g, gctx := errgroup.WithContext(ctx)
	batches := make(chan int, l.opt.Workers)
	g.Go(func() error {
		defer close(batches)
		for from := 0; from < len(specs); from += l.opt.Batch {
			select {
			case batches <- from:
			case <-gctx.Done():
				return gctx.Err()
			}
		}
		return nil
	})
	var rows [5]int64
	results := make(chan [5]int64, l.opt.Workers)
	for range l.opt.Workers {
		g.Go(func() error {
			var mine [5]int64
			defer func() { results <- mine }()
			for from := range batches {
				to := min(from+l.opt.Batch, len(specs))
				b, err := l.rows(specs[from:to], seqs[from:to], from)
				if err != nil {
					return err
				}
				if err := l.copyBatch(gctx, b); err != nil {
					return fmt.Errorf("dataset: cases %d to %d: %w", from+1, to, err)
				}
				for i, n := range []int{len(b.cases), len(b.events), len(b.sessions), len(b.followUps), len(b.claims)} {
					mine[i] += int64(n)
				}
				prog.add(to - from)
			}
			return nil
		})
	}
	err = g.Wait()
	for range l.opt.Workers {
		r := <-results
		for i := range rows {
			rows[i] += r[i]
		}
	}
	for _, n := range rows {
		rep.Rows += n
	}
	if err != nil {
		return err
	}
	var schemes []string
	var years []int
	var values []int64
	for _, k := range slices.SortedFunc(func(yield func(counter) bool) {
		for k := range last {
			if !yield(k) {
				return
			}
		}
	}, func(a, b counter) int { return cmp.Or(cmp.Compare(a.scheme, b.scheme), cmp.Compare(a.year, b.year)) }) {
		schemes, years, values = append(schemes, k.scheme), append(years, k.year), append(values, last[k])
	}
	if _, err := l.st.Pool().Exec(ctx, `INSERT INTO case_number_counters AS k (scheme_region, year, last_value)
		SELECT * FROM unnest($1::text[], $2::int[], $3::bigint[])
		ON CONFLICT (scheme_region, year) DO UPDATE SET last_value = greatest(k.last_value, EXCLUDED.last_value)`, schemes, years, values); err != nil {
		return fmt.Errorf("dataset: set the case-number counters: %w", err)
	}
	return nil
}

// rows decides the cases of a batch and lays out their rows as
// store.WriteCaseHistories writes them; base is the batch's place in the
// data set, which makes copied court case numbers unique.
func (l *loader) rows(specs []spec, seqs []int64, base int) (*batchRows, error) {
	b := &batchRows{}
	for i, s := range specs {
		t := l.tmpls[s.tmpl]
		h, err := l.decide(t.pc, int(s.weeks), "-"+strconv.Itoa(base+i+1))
		if err != nil {
			return nil, fmt.Errorf("dataset: case %d (template %d moved %d weeks): %w", base+i+1, s.tmpl+1, s.weeks, err)
		}
		reg := h.Changes[0].Case
		b.schemes = append(b.schemes, l.schemes[reg.RegionCode])
		b.regions = append(b.regions, reg.RegionCode)
		b.years = append(b.years, h.Year)
		b.seqs = append(b.seqs, seqs[i])
		appendHistory(b, h)
	}
	return b, nil
}

// appendHistory adds the rows of one history, the case's number left to
// copyBatch. The columns follow store.WriteCaseHistories: the ones
// registration sets from the first change, the others from the last.
func appendHistory(b *batchRows, h store.CaseHistory) {
	reg, last := h.Changes[0].Case, h.Changes[len(h.Changes)-1].Case
	var courtCode, courtNumber *string
	if ref := reg.CourtReferral; ref != nil {
		courtCode, courtNumber = &ref.CourtCode, &ref.CourtCaseNumber
		b.claims = append(b.claims, []any{ref.CourtCode, ref.CourtCaseNumber, reg.ID, reg.RegionCode, h.RegistrationHash})
	}
	var dueTime *time.Time
	overdue := false
	if dl := last.Deadline; dl != nil {
		dueTime, overdue = &dl.DueTime, dl.Overdue
	}
	recused := last.RecusedMediators
	if recused == nil {
		recused = []string{}
	}
	b.cases = append(b.cases, []any{reg.ID, nil, last.Version, last.State, last.Outcome, last.DisputeType, reg.Source, last.Summary,
		reg.RegionCode, last.Parties, last.Organization, last.Mediator, last.Agreement, last.ClosingReason, reg.CreateTime, last.UpdateTime,
		timeOrNull(last.CloseTime), reg.CourtReferral, courtCode, courtNumber, last.GroupDispute, last.EscalationRisk,
		last.FamilyViolence, last.MinorsInvolved, timeOrNull(last.AcceptTime), last.Deadline, dueTime, overdue, recused,
		last.Failure, last.Confirmation, last.PerformanceStatus, last.FollowUpCount, last.SessionCount, last.NoFollowUpReason,
		h.IntakeOrganization})
	sessions := map[int]int{} // session number → its row
	for j, ch := range h.Changes {
		c, ev := ch.Case, ch.Event
		if j == 0 {
			b.events = append(b.events, []any{reg.ID, reg.RegionCode, int64(1), string(casework.ActionCreate), "", string(casework.StateIntake), "", ev.Actor, reg.CreateTime, nil, []byte("{}")})
			continue
		}
		var requestID *string
		if ev.RequestID != "" {
			requestID = &ev.RequestID
		}
		b.events = append(b.events, []any{reg.ID, reg.RegionCode, c.Version, string(ev.Action), ev.From, ev.To, ev.Outcome, ev.Actor, c.UpdateTime, requestID, ev.Data})
		switch {
		case ev.Data.Session != nil:
			s := ev.Data.Session
			if k, ok := sessions[s.Number]; ok {
				// What recording or cancelling changes.
				row := b.sessions[k]
				row[8], row[9], row[10], row[11], row[13] = s.Status, s.Minutes, s.Result, s.CancelReason, s.UpdateTime
				continue
			}
			sessions[s.Number] = len(b.sessions)
			participants := s.Participants
			if participants == nil {
				participants = []string{}
			}
			b.sessions = append(b.sessions, []any{reg.ID, reg.RegionCode, s.Number, s.Kind, s.StartTime, s.Place, s.Online, participants,
				s.Status, s.Minutes, s.Result, s.CancelReason, s.CreateTime, s.UpdateTime})
		case ev.Data.FollowUp != nil:
			f := ev.Data.FollowUp
			parties := f.PartyIDs
			if parties == nil {
				parties = []string{}
			}
			b.followUps = append(b.followUps, []any{reg.ID, reg.RegionCode, f.Number, f.VisitTime, f.Visitor, parties, f.Purpose, f.Findings,
				f.PerformanceStatus, f.CreateTime})
		}
	}
}

// timeOrNull is nil for the zero time, which the database keeps as NULL.
func timeOrNull(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}

// copyBatch numbers a batch's cases with the database's own formatting
// and copies its rows in one transaction, triggers and foreign-key checks
// off (verify checks what they would have).
func (l *loader) copyBatch(ctx context.Context, b *batchRows) error {
	return pgx.BeginFunc(ctx, l.st.Pool(), func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SET LOCAL session_replication_role = replica`); err != nil {
			return fmt.Errorf("turn triggers off (needs a superuser or the table owner's replication rights): %w", err)
		}
		rows, err := tx.Query(ctx, `SELECT format_case_number(s.template, x.region, x.year, x.seq)
			FROM unnest($1::text[], $2::text[], $3::int[], $4::bigint[]) WITH ORDINALITY AS x(scheme, region, year, seq, i)
			JOIN case_number_schemes s ON s.region_code = x.scheme
			ORDER BY x.i`, b.schemes, b.regions, b.years, b.seqs)
		if err != nil {
			return fmt.Errorf("format case numbers: %w", err)
		}
		numbers, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			return fmt.Errorf("format case numbers: %w", err)
		}
		if len(numbers) != len(b.cases) {
			return fmt.Errorf("format case numbers: %d numbers for %d cases", len(numbers), len(b.cases))
		}
		for i, n := range numbers {
			b.cases[i][1] = n
		}
		for _, t := range []struct {
			table   string
			columns []string
			rows    [][]any
		}{
			{"cases", caseColumns, b.cases},
			{"case_events", eventColumns, b.events},
			{"case_sessions", sessionColumns, b.sessions},
			{"case_follow_ups", followUpColumns, b.followUps},
			{"court_referral_claims", claimColumns, b.claims},
		} {
			if err := store.CopyTable(ctx, tx, t.table, t.columns, t.rows); err != nil {
				return err
			}
		}
		return nil
	})
}

// writeRecent writes the newest cases through store.WriteCaseHistories,
// triggers on, with their outbox rows; base is their place in the data
// set.
func (l *loader) writeRecent(ctx context.Context, specs []spec, base int) error {
	const batch = 500
	for from := 0; from < len(specs); from += batch {
		to := min(from+batch, len(specs))
		hs := make([]store.CaseHistory, 0, to-from)
		for i, s := range specs[from:to] {
			h, err := l.decide(l.tmpls[s.tmpl].pc, int(s.weeks), "-"+strconv.Itoa(base+from+i+1))
			if err != nil {
				return fmt.Errorf("dataset: case %d (template %d moved %d weeks): %w", base+from+i+1, s.tmpl+1, s.weeks, err)
			}
			hs = append(hs, h)
		}
		if _, err := l.st.WriteCaseHistories(ctx, hs); err != nil {
			return fmt.Errorf("dataset: cases %d to %d: %w", base+from+1, base+to, err)
		}
	}
	if len(specs) > 0 {
		l.logf("%d cases registered in the last %s written through the store, with their outbox rows", len(specs), l.opt.Recent)
	}
	return nil
}

// dropIndexes drops the secondary indexes of the loaded tables (those
// that back no constraint) and returns their definitions.
func dropIndexes(ctx context.Context, st *store.Store) ([]index, error) {
	rows, err := st.Pool().Query(ctx, `SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid)
		FROM pg_index i
		WHERE i.indrelid = ANY($1::text[]::regclass[])
		  AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid)
		ORDER BY 1`, loadedTables)
	if err != nil {
		return nil, fmt.Errorf("dataset: read the indexes: %w", err)
	}
	idx, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (index, error) {
		var x index
		return x, r.Scan(&x.name, &x.def)
	})
	if err != nil {
		return nil, fmt.Errorf("dataset: read the indexes: %w", err)
	}
	for i, x := range idx {
		if _, err := st.Pool().Exec(ctx, `DROP INDEX `+x.name); err != nil {
			return idx[:i], fmt.Errorf("dataset: drop index %s: %w", x.name, err)
		}
	}
	return idx, nil
}

// createIndexes builds the dropped indexes again from their definitions.
func createIndexes(ctx context.Context, st *store.Store, idx []index, logf func(string, ...any)) error {
	conn, err := st.Pool().Acquire(ctx)
	if err != nil {
		return fmt.Errorf("dataset: build the indexes again: %w", err)
	}
	defer conn.Release()
	if _, err := conn.Exec(ctx, `SET maintenance_work_mem = '512MB'`); err != nil {
		return fmt.Errorf("dataset: build the indexes again: %w", err)
	}
	var errs []error
	for _, x := range idx {
		t := time.Now()
		if _, err := conn.Exec(ctx, x.def); err != nil {
			errs = append(errs, fmt.Errorf("dataset: build index %s again (%s): %w", x.name, x.def, err))
			continue
		}
		logf("index %s built in %s", x.name, time.Since(t).Round(time.Millisecond))
	}
	return errors.Join(errs...)
}

// rebuildTallies calls case_tallies_rebuild() when the schema has it: it
// recomputes the statistics' summary tables from the rows.
func rebuildTallies(ctx context.Context, st *store.Store) (bool, error) {
	var fn *string
	if err := st.Pool().QueryRow(ctx, `SELECT to_regprocedure('case_tallies_rebuild()')::text`).Scan(&fn); err != nil {
		return false, fmt.Errorf("dataset: look for case_tallies_rebuild(): %w", err)
	}
	if fn == nil {
		return false, nil
	}
	if _, err := st.Pool().Exec(ctx, `SELECT case_tallies_rebuild()`); err != nil {
		return true, fmt.Errorf("dataset: case_tallies_rebuild(): %w", err)
	}
	return true, nil
}

// count measures what the database holds.
func count(ctx context.Context, st *store.Store, rep *Report) error {
	err := st.Pool().QueryRow(ctx, `SELECT
		(SELECT count(*) FROM cases), (SELECT count(*) FROM cases WHERE state <> 'CLOSED'),
		(SELECT count(*) FROM case_events), (SELECT count(*) FROM case_sessions),
		(SELECT count(*) FROM case_follow_ups), (SELECT count(*) FROM court_referral_claims),
		(SELECT count(*) FROM outbox), pg_database_size(current_database())`).Scan(
		&rep.Cases, &rep.Open, &rep.Events, &rep.Sessions, &rep.FollowUps, &rep.Claims, &rep.Outbox, &rep.DatabaseBytes)
	if err != nil {
		return fmt.Errorf("dataset: count the rows: %w", err)
	}
	rep.Rows = rep.Cases + rep.Events + rep.Sessions + rep.FollowUps + rep.Claims + rep.Outbox
	return nil
}
