package demo

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/mediationd/mediationd/internal/casework"
)

// Report is what a demo data set holds: what a plan will produce (Plan's
// Report) or what a database holds (Load's). The maps hold only non-zero
// counts, so that two reports of the same data are equal.
type Report struct {
	Cases         int
	Organizations map[casework.OrganizationType]int
	Mediators     int
	ByState       map[casework.State]int
	// ByOutcome counts the closed cases by outcome.
	ByOutcome     map[casework.Outcome]int
	ByDisputeType map[casework.DisputeType]int
	// ByCounty counts cases by region code.
	ByCounty map[string]int

	// Accepted counts the cases accepted (受理), whatever happened next.
	Accepted int
	// Succeeded counts the cases mediated successfully (调解成功): those
	// with an agreement, agreed (AGREED) or closed with it
	// (CLOSED/AGREEMENT).
	Succeeded int
	// Failed counts the cases closed as FAILED.
	Failed int
	// WithdrawnAfterAcceptance counts withdrawals of accepted cases;
	// withdrawals before acceptance are not counted anywhere in the rate.
	WithdrawnAfterAcceptance int
	// Concluded is the denominator of the success rate: the accepted cases
	// whose mediation has ended, Succeeded + Failed +
	// WithdrawnAfterAcceptance. Cases still open are left out, since their
	// outcome is not known yet.
	Concluded int
	// SuccessRate is Succeeded / Concluded (0 without concluded cases).
	SuccessRate float64

	// Overdue counts the open cases marked overdue.
	Overdue int
	// GroupDisputes counts the 群体性 cases.
	GroupDisputes int
	// Confirmations counts the cases whose parties asked a court for
	// judicial confirmation (司法确认).
	Confirmations int
	// Events counts the history rows of all cases.
	Events int
	// MediatorLoad is the fewest, median and most cases held by one
	// mediator (the mediator a case is assigned to at the end).
	MediatorLoad [3]int
}

// Report says what the plan will produce once loaded, with the overdue
// marks Load sets at the plan's time.
func (p Plan) Report() Report {
	r := newReport()
	r.Cases = len(p.Cases)
	for _, o := range p.Organizations {
		r.Organizations[o.Type]++
	}
	r.Mediators = len(p.Mediators)
	load := map[string]int{}
	for _, c := range p.Cases {
		r.ByState[c.State]++
		if c.Outcome != casework.OutcomeNone {
			r.ByOutcome[c.Outcome]++
		}
		r.ByDisputeType[c.New.DisputeType]++
		r.ByCounty[c.New.RegionCode]++
		if c.Accepted {
			r.Accepted++
		}
		switch {
		case c.State == casework.StateAgreed || c.Outcome == casework.OutcomeAgreement:
			r.Succeeded++
		case c.Outcome == casework.OutcomeFailed:
			r.Failed++
		case c.Outcome == casework.OutcomeWithdrawn && c.Accepted:
			r.WithdrawnAfterAcceptance++
		}
		if c.New.GroupDispute(p.Policy) {
			r.GroupDisputes++
		}
		r.Events += 1 + len(c.Steps)
		marked := slices.ContainsFunc(c.Steps, func(s casework.Command) bool { return s.Action == casework.ActionMarkOverdue })
		if c.Overdue {
			r.Overdue++
			if !marked {
				r.Events++ // Load's overdue run marks it
			}
		}
		if slices.ContainsFunc(c.Steps, func(s casework.Command) bool { return s.Action == casework.ActionRequestConfirmation }) {
			r.Confirmations++
		}
		if c.Mediator != "" {
			load[c.Mediator]++
		}
	}
	loads := make([]int, len(p.Mediators))
	for i, m := range p.Mediators {
		loads[i] = load[m.Name()]
	}
	r.MediatorLoad = spread(loads)
	r.finish()
	return r
}

func newReport() Report {
	return Report{
		Organizations: map[casework.OrganizationType]int{},
		ByState:       map[casework.State]int{},
		ByOutcome:     map[casework.Outcome]int{},
		ByDisputeType: map[casework.DisputeType]int{},
		ByCounty:      map[string]int{},
	}
}

// finish computes the derived figures.
func (r *Report) finish() {
	r.Concluded = r.Succeeded + r.Failed + r.WithdrawnAfterAcceptance
	r.SuccessRate = 0
	if r.Concluded > 0 {
		r.SuccessRate = float64(r.Succeeded) / float64(r.Concluded)
	}
}

// spread returns the minimum, median and maximum of xs.
func spread(xs []int) [3]int {
	if len(xs) == 0 {
		return [3]int{}
	}
	s := slices.Sorted(slices.Values(xs))
	return [3]int{s[0], s[len(s)/2], s[len(s)-1]}
}

