package store

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/mediationd/mediationd/internal/casework"
)

// CaseHistory is a new case with every change that made it what it is,
// each decided already: the registration (casework.Register) first, then
// every action (casework.Apply), each with the case as it left it.
// WriteCaseHistories stores it as CreateCase and one WriteAction per
// action would have, in one go.
type CaseHistory struct {
	// Year is the year of the case number, in the service's time zone.
	Year int
	// IntakeOrganization is the registrant's organization,
	// organizations/{id}, as in CreateParams; empty if none.
	IntakeOrganization string
	// RegistrationHash is the hash of the registration
	// (casework.NewCase.Hash, normalized), which a court referral's claim
	// keeps as CreateCase keeps it.
	RegistrationHash []byte
	// Changes are the registration, then the actions in order.
	Changes []CaseChange
}

// CaseChange is one change of a CaseHistory: the event it adds to the
// history and the case as it left it (its Number is not read).
type CaseChange struct {
	Case  casework.Case
	Event casework.Event
}

// WriteCaseHistories stores new cases with their whole histories in one
// transaction, for loading many cases at once (the demo data): the rows
// are those CreateCase and WriteAction write for the same changes (the
// case with its number, the history, the outbox, the sessions, the
// follow-up visits, the court-referral claims and the number counters),
// but each table is written in one statement for all the cases. It
// decides nothing: the changes must have been decided by casework, and
// the database still refuses a case row that disagrees with its history.
// Case numbers are drawn in the order of hs, so that they follow the
// order of registration within a region and year. It returns them in
// that order. On any error nothing is written.
//
// A registration with a request id is refused (CreateCase keeps those
// idempotent), and so is a court referral registered before, in the
// database or earlier in hs.
func (s *Store) WriteCaseHistories(ctx context.Context, hs []CaseHistory) ([]string, error) {
	if len(hs) == 0 {
		return nil, nil
	}
	for i, h := range hs {
		if err := checkHistory(h); err != nil {
			return nil, fmt.Errorf("write case histories: history %d of %d: %w", i+1, len(hs), err)
		}
	}
	var numbers []string
	err := s.InTx(ctx, func(tx pgx.Tx) error {
		var err error
		if numbers, err = drawCaseNumbers(ctx, tx, hs); err != nil {
			return err
		}
		return writeHistories(ctx, tx, hs, numbers)
	})
	if err != nil {
		return nil, fmt.Errorf("write %d case histories: %w", len(hs), err)
	}
	return numbers, nil
}

// checkHistory makes sure a history is numbered as the database expects:
// a registration at version 1, then one version per change, all of one
// case.
func checkHistory(h CaseHistory) error {
	if len(h.Changes) == 0 {
		return errors.New("no changes: a history starts with the registration")
	}
	first := h.Changes[0]
	if first.Event.Action != casework.ActionCreate || first.Case.State != casework.StateIntake {
		return fmt.Errorf("case %s: the first change is %q to %s, not the registration (%q to %s)",
			first.Case.ID, first.Event.Action, first.Case.State, casework.ActionCreate, casework.StateIntake)
	}
	if first.Event.RequestID != "" {
		return fmt.Errorf("case %s: registered with request id %s; a registration that must stay idempotent goes through CreateCase", first.Case.ID, first.Event.RequestID)
	}
	for i, ch := range h.Changes {
		v := int64(i + 1)
		if ch.Case.ID != first.Case.ID || (ch.Event.CaseID != uuid.Nil && ch.Event.CaseID != first.Case.ID) {
			return fmt.Errorf("case %s: change %d is of case %s", first.Case.ID, v, ch.Case.ID)
		}
		if ch.Case.Version != v || ch.Event.Version != v {
			return fmt.Errorf("case %s: change %d (%s) makes version %d with event version %d, want %d", first.Case.ID, v, ch.Event.Action, ch.Case.Version, ch.Event.Version, v)
		}
	}
	return nil
}

