package server_test

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/google/uuid"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"

	"github.com/mediationd/mediationd/internal/casework"
	"github.com/mediationd/mediationd/internal/casework/caseworktest"
	mediationv1 "github.com/mediationd/mediationd/proto/mediation/v1"
)

func newCase(summary string) *mediationv1.Case {
	return &mediationv1.Case{
		DisputeType: mediationv1.DisputeType_DISPUTE_TYPE_NEIGHBOR,
		Source:      mediationv1.CaseSource_CASE_SOURCE_WALK_IN,
		Summary:     summary,
		RegionCode:  "621002",
		Parties: []*mediationv1.Party{
			{Name: "张三", Role: mediationv1.PartyRole_PARTY_ROLE_APPLICANT},
			{Name: "李四", Role: mediationv1.PartyRole_PARTY_ROLE_RESPONDENT},
		},
	}
}

func protoState(s casework.State) mediationv1.CaseState {
	return mediationv1.CaseState(mediationv1.CaseState_value["CASE_STATE_"+string(s)])
}

func protoOutcome(o casework.Outcome) mediationv1.CaseOutcome {
	if o == "" {
		return mediationv1.CaseOutcome_CASE_OUTCOME_UNSPECIFIED
	}
	return mediationv1.CaseOutcome(mediationv1.CaseOutcome_value["CASE_OUTCOME_"+string(o)])
}

// bring registers a case through cl and drives it to state.
func bring(t *testing.T, cl client, state casework.State) *mediationv1.Case {
	t.Helper()
	r := cl.create(t, newCase("path to "+string(state)), "")
	if r.st != nil {
		t.Fatalf("create: %v", r.st)
	}
	c := r.c
	for i, a := range caseworktest.PathTo(state) {
		r := cl.act(t, c.GetName(), caseworktest.Command(a, i), c.GetEtag())
		if r.st != nil {
			t.Fatalf("path to %s: %s: %v", state, a, r.st)
		}
		c = r.c
	}
	if c.GetState() != protoState(state) {
		t.Fatalf("path to %s ended in %s", state, c.GetState())
	}
	return c
}

// TestEveryStateEveryActionOverBothTransports runs the whole state × action
// table through gRPC and through the gateway's HTTP handler.
func TestEveryStateEveryActionOverBothTransports(t *testing.T) {
	e := startCases(t)
	for _, cl := range clients(e) {
		for _, state := range casework.States {
			for _, action := range casework.Actions {
				if slices.Contains(casework.SystemActions, action) {
					continue // not callable: the overdue job's own; see TestOverdueJob
				}
				t.Run(cl.name()+"/"+string(state)+"/"+string(action), func(t *testing.T) {
					c := bring(t, cl, state)
					if _, allowed := caseworktest.Contract[state][action]; allowed {
						for _, a := range caseworktest.Setup(action) {
							r := cl.act(t, c.GetName(), caseworktest.Command(a, 98), c.GetEtag())
							if r.st != nil {
								t.Fatalf("setup %s: %v", a, r.st)
							}
							c = r.c
						}
					}
					history := len(cl.events(t, c.GetName()))
					r := cl.act(t, c.GetName(), caseworktest.Command(action, 99), c.GetEtag())
					want, allowed := caseworktest.Contract[state][action]
					if !allowed {
						if r.code() != codes.FailedPrecondition {
							t.Fatalf("code %v (%v), want FailedPrecondition", r.code(), r.st)
						}
						if cl.name() == "rest" && r.httpStatus != http.StatusConflict {
							t.Errorf("HTTP %d, want 409", r.httpStatus)
						}
						msg := r.st.Message()
						if !strings.Contains(msg, string(state)) {
							t.Errorf("message %q does not name the state", msg)
						}
						for a := range caseworktest.Contract[state] {
							if !strings.Contains(msg, string(a)) {
								t.Errorf("message %q does not name allowed action %s", msg, a)
							}
						}
						info := errorInfo(r)
						if info.GetReason() != "ACTION_NOT_ALLOWED" || info.GetMetadata()["state"] != string(state) {
							t.Errorf("ErrorInfo = %v", info)
						}
						after := cl.get(t, c.GetName()).c
						if after.GetEtag() != c.GetEtag() || after.GetState() != c.GetState() || len(cl.events(t, c.GetName())) != history {
							t.Errorf("refused action changed the case: %v -> %v", c, after)
						}
						return
					}
					if r.st != nil {
						t.Fatalf("refused: %v", r.st)
					}
					if r.c.GetState() != protoState(want.To) || r.c.GetOutcome() != protoOutcome(want.Outcome) {
						t.Errorf("-> %s/%s, want %s/%s", r.c.GetState(), r.c.GetOutcome(), want.To, want.Outcome)
					}
					if r.ev.GetFromState() != protoState(state) || r.ev.GetToState() != protoState(want.To) || r.ev.GetVersion() != int64(history+1) {
						t.Errorf("event = %v", r.ev)
					}
					got := cl.get(t, c.GetName()).c
					if got.GetEtag() != r.c.GetEtag() || got.GetEtag() == c.GetEtag() || got.GetState() != r.c.GetState() {
						t.Errorf("stored %v, returned %v", got, r.c)
					}
					if len(cl.events(t, c.GetName())) != history+1 {
						t.Errorf("history did not grow by one")
					}
				})
			}
		}
	}
}

