package demo

import (
	"context"
	"fmt"
	"runtime"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/mediationd/mediationd/internal/auth"
	"github.com/mediationd/mediationd/internal/caseflow"
	"github.com/mediationd/mediationd/internal/casework"
	"github.com/mediationd/mediationd/internal/store"
)

// Check replays every planned case through the lifecycle's decisions
// (casework.Register and casework.Apply, with what the store would look
// up: the default deadline rules, the planned organizations and
// mediators, the stored sessions) and reports the first step the service
// would refuse, or a case that would not end where the plan says. Load
// runs it before writing anything.
func (p Plan) Check() error {
	lk := &lookups{
		orgs: map[string]casework.Organization{},
		meds: map[string]casework.Mediator{},
		rule: func(source casework.Source, _ casework.OrganizationType, procedure casework.CourtProcedure) casework.DeadlineRule {
			return ruleFor(source, procedure)
		},
	}
	for _, o := range p.Organizations {
		lk.orgs[o.Name()] = o
	}
	for _, m := range p.Mediators {
		lk.meds[m.Name()] = m
	}
	// The cases are independent: each of a few goroutines replays a share
	// of them, and the first case refused, in the plan's order, is
	// reported.
	parts := min(runtime.GOMAXPROCS(0), max(len(p.Cases)/100, 1))
	errs := make([]error, parts)
	var wg sync.WaitGroup
	for k := range parts {
		wg.Go(func() {
			for i := k * len(p.Cases) / parts; i < (k+1)*len(p.Cases)/parts; i++ {
				pc := p.Cases[i]
				if _, err := p.replay(pc, lk); err != nil {
					errs[k] = fmt.Errorf("case %d of %d (registered %s): %w", i+1, len(p.Cases), pc.Created.In(p.Location).Format(time.DateTime), err)
					return
				}
			}
		})
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

// lookups are what the service looks up to decide an action, beyond the
// case: the organizations and mediators by name, and the deadline rule
// for a case's source, its organization's type and its court procedure.
type lookups struct {
	orgs map[string]casework.Organization
	meds map[string]casework.Mediator
	rule func(casework.Source, casework.OrganizationType, casework.CourtProcedure) casework.DeadlineRule
}

// caseLookups answers the pipeline's look-ups (caseflow.Lookups) for one
// case being replayed: the plan's directory and rules, and the sessions
// the case's steps scheduled so far.
type caseLookups struct {
	*lookups
	sessions map[int]casework.Session
}

func (lk caseLookups) MatchDeadlineRule(_ context.Context, source casework.Source, orgType casework.OrganizationType, procedure casework.CourtProcedure) (casework.DeadlineRule, error) {
	return lk.rule(source, orgType, procedure), nil
}

func (lk caseLookups) Assignee(_ context.Context, organization, mediator string) (casework.Organization, casework.Mediator, error) {
	org, med := lk.orgs[organization], lk.meds[mediator]
	if org.ID == "" || med.ID == "" {
		return org, med, fmt.Errorf("%s or %s is not in the plan's directory", organization, mediator)
	}
	return org, med, nil
}

func (lk caseLookups) Session(_ context.Context, caseID uuid.UUID, number int) (casework.Session, error) {
	if s, ok := lk.sessions[number]; ok {
		return s, nil
	}
	return casework.Session{}, fmt.Errorf("cases/%s/sessions/%d: %w", caseID, number, casework.ErrNotFound)
}

// replay decides a planned case as the service's pipeline (package
// caseflow) would for the system's own caller: its registration
// (normalized and validated, then casework.Register) and each step given
// what the pipeline looks up for it (the deadline rule at acceptance and
// assignment, the assignee, the session as stored), authorized by
// auth.MayAct and decided by casework.Apply. It returns the case's
// history, ready for store.WriteCaseHistories, or an error for a step the
// service would refuse or a case that ends elsewhere than the plan says.
func (p Plan) replay(pc Case, lk *lookups) (store.CaseHistory, error) {
	n := pc.New
	n.Normalize()
	if err := n.Validate(pc.Created); err != nil {
		return store.CaseHistory{}, fmt.Errorf("registration: %w", err)
	}
	if !pc.Created.Before(p.Now) {
		return store.CaseHistory{}, fmt.Errorf("registered at %s, not before the plan's time", pc.Created)
	}
	c, ev := casework.Register(n, pc.ID, Actor, "", pc.Created, p.Policy)
	h := store.CaseHistory{Year: p.Year(pc), RegistrationHash: n.Hash(), Changes: make([]store.CaseChange, 1, 1+len(pc.Steps))}
	h.Changes[0] = store.CaseChange{Case: c, Event: ev}
	clk := caseLookups{lookups: lk, sessions: map[int]casework.Session{}}
	last := pc.Created
	for j, cmd := range pc.Steps {
		step := fmt.Sprintf("step %d of %d (%s at %s)", j+1, len(pc.Steps), cmd.Action, cmd.Time.In(p.Location).Format(time.DateTime))
		if !cmd.Time.After(last) || !cmd.Time.Before(p.Now) {
			return store.CaseHistory{}, fmt.Errorf("%s: not after the step before and before the plan's time", step)
		}
		last = cmd.Time
		next, ev, err := caseflow.Decide(context.Background(), clk, auth.System, c, cmd)
		if err != nil {
			return store.CaseHistory{}, fmt.Errorf("%s: %w", step, err)
		}
		if s := ev.Data.Session; s != nil {
			clk.sessions[s.Number] = *s
		}
		h.Changes = append(h.Changes, store.CaseChange{Case: next, Event: ev})
		c = next
	}
	overdue := c.Open() && c.Deadline != nil && (c.Deadline.Overdue || c.Deadline.DueTime.Before(p.Now))
	var problems []string
	if c.State != pc.State || c.Outcome != pc.Outcome {
		problems = append(problems, fmt.Sprintf("ends %s/%s, planned %s/%s", c.State, c.Outcome, pc.State, pc.Outcome))
	}
	if accepted := !c.AcceptTime.IsZero(); accepted != pc.Accepted {
		problems = append(problems, fmt.Sprintf("accepted %t, planned %t", accepted, pc.Accepted))
	}
	if overdue != pc.Overdue {
		problems = append(problems, fmt.Sprintf("overdue %t, planned %t", overdue, pc.Overdue))
	}
	if c.Mediator != pc.Mediator {
		problems = append(problems, fmt.Sprintf("with %q, planned %q", c.Mediator, pc.Mediator))
	}
	if c.Mediator != "" && !slices.ContainsFunc(p.Mediators, func(m casework.Mediator) bool { return m.Name() == c.Mediator }) {
		problems = append(problems, c.Mediator+" is not in the plan's directory")
	}
	if len(problems) > 0 {
		return store.CaseHistory{}, fmt.Errorf("the lifecycle disagrees with the plan: %s", strings.Join(problems, "; "))
	}
	return h, nil
}
