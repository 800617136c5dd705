package server_test

import (
	"slices"
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/fieldmaskpb"

	mediationv1 "github.com/mediationd/mediationd/proto/mediation/v1"
)

// TestCourtDeskUsersOverTheAPI checks that an administrator can give a
// person at a court's desk a user of their court through the API, that
// the user sees that court's referrals only, follows a change of court,
// and that a court code missing or out of place is refused naming it.
func TestCourtDeskUsersOverTheAPI(t *testing.T) {
	e := start(t)
	qingyang(t, e)
	ctx := t.Context()
	users := mediationv1.NewUserServiceClient(e.conn)
	referral := func(court, number string) string {
		c := familyCase("621002")
		c.Source = mediationv1.CaseSource_CASE_SOURCE_COURT_DELEGATED
		c.CourtReferral = &mediationv1.CourtReferral{CourtCode: court, CourtCaseNumber: number}
		resp, err := e.cases.CreateCase(ctx, &mediationv1.CreateCaseRequest{Case: c})
		if err != nil {
			t.Fatal(err)
		}
		return resp.GetCase().GetName()
	}
	xifeng := referral("甘1002", "（2026）甘1002民诉前调1号")
	qingcheng := referral("甘1021", "（2026）甘1021民诉前调1号")
	if _, err := e.cases.CreateCase(ctx, &mediationv1.CreateCaseRequest{Case: familyCase("621002")}); err != nil {
		t.Fatal(err)
	}

	for _, c := range []struct {
		what string
		user *mediationv1.User
	}{
		{"a court desk without a court", &mediationv1.User{DisplayName: "立案庭书记员", Role: mediationv1.Role_ROLE_COURT_DESK}},
		{"an auditor with a court", &mediationv1.User{DisplayName: "审计员", Role: mediationv1.Role_ROLE_AUDITOR, CourtCode: "甘1002"}},
		{"a court code with spaces", &mediationv1.User{DisplayName: "立案庭书记员", Role: mediationv1.Role_ROLE_COURT_DESK, CourtCode: " 甘1002"}},
	} {
		_, err := users.CreateUser(ctx, &mediationv1.CreateUserRequest{UserId: "clerk", User: c.user, Password: "a long enough password"})
		if got := fieldViolations(result{st: status.Convert(err)}); status.Code(err) != codes.InvalidArgument || !slices.Equal(got, []string{"user.court_code"}) {
			t.Errorf("%s: %v (fields %v), want INVALID_ARGUMENT naming user.court_code", c.what, err, got)
		}
		if _, err := users.GetUser(ctx, &mediationv1.GetUserRequest{Name: "users/clerk"}); status.Code(err) != codes.NotFound {
			t.Fatalf("%s: after the refusal GetUser says %v, want NOT_FOUND", c.what, err)
		}
	}

	created, err := users.CreateUser(ctx, &mediationv1.CreateUserRequest{UserId: "clerk", Password: "a long enough password",
		User: &mediationv1.User{DisplayName: "立案庭书记员", Role: mediationv1.Role_ROLE_COURT_DESK, CourtCode: "甘1002"}})
	if err != nil {
		t.Fatal(err)
	}
	if u := created.GetUser(); u.GetCourtCode() != "甘1002" || u.GetRole() != mediationv1.Role_ROLE_COURT_DESK {
		t.Fatalf("created %v", u)
	}
	var got mediationv1.GetUserResponse
	if r := (restClient{e}).do(t, "GET", "/v1/users/clerk", nil, &got); r.st != nil || got.GetUser().GetCourtCode() != "甘1002" {
		t.Fatalf("GET /v1/users/clerk: %v %v", r.st, got.GetUser())
	}

	signIn := func() []string {
		t.Helper()
		s, err := mediationv1.NewAuthServiceClient(e.conn).CreateSession(ctx, &mediationv1.CreateSessionRequest{Username: "clerk", Password: "a long enough password"})
		if err != nil {
			t.Fatal(err)
		}
		resp, err := e.cases.ListCases(as(ctx, s.GetToken()), &mediationv1.ListCasesRequest{})
		if err != nil {
			t.Fatal(err)
		}
		var names []string
		for _, c := range resp.GetCases() {
			names = append(names, c.GetName())
		}
		return names
	}
	if names := signIn(); !slices.Equal(names, []string{xifeng}) {
		t.Errorf("the clerk of 甘1002 lists %v, want only %s", names, xifeng)
	}

	updated, err := users.UpdateUser(ctx, &mediationv1.UpdateUserRequest{
		User:       &mediationv1.User{Name: "users/clerk", CourtCode: "甘1021", Etag: created.GetUser().GetEtag()},
		UpdateMask: &fieldmaskpb.FieldMask{Paths: []string{"court_code"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	if updated.GetUser().GetCourtCode() != "甘1021" {
		t.Fatalf("updated %v", updated.GetUser())
	}
	if names := signIn(); !slices.Equal(names, []string{qingcheng}) {
		t.Errorf("moved to 甘1021, the clerk lists %v, want only %s", names, qingcheng)
	}
}
