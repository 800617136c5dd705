package casework_test

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/mediationd/mediationd/internal/casework"
	"github.com/mediationd/mediationd/internal/casework/caseworktest"
)

var t0 = time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)

// caseIn returns a case brought to state by the contract's path.
func caseIn(t *testing.T, state casework.State) casework.Case {
	t.Helper()
	c, _ := casework.Register(caseworktest.NewCase("漏水纠纷"), uuid.New(), "tester", "", t0, casework.DefaultPolicy)
	for i, a := range caseworktest.PathTo(state) {
		next, _, err := casework.Apply(c, caseworktest.Command(a, i))
		if err != nil {
			t.Fatalf("path to %s: %s: %v", state, a, err)
		}
		c = next
	}
	if c.State != state {
		t.Fatalf("path to %s ended in %s", state, c.State)
	}
	return c
}

func TestEveryStateEveryAction(t *testing.T) {
	for _, state := range casework.States {
		for _, action := range casework.Actions {
			t.Run(string(state)+"/"+string(action), func(t *testing.T) {
				c := caseIn(t, state)
				var scheduled *casework.Session // what the store would find
				if _, allowed := caseworktest.Contract[state][action]; allowed {
					for _, a := range caseworktest.Setup(action) {
						next, ev, err := casework.Apply(c, caseworktest.Command(a, 98))
						if err != nil {
							t.Fatalf("setup %s: %v", a, err)
						}
						c, scheduled = next, ev.Data.Session
					}
				}
				before := c
				cmd := caseworktest.Command(action, 99)
				cmd.StoredSession = scheduled
				cmd.Actor = "mediators/wang"
				if action != casework.ActionMarkOverdue {
					cmd.Time = t0.Add(time.Hour)
				}
				next, ev, err := casework.Apply(c, cmd)
				want, allowed := caseworktest.Contract[state][action]
				if !allowed {
					var na *casework.NotAllowedError
					if !errors.As(err, &na) {
						t.Fatalf("Apply = %v, want NotAllowedError", err)
					}
					if na.State != state || na.Action != action {
						t.Errorf("error names %s/%s, want %s/%s", na.State, na.Action, state, action)
					}
					var wantAllowed []casework.Action
					for a := range caseworktest.Contract[state] {
						wantAllowed = append(wantAllowed, a)
					}
					slices.Sort(wantAllowed)
					if !slices.Equal(na.Allowed, wantAllowed) {
						t.Errorf("allowed = %v, want %v", na.Allowed, wantAllowed)
					}
					if !strings.Contains(na.Error(), string(state)) {
						t.Errorf("message %q does not name the state", na.Error())
					}
					return
				}
				if err != nil {
					t.Fatalf("Apply: %v", err)
				}
				if next.State != want.To || next.Outcome != want.Outcome {
					t.Errorf("-> %s/%q, want %s/%q", next.State, next.Outcome, want.To, want.Outcome)
				}
				if next.Version != before.Version+1 || ev.Version != next.Version {
					t.Errorf("versions: case %d -> %d, event %d", before.Version, next.Version, ev.Version)
				}
				if ev.From != state || ev.To != next.State || ev.Action != action || ev.Actor != "mediators/wang" || !ev.Time.Equal(cmd.Time) {
					t.Errorf("event = %+v", ev)
				}
				if (next.State == casework.StateClosed) != !next.CloseTime.IsZero() {
					t.Errorf("close time %v in state %s", next.CloseTime, next.State)
				}
				if c.Version != before.Version || c.State != before.State {
					t.Errorf("Apply changed its input")
				}
			})
		}
	}
}

