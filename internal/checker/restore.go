package checker

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
)

// ClassAfterTarget: a database restored to a point in time holds a change
// made after that time (the restore did not stop where it was asked to).
const ClassAfterTarget Class = "after-target"

// RestoreReport is what VerifyAcknowledgedBefore found in a database
// restored to a point in time.
type RestoreReport struct {
	// Target is the time the database was restored to; Margin the
	// allowance for clock precision around it.
	Target time.Time
	Margin time.Duration
	// BeforeActions and BeforeCreates count the acknowledged action and
	// registration calls that ended before Target−Margin: each must be in
	// the restored history as acknowledged. FoundActions and FoundCreates
	// count those that are.
	BeforeActions, FoundActions int
	BeforeCreates, FoundCreates int
	// InDoubt counts acknowledged calls that ended after Target−Margin but
	// started before Target+Margin: they committed close to Target, so the
	// restore may hold them or not.
	InDoubt int
	// AfterActions and AfterCreates count the acknowledged calls that
	// started after Target+Margin (less replays of earlier requests): none
	// may be in the restored history.
	AfterActions, AfterCreates int
	// LatestEvent is the latest occur_time in the restored history of the
	// run's cases.
	LatestEvent time.Time
	// Missing lists acknowledged calls from before Target absent from the
	// restore (ack-lost, create); Present lists changes from after Target
	// found in it (after-target).
	Missing []Violation
	Present []Violation
	// Invariants is Verify's report on the restored database against the
	// record as the restore should see it: calls started after
	// Target+Margin left out, acknowledgements within the margin or after
	// it turned into unknown outcomes.
	Invariants *Report
}

// OK reports whether nothing acknowledged before the target is missing,
// nothing after it is present, and the invariants hold.
func (r *RestoreReport) OK() bool {
	return len(r.Missing) == 0 && len(r.Present) == 0 && r.Invariants != nil && r.Invariants.OK()
}

// String summarises the report and lists its violations.
func (r *RestoreReport) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "restored to %s (margin %v); latest event in the restored history %s\n",
		r.Target.UTC().Format(time.RFC3339Nano), r.Margin, r.LatestEvent.UTC().Format(time.RFC3339Nano))
	fmt.Fprintf(&b, "acknowledged before the target: %d/%d actions and %d/%d registrations found; %d in doubt; "+
		"after the target: %d actions and %d registrations, %d found\n",
		r.FoundActions, r.BeforeActions, r.FoundCreates, r.BeforeCreates, r.InDoubt, r.AfterActions, r.AfterCreates, len(r.Present))
	list := func(title string, vs []Violation) {
		if len(vs) == 0 {
			return
		}
		fmt.Fprintf(&b, "%s: %d\n", title, len(vs))
		for i, v := range vs {
			if i == maxListed {
				fmt.Fprintf(&b, "  ... and %d more\n", len(vs)-maxListed)
				break
			}
			fmt.Fprintf(&b, "  %s\n", v)
		}
	}
	list("missing", r.Missing)
	list("present after the target", r.Present)
	if r.Invariants != nil {
		b.WriteString("invariants: ")
		b.WriteString(r.Invariants.String())
	}
	return b.String()
}

