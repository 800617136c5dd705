// Package demo makes a realistic, deterministic demonstration data set for
// mediationd: the mediation organizations of 庆阳市 (Qingyang, Gansu) and
// its eight counties, about a hundred mediators, and thousands of cases
// registered since 2023, each with the history a real case would have had
// (acceptance, assignment, sessions, agreement or failure, judicial
// confirmation, follow-up visits, closure, time limits and extensions).
//
// Generate plans the data from a seed, without I/O; Load decides every
// planned step with the lifecycle's own rules, as the service decides a
// request, and writes the cases in batches through the store, so that
// case numbers, history, outbox and the database's invariants are exactly
// what the service itself produces. The proportions follow the city's published statistics: the
// success rate (see Report) is the 91.57% of 2023, and the city-wide
// totals depend only on the number of cases, not on the day the plan is
// made.
package demo

import (
	"math/rand/v2"
	"slices"
	"time"

	"github.com/google/uuid"

	"github.com/mediationd/mediationd/internal/casework"
)

// Actor is who the history records for the demo's registrations and
// actions; the overdue marks are the service's own (store.SystemActor).
const Actor = "demo"

// SuccessRateTarget is the success rate of 庆阳市 in 2023 as published,
// 91.57% (SeedSucceeded of SeedConcluded disputes): the success rate of
// every plan, to the hundredth of a percent, when its number of cases
// allows it (DefaultCases does).
const SuccessRateTarget = 0.9157

// SeedSucceeded and SeedConcluded are the disputes mediated successfully
// and those concluded in 庆阳市 in 2023, whose ratio the plans follow.
const (
	SeedSucceeded = 51758
	SeedConcluded = 56520
)

// DefaultCases is how many cases the demo command and MEDIATION_DEMO load.
const DefaultCases = 3000

// Plan is the demo data, ready to load: the directory, and every case with
// its registration and the actions it went through, in order and with
// their times.
type Plan struct {
	Seed uint64
	// Now is the time the plan was made for: every case is registered and
	// every action taken before it, and Load marks the cases past their
	// time limit at Now.
	Now time.Time
	// Location is the time zone of the plan's dates, working hours and
	// case-number years (Asia/Shanghai).
	Location *time.Location
	// Policy is the decision policy the actions are taken under.
	Policy casework.Policy
	// DirectoryTime is when the organizations and mediators were set up.
	DirectoryTime time.Time

	Organizations []casework.Organization
	Mediators     []casework.Mediator
	// Cases are in the order of their registration.
	Cases []Case
	// Rules are the deadline rules the plan's time limits assume: the
	// defaults of the migrations, checked by Load against the database.
	Rules []casework.DeadlineRule
}

// Case is one planned case: its registration and the actions that bring
// it to where it stands at the plan's time.
type Case struct {
	ID      uuid.UUID
	Created time.Time
	New     casework.NewCase
	// Steps are the actions, in order, each with its time; none is at or
	// after the plan's Now.
	Steps []casework.Command

	// What the case will look like once loaded.
	State   casework.State
	Outcome casework.Outcome
	// Accepted says the case was accepted (受理).
	Accepted bool
	// Overdue says the case is open and marked overdue once loaded: past
	// its time limit at Now, or marked so in its history.
	Overdue bool
	// Mediator is the mediator who has the case at the end ("" if none).
	Mediator string
}

// Year is the case-number year of the case: the year of its registration
// in the plan's time zone.
func (p Plan) Year(c Case) int { return c.Created.In(p.Location).Year() }

// shanghai is the time zone of 庆阳市. China has had no daylight saving
// since 1991, so a fixed offset stands in when the system has no time
// zone database.
func shanghai() *time.Location {
	if loc, err := time.LoadLocation("Asia/Shanghai"); err == nil {
		return loc
	}
	return time.FixedZone("CST", 8*60*60)
}

// defaultRules are the deadline rules the migrations install; the plan's
// time limits follow them.
var defaultRules = []casework.DeadlineRule{
	{ID: "peoples-mediation", DisplayName: "人民调解", Days: 30, MaxExtensions: 1, ExtensionDays: 30},
	{ID: "court-delegated", DisplayName: "委派调解（诉前）", Source: casework.SourceCourtDelegated, Days: 30, MaxExtensions: 1, ExtensionDays: 30},
	{ID: "court-entrusted", DisplayName: "委托调解（普通程序）", Source: casework.SourceCourtEntrusted, Days: 15},
	{ID: "court-entrusted-summary", DisplayName: "委托调解（简易程序）", Source: casework.SourceCourtEntrusted, CourtProcedure: casework.ProcedureSummary, Days: 7},
}

// ruleFor returns the default rule for a case's source and procedure, as
// the store's MatchDeadlineRule chooses among the default rules.
func ruleFor(source casework.Source, procedure casework.CourtProcedure) casework.DeadlineRule {
	best, rank := defaultRules[0], -1
	for _, r := range defaultRules {
		if (r.Source != "" && r.Source != source) || (r.CourtProcedure != "" && r.CourtProcedure != procedure) {
			continue
		}
		n := 0
		if r.Source != "" {
			n += 4
		}
		if r.CourtProcedure != "" {
			n++
		}
		if n > rank {
			best, rank = r, n
		}
	}
	return best
}

// Generate plans the demo data for a seed: the same seed, number of cases
// and time always give the same plan. Cases are registered from 1 January
// 2023 (or, if now is earlier than the spring of 2023, from a year before
// now) until shortly before now.
func Generate(seed uint64, cases int, now time.Time) Plan {
	loc := shanghai()
	g := &gen{
		r:         rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)),
		loc:       loc,
		now:       now,
		usedNames: map[string]bool{},
	}
	start := time.Date(2023, 1, 1, 0, 0, 0, 0, loc)
	if now.Sub(start) < 90*24*time.Hour {
		start = now.AddDate(-1, 0, 0)
	}
	p := Plan{
		Seed:          seed,
		Now:           now,
		Location:      loc,
		Policy:        casework.Policy{GroupDisputeApplicants: casework.DefaultPolicy.GroupDisputeApplicants, Location: loc},
		DirectoryTime: start.AddDate(0, -1, 0).Add(9 * time.Hour).UTC(),
		Rules:         slices.Clone(defaultRules),
	}
	d := g.directory(p.DirectoryTime)
	p.Organizations, p.Mediators = d.orgs, d.mediators
	p.Cases = g.cases(d, max(cases, 0), start, p.Policy)
	return p
}
