package demo

import (
	"fmt"
	"math"
	"time"

	"github.com/mediationd/mediationd/internal/casework"
	"github.com/mediationd/mediationd/internal/store"
)

// workHours moves t forward into office hours (08:30 to 18:00, local
// time) and, when weekends is set, usually off Saturday and Sunday.
func (g *gen) workHours(t time.Time, weekends bool) time.Time {
	local := t.In(g.loc)
	y, m, d := local.Date()
	open := time.Date(y, m, d, 8, 30, 0, 0, g.loc)
	shut := time.Date(y, m, d, 18, 0, 0, 0, g.loc)
	morning := func(at time.Time) time.Time { return at.Add(time.Duration(g.r.Int64N(int64(90 * time.Minute)))) }
	switch {
	case local.Before(open):
		local = morning(open)
	case !local.Before(shut):
		local = morning(open.AddDate(0, 0, 1))
	}
	for weekends {
		if wd := local.Weekday(); (wd != time.Saturday && wd != time.Sunday) || !g.chance(0.85) {
			break
		}
		local = local.AddDate(0, 0, 1)
	}
	return local.UTC()
}

// after returns the time of the next step: between lo and hi after the
// last one, in office hours; squeezed into the time left when that would
// reach the plan's limit.
func (b *builder) after(lo, hi time.Duration) time.Time { return b.afterFrom(b.t, lo, hi) }

func (b *builder) afterFrom(from time.Time, lo, hi time.Duration) time.Time {
	t := from.Add(lo + time.Duration(b.g.r.Int64N(int64(hi-lo)+1)))
	t = b.g.workHours(t, hi >= day)
	if !t.Before(b.limit) {
		span := b.limit.Sub(from)
		t = from.Add(time.Duration(float64(span) * (0.05 + 0.25*b.g.r.Float64())))
	}
	t = t.Truncate(time.Second)
	if !t.After(from) {
		t = from.Add(time.Second)
	}
	return t
}

// open reports whether the case runs against its time limit.
func (b *builder) open() bool {
	return b.state == casework.StateAccepted || b.state == casework.StateAssigned || b.state == casework.StateMediating
}

// add appends a step. When the case would pass its time limit before the
// step, it first gets what the service would have recorded by then: an
// extension agreed by the parties shortly before the limit, or the
// overdue mark the service's job sets just after it.
func (b *builder) add(cmd casework.Command) {
	if b.open() && !b.marked && cmd.Time.After(b.due) {
		if cmd.Time.Sub(b.due) < 2*time.Second {
			cmd.Time = b.due.Add(2 * time.Second).Truncate(time.Second)
		}
		b.pastDue(cmd.Time)
	}
	b.push(cmd)
}

func (b *builder) push(cmd casework.Command) {
	if cmd.Actor == "" {
		cmd.Actor = Actor
	}
	cmd.Policy = b.policy
	b.c.Steps = append(b.c.Steps, cmd)
	b.t = cmd.Time
	b.state, b.outcome = transition(b.state, b.outcome, cmd.Action)
}

// transition is the lifecycle's effect on state and outcome of an action
// allowed in state s.
func transition(s casework.State, o casework.Outcome, a casework.Action) (casework.State, casework.Outcome) {
	switch a {
	case casework.ActionAccept, casework.ActionRecuse:
		return casework.StateAccepted, ""
	case casework.ActionReject:
		return casework.StateClosed, casework.OutcomeRejected
	case casework.ActionWithdraw:
		return casework.StateClosed, casework.OutcomeWithdrawn
	case casework.ActionAssign:
		if s == casework.StateAccepted {
			return casework.StateAssigned, ""
		}
	case casework.ActionStartMediation:
		return casework.StateMediating, ""
	case casework.ActionRecordAgreement:
		return casework.StateAgreed, ""
	case casework.ActionRecordFailure:
		return casework.StateClosed, casework.OutcomeFailed
	case casework.ActionClose:
		return casework.StateClosed, casework.OutcomeAgreement
	}
	return s, o
}

