package server_test

import (
	"context"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/google/uuid"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	"github.com/mediationd/mediationd/internal/auth"
	"github.com/mediationd/mediationd/internal/store"
	mediationv1 "github.com/mediationd/mediationd/proto/mediation/v1"
)

// auditRows lists the audit trail as kind/actor/method/resource lines, oldest
// first.
func auditRows(t *testing.T, e *env, filter string) []*mediationv1.AuditEvent {
	t.Helper()
	resp, err := mediationv1.NewAuditServiceClient(e.conn).ListAuditEvents(t.Context(), &mediationv1.ListAuditEventsRequest{Filter: filter, PageSize: 1000})
	if err != nil {
		t.Fatal(err)
	}
	out := resp.GetAuditEvents()
	slices.Reverse(out)
	return out
}

// TestAuditTrail checks that writes, sign-ins (good and bad), sign-outs and
// unmasked reads are recorded with who, when, where from, what and the
// request id, and that the database refuses to change the trail.
func TestAuditTrail(t *testing.T) {
	e := start(t)
	qingyang(t, e)
	ctx := context.Background()
	auth := mediationv1.NewAuthServiceClient(e.conn)

	// A failed and a good sign-in, then a sign-out.
	lead := e.signIn(t, store.User{Username: "lead", DisplayName: "负责人", Role: roleLead, OrganizationID: "xifeng-women"})
	if _, err := auth.CreateSession(ctx, &mediationv1.CreateSessionRequest{Username: "lead", Password: "wrong password!"}); err == nil {
		t.Fatal("a wrong password signed in")
	}
	throwaway, err := auth.CreateSession(ctx, &mediationv1.CreateSessionRequest{Username: "lead", Password: testPassword})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := auth.DeleteSession(as(ctx, throwaway.GetToken()), &mediationv1.DeleteSessionRequest{}); err != nil {
		t.Fatal(err)
	}

	// A directory write and a case write, each with a request id.
	md := metadata.Pairs("x-request-id", "req-audit-org")
	if _, err := mediationv1.NewDirectoryServiceClient(e.conn).DeactivateOrganization(metadata.NewOutgoingContext(ctx, md),
		&mediationv1.DeactivateOrganizationRequest{Name: "organizations/qingcheng-women"}); err != nil {
		t.Fatal(err)
	}
	c := familyCase("621002")
	c.Parties[0].Phone = "13909341234"
	created, err := e.cases.CreateCase(metadata.NewOutgoingContext(as(ctx, lead), metadata.Pairs("x-request-id", "req-audit-case")),
		&mediationv1.CreateCaseRequest{Case: c})
	if err != nil {
		t.Fatal(err)
	}
	name := created.GetCase().GetName()
	// The lead read the phone number unmasked (in the create response) and
	// reads it again; the administrator reads it masked.
	if _, err := e.cases.GetCase(as(ctx, lead), &mediationv1.GetCaseRequest{Name: name}); err != nil {
		t.Fatal(err)
	}
	if got, err := e.cases.GetCase(ctx, &mediationv1.GetCaseRequest{Name: name}); err != nil || got.GetCase().GetParties()[0].GetPhone() != "139****1234" {
		t.Fatalf("administrator's read: %v %v", err, got.GetCase().GetParties())
	}

	find := func(kind, actor, method, resource, requestID string) *mediationv1.AuditEvent {
		for _, ev := range auditRows(t, e, "") {
			if strings.HasSuffix(ev.GetKind().String(), kind) && ev.GetActor() == actor && strings.HasSuffix(ev.GetMethod(), method) &&
				(resource == "" || ev.GetResource() == resource) && (requestID == "" || ev.GetRequestId() == requestID) {
				return ev
			}
		}
		t.Errorf("no %s audit row by %s for %s on %q (request %q)", kind, actor, method, resource, requestID)
		return nil
	}
	find("LOGIN_FAILED", "users/lead", "AuthService/CreateSession", "users/lead", "")
	find("LOGIN", "users/lead", "AuthService/CreateSession", "users/lead", "")
	find("LOGOUT", "users/lead", "AuthService/DeleteSession", "", "")
	if ev := find("WRITE", "users/root", "DirectoryService/DeactivateOrganization", "organizations/qingcheng-women", "req-audit-org"); ev != nil {
		if ev.GetClientAddress() == "" || ev.GetEventTime() == nil || ev.GetCode() != "OK" || ev.GetActorRole() != mediationv1.Role_ROLE_ADMIN {
			t.Errorf("write row lacks detail: %v", ev)
		}
	}
	find("WRITE", "users/lead", "CaseService/CreateCase", name, "req-audit-case")
	reads := auditRows(t, e, `kind = READ_PERSONAL_DATA AND resource = "`+name+`"`)
	if len(reads) != 2 {
		t.Errorf("%d unmasked reads recorded for %s, want 2 (the lead's create and get): %v", len(reads), name, reads)
	}
	for _, r := range reads {
		if r.GetActor() != "users/lead" {
			t.Errorf("unmasked read by %s recorded; the administrator reads masked data", r.GetActor())
		}
	}

	// A sign-in refused as invalid is recorded, but what the caller sent
	// is cut short: nobody fills the append-only trail with their data.
	huge := strings.Repeat("测", 100_000)
	rid := metadata.NewOutgoingContext(ctx, metadata.Pairs("x-request-id", "req-audit-huge"))
	if _, err := auth.CreateSession(rid, &mediationv1.CreateSessionRequest{Username: huge, Password: "whatever password"}); status.Code(err) != codes.InvalidArgument {
		t.Fatalf("sign-in with a 100,000-character username: %v, want INVALID_ARGUMENT", err)
	}
	if rows := auditRows(t, e, `request_id = "req-audit-huge"`); len(rows) != 1 ||
		utf8.RuneCountInString(rows[0].GetActor()) > 201 || !strings.HasPrefix(rows[0].GetActor(), "users/测测") ||
		utf8.RuneCountInString(rows[0].GetResource()) > 201 || rows[0].GetKind() != mediationv1.AuditEventKind_AUDIT_EVENT_KIND_LOGIN_FAILED {
		t.Errorf("the refused sign-in's audit rows: %d, first %.300v", len(rows), rows)
	}

	// Auditors read the trail; others may not.
	auditor := e.signIn(t, store.User{Username: "aud", DisplayName: "审计员", Role: roleAuditor})
	if _, err := mediationv1.NewAuditServiceClient(e.conn).ListAuditEvents(as(ctx, auditor), &mediationv1.ListAuditEventsRequest{}); err != nil {
		t.Errorf("auditor listing the trail: %v", err)
	}
	if _, err := mediationv1.NewAuditServiceClient(e.conn).ListAuditEvents(as(ctx, lead), &mediationv1.ListAuditEventsRequest{}); err == nil {
		t.Error("a lead listed the audit trail")
	}

	// The trail is append-only in the database itself.
	for _, sql := range []string{
		`UPDATE audit_events SET actor = 'someone else'`,
		`DELETE FROM audit_events`,
		`TRUNCATE audit_events`,
	} {
		if _, err := e.store.Pool().Exec(ctx, sql); err == nil {
			t.Errorf("%s: accepted", sql)
		}
	}
}

