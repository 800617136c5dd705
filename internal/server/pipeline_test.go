package server_test

import (
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/mediationd/mediationd/internal/auth"
	"github.com/mediationd/mediationd/internal/casework"
	"github.com/mediationd/mediationd/internal/store"
	mediationv1 "github.com/mediationd/mediationd/proto/mediation/v1"
)

// TestCourtReferralResentWithOtherData: a court that sends the same court
// case number again with a different body must learn that its changes were
// not taken (ALREADY_EXISTS naming the case it made, HTTP 409), not get the
// first case back as if they were; the same body still returns that case.
func TestCourtReferralResentWithOtherData(t *testing.T) {
	e := start(t)
	referral := func(summary string) *mediationv1.Case {
		c := familyCase("621002")
		c.Summary = summary
		c.Source = mediationv1.CaseSource_CASE_SOURCE_COURT_DELEGATED
		c.CourtReferral = &mediationv1.CourtReferral{CourtCode: "甘1002", CourtCaseNumber: "（2026）甘1002民诉前调301号"}
		return c
	}
	first := grpcClient{e}.create(t, referral("借款纠纷：本金三万元"), "")
	if first.st != nil {
		t.Fatal(first.st)
	}
	if again := (restClient{e}).create(t, referral("借款纠纷：本金三万元"), ""); again.st != nil || again.c.GetName() != first.c.GetName() {
		t.Fatalf("the same referral again: %v, %s (want %s)", again.st, again.c.GetName(), first.c.GetName())
	}
	for _, cl := range clients(e) {
		r := cl.create(t, referral("借款纠纷：本金五万元"), "")
		if r.code() != codes.AlreadyExists {
			t.Fatalf("%s: a changed referral: %v, want ALREADY_EXISTS", cl.name(), r.st)
		}
		if cl.name() == "rest" && r.httpStatus != http.StatusConflict {
			t.Errorf("rest: HTTP %d, want 409", r.httpStatus)
		}
		if info := errorInfo(r); info.GetReason() != "COURT_REFERRAL_EXISTS" {
			t.Errorf("%s: reason %v", cl.name(), info)
		}
		if !strings.Contains(r.st.Message(), first.c.GetName()) || !strings.Contains(r.st.Message(), first.c.GetCaseNumber()) {
			t.Errorf("%s: the message does not name the existing case %s (%s): %s", cl.name(), first.c.GetName(), first.c.GetCaseNumber(), r.st.Message())
		}
	}
	if n := countCases(t, e); n != 1 {
		t.Errorf("%d cases, want the one referral", n)
	}
	got := grpcClient{e}.get(t, first.c.GetName())
	if got.c.GetSummary() != "借款纠纷：本金三万元" {
		t.Errorf("the stored referral changed: %q", got.c.GetSummary())
	}
}

// TestRegionNotInTheDirectory: a case registered for a region code the
// directory does not have is refused naming the field, over both
// transports, and nothing is stored (before, it was numbered from the
// default scheme and seen by nobody but the administrator).
func TestRegionNotInTheDirectory(t *testing.T) {
	e := start(t)
	for _, cl := range clients(e) {
		for _, code := range []string{"999999", "620199"} {
			r := cl.create(t, familyCase(code), "")
			if r.code() != codes.InvalidArgument || !slices.Contains(fieldViolations(r), "case.region_code") {
				t.Errorf("%s: region %s: %v, want INVALID_ARGUMENT naming case.region_code", cl.name(), code, r.st)
			}
			if cl.name() == "rest" && r.httpStatus != http.StatusBadRequest {
				t.Errorf("rest: region %s: HTTP %d", code, r.httpStatus)
			}
		}
	}
	if n := countCases(t, e); n != 0 {
		t.Errorf("%d cases stored", n)
	}
	if r := (grpcClient{e}).create(t, familyCase("621027"), ""); r.st != nil {
		t.Errorf("a region of the directory (镇原县): %v", r.st)
	}
}

// TestTimesOutOfRange: a session in the year 9999, a follow-up visit or a
// court's decision dated in the future are refused naming the field, and
// change nothing.
func TestTimesOutOfRange(t *testing.T) {
	e := startCases(t)
	for _, cl := range clients(e) {
		t.Run(cl.name(), func(t *testing.T) {
			c := bring(t, cl, casework.StateMediating)
			events := len(cl.events(t, c.GetName()))
			for _, at := range []time.Time{time.Date(9999, 1, 1, 2, 0, 0, 0, time.UTC), time.Now().AddDate(-2, 0, 0)} {
				cmd := simple(casework.ActionScheduleSession)
				cmd.Session = &casework.Session{StartTime: at, Place: "调解室"}
				r := cl.act(t, c.GetName(), cmd, "")
				if r.code() != codes.InvalidArgument || !slices.Contains(fieldViolations(r), "start_time") {
					t.Errorf("a session at %s: %v, want INVALID_ARGUMENT naming start_time", at.Format(time.DateOnly), r.st)
				}
			}
			cmd := simple(casework.ActionScheduleSession)
			cmd.Session = &casework.Session{StartTime: time.Now().Add(48 * time.Hour), Place: "调解室"}
			if r := cl.act(t, c.GetName(), cmd, ""); r.st != nil {
				t.Fatalf("a session the day after tomorrow: %v", r.st)
			}
			if n := len(cl.events(t, c.GetName())); n != events+1 {
				t.Errorf("history grew by %d, want the one session", n-events)
			}
		})
	}
	ctx := e.withToken(t.Context())
	c := bring(t, grpcClient{e}, casework.StateAgreed)
	_, err := e.cases.RecordFollowUp(ctx, &mediationv1.RecordFollowUpRequest{
		Name: c.GetName(), Findings: "已履行", VisitTime: timestamppb.New(time.Now().AddDate(0, 1, 0)),
	})
	if r := grpcResult(nil, nil, err); r.code() != codes.InvalidArgument || !slices.Contains(fieldViolations(r), "visit_time") {
		t.Errorf("a visit next month: %v, want INVALID_ARGUMENT naming visit_time", err)
	}
}

