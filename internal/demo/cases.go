package demo

import (
	"encoding/binary"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/mediationd/mediationd/internal/casework"
)

// fate is where a case stands at the plan's time.
type fate int

const (
	fateIntake            fate = iota // registered, not yet decided
	fateRejected                      // 不予受理
	fateWithdrawnAtIntake             // withdrawn before acceptance
	fateAccepted                      // accepted, awaiting assignment
	fateAssigned                      // assigned, in preparation
	fateMediating                     // being mediated
	fateAgreed                        // agreed, awaiting performance or follow-up
	fateClosedAgreement               // closed with an agreement
	fateFailed                        // mediation failed
	fateWithdrawn                     // withdrawn after acceptance
	numFates
)

// typeWeights are the dispute types' shares of all disputes, per mille,
// roughly as the statistics report them.
var typeWeights = []weighted[casework.DisputeType]{
	{casework.DisputeMarriageFamily, 200}, {casework.DisputeNeighbor, 160}, {casework.DisputeHousingHomestead, 70},
	{casework.DisputeContractDebt, 110}, {casework.DisputeProductionBusiness, 30}, {casework.DisputeDamages, 90},
	{casework.DisputeLandForestContract, 80}, {casework.DisputeLandRequisition, 25}, {casework.DisputeLabor, 70},
	{casework.DisputeEnvironment, 5}, {casework.DisputeTrafficAccident, 50}, {casework.DisputeMedical, 30},
	{casework.DisputePropertyManagement, 25}, {casework.DisputeConsumer, 20}, {casework.DisputeVillageAffairs, 20},
	{casework.DisputeOther, 15},
}

// sourceWeights are the intake channels' shares, in percent.
var sourceWeights = []weighted[casework.Source]{
	{casework.SourceWalkIn, 35}, {casework.SourceOnline, 6}, {casework.SourceHotline12348, 5},
	{casework.SourceGridSweep, 18}, {casework.SourcePetitionOffice, 4}, {casework.SourcePolice, 10},
	{casework.SourceCourtDelegated, 12}, {casework.SourceCourtEntrusted, 4}, {casework.SourceOwnInitiative, 6},
}

const day = 24 * time.Hour

// cases plans n cases registered between start and shortly before now.
func (g *gen) cases(d *directory, n int, start time.Time, policy casework.Policy) []Case {
	created := g.createTimes(n, start)
	types := make([]casework.DisputeType, n)
	for i := range types {
		types[i] = pickWeighted(g, typeWeights)
	}
	cover(g, types, casework.DisputeTypes)
	sources := make([]casework.Source, n)
	for i, t := range types {
		sources[i] = g.source(t)
	}
	cover(g, sources, casework.Sources)
	fates := g.fates(created)
	failures := g.failureReasons(fates, types, sources)

	numbers := map[string]int{}
	out := make([]Case, n)
	for i := range n {
		b := &builder{
			g: g, d: d, policy: policy, numbers: numbers,
			fate: fates[i], failure: failures[i],
			limit: g.now.Add(-5 * time.Minute).Truncate(time.Second),
			org:   -1, med: -1,
		}
		b.c = &out[i]
		b.register(created[i], types[i], sources[i])
		b.run()
		b.finish()
	}
	return out
}

// createTimes returns n registration times in working hours, mostly on
// working days, in order.
func (g *gen) createTimes(n int, start time.Time) []time.Time {
	end := g.now.Add(-2 * time.Hour)
	span := int64(end.Sub(start))
	out := make([]time.Time, 0, n)
	for len(out) < n {
		local := start.Add(time.Duration(g.r.Int64N(span))).In(g.loc)
		if wd := local.Weekday(); (wd == time.Saturday || wd == time.Sunday) && g.chance(0.8) {
			continue
		}
		y, m, dd := local.Date()
		tod := 8*time.Hour + 30*time.Minute + time.Duration(g.r.Int64N(int64(9*time.Hour)))
		t := time.Date(y, m, dd, 0, 0, 0, 0, g.loc).Add(tod).Truncate(time.Second).UTC()
		if t.Before(start) || !t.Before(end) {
			continue
		}
		out = append(out, t)
	}
	slices.SortFunc(out, func(a, b time.Time) int { return a.Compare(b) })
	return out
}