// TestFamilyViolenceAddresses: in a family-violence case the address is
// shown to the assigned mediator only; numbers to the mediator and the
// organization's lead.
func TestFamilyViolenceAddresses(t *testing.T) {
	e := start(t)
	qingyang(t, e)
	ctx := context.Background()
	lead := e.signIn(t, store.User{Username: "lead", DisplayName: "负责人", Role: roleLead, OrganizationID: "xifeng-women"})
	mediator := e.signIn(t, store.User{Username: "lihong", DisplayName: "李红", Role: roleMediator, MediatorID: "li-hong"})
	other := e.signIn(t, store.User{Username: "zhangmin", DisplayName: "张敏", Role: roleMediator, MediatorID: "zhang-min"})

	c := familyCase("621002")
	c.FamilyViolence = true
	c.Parties[0].Phone = "13909341234"
	c.Parties[0].Address = "西峰区肖金镇米王村十二号"
	created, err := e.cases.CreateCase(as(ctx, lead), &mediationv1.CreateCaseRequest{Case: c})
	if err != nil {
		t.Fatal(err)
	}
	name := created.GetCase().GetName()
	if _, err := e.cases.AcceptCase(as(ctx, lead), &mediationv1.AcceptCaseRequest{Name: name}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.cases.AssignCase(as(ctx, lead), &mediationv1.AssignCaseRequest{Name: name, Organization: "organizations/xifeng-women", Mediator: "mediators/li-hong"}); err != nil {
		t.Fatal(err)
	}
	read := func(token string) *mediationv1.Party {
		t.Helper()
		got, err := e.cases.GetCase(as(ctx, token), &mediationv1.GetCaseRequest{Name: name})
		if err != nil {
			t.Fatal(err)
		}
		return got.GetCase().GetParties()[0]
	}
	if p := read(mediator); p.GetAddress() != "西峰区肖金镇米王村十二号" || p.GetPhone() != "13909341234" {
		t.Errorf("the assigned mediator sees %q %q", p.GetAddress(), p.GetPhone())
	}
	if p := read(lead); p.GetAddress() == "西峰区肖金镇米王村十二号" || p.GetPhone() != "13909341234" {
		t.Errorf("the lead sees %q %q: want the number but not the address", p.GetAddress(), p.GetPhone())
	}
	if p := read(e.token); strings.Contains(p.GetAddress(), "米王村") || p.GetPhone() == "13909341234" {
		t.Errorf("the administrator sees %q %q", p.GetAddress(), p.GetPhone())
	}
	if _, err := e.cases.GetCase(as(ctx, other), &mediationv1.GetCaseRequest{Name: name}); err == nil {
		t.Error("another mediator of the studio reads a case not assigned to them")
	}
	if _, err := e.cases.GetCase(ctx, &mediationv1.GetCaseRequest{Name: "cases/" + uuid.NewString()}); err == nil {
		t.Error("a missing case was found")
	}
}

const (
	roleLead     = auth.RoleOrganizationLead
	roleMediator = auth.RoleMediator
	roleAuditor  = auth.RoleAuditor
)

// TestChangeMadeButAnswerNotRecorded: the lead's registration and action
// are committed, then recording the unmasked read that their answer would
// be fails as a failover makes it fail (SQLSTATE 08006). The caller must
// hear that the outcome is unknown, never that nothing was written, and a
// retry with the same request id returns the first result.
func TestChangeMadeButAnswerNotRecorded(t *testing.T) {
	e := start(t)
	qingyang(t, e)
	ctx := context.Background()
	lead := e.signIn(t, store.User{Username: "lead", DisplayName: "负责人", Role: roleLead, OrganizationID: "xifeng-women"})
	pool := e.store.Pool()
	if _, err := pool.Exec(ctx, `
		CREATE FUNCTION fail_read_record() RETURNS trigger LANGUAGE plpgsql AS $$
		BEGIN RAISE EXCEPTION 'connection lost (test)' USING ERRCODE = '08006'; END $$;
		CREATE TRIGGER fail_read_record BEFORE INSERT ON audit_events
			FOR EACH ROW WHEN (NEW.kind = 'READ_PERSONAL_DATA') EXECUTE FUNCTION fail_read_record();`); err != nil {
		t.Fatal(err)
	}
	reasonOf := func(err error) (codes.Code, string) {
		st := status.Convert(err)
		for _, d := range st.Details() {
			if info, ok := d.(*errdetails.ErrorInfo); ok {
				return st.Code(), info.GetReason()
			}
		}
		return st.Code(), ""
	}

	c := familyCase("621002")
	c.Parties[0].Phone = "13909341234"
	rid := uuid.NewString()
	_, err := e.cases.CreateCase(as(ctx, lead), &mediationv1.CreateCaseRequest{Case: c, RequestId: rid})
	if code, reason := reasonOf(err); code != codes.Unavailable || reason != "COMMIT_OUTCOME_UNKNOWN" {
		t.Fatalf("registration whose answer could not be recorded: %v; want UNAVAILABLE, COMMIT_OUTCOME_UNKNOWN", err)
	}
	var id uuid.UUID
	if err := pool.QueryRow(ctx, `SELECT case_id FROM case_events WHERE request_id = $1`, rid).Scan(&id); err != nil {
		t.Fatalf("the registration was committed, yet not found: %v", err)
	}
	name := "cases/" + id.String()
	acceptID := uuid.NewString()
	_, err = e.cases.AcceptCase(as(ctx, lead), &mediationv1.AcceptCaseRequest{Name: name, RequestId: acceptID})
	if code, reason := reasonOf(err); code != codes.Unavailable || reason != "COMMIT_OUTCOME_UNKNOWN" {
		t.Fatalf("action whose answer could not be recorded: %v; want UNAVAILABLE, COMMIT_OUTCOME_UNKNOWN", err)
	}

	// The database answers again: the retries return the first results.
	if _, err := pool.Exec(ctx, `DROP TRIGGER fail_read_record ON audit_events`); err != nil {
		t.Fatal(err)
	}
	again, err := e.cases.CreateCase(as(ctx, lead), &mediationv1.CreateCaseRequest{Case: c, RequestId: rid})
	if err != nil || again.GetCase().GetName() != name {
		t.Fatalf("registration retried: %v %v, want %s", err, again.GetCase().GetName(), name)
	}
	accepted, err := e.cases.AcceptCase(as(ctx, lead), &mediationv1.AcceptCaseRequest{Name: name, RequestId: acceptID})
	if err != nil || accepted.GetCase().GetState() != mediationv1.CaseState_CASE_STATE_ACCEPTED || accepted.GetEvent().GetVersion() != 2 {
		t.Fatalf("action retried: %v %v; want the first acceptance (version 2)", err, accepted.GetEvent())
	}
	var events int
	if err := pool.QueryRow(ctx, `SELECT count(*) FROM case_events WHERE case_id = $1`, id).Scan(&events); err != nil || events != 2 {
		t.Errorf("history rows: %d, %v; want 2 (registered, accepted once)", events, err)
	}
}