// pastDue records what happens when the case is about to pass its time
// limit before a step at t.
func (b *builder) pastDue(t time.Time) {
	g, loc := b.g, b.policy.Location
	if b.extended < b.rule.MaxExtensions && b.rule.ExtensionDays > 0 && g.chance(0.75) {
		y, m, d := b.due.In(loc).AddDate(0, 0, -g.between(1, 4)).Date()
		at := time.Date(y, m, d, 9, 0, 0, 0, loc).Add(time.Duration(g.r.Int64N(int64(8 * time.Hour)))).Truncate(time.Second).UTC()
		if !at.After(b.t) {
			at = b.t.Add(b.due.Sub(b.t) / 2).Truncate(time.Second)
			if !at.After(b.t) {
				at = b.t.Add(time.Second)
			}
		}
		if at.Before(t) {
			b.push(casework.Command{
				Action:             casework.ActionExtendDeadline,
				Time:               at,
				Reason:             "案情较为复杂，经双方当事人同意延长调解期限",
				ConsentingPartyIDs: b.consent,
			})
			b.extended++
			b.due = casework.DueTime(b.due, b.rule.ExtensionDays, loc)
			if !t.After(b.due) {
				return
			}
		}
	}
	mark := b.due.Add(time.Duration(g.between(1, 20)) * time.Minute)
	if !mark.Before(t) {
		mark = b.due.Add(t.Sub(b.due) / 2).Truncate(time.Microsecond)
	}
	b.push(casework.Command{Action: casework.ActionMarkOverdue, Time: mark, Actor: store.SystemActor})
	b.marked = true
}

// run plans the steps that bring the case to its fate.
func (b *builder) run() {
	g := b.g
	switch b.fate {
	case fateIntake:
		return
	case fateRejected:
		b.add(casework.Command{Action: casework.ActionReject, Time: b.after(10*time.Minute, 48*time.Hour), Reason: pick(g, rejectReasons)})
		return
	case fateWithdrawnAtIntake:
		b.add(casework.Command{Action: casework.ActionWithdraw, Time: b.after(time.Hour, 72*time.Hour), Reason: pick(g, intakeWithdrawReasons)})
		return
	}
	// Where a withdrawal after acceptance happens.
	stage := pickWeighted(g, []weighted[casework.State]{{casework.StateAccepted, 25}, {casework.StateAssigned, 30}, {casework.StateMediating, 45}})
	withdraws := func(s casework.State) bool { return b.fate == fateWithdrawn && stage == s }

	b.accept()
	if b.fate == fateAccepted {
		return
	}
	if withdraws(casework.StateAccepted) {
		b.withdraw()
		return
	}
	b.assign()
	if g.chance(0.015) {
		b.recuse()
	}
	if b.fate != fateAssigned && g.chance(0.015) {
		b.transfer()
	}
	if b.fate == fateAssigned {
		if g.chance(0.5) {
			b.schedule(false)
		}
		return
	}
	if withdraws(casework.StateAssigned) {
		if g.chance(0.4) {
			b.schedule(true)
		}
		b.withdraw()
		return
	}
	b.mediate()
	switch {
	case b.fate == fateMediating:
	case withdraws(casework.StateMediating):
		b.withdraw()
	case b.fate == fateFailed:
		b.fail()
	default:
		b.agree()
		b.afterAgreement()
	}
}

func (b *builder) accept() {
	lo, hi := 10*time.Minute, 50*time.Hour
	if b.quick {
		lo, hi = 5*time.Minute, 40*time.Minute
	}
	t := b.after(lo, hi)
	var procedure casework.CourtProcedure
	if r := b.c.New.CourtReferral; r != nil {
		procedure = r.Procedure
	}
	b.rule = ruleFor(b.c.New.Source, procedure)
	b.add(casework.Command{Action: casework.ActionAccept, Time: t})
	b.due = casework.DueTime(t, b.rule.Days, b.policy.Location)
}

func (b *builder) withdraw() {
	b.add(casework.Command{Action: casework.ActionWithdraw, Time: b.after(time.Hour, 5*day), Reason: pick(b.g, withdrawReasons)})
}

// assignTo appends an assignment to the organization and mediator.
func (b *builder) assignTo(org, med int, t time.Time, reason string) {
	b.add(casework.Command{
		Action:       casework.ActionAssign,
		Time:         t,
		Organization: b.d.orgs[org].Name(),
		Mediator:     b.d.mediators[med].Name(),
		Reason:       reason,
	})
	b.org, b.med = org, med
}

func (b *builder) assign() {
	lo, hi := 5*time.Minute, 36*time.Hour
	if b.quick {
		lo, hi = 5*time.Minute, 20*time.Minute
	}
	org := b.g.route(b.d, b.county, b.townshipIdx, b.c.New.DisputeType, b.c.New.Source)
	b.assignTo(org, b.d.mediatorOf(org), b.after(lo, hi), "")
}