// VerifyAcknowledgedBefore checks a database restored to the point in
// time target (for instance with pgbackrest restore --type=time) against
// the record of a run that went on before and after it. A call
// acknowledged before target−margin committed before target, so it must
// be in the restored history as acknowledged; a call started after
// target+margin committed after target, so it must not. The margin
// covers the precision of the clocks that recorded the calls and the
// commits. The checker's invariants (Verify) must hold on the restored
// database for the calls it can have seen.
func VerifyAcknowledgedBefore(ctx context.Context, dsn string, rec Record, target time.Time, margin time.Duration, o VerifyOptions) (*RestoreReport, error) {
	r := &RestoreReport{Target: target, Margin: margin}
	before, after := target.Add(-margin), target.Add(margin)

	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		return nil, fmt.Errorf("checker: connect to the restored database: %w", err)
	}
	defer conn.Close(context.WithoutCancel(ctx))
	d, err := load(ctx, conn, rec, o)
	if err != nil {
		return nil, err
	}
	var ids []string
	for id := range d.cases {
		ids = append(ids, id)
	}
	var latest *time.Time
	if err := conn.QueryRow(ctx, `SELECT max(occur_time) FROM case_events WHERE case_id = ANY($1::text[]::uuid[])`, ids).Scan(&latest); err != nil {
		return nil, fmt.Errorf("checker: read the latest event: %w", err)
	}
	if latest != nil {
		r.LatestEvent = *latest
		if latest.After(after) {
			r.Present = append(r.Present, Violation{Class: ClassAfterTarget,
				Detail: fmt.Sprintf("the restored history holds an event of %s, after the target", latest.UTC().Format(time.RFC3339Nano))})
		}
	}

	// earliest is when the first call with each request id started, so
	// that a replay after the target of a request applied before it is
	// not taken for a change made after the target.
	earliest := map[ridKey]time.Time{}
	for _, c := range rec.Calls {
		if c.RequestID == "" {
			continue
		}
		k := ridKey{caseID(c.Case), c.RequestID}
		if t, ok := earliest[k]; !ok || c.Start.Before(t) {
			earliest[k] = c.Start
		}
	}
	firstCreate := map[string]time.Time{}
	for _, c := range rec.Creates {
		if t, ok := firstCreate[c.RequestID]; !ok || c.Start.Before(t) {
			firstCreate[c.RequestID] = c.Start
		}
	}

	for _, call := range rec.Calls {
		if call.Outcome != Acked {
			continue
		}
		id := caseID(call.Case)
		c := d.cases[id]
		switch {
		case call.End.Before(before):
			r.BeforeActions++
			e := (*dbEvent)(nil)
			if c != nil {
				e = c.event(call.EventVersion)
			}
			switch {
			case c == nil:
				r.Missing = append(r.Missing, Violation{Class: ClassAckLost, Case: call.Case, Detail: fmt.Sprintf(
					"%s (request %q) acknowledged as version %d at %s, but the case is not in the restored database",
					call.Action, call.RequestID, call.EventVersion, call.End.UTC().Format(time.RFC3339Nano))})
			case e == nil || e.action != call.Action || e.requestID != call.RequestID:
				r.Missing = append(r.Missing, Violation{Class: ClassAckLost, Case: call.Case, Detail: fmt.Sprintf(
					"%s (request %q) acknowledged as version %d at %s, which the restored history does not hold (it ends at version %d)",
					call.Action, call.RequestID, call.EventVersion, call.End.UTC().Format(time.RFC3339Nano), lastVersion(c))})
			default:
				r.FoundActions++
			}
		case call.Start.After(after):
			if call.RequestID != "" && !earliest[ridKey{id, call.RequestID}].After(after) {
				continue // a replay of a request first sent before the target
			}
			r.AfterActions++
			if c != nil && c.event(call.EventVersion) != nil {
				r.Present = append(r.Present, Violation{Class: ClassAfterTarget, Case: call.Case, Detail: fmt.Sprintf(
					"%s (request %q) started at %s, after the target, yet its version %d is in the restored history",
					call.Action, call.RequestID, call.Start.UTC().Format(time.RFC3339Nano), call.EventVersion)})
			}
		default:
			r.InDoubt++
		}
	}
	for _, call := range rec.Creates {
		if call.Outcome != Acked || call.Altered {
			continue
		}
		made := d.createEvents[call.RequestID]
		switch {
		case call.End.Before(before):
			r.BeforeCreates++
			if slices.Contains(made, caseID(call.Case)) {
				r.FoundCreates++
			} else {
				r.Missing = append(r.Missing, Violation{Class: ClassCreate, Case: call.Case, Detail: fmt.Sprintf(
					"registration request %s acknowledged at %s, but the restored database holds no case made by it",
					call.RequestID, call.End.UTC().Format(time.RFC3339Nano))})
			}
		case call.Start.After(after):
			if !firstCreate[call.RequestID].After(after) {
				continue
			}
			r.AfterCreates++
			if len(made) > 0 {
				r.Present = append(r.Present, Violation{Class: ClassAfterTarget, Case: call.Case, Detail: fmt.Sprintf(
					"registration request %s started at %s, after the target, yet its case is in the restored database",
					call.RequestID, call.Start.UTC().Format(time.RFC3339Nano))})
			}
		default:
			r.InDoubt++
		}
	}

	r.Invariants, err = Verify(ctx, dsn, asRestored(rec, before, after), o)
	if err != nil {
		return nil, err
	}
	return r, nil
}

// asRestored is the record as a database restored to a time between
// before and after can reflect it: calls started after after are left
// out, and acknowledgements that came after before become unknown
// outcomes, since their commits may fall on either side of the target.
func asRestored(rec Record, before, after time.Time) Record {
	out := Record{RunID: rec.RunID}
	for _, c := range rec.Calls {
		if c.Start.After(after) {
			continue
		}
		if c.Outcome == Acked && !c.End.Before(before) {
			c.Outcome = Unknown
		}
		out.Calls = append(out.Calls, c)
	}
	for _, c := range rec.Creates {
		if c.Start.After(after) {
			continue
		}
		if c.Outcome == Acked && !c.End.Before(before) {
			c.Outcome = Unknown
		}
		out.Creates = append(out.Creates, c)
	}
	return out
}
