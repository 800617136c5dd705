package server_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	"github.com/google/uuid"

	"github.com/mediationd/mediationd/internal/auth"
	"github.com/mediationd/mediationd/internal/casework"
	"github.com/mediationd/mediationd/internal/pgtest"
	"github.com/mediationd/mediationd/internal/server"
	"github.com/mediationd/mediationd/internal/store"
	mediationv1 "github.com/mediationd/mediationd/proto/mediation/v1"
)

// clock is a time the test moves.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time  { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) set(t time.Time) { c.mu.Lock(); defer c.mu.Unlock(); c.t = t }

// startAt starts a server whose clock the test controls, in Beijing time,
// with the overdue job off (the test runs it).
func startAt(t *testing.T, dsn string, at time.Time) (*env, *clock) {
	t.Helper()
	clk := &clock{t: at}
	shanghai, err := time.LoadLocation("Asia/Shanghai")
	if err != nil {
		t.Fatal(err)
	}
	e := startWith(t, dsn, func(c *server.Config) {
		c.Clock, c.Location, c.OverdueInterval = clk.now, shanghai, -1
		c.AuthOptions.SessionTTL = 10 * 365 * 24 * time.Hour // the test moves the clock by weeks
	})
	return e, clk
}

// qingyang seeds a small directory: in 西峰区 a women's studio with two
// mediators, a township committee, a medical committee; in 庆城县 another
// women's studio.
func qingyang(t *testing.T, e *env) {
	t.Helper()
	ctx := context.Background()
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	orgs := []casework.Organization{
		{ID: "xifeng-women", DisplayName: "西峰区巾帼调解工作室", Type: casework.OrgWomenStudio, RegionCode: "621002", DisputeTypes: []casework.DisputeType{casework.DisputeMarriageFamily}, CourtRoster: true},
		{ID: "xifeng-township", DisplayName: "西峰区北街街道人民调解委员会", Type: casework.OrgTownshipCommittee, RegionCode: "621002"},
		{ID: "xifeng-medical", DisplayName: "西峰区医疗纠纷人民调解委员会", Type: casework.OrgProfessionalCommittee, RegionCode: "621002", DisputeTypes: []casework.DisputeType{casework.DisputeMedical}},
		{ID: "qingcheng-women", DisplayName: "庆城县巾帼调解工作室", Type: casework.OrgWomenStudio, RegionCode: "621021", DisputeTypes: []casework.DisputeType{casework.DisputeMarriageFamily}},
	}
	for _, o := range orgs {
		o.Active = true
		if _, err := e.store.CreateOrganization(ctx, o, now); err != nil {
			t.Fatal(err)
		}
	}
	meds := []casework.Mediator{
		{ID: "li-hong", DisplayName: "李红", OrganizationID: "xifeng-women", Specialties: []casework.DisputeType{casework.DisputeMarriageFamily}},
		{ID: "zhang-min", DisplayName: "张敏", OrganizationID: "xifeng-women"},
		{ID: "wang-qiang", DisplayName: "王强", OrganizationID: "xifeng-township"},
		{ID: "zhao-yi", DisplayName: "赵医", OrganizationID: "xifeng-medical"},
		{ID: "sun-li", DisplayName: "孙丽", OrganizationID: "qingcheng-women"},
	}
	for _, m := range meds {
		m.Active = true
		if _, err := e.store.CreateMediator(ctx, m, now); err != nil {
			t.Fatal(err)
		}
	}
}

func familyCase(region string) *mediationv1.Case {
	c := newCase("赡养纠纷：申请人要求子女支付赡养费")
	c.DisputeType = mediationv1.DisputeType_DISPUTE_TYPE_MARRIAGE_FAMILY
	c.RegionCode = region
	return c
}

func TestSuggestAssignmentPrefersTheCountysWomensStudio(t *testing.T) {
	e := start(t)
	qingyang(t, e)
	for _, cl := range clients(e) {
		c := cl.create(t, familyCase("621002"), "").c
		c = cl.act(t, c.GetName(), simple(casework.ActionAccept), "").c
		resp, err := e.cases.SuggestAssignment(t.Context(), &mediationv1.SuggestAssignmentRequest{Name: c.GetName()})
		if err != nil {
			t.Fatal(err)
		}
		s := resp.GetSuggestions()
		if len(s) == 0 || s[0].GetOrganization() != "organizations/xifeng-women" || s[0].GetRank() != 1 {
			t.Fatalf("%s: first suggestion %v", cl.name(), s)
		}
		var reasons []string
		for _, r := range s[0].GetReasons() {
			reasons = append(reasons, r.GetCode())
			if r.GetMessage() == "" {
				t.Errorf("reason %s without words", r.GetCode())
			}
		}
		for _, want := range []string{"SPECIALISED_ORGANIZATION", "SAME_COUNTY", "OPEN_CASES"} {
			if !slices.Contains(reasons, want) {
				t.Errorf("first suggestion's reasons %v lack %s", reasons, want)
			}
		}
		// The studio in the same county, then the one in the same city, then
		// the general committee; the medical committee does not take it.
		var orgs []string
		for _, sg := range s {
			if len(orgs) == 0 || orgs[len(orgs)-1] != sg.GetOrganization() {
				orgs = append(orgs, sg.GetOrganization())
			}
		}
		want := []string{"organizations/xifeng-women", "organizations/qingcheng-women", "organizations/xifeng-township"}
		if !slices.Equal(orgs, want) {
			t.Errorf("order %v, want %v", orgs, want)
		}
		// The mediator specialised in the type comes first within the studio.
		if s[0].GetMediator() != "mediators/li-hong" {
			t.Errorf("first mediator %s, want mediators/li-hong", s[0].GetMediator())
		}
		// After li-hong recuses, she is no longer suggested for this case.
		c = cl.act(t, c.GetName(), assignTo("xifeng-women", "li-hong", ""), c.GetEtag()).c
		r := cl.act(t, c.GetName(), casework.Command{Action: casework.ActionRecuse, Reason: "与申请人系亲属"}, c.GetEtag())
		if r.st != nil || r.c.GetState() != mediationv1.CaseState_CASE_STATE_ACCEPTED || r.c.GetMediator() != "" {
			t.Fatalf("recuse: %v, %v", r.st, r.c)
		}
		resp, err = e.cases.SuggestAssignment(t.Context(), &mediationv1.SuggestAssignmentRequest{Name: c.GetName()})
		if err != nil {
			t.Fatal(err)
		}
		for _, sg := range resp.GetSuggestions() {
			if sg.GetMediator() == "mediators/li-hong" {
				t.Errorf("%s: a recused mediator is suggested again", cl.name())
			}
		}
		again := cl.act(t, c.GetName(), assignTo("xifeng-women", "li-hong", "重新分派"), "")
		if again.code() != codes.FailedPrecondition || errorInfo(again).GetReason() != "MEDIATOR_RECUSED" {
			t.Errorf("%s: assigning a recused mediator again: %v", cl.name(), again.st)
		}
	}
}