// recuse has the mediator withdraw (回避) and the case go to a colleague,
// or to another committee of the county when there is none.
func (b *builder) recuse() {
	b.add(casework.Command{Action: casework.ActionRecuse, Time: b.after(day, 3*day), Reason: "调解员与一方当事人系亲属关系，依法回避"})
	b.recused = append(b.recused, b.med)
	org := b.org
	med := b.d.mediatorOf(org, b.recused...)
	if med < 0 {
		org = b.d.township[b.county.code][b.townshipIdx]
		if org == b.org {
			org = b.d.courtCenter[b.county.code]
		}
		med = b.d.mediatorOf(org, b.recused...)
	}
	b.assignTo(org, med, b.after(2*time.Hour, 2*day), "原调解员回避，重新指派调解员")
}

// transfer reassigns (改派) the case: from a township committee to the
// specialised one, or from elsewhere back to the township where the
// dispute arose.
func (b *builder) transfer() {
	township := b.d.township[b.county.code][b.townshipIdx]
	org, reason := township, "改由纠纷发生地人民调解委员会就地调解"
	if spec := b.d.specialised[b.county.code][b.c.New.DisputeType]; b.org == township && len(spec) > 0 {
		org = pick(b.g, spec)
		reason = "纠纷专业性较强，改派" + b.d.orgs[org].DisplayName + "调解"
	}
	if org == b.org {
		return
	}
	med := b.d.mediatorOf(org, b.recused...)
	if med < 0 {
		return
	}
	b.assignTo(org, med, b.after(day, 4*day), reason)
}

// schedule books the next session; capped keeps its start before the
// plan's limit, otherwise it may lie in the future.
func (b *builder) schedule(capped bool) time.Time {
	g := b.g
	at := b.after(30*time.Minute, 30*time.Hour)
	lo, hi := 20*time.Hour, 5*day
	if b.slow {
		lo, hi = 5*day, 16*day
	}
	var start time.Time
	if capped {
		start = b.afterFrom(at, lo, hi)
	} else {
		start = g.workHours(at.Add(day+time.Duration(g.r.Int64N(int64(4*day)))), true).Truncate(time.Second)
	}
	kind := pickWeighted(g, []weighted[casework.SessionKind]{
		{casework.SessionBilateral, 60}, {casework.SessionTrilateral, 20}, {casework.SessionExpert, 10}, {casework.SessionJoint, 10},
	})
	if t := b.c.New.DisputeType; (t == casework.DisputeMedical || t == casework.DisputeTrafficAccident) && g.chance(0.5) {
		kind = casework.SessionExpert
	}
	s := &casework.Session{Kind: kind, StartTime: start, Participants: b.participants()}
	switch {
	case g.chance(0.08):
		s.Online = true
	case g.chance(0.3) && !b.township.urban:
		s.Place = b.place + "村民委员会会议室"
	default:
		s.Place = b.d.orgs[b.org].DisplayName + "调解室"
	}
	b.add(casework.Command{Action: casework.ActionScheduleSession, Time: at, Session: s})
	b.sessions++
	b.pending = b.sessions
	if g.chance(0.06) && capped {
		// Called off before it starts, and booked again.
		cancel := b.t.Add(time.Duration(float64(start.Sub(b.t)) * (0.3 + 0.5*g.r.Float64()))).Truncate(time.Second)
		if office := g.workHours(cancel, false).Truncate(time.Second); office.Before(start) {
			cancel = office
		}
		if cancel.After(b.t) {
			b.add(casework.Command{Action: casework.ActionCancelSession, Time: cancel, Session: &casework.Session{Number: b.pending}, Reason: pick(g, cancelReasons)})
			b.pending = 0
			return b.schedule(true)
		}
	}
	return start
}

// participants names who attends a session: the mediator, the first
// applicant and the first respondent.
func (b *builder) participants() []string {
	out := []string{b.d.mediators[b.med].DisplayName}
	for _, id := range []string{b.applied[0], b.against[0]} {
		p, _ := casework.Case{Parties: b.c.New.Parties}.Party(id)
		out = append(out, p.Name)
	}
	return out
}