// cover makes sure every value of all occurs in xs (when xs is long
// enough), replacing values that occur more than once.
func cover[T comparable](g *gen, xs, all []T) {
	if len(xs) < 2*len(all) {
		return
	}
	for _, v := range all {
		if slices.Contains(xs, v) {
			continue
		}
		for {
			i := g.intn(len(xs))
			if count(xs, xs[i]) > 1 {
				xs[i] = v
				break
			}
		}
	}
}

func count[T comparable](xs []T, v T) int {
	n := 0
	for _, x := range xs {
		if x == v {
			n++
		}
	}
	return n
}

// source picks the intake channel of a dispute: the police bring many
// traffic accidents and fights.
func (g *gen) source(t casework.DisputeType) casework.Source {
	switch {
	case t == casework.DisputeTrafficAccident && g.chance(0.5):
		return casework.SourcePolice
	case t == casework.DisputeDamages && g.chance(0.2):
		return casework.SourcePolice
	}
	return pickWeighted(g, sourceWeights)
}

// quota is how many cases end in each fate, and how many of the open
// ones are stale: left long past their time limit.
type quota struct {
	n     [numFates]int
	stale [numFates]int
}

// quotas decides how many of n cases end in each fate. The counts depend
// on n alone, never on the plan's time or on when the cases were
// registered, so that a plan made on any day holds the same figures. They
// are the counts of the default demo (DefaultCases), scaled: of 3000
// cases, 69 not accepted (3 still at intake, 54 rejected, 12 withdrawn
// before acceptance) and 48 accepted and still open, about a backlog of
// three weeks; 45 agreed and awaiting performance. Small plans keep a few
// of each fate, so that every state and outcome occurs. Of the cases
// accepted and concluded, the number with an agreement is the one whose
// rate is the city's 91.57% (see agreements), the number still being
// mediated moving by a few when needed to make that possible.
func quotas(n int) quota {
	var q quota
	left := n
	take := func(per3000, least int) int {
		k := min(max(least, int(math.Round(float64(per3000)*float64(n)/DefaultCases))), left)
		left -= k
		return k
	}
	q.n[fateIntake] = take(3, 2)
	q.n[fateRejected] = take(54, 2)
	q.n[fateWithdrawnAtIntake] = take(12, 1)
	q.stale[fateAccepted] = take(2, 1)
	q.n[fateAccepted] = take(4, 1) + q.stale[fateAccepted]
	q.stale[fateAssigned] = take(3, 1)
	q.n[fateAssigned] = take(9, 1) + q.stale[fateAssigned]
	q.stale[fateMediating] = take(8, 1)
	q.n[fateMediating] = take(22, 2) + q.stale[fateMediating]
	// Agreed cases awaiting performance or a follow-up visit: most agreed
	// recently, some older with payments by instalments.
	q.stale[fateAgreed] = take(15, 1)
	q.n[fateAgreed] = take(30, 2) + q.stale[fateAgreed]

	// Move up to maxNudge cases between mediation and the concluded ones
	// until the success rate can be the published one: the concluded
	// count first as it is, then one fewer, one more, two fewer...
	concluded := left + q.n[fateAgreed]
	fresh := q.n[fateMediating] - q.stale[fateMediating]
	delta := 0
	for d := range 2*maxNudge + 1 {
		move := (d + 1) / 2 // cases moved into mediation (d odd) or out of it (d even)
		if d%2 == 0 {
			move = -move
		}
		if fresh+move < 1 || left-move < 0 {
			continue
		}
		if _, ok := agreements(concluded - move); ok {
			delta = move
			break
		}
	}
	q.n[fateMediating] += delta
	left -= delta
	concluded -= delta

	succeeded, _ := agreements(concluded)
	q.n[fateClosedAgreement] = min(max(succeeded-q.n[fateAgreed], 0), left)
	left -= q.n[fateClosedAgreement]
	q.n[fateFailed] = int(math.Round(0.7 * float64(left)))
	if left >= 2 {
		q.n[fateFailed] = min(max(q.n[fateFailed], 1), left-1)
	}
	q.n[fateWithdrawn] = left - q.n[fateFailed]
	return q
}

// maxNudge is how many cases quotas may move between mediation and the
// concluded ones to reach the published success rate.
const maxNudge = 40

// agreements returns how many of concluded cases end with an agreement:
// the number nearest the city's own ratio, SeedSucceeded of SeedConcluded.
// ok says that its rate rounds to SuccessRateTarget (91.57%), which is
// possible for some counts only: 2640 of 2883 is, no count of 2877 is.
func agreements(concluded int) (succeeded int, ok bool) {
	if concluded <= 0 {
		return 0, false
	}
	succeeded = int(math.Round(float64(concluded) * SeedSucceeded / SeedConcluded))
	return succeeded, math.Round(10000*float64(succeeded)/float64(concluded)) == math.Round(10000*SuccessRateTarget)
}