// drawCaseNumbers takes the next numbers of each case's numbering scheme
// (chosen as CreateCase chooses it), raising every counter once by the
// number of cases it numbers, and formats them as CreateCase does.
func drawCaseNumbers(ctx context.Context, tx pgx.Tx, hs []CaseHistory) ([]string, error) {
	rows, err := tx.Query(ctx, `SELECT region_code FROM case_number_schemes`)
	if err != nil {
		return nil, fmt.Errorf("read case-number schemes: %w", err)
	}
	regions, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, fmt.Errorf("read case-number schemes: %w", err)
	}
	type counter struct {
		scheme string
		year   int
	}
	cases := make([]counter, len(hs))
	seqs := make([]int64, len(hs)) // the case's place among those of its counter, from 1
	count := map[counter]int64{}
	for i, h := range hs {
		region := h.Changes[0].Case.RegionCode
		j := slices.IndexFunc(schemeRegions(region), func(r string) bool { return slices.Contains(regions, r) })
		if j < 0 {
			return nil, errors.New("no case-number scheme applies: the default scheme 000000 is missing from case_number_schemes")
		}
		k := counter{schemeRegions(region)[j], h.Year}
		count[k]++
		cases[i], seqs[i] = k, count[k]
	}
	// Raised in a fixed order, so that two loads cannot deadlock.
	keys := slices.SortedFunc(func(yield func(counter) bool) {
		for k := range count {
			if !yield(k) {
				return
			}
		}
	}, func(a, b counter) int { return cmp.Or(cmp.Compare(a.scheme, b.scheme), cmp.Compare(a.year, b.year)) })
	var schemes []string
	var years []int
	var ns []int64
	for _, k := range keys {
		schemes, years, ns = append(schemes, k.scheme), append(years, k.year), append(ns, count[k])
	}
	rows, err = tx.Query(ctx, `INSERT INTO case_number_counters AS k (scheme_region, year, last_value)
		SELECT * FROM unnest($1::text[], $2::int[], $3::bigint[])
		ON CONFLICT (scheme_region, year) DO UPDATE SET last_value = k.last_value + EXCLUDED.last_value
		RETURNING scheme_region, year, last_value`, schemes, years, ns)
	if err != nil {
		return nil, fmt.Errorf("draw case numbers: %w", err)
	}
	last := map[counter]int64{}
	var k counter
	var v int64
	if _, err := pgx.ForEachRow(rows, []any{&k.scheme, &k.year, &v}, func() error { last[k] = v; return nil }); err != nil {
		return nil, fmt.Errorf("draw case numbers: %w", err)
	}
	caseSchemes, caseRegions, caseYears, caseSeqs := make([]string, len(hs)), make([]string, len(hs)), make([]int, len(hs)), make([]int64, len(hs))
	for i, h := range hs {
		k := cases[i]
		caseSchemes[i], caseRegions[i], caseYears[i] = k.scheme, h.Changes[0].Case.RegionCode, k.year
		caseSeqs[i] = last[k] - count[k] + seqs[i]
	}
	rows, err = tx.Query(ctx, `SELECT format_case_number(s.template, x.region, x.year, x.seq)
		FROM unnest($1::text[], $2::text[], $3::int[], $4::bigint[]) WITH ORDINALITY AS x(scheme, region, year, seq, i)
		JOIN case_number_schemes s ON s.region_code = x.scheme
		ORDER BY x.i`, caseSchemes, caseRegions, caseYears, caseSeqs)
	if err != nil {
		return nil, fmt.Errorf("format case numbers: %w", err)
	}
	numbers, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, fmt.Errorf("format case numbers: %w", err)
	}
	if len(numbers) != len(hs) {
		return nil, fmt.Errorf("format case numbers: %d numbers for %d cases", len(numbers), len(hs))
	}
	return numbers, nil
}

