package demo

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/mediationd/mediationd/internal/casework"
)

// Check replays every planned case through the lifecycle's decisions
// (casework.Register and casework.Apply, with what the store would look
// up: the default deadline rules, the planned organizations and
// mediators, the stored sessions) and reports the first step the service
// would refuse, or a case that would not end where the plan says. Load
// runs it before writing anything.
func (p Plan) Check() error {
	orgs := map[string]casework.Organization{}
	for _, o := range p.Organizations {
		orgs[o.Name()] = o
	}
	meds := map[string]casework.Mediator{}
	for _, m := range p.Mediators {
		meds[m.Name()] = m
	}
	for i, pc := range p.Cases {
		if err := p.checkCase(pc, orgs, meds); err != nil {
			return fmt.Errorf("case %d of %d (registered %s): %w", i+1, len(p.Cases), pc.Created.In(p.Location).Format(time.DateTime), err)
		}
	}
	return nil
}

func (p Plan) checkCase(pc Case, orgs map[string]casework.Organization, meds map[string]casework.Mediator) error {
	n := pc.New
	n.Normalize()
	if err := n.Validate(pc.Created); err != nil {
		return fmt.Errorf("registration: %w", err)
	}
	if !pc.Created.Before(p.Now) {
		return fmt.Errorf("registered at %s, not before the plan's time", pc.Created)
	}
	c, _ := casework.Register(n, pc.ID, Actor, "", pc.Created, p.Policy)
	var procedure casework.CourtProcedure
	if n.CourtReferral != nil {
		procedure = n.CourtReferral.Procedure
	}
	rule := ruleFor(n.Source, procedure)
	sessions := map[int]casework.Session{}
	last := pc.Created
	for j, cmd := range pc.Steps {
		step := fmt.Sprintf("step %d of %d (%s at %s)", j+1, len(pc.Steps), cmd.Action, cmd.Time.In(p.Location).Format(time.DateTime))
		if !cmd.Time.After(last) || !cmd.Time.Before(p.Now) {
			return fmt.Errorf("%s: not after the step before and before the plan's time", step)
		}
		last = cmd.Time
		switch cmd.Action {
		case casework.ActionAccept:
			cmd.Rule = &rule
		case casework.ActionAssign:
			org, med := orgs[cmd.Organization], meds[cmd.Mediator]
			if org.ID == "" || med.ID == "" {
				return fmt.Errorf("%s: %s or %s is not in the plan's directory", step, cmd.Organization, cmd.Mediator)
			}
			cmd.Assignee = &casework.Assignee{Organization: org, Mediator: med}
			if c.Deadline != nil {
				cmd.Rule = &rule
			}
		case casework.ActionRecordSession, casework.ActionCancelSession:
			if s, ok := sessions[cmd.Session.Number]; ok {
				cmd.StoredSession = &s
			}
		}
		next, ev, err := casework.Apply(c, cmd)
		if err != nil {
			return fmt.Errorf("%s: %w", step, err)
		}
		if s := ev.Data.Session; s != nil {
			sessions[s.Number] = *s
		}
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
		return fmt.Errorf("the lifecycle disagrees with the plan: %s", strings.Join(problems, "; "))
	}
	return nil
}