// fates decides where each case stands, by the quotas: the undecided and
// open cases among the recent ones, the stale ones long ago, and the
// concluded ones anywhere.
func (g *gen) fates(created []time.Time) []fate {
	n := len(created)
	q := quotas(n)
	fates := make([]fate, n)
	placed := make([]bool, n)
	age := func(i int) time.Duration { return g.now.Sub(created[i]) }
	place := func(f fate, k int, cands []int) {
		for j := 0; j < k && j < len(cands); j++ {
			r := j + g.intn(len(cands)-j)
			cands[j], cands[r] = cands[r], cands[j]
			i := cands[j]
			fates[i], placed[i] = f, true
		}
	}
	// recent lists the unplaced cases at most maxAge old, or if they are
	// fewer than 2k, the 2k newest unplaced cases.
	recent := func(k int, maxAge time.Duration) []int {
		var c []int
		for i := n - 1; i >= 0 && age(i) <= maxAge; i-- {
			if !placed[i] {
				c = append(c, i)
			}
		}
		if len(c) < 2*k {
			c = c[:0]
			for i := n - 1; i >= 0 && len(c) < 2*k; i-- {
				if !placed[i] {
					c = append(c, i)
				}
			}
		}
		return c
	}
	// aged lists the unplaced cases between lo and hi old, widening the
	// range when they are fewer than k.
	aged := func(k int, lo, hi time.Duration) []int {
		for _, lo := range []time.Duration{lo, lo / 3, 0} {
			var c []int
			for i := range n {
				if !placed[i] && age(i) >= lo && age(i) <= hi {
					c = append(c, i)
				}
			}
			if len(c) >= k || lo == 0 {
				return c
			}
			hi = math.MaxInt64
		}
		return nil
	}
	fresh := func(f fate) int { return q.n[f] - q.stale[f] }

	place(fateIntake, q.n[fateIntake], recent(q.n[fateIntake], 3*day))
	place(fateAccepted, fresh(fateAccepted), recent(fresh(fateAccepted), 5*day))
	place(fateAssigned, fresh(fateAssigned), recent(fresh(fateAssigned), 12*day))
	place(fateMediating, fresh(fateMediating), recent(fresh(fateMediating), 30*day))
	place(fateAgreed, fresh(fateAgreed), recent(fresh(fateAgreed), 60*day))
	for _, f := range []fate{fateAccepted, fateAssigned, fateMediating} {
		place(f, q.stale[f], aged(q.stale[f], 75*day, 600*day))
	}
	place(fateAgreed, q.stale[fateAgreed], aged(q.stale[fateAgreed], 60*day, 900*day))

	var rest []fate
	for _, f := range []fate{fateRejected, fateWithdrawnAtIntake, fateClosedAgreement, fateFailed, fateWithdrawn} {
		for range q.n[f] {
			rest = append(rest, f)
		}
	}
	for i := len(rest) - 1; i > 0; i-- {
		j := g.intn(i + 1)
		rest[i], rest[j] = rest[j], rest[i]
	}
	for i := range n {
		if !placed[i] && len(rest) > 0 {
			fates[i], rest = rest[0], rest[1:]
		}
	}
	return fates
}

// failureReasons gives each failed case its reason: labour disputes go to
// arbitration, court referrals back to the court, most others end because
// the positions stay too far apart. Every reason occurs when there are
// enough failures.
func (g *gen) failureReasons(fates []fate, types []casework.DisputeType, sources []casework.Source) []casework.FailureReason {
	out := make([]casework.FailureReason, len(fates))
	var failed []int
	for i, f := range fates {
		if f != fateFailed {
			continue
		}
		failed = append(failed, i)
		switch {
		case sources[i].IsCourtReferral() && g.chance(0.6):
			out[i] = casework.FailureReferredToCourt
		case types[i] == casework.DisputeLabor && g.chance(0.6):
			out[i] = casework.FailureReferredArbitration
		default:
			out[i] = pickWeighted(g, []weighted[casework.FailureReason]{
				{casework.FailurePositionsTooFar, 40}, {casework.FailurePartyRefuses, 18}, {casework.FailurePartyUnreachable, 10},
				{casework.FailureReferredToCourt, 15}, {casework.FailureReferredArbitration, 3}, {casework.FailureReferredAdmin, 7},
				{casework.FailureOutsideScope, 4}, {casework.FailureOther, 3},
			})
		}
	}
	reasons := make([]casework.FailureReason, len(failed))
	for j, i := range failed {
		reasons[j] = out[i]
	}
	cover(g, reasons, failureReasons)
	for j, i := range failed {
		out[i] = reasons[j]
	}
	return out
}