// hold records the minutes of the pending session, which started at
// start.
func (b *builder) hold(start time.Time) {
	med := b.d.mediators[b.med].DisplayName
	b.add(casework.Command{
		Action: casework.ActionRecordSession,
		Time:   b.afterFrom(start, time.Hour, 3*time.Hour),
		Session: &casework.Session{
			Number:  b.pending,
			Minutes: fmt.Sprintf("调解员%s主持调解，告知双方当事人权利义务，双方分别陈述事实及请求，调解员释法说理、分析利弊。", med),
			Result:  pick(b.g, sessionResults),
		},
	})
	b.pending = 0
}

// mediate starts mediation and holds its sessions: none for a dispute
// settled on the spot, one to three otherwise. A case still being
// mediated at the plan's time has held some and may have booked the next.
func (b *builder) mediate() {
	g := b.g
	start := func(t time.Time) {
		b.add(casework.Command{Action: casework.ActionStartMediation, Time: t})
	}
	escalate := func() {
		if !b.c.New.EscalationRisk && g.chance(0.03) {
			b.add(casework.Command{
				Action: casework.ActionUpdate,
				Time:   b.after(time.Hour, 2*day),
				Reason: "调解中发现矛盾有激化苗头，列为重点关注对象",
				Update: &casework.CaseUpdate{Fields: []string{"escalation_risk"}, EscalationRisk: true},
			})
		}
	}
	switch {
	case b.quick:
		start(b.after(10*time.Minute, 40*time.Minute))
		return
	case b.fate == fateMediating:
		start(b.after(2*time.Hour, 3*day))
		for range g.intn(3) {
			b.hold(b.schedule(true))
		}
		escalate()
		if g.chance(0.6) {
			b.schedule(false)
		}
		return
	}
	sessions := pickWeighted(g, []weighted[int]{{1, 55}, {2, 30}, {3, 15}})
	first := b.schedule(true)
	t := first.Add(-time.Duration(g.between(1, 10)) * time.Minute)
	if !t.After(b.t) {
		t = b.t.Add(time.Second)
	}
	start(t)
	b.hold(first)
	escalate()
	for range sessions - 1 {
		b.hold(b.schedule(true))
	}
}

func (b *builder) fail() {
	reason := b.failure
	text := failureTexts[reason]
	if reason == casework.FailureReferredToCourt && b.c.New.CourtReferral != nil {
		text = "调解不成，退回人民法院立案审理。"
	}
	b.add(casework.Command{Action: casework.ActionRecordFailure, Time: b.after(2*time.Hour, 3*day), Reason: text, FailureReason: reason})
}

// agree records the agreement (调解协议书): its facts, terms and the
// obligation to pay, with the date it is due.
func (b *builder) agree() {
	g := b.g
	lo, hi := 10*time.Minute, 3*time.Hour
	if b.quick {
		lo, hi = 30*time.Minute, 2*time.Hour
	}
	t := b.after(lo, hi)
	agreed := 0
	if b.claimed > 0 {
		agreed = roundYuan(int(math.Round(float64(b.claimed) * (0.55 + 0.45*g.r.Float64()))))
	}
	due := t.AddDate(0, 0, g.between(3, 60))
	perform := due.In(g.loc).Format("2006年1月2日") + "前以银行转账方式一次性履行"
	if b.quick {
		due, perform = t, "当场履行"
	}
	a := &casework.Agreement{
		Terms:       b.text(b.scen.terms, agreed, due),
		Performance: perform,
		SignDate:    t.In(g.loc).Format(time.DateOnly),
		Recorder:    b.d.mediators[b.med].DisplayName,
	}
	if b.quick && g.chance(0.5) {
		a.Form = casework.FormOral
	} else {
		a.Facts = b.text(b.scen.facts, agreed, due)
	}
	if b.scen.duty != "" {
		obligor, obligee := b.against[0], b.applied[0]
		if b.scen.applicantPays {
			obligor, obligee = obligee, obligor
		}
		a.Obligations = []casework.Obligation{{
			ObligorPartyID: obligor,
			ObligeePartyID: obligee,
			Description:    b.scen.duty,
			Amount:         fmt.Sprint(agreed),
			DueDate:        due.In(g.loc).Format(time.DateOnly),
		}}
	}
	b.agreement = a
	b.add(casework.Command{Action: casework.ActionRecordAgreement, Time: t, Agreement: a})
}