func simple(a casework.Action) casework.Command {
	return casework.Command{Action: a, Reason: "remark"}
}

func assignTo(org, mediator, reason string) casework.Command {
	return casework.Command{Action: casework.ActionAssign, Organization: "organizations/" + org, Mediator: "mediators/" + mediator, Reason: reason}
}

func TestAutoAssignmentAtAcceptance(t *testing.T) {
	e := start(t)
	qingyang(t, e)
	c := grpcClient{e}.create(t, familyCase("621002"), "").c
	if c2 := (grpcClient{e}).act(t, c.GetName(), simple(casework.ActionAccept), "").c; c2.GetState() != mediationv1.CaseState_CASE_STATE_ACCEPTED {
		t.Fatalf("without the setting, acceptance leaves the case %s", c2.GetState())
	}
	// Qingyang turns it on for the whole city.
	dir := mediationv1.NewDirectoryServiceClient(e.conn)
	if _, err := dir.UpdateRegion(t.Context(), &mediationv1.UpdateRegionRequest{Region: &mediationv1.Region{Name: "regions/621000", AutoAssign: true}}); err != nil {
		t.Fatal(err)
	}
	c = grpcClient{e}.create(t, familyCase("621002"), "").c
	r := (grpcClient{e}).act(t, c.GetName(), simple(casework.ActionAccept), "")
	if r.st != nil || r.c.GetState() != mediationv1.CaseState_CASE_STATE_ASSIGNED || r.c.GetOrganization() != "organizations/xifeng-women" {
		t.Fatalf("auto-assignment: %v %v", r.st, r.c)
	}
	events := grpcClient{e}.events(t, c.GetName())
	last := events[len(events)-1]
	if last.GetAction() != mediationv1.CaseAction_CASE_ACTION_ASSIGN || last.GetActor() != "system" || !strings.Contains(last.GetReason(), "自动分派") {
		t.Errorf("auto-assignment event %v", last)
	}

	// A retried acceptance (same request id) acts no more: not even the
	// auto-assignment, when the case has come back to ACCEPTED since.
	c = grpcClient{e}.create(t, familyCase("621002"), "").c
	rid := uuid.NewString()
	first, err := e.cases.AcceptCase(t.Context(), &mediationv1.AcceptCaseRequest{Name: c.GetName(), RequestId: rid})
	if err != nil || first.GetCase().GetState() != mediationv1.CaseState_CASE_STATE_ASSIGNED {
		t.Fatalf("accept: %v %v", err, first.GetCase().GetState())
	}
	if _, err := e.cases.RecuseCase(t.Context(), &mediationv1.RecuseCaseRequest{Name: c.GetName(), Reason: "回避"}); err != nil {
		t.Fatal(err)
	}
	before := len(grpcClient{e}.events(t, c.GetName()))
	again, err := e.cases.AcceptCase(t.Context(), &mediationv1.AcceptCaseRequest{Name: c.GetName(), RequestId: rid})
	if err != nil || again.GetEvent().GetVersion() != first.GetEvent().GetVersion() || again.GetCase().GetState() != mediationv1.CaseState_CASE_STATE_ACCEPTED {
		t.Errorf("replayed accept: %v, event %d (first %d), state %s", err, again.GetEvent().GetVersion(), first.GetEvent().GetVersion(), again.GetCase().GetState())
	}
	if after := len(grpcClient{e}.events(t, c.GetName())); after != before {
		t.Errorf("a replayed acceptance added %d events", after-before)
	}
}