// caseID returns a UUID version 7 for a case registered at t, as the
// service makes them, with its random bits from the plan's stream.
func (g *gen) caseID(t time.Time) uuid.UUID {
	var u uuid.UUID
	ms := uint64(t.UnixMilli())
	binary.BigEndian.PutUint64(u[8:], g.r.Uint64())
	binary.BigEndian.PutUint16(u[6:], uint16(g.r.Uint32()))
	for i := range 6 {
		u[i] = byte(ms >> (40 - 8*i))
	}
	u[6] = u[6]&0x0f | 0x70 // version 7
	u[8] = u[8]&0x3f | 0x80 // RFC 4122 variant
	return u
}

// builder plans one case: its registration and its path through the
// lifecycle, keeping track of its state and time limit as the service
// would.
type builder struct {
	g       *gen
	d       *directory
	policy  casework.Policy
	numbers map[string]int // the last court number used, by court, year and kind
	c       *Case

	fate    fate
	failure casework.FailureReason
	// limit is the time every step must precede.
	limit time.Time

	county      county
	township    township
	townshipIdx int
	village     string // where the dispute arose
	place       string // the township and village, for texts
	scen        scenario
	claimed     int

	state    casework.State
	outcome  casework.Outcome
	t        time.Time // the time of the last step
	quick    bool      // mediated on the spot (当场调解)
	slow     bool      // sessions far apart: the case may need an extension
	rule     casework.DeadlineRule
	due      time.Time
	extended int
	marked   bool // marked overdue in the history

	org, med  int // indexes of the organization and mediator that have the case
	recused   []int
	sessions  int // sessions scheduled so far
	pending   int // the number of the scheduled, not yet held session; 0 if none
	agreement *casework.Agreement
	// consent lists the applicants and respondents, who must agree to an
	// extension.
	consent []string
	applied []string // applicant ids
	against []string // respondent ids
}

// register plans the registration: place, parties, texts, court referral
// and flags.
func (b *builder) register(created time.Time, t casework.DisputeType, source casework.Source) {
	g := b.g
	b.c.Created, b.t = created, created
	b.c.ID = g.caseID(created)
	b.state = casework.StateIntake

	cw := make([]weighted[int], len(counties))
	for i, c := range counties {
		w := c.weight
		if c.code == "621002" {
			switch t {
			case casework.DisputePropertyManagement, casework.DisputeConsumer:
				w *= 4 // urban disputes
			case casework.DisputeMedical:
				w *= 2 // the city's hospitals
			}
		}
		cw[i] = weighted[int]{i, w}
	}
	b.county = counties[pickWeighted(g, cw)]
	b.townshipIdx = g.intn(len(b.county.townships))
	b.township = b.county.townships[b.townshipIdx]
	b.village = pick(g, b.township.village)
	if b.township.urban {
		b.place = b.township.name + b.village
	} else {
		b.place = b.township.name + b.village + "村"
	}
	b.scen = pick(g, scenarios[t])
	if b.scen.hi > 0 {
		b.claimed = roundYuan(g.between(b.scen.lo, b.scen.hi))
	}

	b.c.New = casework.NewCase{DisputeType: t, Source: source, RegionCode: b.county.code}
	n := &b.c.New
	n.Parties = b.parties(created)
	n.Summary = b.text(b.scen.summary, 0, time.Time{})
	if source.IsCourtReferral() {
		n.CourtReferral = b.referral(created, source)
	}
	group := n.GroupDispute(b.policy)
	n.MinorsInvolved = g.chance(b.scen.minors)
	if t == casework.DisputeMarriageFamily && b.scen.shape == shapeCouple {
		n.FamilyViolence = g.chance(0.12)
	}
	risk := b.scen.risk + 0.03
	if group {
		risk = max(risk, 0.5)
	}
	n.EscalationRisk = n.FamilyViolence || g.chance(risk)
	b.quick = b.fate == fateClosedAgreement && !source.IsCourtReferral() && !group && g.chance(0.3)
	b.slow = !b.quick && g.chance(0.12)
}