// measure reads the report of what the database holds.
func measure(ctx context.Context, pool *pgxpool.Pool) (Report, error) {
	r := newReport()
	count := func(sql string, each func(key string, n int)) error {
		rows, err := pool.Query(ctx, sql)
		if err != nil {
			return err
		}
		var key string
		var n int
		_, err = pgx.ForEachRow(rows, []any{&key, &n}, func() error {
			each(key, n)
			return nil
		})
		return err
	}
	err := count(`SELECT state || '/' || outcome, count(*) FROM cases GROUP BY 1`, func(k string, n int) {
		state, outcome, _ := strings.Cut(k, "/")
		r.ByState[casework.State(state)] += n
		if outcome != "" {
			r.ByOutcome[casework.Outcome(outcome)] += n
		}
		r.Cases += n
	})
	if err == nil {
		err = count(`SELECT dispute_type, count(*) FROM cases GROUP BY 1`, func(k string, n int) { r.ByDisputeType[casework.DisputeType(k)] = n })
	}
	if err == nil {
		err = count(`SELECT region_code, count(*) FROM cases GROUP BY 1`, func(k string, n int) { r.ByCounty[k] = n })
	}
	if err == nil {
		err = count(`SELECT type, count(*) FROM organizations GROUP BY 1`, func(k string, n int) { r.Organizations[casework.OrganizationType(k)] = n })
	}
	var loads []int
	if err == nil {
		err = count(`SELECT m.id, count(c.id) FROM mediators m
			LEFT JOIN cases c ON c.mediator = 'mediators/' || m.id AND c.mediator <> ''
			GROUP BY m.id`, func(_ string, n int) { loads = append(loads, n) })
	}
	if err != nil {
		return Report{}, fmt.Errorf("measure the demo data: %w", err)
	}
	r.Mediators = len(loads)
	r.MediatorLoad = spread(loads)
	err = pool.QueryRow(ctx, `SELECT
			count(*) FILTER (WHERE accept_time IS NOT NULL),
			count(*) FILTER (WHERE state = 'AGREED' OR outcome = 'AGREEMENT'),
			count(*) FILTER (WHERE outcome = 'FAILED'),
			count(*) FILTER (WHERE outcome = 'WITHDRAWN' AND accept_time IS NOT NULL),
			count(*) FILTER (WHERE overdue AND state IN ('ACCEPTED', 'ASSIGNED', 'MEDIATING')),
			count(*) FILTER (WHERE group_dispute),
			count(*) FILTER (WHERE confirmation IS NOT NULL AND confirmation <> 'null'::jsonb),
			(SELECT count(*) FROM case_events)
		FROM cases`).Scan(&r.Accepted, &r.Succeeded, &r.Failed, &r.WithdrawnAfterAcceptance,
		&r.Overdue, &r.GroupDisputes, &r.Confirmations, &r.Events)
	if err != nil {
		return Report{}, fmt.Errorf("measure the demo data: %w", err)
	}
	r.finish()
	return r, nil
}

// String renders the report for people, in Chinese and English, every
// list in a fixed order.
func (r Report) String() string {
	var b strings.Builder
	line := func(format string, args ...any) { fmt.Fprintf(&b, format+"\n", args...) }
	list := func(parts []string) string { return strings.Join(parts, ", ") }

	var orgs []string
	total := 0
	for _, t := range casework.OrganizationTypes {
		if n := r.Organizations[t]; n > 0 {
			orgs = append(orgs, fmt.Sprintf("%s %d", t.DisplayName(), n))
			total += n
		}
	}
	line("organizations (调解组织): %d — %s", total, list(orgs))
	line("mediators (调解员): %d; cases per mediator: fewest %d, median %d, most %d", r.Mediators, r.MediatorLoad[0], r.MediatorLoad[1], r.MediatorLoad[2])

	var states []string
	for _, s := range casework.States {
		states = append(states, fmt.Sprintf("%s %d", s, r.ByState[s]))
	}
	line("cases: %d — %s", r.Cases, list(states))
	var outcomes []string
	for _, o := range []casework.Outcome{casework.OutcomeAgreement, casework.OutcomeFailed, casework.OutcomeWithdrawn, casework.OutcomeRejected} {
		outcomes = append(outcomes, fmt.Sprintf("%s %d", o, r.ByOutcome[o]))
	}
	line("closed by outcome: %s", list(outcomes))
	line("accepted (受理): %d; succeeded (调解成功, AGREED or CLOSED with AGREEMENT): %d; failed: %d; withdrawn after acceptance: %d",
		r.Accepted, r.Succeeded, r.Failed, r.WithdrawnAfterAcceptance)
	line("success rate (成功率): %.2f%% = succeeded / accepted cases that have concluded (agreement, failure or withdrawal after acceptance; open cases left out) = %d / %d",
		100*r.SuccessRate, r.Succeeded, r.Concluded)
	line("overdue open cases: %d; group disputes (群体性): %d; judicial confirmation requested: %d; history events: %d",
		r.Overdue, r.GroupDisputes, r.Confirmations, r.Events)

	var types []string
	for _, t := range casework.DisputeTypes {
		if n := r.ByDisputeType[t]; n > 0 {
			types = append(types, fmt.Sprintf("%s %d", t.DisplayName(), n))
		}
	}
	line("by dispute type: %s", list(types))
	var regions []string
	for _, code := range append([]string{cityCode}, countyCodes()...) {
		if n := r.ByCounty[code]; n > 0 {
			regions = append(regions, fmt.Sprintf("%s %d", regionName(code), n))
		}
	}
	line("by county: %s", list(regions))
	return b.String()
}