func errorInfo(r result) *errdetails.ErrorInfo {
	for _, d := range r.st.Details() {
		if info, ok := d.(*errdetails.ErrorInfo); ok {
			return info
		}
	}
	return nil
}

func fieldViolations(r result) []string {
	var fields []string
	for _, d := range r.st.Details() {
		if br, ok := d.(*errdetails.BadRequest); ok {
			for _, v := range br.GetFieldViolations() {
				fields = append(fields, v.GetField())
			}
		}
	}
	return fields
}

// TestRefusals checks the code, HTTP status and message of each kind of
// refusal over both transports, and that none of them writes anything.
func TestRefusals(t *testing.T) {
	e := startCases(t)
	for _, cl := range clients(e) {
		t.Run(cl.name(), func(t *testing.T) {
			c := bring(t, cl, casework.StateAccepted)
			events := len(cl.events(t, c.GetName()))
			check := func(what string, r result, code codes.Code, httpStatus int, fields ...string) {
				t.Helper()
				if r.code() != code {
					t.Errorf("%s: code %v (%v), want %v", what, r.code(), r.st, code)
					return
				}
				if cl.name() == "rest" && r.httpStatus != httpStatus {
					t.Errorf("%s: HTTP %d, want %d", what, r.httpStatus, httpStatus)
				}
				if got := fieldViolations(r); len(fields) > 0 && !slices.Equal(got, fields) {
					t.Errorf("%s: field violations %v, want %v", what, got, fields)
				}
			}
			stale := fmt.Sprintf("v%d", 1)
			check("stale etag", cl.act(t, c.GetName(), caseworktest.Command(casework.ActionAssign, 1), stale), codes.Aborted, 409)
			check("malformed etag", cl.act(t, c.GetName(), caseworktest.Command(casework.ActionAssign, 1), "abc"), codes.InvalidArgument, 400, "etag")
			noMediator := caseworktest.Command(casework.ActionAssign, 1)
			noMediator.Mediator = ""
			check("assign without mediator", cl.act(t, c.GetName(), noMediator, ""), codes.InvalidArgument, 400, "mediator")
			badOrg := caseworktest.Command(casework.ActionAssign, 1)
			badOrg.Organization = "Room 1"
			check("malformed organization", cl.act(t, c.GetName(), badOrg, ""), codes.InvalidArgument, 400, "organization")
			missing := "cases/" + uuid.NewString()
			check("unknown case", cl.act(t, missing, caseworktest.Command(casework.ActionAccept, 1), ""), codes.NotFound, 404)
			check("get unknown case", cl.get(t, missing), codes.NotFound, 404)
			check("malformed case name", cl.get(t, "cases/42"), codes.InvalidArgument, 400, "name")
			if got := cl.get(t, c.GetName()).c; got.GetEtag() != c.GetEtag() || len(cl.events(t, c.GetName())) != events {
				t.Errorf("refusals changed the case")
			}

			bad := newCase("")
			bad.RegionCode = "62"
			bad.DisputeType = 0
			bad.Parties[0].Name = " "
			check("invalid case", cl.create(t, bad, ""), codes.InvalidArgument, 400,
				"case.dispute_type", "case.summary", "case.region_code", "case.parties[0].name")
			noApplicant := newCase("x")
			noApplicant.Parties = noApplicant.Parties[1:]
			check("no applicant", cl.create(t, noApplicant, ""), codes.InvalidArgument, 400, "case.parties")
			check("malformed request id", cl.create(t, newCase("x"), "not-a-uuid"), codes.InvalidArgument, 400, "request_id")

			rid := uuid.NewString()
			first := cl.create(t, newCase("retry me"), rid)
			again := cl.create(t, newCase("retry me"), rid)
			if first.st != nil || again.st != nil || again.c.GetName() != first.c.GetName() {
				t.Errorf("retried create: %v / %v, names %s %s", first.st, again.st, first.c.GetName(), again.c.GetName())
			}
			check("request id reused", cl.create(t, newCase("something else"), rid), codes.AlreadyExists, 409)
		})
	}
}

func TestConcurrentDuplicateCreatesOverBothTransports(t *testing.T) {
	e := startCases(t)
	for _, cl := range clients(e) {
		rid := uuid.NewString()
		names := make([]string, 20)
		var wg sync.WaitGroup
		for i := range names {
			wg.Add(1)
			go func() {
				defer wg.Done()
				r := cl.create(t, newCase("concurrent "+cl.name()), rid)
				if r.st != nil {
					t.Errorf("%s: %v", cl.name(), r.st)
				}
				names[i] = r.c.GetName()
			}()
		}
		wg.Wait()
		for _, n := range names {
			if n != names[0] {
				t.Errorf("%s: created %s and %s for one request id", cl.name(), n, names[0])
			}
		}
	}
	resp, err := e.cases.ListCases(t.Context(), &mediationv1.ListCasesRequest{PageSize: 100})
	if err != nil || len(resp.GetCases()) != 2 {
		t.Errorf("ListCases: %d cases, %v; want 2", len(resp.GetCases()), err)
	}
}