// parties makes the parties of the scenario, with ids p1, p2... in the
// order applicants, respondents, third parties, agents.
func (b *builder) parties(at time.Time) []casework.Party {
	g, c, tw := b.g, b.county, b.township
	var ps []casework.Party
	nextID := func() string { return fmt.Sprintf("p%d", len(ps)+1) }
	addPerson := func(role casework.PartyRole, p person) casework.Party {
		party := g.naturalParty(nextID(), role, p, c, tw, b.village, at)
		ps = append(ps, party)
		switch role {
		case casework.RoleApplicant:
			b.applied = append(b.applied, party.ID)
		case casework.RoleRespondent:
			b.against = append(b.against, party.ID)
		}
		return party
	}
	addLegal := func(role casework.PartyRole, party casework.Party) {
		ps = append(ps, party)
		if role == casework.RoleApplicant {
			b.applied = append(b.applied, party.ID)
		} else if role == casework.RoleRespondent {
			b.against = append(b.against, party.ID)
		}
	}
	region := func() string {
		if g.chance(0.85) {
			return c.code
		}
		return pick(g, counties).code
	}
	adult := func(gender casework.Gender, surname string) person {
		return g.newPerson(gender, surname, 22, 68, at, region())
	}
	applicants := 1
	switch {
	case b.scen.shape.group() && g.chance(0.3):
		applicants = g.between(5, 12)
	case b.scen.shape.group() && g.chance(0.4):
		applicants = g.between(2, 3)
	case g.chance(0.12):
		applicants = 2
	case g.chance(0.03):
		applicants = 3
	}
	switch b.scen.shape {
	case shapeCouple:
		wife := g.newPerson(casework.GenderFemale, "", 24, 55, at, region())
		husband := g.newPerson(casework.GenderMale, "", 24, 58, at, region())
		if g.chance(0.65) {
			addPerson(casework.RoleApplicant, wife)
			addPerson(casework.RoleRespondent, husband)
		} else {
			addPerson(casework.RoleApplicant, husband)
			addPerson(casework.RoleRespondent, wife)
		}
	case shapeElder:
		parent := g.newPerson("", "", 65, 88, at, c.code)
		surname := []rune(parent.name)[:1]
		if parent.gender == casework.GenderFemale {
			surname = nil // a mother's children carry their father's name
		}
		addPerson(casework.RoleApplicant, parent)
		addPerson(casework.RoleRespondent, g.newPerson(casework.GenderMale, string(surname), 35, 60, at, c.code))
		if g.chance(0.3) {
			addPerson(casework.RoleThirdParty, g.newPerson("", string(surname), 35, 60, at, c.code))
		}
	case shapeSiblings:
		first := adult("", "")
		surname := string([]rune(first.name)[:1])
		addPerson(casework.RoleApplicant, first)
		addPerson(casework.RoleRespondent, adult("", surname))
	case shapePersonVsCompany, shapeWorkersVsCompany, shapeVillagersVsCompany:
		for range applicants {
			addPerson(casework.RoleApplicant, adult("", ""))
		}
		addLegal(casework.RoleRespondent, g.legalParty(nextID(), casework.RoleRespondent, b.firm(), c.code, at))
	case shapePatientVsHospital:
		for range applicants {
			addPerson(casework.RoleApplicant, adult("", ""))
		}
		hs := hospitals[c.code]
		addLegal(casework.RoleRespondent, g.legalParty(nextID(), casework.RoleRespondent, business{pick(g, hs), "12"}, c.code, at))
	case shapeTraffic:
		addPerson(casework.RoleApplicant, adult("", ""))
		addPerson(casework.RoleRespondent, adult(casework.GenderMale, ""))
		if g.chance(0.4) {
			ps = append(ps, g.legalParty(nextID(), casework.RoleThirdParty, pick(g, insurers), cityCode, at))
		}
	case shapePropertyVsOwner:
		addLegal(casework.RoleApplicant, g.legalParty(nextID(), casework.RoleApplicant, b.firm(), c.code, at))
		addPerson(casework.RoleRespondent, adult("", ""))
	case shapeOwnersVsProperty:
		for range applicants {
			addPerson(casework.RoleApplicant, adult("", ""))
		}
		addLegal(casework.RoleRespondent, g.legalParty(nextID(), casework.RoleRespondent, b.firm(), c.code, at))
	case shapeConsumer:
		addPerson(casework.RoleApplicant, adult("", ""))
		addLegal(casework.RoleRespondent, g.legalParty(nextID(), casework.RoleRespondent, b.firm(), c.code, at))
	case shapeVillagersVsCommittee:
		for range applicants {
			addPerson(casework.RoleApplicant, adult("", ""))
		}
		addLegal(casework.RoleRespondent, g.villageCommittee(nextID(), casework.RoleRespondent, c, tw, b.village, at))
	default: // neighbours
		for range min(applicants, 2) {
			addPerson(casework.RoleApplicant, adult("", ""))
		}
		addPerson(casework.RoleRespondent, adult("", ""))
		if g.chance(0.08) {
			addPerson(casework.RoleRespondent, adult("", ""))
		}
	}
	// An agent: a lawyer, or for a group its representative.
	if g.chance(0.08) || (len(b.applied) >= 5 && g.chance(0.5)) {
		agent := g.naturalParty(nextID(), casework.RoleAgent, g.newPerson("", "", 28, 60, at, region()), c, tw, b.village, at)
		agent.Occupation = "律师"
		agent.Address = pick(g, lawFirms)
		agent.RepresentedPartyIDs = slices.Clone(b.applied)
		ps = append(ps, agent)
	}
	b.consent = append(slices.Clone(b.applied), b.against...)
	return ps
}