func TestActionGuards(t *testing.T) {
	tests := []struct {
		name  string
		state casework.State
		cmd   casework.Command
		field string
	}{
		{"reject without reason", casework.StateIntake, casework.Command{Action: casework.ActionReject, Reason: "  "}, "reason"},
		{"failure without reason", casework.StateMediating, casework.Command{Action: casework.ActionRecordFailure}, "reason"},
		{"agreement without terms", casework.StateMediating, casework.Command{Action: casework.ActionRecordAgreement, Agreement: &casework.Agreement{Terms: " \n"}}, "agreement.terms"},
		{"agreement missing", casework.StateMediating, casework.Command{Action: casework.ActionRecordAgreement}, "agreement.terms"},
		{"assign without mediator", casework.StateAccepted, casework.Command{Action: casework.ActionAssign, Organization: "organizations/a"}, "mediator"},
		{"assign without organization", casework.StateAccepted, casework.Command{Action: casework.ActionAssign, Mediator: "mediators/a"}, "organization"},
		{"reassign without reason", casework.StateAssigned, casework.Command{Action: casework.ActionAssign, Organization: "organizations/b", Mediator: "mediators/b"}, "reason"},
		{"reassign in mediation without reason", casework.StateMediating, casework.Command{Action: casework.ActionAssign, Organization: "organizations/b", Mediator: "mediators/b"}, "reason"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := caseIn(t, tt.state)
			tt.cmd.Time = t0
			_, _, err := casework.Apply(c, tt.cmd)
			var fe *casework.FieldError
			if !errors.As(err, &fe) || fe.Field != tt.field {
				t.Fatalf("Apply = %v, want FieldError on %s", err, tt.field)
			}
		})
	}
	t.Run("first assignment needs no reason", func(t *testing.T) {
		c := caseIn(t, casework.StateAccepted)
		next, ev, err := casework.Apply(c, casework.Command{Action: casework.ActionAssign, Organization: "organizations/a", Mediator: "mediators/a", Time: t0})
		if err != nil {
			t.Fatal(err)
		}
		if next.Mediator != "mediators/a" || ev.Data.Assignment.PreviousMediator != "" {
			t.Errorf("case %+v event %+v", next, ev.Data.Assignment)
		}
	})
	t.Run("reassignment to the same mediator is refused", func(t *testing.T) {
		c := caseIn(t, casework.StateAssigned)
		_, _, err := casework.Apply(c, casework.Command{Action: casework.ActionAssign, Organization: c.Organization, Mediator: c.Mediator, Reason: "again", Time: t0})
		var pe *casework.PreconditionError
		if !errors.As(err, &pe) || pe.Reason != "ALREADY_ASSIGNED" {
			t.Fatalf("Apply = %v, want ALREADY_ASSIGNED", err)
		}
	})
	t.Run("reassignment records who had the case", func(t *testing.T) {
		c := caseIn(t, casework.StateMediating)
		next, ev, err := casework.Apply(c, casework.Command{Action: casework.ActionAssign, Organization: "organizations/b", Mediator: "mediators/b", Reason: "回避", Time: t0})
		if err != nil {
			t.Fatal(err)
		}
		a := ev.Data.Assignment
		if next.State != casework.StateMediating || a.PreviousMediator != c.Mediator || a.Mediator != "mediators/b" || ev.Data.Reason != "回避" {
			t.Errorf("state %s assignment %+v reason %q", next.State, a, ev.Data.Reason)
		}
	})
}

func TestNewCaseValidate(t *testing.T) {
	ok := caseworktest.NewCase("x")
	if err := ok.Validate(t0); err != nil {
		t.Fatalf("valid case refused: %v", err)
	}
	tests := []struct {
		field  string
		mutate func(*casework.NewCase)
	}{
		{"case.dispute_type", func(n *casework.NewCase) { n.DisputeType = "FIGHT" }},
		{"case.source", func(n *casework.NewCase) { n.Source = "" }},
		{"case.summary", func(n *casework.NewCase) { n.Summary = "  " }},
		{"case.region_code", func(n *casework.NewCase) { n.RegionCode = "62100" }},
		{"case.parties", func(n *casework.NewCase) { n.Parties = nil }},
		{"case.parties", func(n *casework.NewCase) { n.Parties = n.Parties[1:] }}, // no applicant
		{"case.parties[1].name", func(n *casework.NewCase) { n.Parties[1].Name = "" }},
		{"case.parties[0].role", func(n *casework.NewCase) { n.Parties[0].Role = "JUDGE" }},
	}
	for _, tt := range tests {
		n := caseworktest.NewCase("x")
		tt.mutate(&n)
		var fe *casework.FieldError
		if err := n.Validate(t0); !errors.As(err, &fe) || fe.Field != tt.field {
			t.Errorf("Validate = %v, want FieldError on %s", err, tt.field)
		}
	}
}

func TestHashDistinguishesRequests(t *testing.T) {
	a, b := caseworktest.NewCase("one"), caseworktest.NewCase("one")
	if string(a.Hash()) != string(b.Hash()) {
		t.Error("equal registrations hash differently")
	}
	b.Parties[1].Name = "王五"
	if string(a.Hash()) == string(b.Hash()) {
		t.Error("different registrations hash alike")
	}
}