// The columns WriteCaseHistories copies.
var (
	bulkCaseColumns = []string{"id", "case_number", "version", "state", "outcome", "dispute_type", "source", "summary",
		"region_code", "parties", "organization", "mediator", "agreement", "closing_reason", "create_time", "update_time",
		"close_time", "court_referral", "court_code", "court_case_number", "group_dispute", "escalation_risk",
		"family_violence", "minors_involved", "accept_time", "deadline", "due_time", "overdue", "recused_mediators",
		"failure", "confirmation", "performance_status", "follow_up_count", "session_count", "no_follow_up_reason",
		"intake_organization"}
	bulkEventColumns  = []string{"case_id", "region_code", "version", "action", "from_state", "to_state", "outcome", "actor", "occur_time", "request_id", "data"}
	bulkOutboxColumns = []string{"case_id", "region_code", "case_version", "topic", "payload", "create_time"}
	bulkClaimColumns  = []string{"court_code", "court_case_number", "case_id", "region_code", "body_hash"}
)

// bulkSessionsSQL stores each session a history scheduled, as sessionSQL
// does: its first record gives what is fixed at scheduling, its last what
// recording or cancelling changes ($1, $2: the cases and their regions;
// $3, $4: the two records as JSON).
const bulkSessionsSQL = `INSERT INTO case_sessions (case_id, region_code, number, kind, start_time, place, online, participants, status,
		minutes, result, cancel_reason, create_time, update_time)
	SELECT x.case_id, x.region_code, s.number, s.kind, s.start_time, coalesce(s.place, ''), coalesce(s.online, false),
		coalesce(s.participants, '[]'), l.status, coalesce(l.minutes, ''), coalesce(l.result, ''),
		coalesce(l.cancel_reason, ''), s.create_time, l.update_time
	FROM unnest($1::uuid[], $2::text[], $3::jsonb[], $4::jsonb[]) AS x(case_id, region_code, first, last),
		jsonb_to_record(x.first) AS s(number int, kind text, start_time timestamptz, place text,
			online boolean, participants jsonb, create_time timestamptz),
		jsonb_to_record(x.last) AS l(status text, minutes text, result text, cancel_reason text, update_time timestamptz)`

// bulkFollowUpsSQL stores the follow-up visits as followUpSQL does ($1,
// $2: the cases and their regions; $3: the visits as JSON).
const bulkFollowUpsSQL = `INSERT INTO case_follow_ups (case_id, region_code, number, visit_time, visitor, party_ids, purpose, findings,
		performance_status, create_time)
	SELECT x.case_id, x.region_code, f.number, f.visit_time, f.visitor, coalesce(f.party_ids, '[]'), coalesce(f.purpose, ''),
		f.findings, coalesce(f.performance_status, ''), f.create_time
	FROM unnest($1::uuid[], $2::text[], $3::jsonb[]) AS x(case_id, region_code, visit),
		jsonb_to_record(x.visit) AS f(number int, visit_time timestamptz, visitor text, party_ids jsonb,
			purpose text, findings text, performance_status text, create_time timestamptz)`