// afterAgreement plans what follows an agreement: judicial confirmation
// for some, performance and follow-up visits, and closure, unless the case
// is still awaiting them at the plan's time.
func (b *builder) afterAgreement() {
	g := b.g
	c := b.county
	written := b.agreement.Form != casework.FormOral
	share := 0.12
	if b.c.New.Source == casework.SourceCourtDelegated {
		share = 0.35
	}
	if written && b.c.New.DisputeType != casework.DisputeMarriageFamily && g.chance(share) {
		b.add(casework.Command{
			Action:       casework.ActionRequestConfirmation,
			Time:         b.after(day, 10*day),
			Confirmation: &casework.Confirmation{CourtCode: c.court, CourtName: c.courtName},
		})
		if b.fate == fateClosedAgreement || g.chance(0.5) {
			t := b.after(3*day, 15*day)
			year := t.In(g.loc).Year()
			decision := &casework.Confirmation{Decision: casework.DecisionConfirmed}
			if g.chance(0.08) {
				decision.Decision = casework.DecisionRefused
				decision.Remarks = "协议内容涉及案外人利益，裁定驳回申请"
			}
			kind := "民特"
			if b.c.New.Source == casework.SourceCourtDelegated {
				kind = "民诉前调确"
			}
			decision.DocumentNumber = fmt.Sprintf("（%d）%s%s%d号", year, c.court, kind, b.courtNumber(c.court, year, kind))
			b.add(casework.Command{Action: casework.ActionRecordConfirmation, Time: t, Confirmation: decision})
		}
	}
	if b.fate == fateAgreed {
		switch {
		case g.chance(0.4):
			b.followUp(casework.PartlyPerformed)
		case g.chance(0.3):
			b.add(casework.Command{Action: casework.ActionRecordPerformance, Time: b.after(day, 20*day), PerformanceStatus: casework.PartlyPerformed})
		}
		return
	}
	closeWith := func(reason string) {
		b.add(casework.Command{Action: casework.ActionClose, Time: b.after(time.Hour, 3*day), NoFollowUpReason: reason})
	}
	r := g.r.Float64()
	switch {
	case (b.quick && r < 0.7) || r < 0.15:
		closeWith(pick(g, noFollowUpReasons))
	case r < 0.3:
		b.add(casework.Command{Action: casework.ActionRecordPerformance, Time: b.after(day, 20*day), PerformanceStatus: casework.Performed})
		closeWith("经电话确认协议已履行完毕，无需上门回访")
	default:
		status := pickWeighted(g, []weighted[casework.PerformanceStatus]{{casework.Performed, 85}, {casework.PartlyPerformed, 10}, {casework.NotPerformed, 5}})
		b.followUp(status)
		if status != casework.Performed {
			next := casework.Performed
			if g.chance(0.3) {
				next = status
			}
			b.followUp(next)
		}
		closeWith("")
	}
}

// followUp records a visit (回访) that found the agreement performed to the
// given extent.
func (b *builder) followUp(status casework.PerformanceStatus) {
	p, _ := casework.Case{Parties: b.c.New.Parties}.Party(b.against[0])
	var findings string
	switch status {
	case casework.Performed:
		findings = fmt.Sprintf("经回访，%s已按协议约定履行完毕，双方对调解结果满意，矛盾已化解。", p.Name)
	case casework.PartlyPerformed:
		findings = fmt.Sprintf("经回访，%s已履行部分义务，剩余部分承诺近期履行，调解员已督促其按期履行。", p.Name)
	default:
		findings = fmt.Sprintf("经回访，%s尚未履行协议，调解员已告知申请人可申请司法确认或向人民法院起诉。", p.Name)
	}
	b.add(casework.Command{
		Action: casework.ActionRecordFollowUp,
		Time:   b.after(7*day, 40*day),
		FollowUp: &casework.FollowUp{
			Visitor:           b.d.mediators[b.med].DisplayName,
			PartyIDs:          []string{b.applied[0]},
			Purpose:           "了解协议履行情况",
			Findings:          findings,
			PerformanceStatus: status,
		},
	})
}

// finish records where the case stands once loaded.
func (b *builder) finish() {
	c := b.c
	c.State, c.Outcome = b.state, b.outcome
	c.Accepted = !b.due.IsZero()
	c.Overdue = b.open() && (b.marked || b.due.Before(b.g.now))
	if b.med >= 0 {
		c.Mediator = b.d.mediators[b.med].Name()
	}
}