// firm picks a business of the scenario that may be a party in the
// county: not one named after another county.
func (b *builder) firm() business {
	var fit []business
	for _, f := range b.scen.firms {
		other := slices.ContainsFunc(counties, func(c county) bool {
			return c.code != b.county.code && strings.HasPrefix(f.name, c.name)
		})
		if !other {
			fit = append(fit, f)
		}
	}
	return pick(b.g, fit)
}

// roundYuan rounds an amount to tens, or to hundreds above 2,000 yuan.
func roundYuan(x int) int {
	if x > 2000 {
		return (x + 50) / 100 * 100
	}
	return (x + 5) / 10 * 10
}

// text fills a scenario's template for this case.
func (b *builder) text(tpl string, agreed int, due time.Time) string {
	parties := b.c.New.Parties
	label := func(ids []string) string {
		p, _ := casework.Case{Parties: parties}.Party(ids[0])
		if len(ids) > 1 {
			return fmt.Sprintf("%s等%d人", p.Name, len(ids))
		}
		return p.Name
	}
	dueText := ""
	if !due.IsZero() {
		dueText = due.In(b.g.loc).Format("2006年1月2日")
	}
	return strings.NewReplacer(
		"{A}", label(b.applied),
		"{B}", label(b.against),
		"{P}", b.place,
		"{C}", fmt.Sprint(b.claimed),
		"{X}", fmt.Sprint(agreed),
		"{DUE}", dueText,
		"{Y}", fmt.Sprint(b.c.Created.In(b.g.loc).Year()-1-b.g.intn(8)),
	).Replace(tpl)
}

// courtNumber returns the next number of a court's register of a kind in a
// year: numbers rise with time, with gaps for the court's other cases.
func (b *builder) courtNumber(court string, year int, kind string) int {
	key := fmt.Sprintf("%s/%d/%s", court, year, kind)
	n, ok := b.numbers[key]
	if !ok {
		n = b.g.between(20, 200)
	} else {
		n += b.g.between(1, 12)
	}
	b.numbers[key] = n
	return n
}

// referral makes the court referral of a case a county court delegated
// (委派, before filing) or entrusted (委托, after filing).
func (b *builder) referral(at time.Time, source casework.Source) *casework.CourtReferral {
	g, c := b.g, b.county
	year := at.In(g.loc).Year()
	r := &casework.CourtReferral{
		CourtCode: c.court,
		CourtName: c.courtName,
		Judge:     g.newPerson("", "", 30, 55, at, c.code).name,
	}
	if source == casework.SourceCourtDelegated {
		r.CourtCaseNumber = fmt.Sprintf("（%d）%s民诉前调%d号", year, c.court, b.courtNumber(c.court, year, "民诉前调"))
		return r
	}
	r.CourtCaseNumber = fmt.Sprintf("（%d）%s民初%d号", year, c.court, b.courtNumber(c.court, year, "民初"))
	r.Procedure = casework.ProcedureOrdinary
	if g.chance(0.6) {
		r.Procedure = casework.ProcedureSummary
	}
	return r
}