// writeHistories writes the rows of the histories, numbered: the columns
// CreateCase sets and WriteAction never changes (region, source, court
// referral, registration time, intake organization) from the
// registration, the others from the last change.
func writeHistories(ctx context.Context, tx pgx.Tx, hs []CaseHistory, numbers []string) error {
	var cases, events, outbox, claims [][]any
	var sessionCases, visitCases []uuid.UUID
	var sessionRegions, visitRegions []string
	var firstSessions, lastSessions []*casework.Session
	var followUps []*casework.FollowUp
	for i, h := range hs {
		reg, last := h.Changes[0].Case, h.Changes[len(h.Changes)-1].Case
		var courtCode, courtNumber *string
		if ref := reg.CourtReferral; ref != nil {
			courtCode, courtNumber = &ref.CourtCode, &ref.CourtCaseNumber
			claims = append(claims, []any{ref.CourtCode, ref.CourtCaseNumber, reg.ID, reg.RegionCode, h.RegistrationHash})
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
		cases = append(cases, []any{reg.ID, numbers[i], last.Version, last.State, last.Outcome, last.DisputeType, reg.Source, last.Summary,
			reg.RegionCode, last.Parties, last.Organization, last.Mediator, last.Agreement, last.ClosingReason, reg.CreateTime, last.UpdateTime,
			timeOrNull(last.CloseTime), reg.CourtReferral, courtCode, courtNumber, last.GroupDispute, last.EscalationRisk,
			last.FamilyViolence, last.MinorsInvolved, timeOrNull(last.AcceptTime), last.Deadline, dueTime, overdue, recused,
			last.Failure, last.Confirmation, last.PerformanceStatus, last.FollowUpCount, last.SessionCount, last.NoFollowUpReason,
			h.IntakeOrganization})

		sessions := map[int]int{} // session number → index in firstSessions
		for j, ch := range h.Changes {
			c, ev := ch.Case, ch.Event
			c.Number = numbers[i]
			payload, err := outboxPayload(c, ev)
			if err != nil {
				return err
			}
			if j == 0 {
				// As createSQL writes them.
				events = append(events, []any{reg.ID, reg.RegionCode, int64(1), string(casework.ActionCreate), "", string(casework.StateIntake), "", ev.Actor, reg.CreateTime, nil, []byte("{}")})
				outbox = append(outbox, []any{reg.ID, reg.RegionCode, int64(1), "case.create", payload, reg.CreateTime})
				continue
			}
			var requestID *string
			if ev.RequestID != "" {
				requestID = &ev.RequestID
			}
			// As applySQL writes them, but for the state and outcome, which
			// applySQL takes from the case: here they come from the event,
			// so that the database refuses a case that disagrees with it.
			events = append(events, []any{reg.ID, reg.RegionCode, c.Version, string(ev.Action), ev.From, ev.To, ev.Outcome, ev.Actor, c.UpdateTime, requestID, ev.Data})
			outbox = append(outbox, []any{reg.ID, reg.RegionCode, c.Version, "case." + string(ev.Action), payload, c.UpdateTime})
			switch {
			case ev.Data.Session != nil:
				if k, ok := sessions[ev.Data.Session.Number]; ok {
					lastSessions[k] = ev.Data.Session
					continue
				}
				sessions[ev.Data.Session.Number] = len(firstSessions)
				sessionCases, sessionRegions = append(sessionCases, reg.ID), append(sessionRegions, reg.RegionCode)
				firstSessions, lastSessions = append(firstSessions, ev.Data.Session), append(lastSessions, ev.Data.Session)
			case ev.Data.FollowUp != nil:
				visitCases, visitRegions = append(visitCases, reg.ID), append(visitRegions, reg.RegionCode)
				followUps = append(followUps, ev.Data.FollowUp)
			}
		}
	}
	for _, t := range []struct {
		table   string
		columns []string
		rows    [][]any
	}{
		{"cases", bulkCaseColumns, cases},
		{"case_events", bulkEventColumns, events},
		{"outbox", bulkOutboxColumns, outbox},
		{"court_referral_claims", bulkClaimColumns, claims},
	} {
		if err := CopyTable(ctx, tx, t.table, t.columns, t.rows); err != nil {
			return err
		}
	}
	if len(sessionCases) > 0 {
		if _, err := tx.Exec(ctx, bulkSessionsSQL, sessionCases, sessionRegions, firstSessions, lastSessions); err != nil {
			return fmt.Errorf("write %d sessions: %w", len(sessionCases), err)
		}
	}
	if len(visitCases) > 0 {
		if _, err := tx.Exec(ctx, bulkFollowUpsSQL, visitCases, visitRegions, followUps); err != nil {
			return fmt.Errorf("write %d follow-up visits: %w", len(visitCases), err)
		}
	}
	return nil
}

// timeOrNull is nil for the zero time, which the database keeps as NULL.
func timeOrNull(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}

// CopyTable copies rows into the columns of table within tx (nothing when
// there are none); a refusal names the table, the row count and
// PostgreSQL's detail, which says which row broke what.
func CopyTable(ctx context.Context, tx pgx.Tx, table string, columns []string, rows [][]any) error {
	if len(rows) == 0 {
		return nil
	}
	if _, err := tx.CopyFrom(ctx, pgx.Identifier{table}, columns, pgx.CopyFromRows(rows)); err != nil {
		var detail string
		if pe := (*pgconn.PgError)(nil); errors.As(err, &pe) && pe.Detail != "" {
			detail = " (" + pe.Detail + ")"
		}
		return fmt.Errorf("copy %d rows into %s%s: %w", len(rows), table, detail, err)
	}
	return nil
}