// TestDeadlines checks the time limit of each source, extensions and the
// overdue job: with the clock moved past the due time, the job marks
// exactly the overdue cases, once, also with two jobs at once.
func TestDeadlines(t *testing.T) {
	dsn := pgtest.NewDatabase(t)
	start := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC) // 17:00 in Beijing
	e, clk := startAt(t, dsn, start)
	qingyang(t, e)
	cl := grpcClient{e}
	referral := func(source mediationv1.CaseSource, number string, procedure mediationv1.CourtProcedure) *mediationv1.Case {
		c := familyCase("621002")
		c.Source = source
		c.CourtReferral = &mediationv1.CourtReferral{CourtCode: "甘1002", CourtName: "庆阳市西峰区人民法院", CourtCaseNumber: number, Procedure: procedure}
		return c
	}
	tests := []struct {
		name          string
		c             *mediationv1.Case
		days          int
		maxExtensions int32
	}{
		{"walk-in", familyCase("621002"), 30, 1},
		{"委派", referral(mediationv1.CaseSource_CASE_SOURCE_COURT_DELEGATED, "（2026）甘1002民诉前调1号", 0), 30, 1},
		{"委托 ordinary", referral(mediationv1.CaseSource_CASE_SOURCE_COURT_ENTRUSTED, "（2026）甘1002民初2号", mediationv1.CourtProcedure_COURT_PROCEDURE_ORDINARY), 15, 0},
		{"委托 summary", referral(mediationv1.CaseSource_CASE_SOURCE_COURT_ENTRUSTED, "（2026）甘1002民初3号", mediationv1.CourtProcedure_COURT_PROCEDURE_SUMMARY), 7, 0},
	}
	shanghai, _ := time.LoadLocation("Asia/Shanghai")
	names := map[string]string{}
	for _, tt := range tests {
		c := cl.create(t, tt.c, "")
		if c.st != nil {
			t.Fatalf("%s: create: %v", tt.name, c.st)
		}
		r := cl.act(t, c.c.GetName(), simple(casework.ActionAccept), "")
		if r.st != nil {
			t.Fatalf("%s: accept: %v", tt.name, r.st)
		}
		dl := r.c.GetDeadline()
		wantDue := time.Date(2026, 3, 1+tt.days, 23, 59, 59, 999999000, shanghai)
		if !dl.GetDueTime().AsTime().Equal(wantDue) || dl.GetDaysRemaining() != int32(tt.days) || dl.GetMaxExtensions() != tt.maxExtensions {
			t.Errorf("%s: deadline %v (due %v), want due %v, %d days, %d extensions", tt.name, dl, dl.GetDueTime().AsTime().In(shanghai), wantDue, tt.days, tt.maxExtensions)
		}
		names[tt.name] = r.c.GetName()
	}

	// Extensions: the walk-in case may be extended once with both sides' consent.
	walkIn := names["walk-in"]
	ext := casework.Command{Action: casework.ActionExtendDeadline, Reason: "双方同意延长", ConsentingPartyIDs: []string{"p1"}}
	if r := cl.act(t, walkIn, ext, ""); r.code() != codes.InvalidArgument || !slices.Contains(fieldViolations(r), "consenting_party_ids") {
		t.Errorf("extension without the respondent's consent: %v", r.st)
	}
	ext.ConsentingPartyIDs = []string{"p1", "p2"}
	r := cl.act(t, walkIn, ext, "")
	if r.st != nil || r.c.GetDeadline().GetExtensionCount() != 1 || r.c.GetDeadline().GetDaysRemaining() != 60 {
		t.Fatalf("first extension: %v %v", r.st, r.c.GetDeadline())
	}
	before := len(cl.events(t, walkIn))
	if r := cl.act(t, walkIn, ext, ""); r.code() != codes.FailedPrecondition || errorInfo(r).GetReason() != "EXTENSION_LIMIT" {
		t.Errorf("second extension: %v", r.st)
	}
	if r := cl.act(t, names["委托 summary"], ext, ""); r.code() != codes.FailedPrecondition || errorInfo(r).GetReason() != "EXTENSION_LIMIT" {
		t.Errorf("extending a 委托 case: %v", r.st)
	}
	if len(cl.events(t, walkIn)) != before {
		t.Error("a refused extension was recorded")
	}

	// Day 10: only the summary-procedure case (7 days) is overdue.
	clk.set(start.AddDate(0, 0, 10))
	if n := runJobsConcurrently(t, e, 2); n != 1 {
		t.Errorf("day 10: marked %d cases, want 1", n)
	}
	// Day 20: the ordinary 委托 case (15 days) too; the summary one is not marked again.
	clk.set(start.AddDate(0, 0, 20))
	if n := runJobsConcurrently(t, e, 2); n != 1 {
		t.Errorf("day 20: marked %d cases, want 1", n)
	}
	// A second server on the same database runs its job at the same time.
	e2, _ := startAt(t, dsn, start.AddDate(0, 0, 40))
	clk.set(start.AddDate(0, 0, 40))
	var wg sync.WaitGroup
	counts := make([]int, 2)
	for i, srv := range []*server.Server{e.srv, e2.srv} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			n, err := srv.MarkOverdue(context.Background())
			if err != nil {
				t.Error(err)
			}
			counts[i] = n
		}()
	}
	wg.Wait()
	// Day 40: the 委派 case (30 days) is overdue; the walk-in case was extended to day 60.
	if counts[0]+counts[1] != 1 {
		t.Errorf("day 40, two servers: marked %v, want 1 in all", counts)
	}
	filter := func(f string) []string {
		resp, err := e.cases.ListCases(t.Context(), &mediationv1.ListCasesRequest{Filter: f, PageSize: 100})
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, c := range resp.GetCases() {
			out = append(out, c.GetName())
		}
		slices.Sort(out)
		return out
	}
	want := []string{names["委派"], names["委托 ordinary"], names["委托 summary"]}
	slices.Sort(want)
	if got := filter("overdue = true"); !slices.Equal(got, want) {
		t.Errorf("overdue cases %v, want %v", got, want)
	}
	if got := filter("overdue = false"); !slices.Equal(got, []string{walkIn}) {
		t.Errorf("cases not overdue %v", got)
	}
	for _, name := range want {
		marks := 0
		for _, ev := range cl.events(t, name) {
			if ev.GetAction() == mediationv1.CaseAction_CASE_ACTION_MARK_OVERDUE {
				marks++
				if ev.GetActor() != "system" || !ev.GetDeadline().GetOverdue() {
					t.Errorf("overdue event %v", ev)
				}
			}
		}
		if marks != 1 {
			t.Errorf("%s marked overdue %d times", name, marks)
		}
		c := cl.get(t, name).c
		if !c.GetDeadline().GetOverdue() || c.GetDeadline().GetDaysRemaining() >= 0 {
			t.Errorf("%s deadline %v", name, c.GetDeadline())
		}
	}
	var outbox int
	if err := e.store.Pool().QueryRow(t.Context(), `SELECT count(*) FROM outbox WHERE topic = 'case.markOverdue'`).Scan(&outbox); err != nil || outbox != 3 {
		t.Errorf("outbox has %d overdue messages (%v), want 3", outbox, err)
	}
	// An overdue message has the shape of every other: the same keys, the
	// time in UTC as RFC 3339.
	var markKeys, acceptKeys []string
	var occurTime string
	if err := e.store.Pool().QueryRow(t.Context(), `SELECT
			(SELECT array_agg(k ORDER BY k) FROM outbox o, jsonb_object_keys(o.payload) k WHERE o.id = (SELECT min(id) FROM outbox WHERE topic = 'case.markOverdue')),
			(SELECT array_agg(k ORDER BY k) FROM outbox o, jsonb_object_keys(o.payload) k WHERE o.id = (SELECT min(id) FROM outbox WHERE topic = 'case.accept')),
			(SELECT payload->>'occur_time' FROM outbox WHERE topic = 'case.markOverdue' ORDER BY id LIMIT 1)`).Scan(&markKeys, &acceptKeys, &occurTime); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(markKeys, acceptKeys) {
		t.Errorf("overdue message keys %v, an acceptance's %v", markKeys, acceptKeys)
	}
	if at, err := time.Parse(time.RFC3339Nano, occurTime); err != nil || !strings.HasSuffix(occurTime, "Z") || at.UTC().Format(time.RFC3339Nano) != occurTime {
		t.Errorf("overdue message occur_time %q: not UTC RFC 3339 as the other messages write it (%v)", occurTime, err)
	}
}