// TestStaleEtagNamesTheCurrentOne: a refusal for a stale etag gives the
// etag to read (ErrorInfo metadata current_etag), so that a client can
// tell the user how far the case moved; the message says it in words.
func TestStaleEtagNamesTheCurrentOne(t *testing.T) {
	e := startCases(t)
	for _, cl := range clients(e) {
		c := bring(t, cl, casework.StateAccepted)
		r := cl.act(t, c.GetName(), simple(casework.ActionWithdraw), "v1")
		if r.code() != codes.Aborted {
			t.Fatalf("%s: stale etag: %v", cl.name(), r.st)
		}
		info := errorInfo(r)
		if info.GetReason() != "CONCURRENT_CHANGE" || info.GetMetadata()["current_etag"] != c.GetEtag() {
			t.Errorf("%s: %v, want CONCURRENT_CHANGE with current_etag %s", cl.name(), info, c.GetEtag())
		}
		if !strings.Contains(r.st.Message(), "version") {
			t.Errorf("%s: message %q", cl.name(), r.st.Message())
		}
	}
}

// TestFiltersTakeTheAPIsEnumNames: every list's filter takes an enum value
// by its API name as well as by its stored one, over REST and gRPC (the
// store knows the stored names only; the API spells its own onto them).
func TestFiltersTakeTheAPIsEnumNames(t *testing.T) {
	e := start(t)
	qingyang(t, e)
	if r := (grpcClient{e}).create(t, familyCase("621002"), ""); r.st != nil {
		t.Fatal(r.st)
	}
	ctx := e.withToken(t.Context())
	dir := mediationv1.NewDirectoryServiceClient(e.conn)
	audits := mediationv1.NewAuditServiceClient(e.conn)
	count := func(api, stored string, list func(filter string) (int, error)) {
		t.Helper()
		a, err := list(api)
		if err != nil {
			t.Fatalf("%s: %v", api, err)
		}
		b, err := list(stored)
		if err != nil {
			t.Fatalf("%s: %v", stored, err)
		}
		if a == 0 || a != b {
			t.Errorf("%s: %d rows, %s: %d rows; want the same, more than none", api, a, stored, b)
		}
	}
	count("state = CASE_STATE_INTAKE", "state = INTAKE", func(f string) (int, error) {
		var out mediationv1.ListCasesResponse
		r := restClient{e}.do(t, http.MethodGet, "/v1/cases?filter="+url.QueryEscape(f), nil, &out)
		if r.st != nil {
			return 0, r.st.Err()
		}
		return len(out.GetCases()), nil
	})
	count("level = REGION_LEVEL_CITY", "level = CITY", func(f string) (int, error) {
		resp, err := dir.ListRegions(ctx, &mediationv1.ListRegionsRequest{Filter: f, PageSize: 100})
		return len(resp.GetRegions()), err
	})
	count("type = ORGANIZATION_TYPE_WOMEN_STUDIO", "type = WOMEN_STUDIO", func(f string) (int, error) {
		resp, err := dir.ListOrganizations(ctx, &mediationv1.ListOrganizationsRequest{Filter: f})
		return len(resp.GetOrganizations()), err
	})
	count("specialty = DISPUTE_TYPE_MARRIAGE_FAMILY", "specialty = MARRIAGE_FAMILY", func(f string) (int, error) {
		resp, err := dir.ListMediators(ctx, &mediationv1.ListMediatorsRequest{Filter: f})
		return len(resp.GetMediators()), err
	})
	count("actor_role = ROLE_ADMIN AND kind = AUDIT_EVENT_KIND_WRITE", "actor_role = ADMIN AND kind = WRITE", func(f string) (int, error) {
		resp, err := audits.ListAuditEvents(ctx, &mediationv1.ListAuditEventsRequest{Filter: f})
		return len(resp.GetAuditEvents()), err
	})
	_, err := dir.ListRegions(ctx, &mediationv1.ListRegionsRequest{Filter: "level = CASE_STATE_CITY"})
	if status.Code(err) != codes.InvalidArgument || !strings.Contains(err.Error(), "CASE_STATE_CITY") {
		t.Errorf("another enum's prefix: %v, want INVALID_ARGUMENT quoting the value", err)
	}
}