// TestWorkflowGolden keeps the published diagram in step with the state
// machine: testdata/lifecycle.mmd is the diagram, and the README shows it.
// Run with -update to rewrite the golden file after a deliberate change.
func TestWorkflowGolden(t *testing.T) {
	w, err := casework.Describe()
	if err != nil {
		t.Fatal(err)
	}
	golden := filepath.Join("testdata", "lifecycle.mmd")
	if os.Getenv("UPDATE_GOLDEN") != "" {
		if err := os.WriteFile(golden, []byte(w.Mermaid), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if w.Mermaid != string(want) {
		t.Errorf("diagram changed; if deliberate, run UPDATE_GOLDEN=1 go test ./internal/casework and update README.md\ngot:\n%s\nwant:\n%s", w.Mermaid, want)
	}
	readme, err := os.ReadFile(filepath.Join("..", "..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(readme), "```mermaid\n"+w.Mermaid+"```") {
		t.Errorf("README.md does not show the current lifecycle diagram in a ```mermaid block:\n%s", w.Mermaid)
	}
	// Every transition of the contract appears in the diagram, and nothing else.
	lines := 0
	for state, row := range caseworktest.Contract {
		for action, res := range row {
			edge := "    " + string(state) + " --> " + string(res.To) + ": " + string(action) + "\n"
			if !strings.Contains(w.Mermaid, edge) {
				t.Errorf("diagram lacks %q", edge)
			}
			lines++
		}
	}
	if got := strings.Count(w.Mermaid, " --> ") - 1; got != lines { // minus the [*] start edge
		t.Errorf("diagram has %d transitions, the contract %d", got, lines)
	}
	for _, s := range w.States {
		if s.Terminal != (s.State == casework.StateClosed) {
			t.Errorf("state %s terminal=%v", s.State, s.Terminal)
		}
	}
}

// TestAgreementCopiesByDefault: without a number of copies, an agreement
// has one per party and one for the committee; an agent keeps none, as
// the document says (当事人、人民调解委员会各持一份).
func TestAgreementCopiesByDefault(t *testing.T) {
	c := caseIn(t, casework.StateMediating)
	c.Parties = append(c.Parties, casework.Party{ID: "agent", Name: "赵律师", Role: casework.RoleAgent, RepresentedPartyIDs: []string{c.Parties[0].ID}})
	next, _, err := casework.Apply(c, casework.Command{Action: casework.ActionRecordAgreement, Time: t0.Add(time.Hour), Actor: "mediators/wang",
		Agreement: &casework.Agreement{Terms: "被申请人修复漏水。", Facts: "楼上漏水致楼下受损。"}})
	if err != nil {
		t.Fatal(err)
	}
	if want := len(c.Parties); next.Agreement.Copies != want {
		t.Errorf("copies %d, want %d: one for each of the %d parties, the committee's, none for the agent", next.Agreement.Copies, want, len(c.Parties)-1)
	}
}

// BenchmarkApply decides a case's whole path from intake to closure, one
// Apply per step, as the service does once per action.
func BenchmarkApply(b *testing.B) {
	path := caseworktest.PathTo(casework.StateClosed)
	start, _ := casework.Register(caseworktest.NewCase("漏水纠纷"), uuid.New(), "tester", "", t0, casework.DefaultPolicy)
	b.ReportAllocs()
	for b.Loop() {
		c := start
		for i, a := range path {
			next, _, err := casework.Apply(c, caseworktest.Command(a, i))
			if err != nil {
				b.Fatal(err)
			}
			c = next
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(path)), "ns/step")
}

// TestApplyConcurrently decides every state's every action from several
// goroutines at once (Apply reuses its state machines) and expects each
// answer to be the one the same decision gives alone.
func TestApplyConcurrently(t *testing.T) {
	type probe struct {
		c     casework.Case
		cmd   casework.Command
		state casework.State
		err   string
	}
	var probes []probe
	for _, state := range casework.States {
		c := caseIn(t, state)
		for _, action := range casework.Actions {
			cmd := caseworktest.Command(action, 7)
			next, _, err := casework.Apply(c, cmd)
			p := probe{c: c, cmd: cmd, state: next.State}
			if err != nil {
				p.err = err.Error()
			}
			probes = append(probes, p)
		}
	}
	errs := make(chan string, 8)
	for w := range 8 {
		go func() {
			var bad string
			for i := range 50 * len(probes) {
				p := probes[(i*7+w)%len(probes)]
				next, _, err := casework.Apply(p.c, p.cmd)
				got := ""
				if err != nil {
					got = err.Error()
				}
				if got != p.err || (err == nil && next.State != p.state) {
					bad = fmt.Sprintf("%s in %s: got %s %q, alone %s %q", p.cmd.Action, p.c.State, next.State, got, p.state, p.err)
					break
				}
			}
			errs <- bad
		}()
	}
	for range 8 {
		if bad := <-errs; bad != "" {
			t.Error(bad)
		}
	}
}