// runJobsConcurrently runs the overdue job of e n times at once and
// returns how many cases they marked together.
func runJobsConcurrently(t *testing.T, e *env, n int) int {
	t.Helper()
	var wg sync.WaitGroup
	var mu sync.Mutex
	total := 0
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			marked, err := e.srv.MarkOverdue(context.Background())
			if err != nil {
				t.Error(err)
			}
			mu.Lock()
			total += marked
			mu.Unlock()
		}()
	}
	wg.Wait()
	return total
}

func TestCourtReferralSentTwiceMakesOneCase(t *testing.T) {
	e := start(t)
	referral := func() *mediationv1.Case {
		c := familyCase("621002")
		c.Source = mediationv1.CaseSource_CASE_SOURCE_COURT_DELEGATED
		c.CourtReferral = &mediationv1.CourtReferral{CourtCode: "甘1002", CourtCaseNumber: "（2026）甘1002民诉前调88号"}
		return c
	}
	first := grpcClient{e}.create(t, referral(), "")
	again := restClient{e}.create(t, referral(), "")
	if first.st != nil || again.st != nil || again.c.GetName() != first.c.GetName() {
		t.Fatalf("repeated referral: %v %v; %s vs %s", first.st, again.st, first.c.GetName(), again.c.GetName())
	}
	// Concurrently, with and without request ids: still one case per referral.
	names := make([]string, 20)
	var wg sync.WaitGroup
	for i := range names {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := referral()
			c.CourtReferral.CourtCaseNumber = "（2026）甘1002民诉前调99号"
			var r result
			if i%2 == 0 {
				r = grpcClient{e}.create(t, c, "")
			} else {
				r = restClient{e}.create(t, c, fmt.Sprintf("00000000-0000-4000-8000-%012d", i))
			}
			if r.st != nil {
				t.Errorf("caller %d: %v", i, r.st)
			}
			names[i] = r.c.GetName()
		}()
	}
	wg.Wait()
	for _, n := range names {
		if n != names[0] {
			t.Errorf("two cases for one referral: %s, %s", n, names[0])
		}
	}
	if n := countCases(t, e); n != 2 {
		t.Errorf("%d cases for two referrals", n)
	}
	// Another court's case with the same number is another referral.
	other := referral()
	other.CourtReferral.CourtCode = "甘1021"
	if r := (grpcClient{e}).create(t, other, ""); r.st != nil || r.c.GetName() == first.c.GetName() {
		t.Errorf("other court's referral: %v", r.st)
	}
	// A referral without the court's case number is refused, naming the field.
	bad := referral()
	bad.CourtReferral.CourtCaseNumber = ""
	if r := (grpcClient{e}).create(t, bad, ""); r.code() != codes.InvalidArgument || !slices.Contains(fieldViolations(r), "case.court_referral.court_case_number") {
		t.Errorf("referral without a number: %v", r.st)
	}
}