// TestCourtReferralToAnInvitedOrganization: a court refers a dispute to an
// invited organization on the roster; that organization's lead and
// mediators then hold it as their intake (they see and accept it), while
// another organization sees nothing. An organization that is unknown,
// inactive or not on the roster is refused, and nothing is stored.
func TestCourtReferralToAnInvitedOrganization(t *testing.T) {
	e := start(t)
	qingyang(t, e)
	ctx := t.Context()
	court := as(ctx, e.signIn(t, store.User{Username: "court-desk", DisplayName: "西峰区人民法院诉调对接中心", Role: auth.RoleCourtDesk, CourtCode: "甘1002"}))
	lead := as(ctx, e.signIn(t, store.User{Username: "studio-lead", DisplayName: "巾帼工作室负责人", Role: auth.RoleOrganizationLead, OrganizationID: "xifeng-women"}))
	mediator := as(ctx, e.signIn(t, store.User{Username: "li-hong", DisplayName: "李红", Role: auth.RoleMediator, MediatorID: "li-hong"}))
	other := as(ctx, e.signIn(t, store.User{Username: "township-lead", DisplayName: "街道调委会负责人", Role: auth.RoleOrganizationLead, OrganizationID: "xifeng-township"}))
	referral := func(number, org string) *mediationv1.CreateCaseRequest {
		c := familyCase("621002")
		c.Source = mediationv1.CaseSource_CASE_SOURCE_COURT_DELEGATED
		c.CourtReferral = &mediationv1.CourtReferral{CourtCode: "甘1002", CourtCaseNumber: "（2026）甘1002民诉前调" + number + "号", Organization: org}
		return &mediationv1.CreateCaseRequest{Case: c}
	}
	for _, bad := range []struct {
		org  string
		code codes.Code
	}{
		{"organizations/no-such-room", codes.InvalidArgument},
		{"rooms/xifeng-women", codes.InvalidArgument},
		{"organizations/xifeng-township", codes.FailedPrecondition}, // not on the roster
	} {
		_, err := e.cases.CreateCase(court, referral("401", bad.org))
		if status.Code(err) != bad.code || !strings.Contains(status.Convert(err).Message(), strings.TrimPrefix(bad.org, "rooms/")) {
			t.Errorf("referral to %s: %v, want %v naming it", bad.org, err, bad.code)
		}
	}
	// A deactivated organization on the roster takes no referral either.
	onRoster := true
	if _, err := e.store.SetOrganizationActive(ctx, "qingcheng-women", false, 0, time.Now()); err != nil {
		t.Fatal(err)
	}
	if _, err := e.store.UpdateOrganization(ctx, "qingcheng-women", store.OrganizationChange{CourtRoster: &onRoster}, 0, time.Now()); err != nil {
		t.Fatal(err)
	}
	_, err := e.cases.CreateCase(court, referral("403", "organizations/qingcheng-women"))
	if status.Code(err) != codes.FailedPrecondition || !strings.Contains(status.Convert(err).Message(), "deactivated") {
		t.Errorf("referral to a deactivated organization: %v, want FAILED_PRECONDITION saying so", err)
	}
	if n := countCases(t, e); n != 0 {
		t.Fatalf("%d cases stored by refused referrals", n)
	}
	resp, err := e.cases.CreateCase(court, referral("402", "organizations/xifeng-women"))
	if err != nil {
		t.Fatal(err)
	}
	name := resp.GetCase().GetName()
	if got := resp.GetCase().GetCourtReferral().GetOrganization(); got != "organizations/xifeng-women" {
		t.Errorf("the referral's organization reads %q", got)
	}
	if _, err := e.cases.GetCase(other, &mediationv1.GetCaseRequest{Name: name}); status.Code(err) != codes.NotFound {
		t.Errorf("another organization's lead reads the referral: %v", err)
	}
	if _, err := e.cases.GetCase(mediator, &mediationv1.GetCaseRequest{Name: name}); err != nil {
		t.Errorf("a mediator of the invited studio cannot read its intake: %v", err)
	}
	acc, err := e.cases.AcceptCase(lead, &mediationv1.AcceptCaseRequest{Name: name})
	if err != nil || acc.GetCase().GetState() != mediationv1.CaseState_CASE_STATE_ACCEPTED {
		t.Fatalf("the invited studio's lead accepts the referral: %v", err)
	}
	if _, err := e.cases.AssignCase(lead, &mediationv1.AssignCaseRequest{Name: name, Organization: "organizations/xifeng-women", Mediator: "mediators/li-hong"}); err != nil {
		t.Errorf("the lead assigns it inside the studio: %v", err)
	}
	if _, err := e.cases.GetCase(court, &mediationv1.GetCaseRequest{Name: name}); err != nil {
		t.Errorf("the court follows its referral: %v", err)
	}
}