// TestRefusedInputStoresNothing: an invalid resident ID number, a missing
// applicant, a session outside ASSIGNED/MEDIATING and an agreement without
// terms are refused with the right code, naming the field, and store
// nothing.
func TestRefusedInputStoresNothing(t *testing.T) {
	e := startCases(t)
	for _, cl := range clients(e) {
		before := countCases(t, e)
		badID := newCase("x")
		badID.Parties[0].IdType = mediationv1.IdType_ID_TYPE_RESIDENT_ID_CARD
		badID.Parties[0].IdNumber = "621002198503150024" // check digit should be 3
		r := cl.create(t, badID, "")
		if r.code() != codes.InvalidArgument || !slices.Contains(fieldViolations(r), "case.parties[0].id_number") || !strings.Contains(r.st.Message(), "check digit") {
			t.Errorf("%s: bad resident ID: %v", cl.name(), r.st)
		}
		noApplicant := newCase("x")
		noApplicant.Parties[0].Role = mediationv1.PartyRole_PARTY_ROLE_THIRD_PARTY
		if r := cl.create(t, noApplicant, ""); r.code() != codes.InvalidArgument || !slices.Contains(fieldViolations(r), "case.parties") {
			t.Errorf("%s: no applicant: %v", cl.name(), r.st)
		}
		if n := countCases(t, e); n != before {
			t.Errorf("%s: refused registrations stored %d cases", cl.name(), n-before)
		}

		good := newCase("x")
		good.Parties[0].IdType = mediationv1.IdType_ID_TYPE_RESIDENT_ID_CARD
		good.Parties[0].IdNumber = "621002198503150023"
		good.Parties[0].Phone = "138 0934 1234"
		c := cl.create(t, good, "")
		if c.st != nil {
			t.Fatalf("%s: a valid resident ID refused: %v", cl.name(), c.st)
		}
		stored, err := e.store.GetCase(t.Context(), uuid.MustParse(strings.TrimPrefix(c.c.GetName(), "cases/")))
		if err != nil || stored.Parties[0].Phone != "13809341234" || stored.Parties[0].IDNumber != "621002198503150023" {
			t.Errorf("%s: stored parties %+v, %v", cl.name(), stored.Parties, err)
		}
		if got := c.c.GetParties()[0]; got.GetPhone() != "138****1234" || got.GetIdNumber() != "6210**********0023" {
			t.Errorf("%s: an administrator sees %q %q, want them masked", cl.name(), got.GetPhone(), got.GetIdNumber())
		}
		for _, state := range []casework.State{casework.StateAccepted, casework.StateAgreed} {
			c := bring(t, cl, state)
			events := len(cl.events(t, c.GetName()))
			r := cl.act(t, c.GetName(), casework.Command{Action: casework.ActionScheduleSession,
				Session: &casework.Session{StartTime: time.Now().Add(24 * time.Hour), Place: "调解室"}}, "")
			if r.code() != codes.FailedPrecondition || errorInfo(r).GetMetadata()["state"] != string(state) {
				t.Errorf("%s: session in %s: %v", cl.name(), state, r.st)
			}
			if len(cl.events(t, c.GetName())) != events {
				t.Errorf("%s: refused session recorded", cl.name())
			}
		}
		c2 := bring(t, cl, casework.StateMediating)
		r = cl.act(t, c2.GetName(), casework.Command{Action: casework.ActionRecordAgreement, Agreement: &casework.Agreement{Terms: " ", Facts: "事实"}}, "")
		if r.code() != codes.InvalidArgument || !slices.Contains(fieldViolations(r), "agreement.terms") {
			t.Errorf("%s: agreement without terms: %v", cl.name(), r.st)
		}
		if got := cl.get(t, c2.GetName()).c; got.GetState() != mediationv1.CaseState_CASE_STATE_MEDIATING || got.GetAgreement() != nil {
			t.Errorf("%s: refused agreement changed the case: %v", cl.name(), got)
		}
	}
}

// TestAgreementDocument drives a case to an agreement and checks that the
// document holds everything 人民调解法 第二十九条 asks for, in Chinese.
func TestAgreementDocument(t *testing.T) {
	e := start(t)
	qingyang(t, e)
	cl := grpcClient{e}
	c := familyCase("621002")
	c.Parties = []*mediationv1.Party{
		{Id: "p1", Name: "王秀英", Role: mediationv1.PartyRole_PARTY_ROLE_APPLICANT, Gender: mediationv1.Gender_GENDER_FEMALE,
			Ethnicity: "汉族", BirthDate: "1950-05-01", Occupation: "农民", Phone: "13909341234", Address: "西峰区肖金镇米王村",
			IdType: mediationv1.IdType_ID_TYPE_RESIDENT_ID_CARD, IdNumber: "621002195005010024"},
		{Id: "p2", Name: "王建国", Role: mediationv1.PartyRole_PARTY_ROLE_RESPONDENT, Gender: mediationv1.Gender_GENDER_MALE,
			Ethnicity: "汉族", BirthDate: "1975-08-12", Occupation: "个体经营", Phone: "0934-8621234", Address: "西峰区南街"},
	}
	created := cl.create(t, c, "")
	if created.st != nil {
		t.Fatal(created.st)
	}
	name := created.c.GetName()
	for _, cmd := range []casework.Command{
		simple(casework.ActionAccept),
		assignTo("xifeng-women", "li-hong", ""),
		simple(casework.ActionStartMediation),
	} {
		if r := cl.act(t, name, cmd, ""); r.st != nil {
			t.Fatalf("%s: %v", cmd.Action, r.st)
		}
	}
	r, err := e.cases.RecordAgreement(t.Context(), &mediationv1.RecordAgreementRequest{Name: name, Agreement: &mediationv1.Agreement{
		Facts:            "申请人王秀英年逾七旬，丧偶独居。被申请人王建国系其子，自2025年起未支付赡养费，双方为此发生纠纷。",
		Responsibilities: "被申请人应依法履行赡养义务。",
		Terms:            "一、被申请人王建国自2026年4月起每月10日前向申请人王秀英支付赡养费800元。",
		Obligations: []*mediationv1.Obligation{
			{ObligorPartyId: "p2", ObligeePartyId: "p1", Description: "补付2025年度赡养费", Amount: "9600", DueDate: "2026-06-30"},
		},
		Performance: "银行转账至申请人账户。",
		Recorder:    "刘洋",
		SignDate:    "2026-03-20",
	}})
	if err != nil {
		t.Fatal(err)
	}
	if r.GetCase().GetAgreement().GetConfirmationDeadline() != "2026-04-19" {
		t.Errorf("confirmation deadline %q, want 2026-04-19", r.GetCase().GetAgreement().GetConfirmationDeadline())
	}
	// The studio's lead reads the personal data; the administrator does not.
	lead := e.signIn(t, store.User{Username: "lead", DisplayName: "负责人", Role: auth.RoleOrganizationLead, OrganizationID: "xifeng-women"})
	masked, err := e.cases.GetAgreementDocument(t.Context(), &mediationv1.GetAgreementDocumentRequest{Name: name})
	if err != nil {
		t.Fatal(err)
	}
	if h := masked.GetHtml(); strings.Contains(h, "13909341234") || strings.Contains(h, "621002195005010024") || !strings.Contains(h, "139****1234") {
		t.Error("the administrator's copy of the agreement shows unmasked numbers")
	}
	doc, err := e.cases.GetAgreementDocument(as(t.Context(), lead), &mediationv1.GetAgreementDocumentRequest{Name: name})
	if err != nil {
		t.Fatal(err)
	}
	resp, page := httpGet(t, e, "/v1/"+name+"/agreement.html", map[string]string{"Authorization": "Bearer " + lead, "X-Request-Id": "agreement-page"})
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") || string(page) != doc.GetHtml() {
		t.Fatalf("agreement.html: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	// Named twice: in UTF-8 for browsers, in ASCII for clients such as curl -OJ.
	if cd, id := resp.Header.Get("Content-Disposition"), strings.TrimPrefix(name, "cases/"); !strings.HasPrefix(cd, `inline; filename="agreement-`+id+`.html"; filename*=UTF-8''`) ||
		!strings.HasSuffix(cd, url.PathEscape(doc.GetFileName())) {
		t.Errorf("agreement.html: Content-Disposition %q", cd)
	}
	// The page's unmasked read is audited with the browser's address, as
	// a REST call is, not the gateway's.
	var address string
	if err := e.store.Pool().QueryRow(t.Context(), `SELECT client_address FROM audit_events
		WHERE request_id = 'agreement-page' AND kind = 'READ_PERSONAL_DATA'`).Scan(&address); err != nil || address != "127.0.0.1" {
		t.Errorf("audit of the agreement page: client address %q (%v), want 127.0.0.1", address, err)
	}
	html := doc.GetHtml()
	for _, want := range []string{
		"人民调解协议书", r.GetCase().GetCaseNumber(),
		// （一）当事人的基本情况
		"王秀英", "王建国", "女", "男", "汉族", "农民", "个体经营", "13909341234", "0934-8621234", "西峰区肖金镇米王村",
		// （二）纠纷的主要事实、争议事项以及各方当事人的责任
		"纠纷主要事实、争议事项", "未支付赡养费", "被申请人应依法履行赡养义务",
		// （三）当事人达成调解协议的内容，履行的方式、期限
		"经调解，自愿达成如下协议", "每月10日前向申请人王秀英支付赡养费800元", "人民币9600.00元", "2026年6月30日", "银行转账至申请人账户",
		// signatures, seal, copies, date
		"签名盖章或按指印", "人民调解员", "李红", "记录人", "刘洋", "人民调解委员会（印）", "西峰区巾帼调解工作室", "一式3份", "2026年3月20日",
	} {
		if !strings.Contains(html, want) {
			t.Errorf("the agreement document lacks %q", want)
		}
	}
	// Before an agreement there is no document.
	other := cl.create(t, newCase("未调解"), "").c
	if _, err := e.cases.GetAgreementDocument(t.Context(), &mediationv1.GetAgreementDocumentRequest{Name: other.GetName()}); status.Code(err) != codes.FailedPrecondition {
		t.Errorf("document of a case without agreement: %v", err)
	}
	if resp, _ := httpGet(t, e, "/v1/"+other.GetName()+"/agreement.html", nil); resp.StatusCode != http.StatusConflict {
		t.Errorf("agreement.html of a case without agreement: %d", resp.StatusCode)
	}
	// Refused, a lead's request for a document leaves no record of an
	// unmasked read: nothing was read.
	own := familyCase("621002")
	own.Parties[0].Phone = "13909341234"
	registered, err := e.cases.CreateCase(as(t.Context(), lead), &mediationv1.CreateCaseRequest{Case: own})
	if err != nil {
		t.Fatal(err)
	}
	if registered.GetCase().GetParties()[0].GetPhone() != "13909341234" {
		t.Fatalf("the lead reads her own intake masked: %v", registered.GetCase().GetParties()[0])
	}
	refused := metadata.NewOutgoingContext(as(t.Context(), lead), metadata.Pairs("x-request-id", "doc-refused"))
	if _, err := e.cases.GetAgreementDocument(refused, &mediationv1.GetAgreementDocumentRequest{Name: registered.GetCase().GetName()}); status.Code(err) != codes.FailedPrecondition {
		t.Fatalf("the lead's document of a case without agreement: %v", err)
	}
	var reads int
	if err := e.store.Pool().QueryRow(t.Context(), `SELECT count(*) FROM audit_events WHERE request_id = 'doc-refused' AND kind = 'READ_PERSONAL_DATA'`).Scan(&reads); err != nil || reads != 0 {
		t.Errorf("a refused document request left %d unmasked-read records (%v)", reads, err)
	}
}

// TestSessionsAndFollowUps exercises the case file around an agreement.
func TestSessionsAndFollowUps(t *testing.T) {
	e := startCases(t)
	cl := restClient{e}
	c := bring(t, cl, casework.StateMediating)
	name := c.GetName()
	sched := casework.Command{Action: casework.ActionScheduleSession, Session: &casework.Session{StartTime: time.Date(2026, 3, 5, 2, 0, 0, 0, time.UTC), Place: "西峰区人民调解中心"}}
	if r := cl.act(t, name, sched, ""); r.st != nil || r.c.GetSessionCount() != 1 {
		t.Fatalf("schedule: %v", r.st)
	}
	if r := cl.act(t, name, sched, ""); r.st != nil || r.c.GetSessionCount() != 2 {
		t.Fatalf("schedule second: %v", r.st)
	}
	rec := casework.Command{Action: casework.ActionRecordSession, Session: &casework.Session{Number: 1, Minutes: "调解笔录：双方陈述……", Result: "达成初步意向"}}
	if r := cl.act(t, name, rec, ""); r.st != nil {
		t.Fatalf("record: %v", r.st)
	}
	if r := cl.act(t, name, rec, ""); r.code() != codes.FailedPrecondition || errorInfo(r).GetReason() != "SESSION_NOT_SCHEDULED" {
		t.Errorf("recording a held session again: %v", r.st)
	}
	cancel := casework.Command{Action: casework.ActionCancelSession, Reason: "被申请人外出务工", Session: &casework.Session{Number: 2}}
	if r := cl.act(t, name, cancel, ""); r.st != nil {
		t.Fatalf("cancel: %v", r.st)
	}
	missing := casework.Command{Action: casework.ActionRecordSession, Session: &casework.Session{Number: 7, Minutes: "x"}}
	if r := cl.act(t, name, missing, ""); r.code() != codes.InvalidArgument || !slices.Contains(fieldViolations(r), "session") {
		t.Errorf("recording a session that does not exist: %v", r.st)
	}
	sessions, err := e.cases.ListCaseSessions(t.Context(), &mediationv1.ListCaseSessionsRequest{Parent: name})
	if err != nil || len(sessions.GetSessions()) != 2 ||
		sessions.GetSessions()[0].GetStatus() != mediationv1.SessionStatus_SESSION_STATUS_HELD ||
		sessions.GetSessions()[0].GetMinutes() == "" ||
		sessions.GetSessions()[1].GetStatus() != mediationv1.SessionStatus_SESSION_STATUS_CANCELLED {
		t.Fatalf("sessions %v, %v", sessions.GetSessions(), err)
	}

	c = cl.act(t, name, casework.Command{Action: casework.ActionRecordAgreement, Agreement: &casework.Agreement{Terms: "赔偿5000元", Facts: "漏水"}}, "").c
	// Closing needs a follow-up visit or a reason for none.
	if r := cl.act(t, name, casework.Command{Action: casework.ActionClose}, ""); r.code() != codes.InvalidArgument || !slices.Contains(fieldViolations(r), "no_follow_up_reason") {
		t.Errorf("close without follow-up: %v", r.st)
	}
	if r := cl.act(t, name, casework.Command{Action: casework.ActionRequestConfirmation, Confirmation: &casework.Confirmation{CourtCode: "甘1002"}}, ""); r.st != nil || r.c.GetJudicialConfirmation().GetCourtCode() != "甘1002" {
		t.Fatalf("request confirmation: %v", r.st)
	}
	if r := cl.act(t, name, casework.Command{Action: casework.ActionRecordConfirmation, Confirmation: &casework.Confirmation{Decision: casework.DecisionConfirmed, DocumentNumber: "（2026）甘1002民特5号"}}, ""); r.st != nil ||
		r.c.GetJudicialConfirmation().GetDecision() != mediationv1.ConfirmationDecision_CONFIRMATION_DECISION_CONFIRMED {
		t.Fatalf("record confirmation: %v", r.st)
	}
	fu := casework.Command{Action: casework.ActionRecordFollowUp, FollowUp: &casework.FollowUp{Findings: "已按约支付", PartyIDs: []string{"p1"}, PerformanceStatus: casework.Performed}}
	r := cl.act(t, name, fu, "")
	if r.st != nil || r.c.GetFollowUpCount() != 1 || r.c.GetPerformanceStatus() != mediationv1.PerformanceStatus_PERFORMANCE_STATUS_PERFORMED {
		t.Fatalf("follow-up: %v", r.st)
	}
	visits, err := e.cases.ListCaseFollowUps(t.Context(), &mediationv1.ListCaseFollowUpsRequest{Parent: name})
	if err != nil || len(visits.GetFollowUps()) != 1 || visits.GetFollowUps()[0].GetFindings() != "已按约支付" || visits.GetFollowUps()[0].GetVisitor() == "" {
		t.Fatalf("follow-ups %v, %v", visits.GetFollowUps(), err)
	}
	if r := cl.act(t, name, casework.Command{Action: casework.ActionClose}, ""); r.st != nil || r.c.GetOutcome() != mediationv1.CaseOutcome_CASE_OUTCOME_AGREEMENT {
		t.Fatalf("close after a follow-up: %v", r.st)
	}
}

// TestNeedsReassignment: a deactivated mediator's open cases say so, in
// reads, in the answers to actions that leave the mediator in place, and
// in the filter; reassigning the case settles it at once.
func TestNeedsReassignment(t *testing.T) {
	e := start(t)
	qingyang(t, e)
	ctx := t.Context()
	created, err := e.cases.CreateCase(ctx, &mediationv1.CreateCaseRequest{Case: familyCase("621002")})
	if err != nil {
		t.Fatal(err)
	}
	name := created.GetCase().GetName()
	accepted, err := e.cases.AcceptCase(ctx, &mediationv1.AcceptCaseRequest{Name: name})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.cases.AssignCase(ctx, &mediationv1.AssignCaseRequest{Name: name, Etag: accepted.GetCase().GetEtag(),
		Organization: "organizations/xifeng-women", Mediator: "mediators/li-hong"}); err != nil {
		t.Fatal(err)
	}
	if _, err := mediationv1.NewDirectoryServiceClient(e.conn).DeactivateMediator(ctx, &mediationv1.DeactivateMediatorRequest{Name: "mediators/li-hong"}); err != nil {
		t.Fatal(err)
	}
	flagged := func(what string, want bool) {
		t.Helper()
		got, err := e.cases.GetCase(ctx, &mediationv1.GetCaseRequest{Name: name})
		if err != nil {
			t.Fatal(err)
		}
		list, err := e.cases.ListCases(ctx, &mediationv1.ListCasesRequest{Filter: "needs_reassignment = true"})
		if err != nil {
			t.Fatal(err)
		}
		listed := slices.ContainsFunc(list.GetCases(), func(c *mediationv1.Case) bool { return c.GetName() == name })
		if got.GetCase().GetNeedsReassignment() != want || listed != want {
			t.Errorf("%s: GetCase says needs_reassignment %v, the filter lists it: %v; want %v", what, got.GetCase().GetNeedsReassignment(), listed, want)
		}
	}
	flagged("mediator deactivated", true)

	started, err := e.cases.StartMediation(ctx, &mediationv1.StartMediationRequest{Name: name})
	if err != nil {
		t.Fatal(err)
	}
	if !started.GetCase().GetNeedsReassignment() {
		t.Error("the answer to startMediation, the inactive mediator still in place, says no reassignment is needed")
	}
	reassigned, err := e.cases.AssignCase(ctx, &mediationv1.AssignCaseRequest{Name: name, Etag: started.GetCase().GetEtag(),
		Organization: "organizations/xifeng-women", Mediator: "mediators/zhang-min", Reason: "李红调离"})
	if err != nil {
		t.Fatal(err)
	}
	if reassigned.GetCase().GetNeedsReassignment() {
		t.Error("the answer to the reassignment still says the case needs reassignment")
	}
	flagged("reassigned", false)
}

// TestAssignToUnknownAssignee: an assignment naming an organization or a
// mediator the directory does not hold is INVALID_ARGUMENT on that field,
// and changes nothing.
func TestAssignToUnknownAssignee(t *testing.T) {
	e := start(t)
	qingyang(t, e)
	ctx := t.Context()
	created, err := e.cases.CreateCase(ctx, &mediationv1.CreateCaseRequest{Case: familyCase("621002")})
	if err != nil {
		t.Fatal(err)
	}
	accepted, err := e.cases.AcceptCase(ctx, &mediationv1.AcceptCaseRequest{Name: created.GetCase().GetName()})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ org, med, field string }{
		{"organizations/nowhere", "mediators/li-hong", "organization"},
		{"organizations/xifeng-women", "mediators/nobody", "mediator"},
		{"organizations/nowhere", "mediators/nobody", "organization"},
	} {
		_, err := e.cases.AssignCase(ctx, &mediationv1.AssignCaseRequest{Name: accepted.GetCase().GetName(),
			Etag: accepted.GetCase().GetEtag(), Organization: tc.org, Mediator: tc.med})
		if got := fieldViolations(result{st: status.Convert(err)}); status.Code(err) != codes.InvalidArgument || !slices.Equal(got, []string{tc.field}) {
			t.Errorf("assign to %s, %s: %v (fields %v), want INVALID_ARGUMENT on %s", tc.org, tc.med, err, got, tc.field)
		}
	}
	after, err := e.cases.GetCase(ctx, &mediationv1.GetCaseRequest{Name: accepted.GetCase().GetName()})
	if err != nil || after.GetCase().GetEtag() != accepted.GetCase().GetEtag() {
		t.Errorf("after the refused assignments: %v, etag %q, want %q", err, after.GetCase().GetEtag(), accepted.GetCase().GetEtag())
	}
}
