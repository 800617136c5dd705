package store_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mediationd/mediationd/internal/casework"
	"github.com/mediationd/mediationd/internal/casework/caseworktest"
	"github.com/mediationd/mediationd/internal/store"
)

func dirPtr[T any](v T) *T { return &v }

func dirWantField(t *testing.T, err error, field string, mentions ...string) {
	t.Helper()
	var fe *casework.FieldError
	if !errors.As(err, &fe) || fe.Field != field {
		t.Fatalf("error = %v, want a FieldError on %s", err, field)
	}
	for _, m := range mentions {
		if !strings.Contains(fe.Message, m) {
			t.Errorf("message %q does not mention %q", fe.Message, m)
		}
	}
}

func dirWantConflict(t *testing.T, err error) {
	t.Helper()
	var ce *casework.ConflictError
	if !errors.As(err, &ce) {
		t.Fatalf("error = %v, want a ConflictError", err)
	}
}

func dirWantNotFound(t *testing.T, err error, name string) {
	t.Helper()
	if !errors.Is(err, casework.ErrNotFound) || !strings.Contains(err.Error(), name) {
		t.Fatalf("error = %v, want ErrNotFound naming %s", err, name)
	}
}

// seedDirectory creates the organizations and mediators of the Qingyang
// examples used by the tests below.
func seedDirectory(t *testing.T, st *store.Store) {
	t.Helper()
	ctx := context.Background()
	orgs := []casework.Organization{
		{ID: "xifeng-women-studio", DisplayName: "西峰区巾帼调解工作室", Type: casework.OrgWomenStudio, RegionCode: "621002",
			DisputeTypes: []casework.DisputeType{casework.DisputeMarriageFamily}, CourtRoster: true},
		{ID: "xifeng-medical", DisplayName: "西峰区医疗纠纷人民调解委员会", Type: casework.OrgProfessionalCommittee, RegionCode: "621002",
			DisputeTypes: []casework.DisputeType{casework.DisputeMedical}},
		{ID: "zhenyuan-township", DisplayName: "镇原县城关镇人民调解委员会", Type: casework.OrgTownshipCommittee, RegionCode: "621027"},
		{ID: "lanzhou-city", DisplayName: "兰州市人民调解委员会", Type: casework.OrgTownshipCommittee, RegionCode: "620100"},
	}
	for _, o := range orgs {
		if _, err := st.CreateOrganization(ctx, o, t0); err != nil {
			t.Fatalf("CreateOrganization %s: %v", o.ID, err)
		}
	}
	meds := []casework.Mediator{
		{ID: "li-hong", DisplayName: "李红", OrganizationID: "xifeng-women-studio", Specialties: []casework.DisputeType{casework.DisputeMarriageFamily}, CourtRoster: true},
		{ID: "wang-fang", DisplayName: "王芳", OrganizationID: "xifeng-medical", Specialties: []casework.DisputeType{casework.DisputeMedical}},
		{ID: "zhao-gang", DisplayName: "赵刚", OrganizationID: "zhenyuan-township"},
	}
	for _, m := range meds {
		if _, err := st.CreateMediator(ctx, m, t0); err != nil {
			t.Fatalf("CreateMediator %s: %v", m.ID, err)
		}
	}
}

func TestDirectoryRegions(t *testing.T) {
	st, _ := newStore(t)
	ctx := context.Background()
	codes := func(filter string, limit int) []string {
		t.Helper()
		var out []string
		after := ""
		for {
			page, err := st.ListRegions(ctx, store.DirectoryListParams{Filter: filter, After: after, Limit: limit})
			if err != nil {
				t.Fatalf("%s: %v", filter, err)
			}
			for _, r := range page.Regions {
				out = append(out, r.Code)
			}
			if page.Next == "" {
				return out
			}
			after = page.Next
		}
	}
	qingyang := []string{"621000", "621002", "621021", "621022", "621023", "621024", "621025", "621026", "621027"}
	counties := qingyang[1:]
	if got := codes("", 1000); len(got) != 23 || !slices.IsSorted(got) {
		t.Errorf("all regions = %v", got)
	}
	if got := codes("", 4); len(got) != 23 || !slices.IsSorted(got) {
		t.Errorf("all regions in pages of 4 = %v", got)
	}
	for filter, want := range map[string][]string{
		`parent = "regions/621000"`:                    counties,
		`parent = 621000`:                              counties,
		`code = "621000"`:                              qingyang,
		`code = "621000" AND level = CITY`:             {"621000"},
		`level = PROVINCE`:                             {"620000"},
		`display_name = "环县"`:                          {"621022"},
		`parent != "regions/620000" AND code = 621000`: counties,
	} {
		if got := codes(filter, 3); !slices.Equal(got, want) {
			t.Errorf("%s: %v, want %v", filter, got, want)
		}
	}
	_, err := st.ListRegions(ctx, store.DirectoryListParams{Filter: `parent = "cities/621000"`, Limit: 10})
	dirWantField(t, err, "filter", "parent")

	r, err := st.GetRegion(ctx, "621002")
	if err != nil || r.DisplayName != "西峰区" || r.Level != casework.LevelCounty || r.ParentCode != "621000" || r.AutoAssign != nil || r.EffectiveAutoAssign {
		t.Fatalf("GetRegion = %+v, %v", r, err)
	}
	_, err = st.GetRegion(ctx, "999999")
	dirWantNotFound(t, err, "regions/999999")

	auto := func(code string) bool {
		t.Helper()
		v, err := st.RegionAutoAssign(ctx, code)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	if auto("621002") || auto("999999") {
		t.Error("auto_assign set before anyone set it")
	}
	city, err := st.UpdateRegionAutoAssign(ctx, "621000", dirPtr(true), 1)
	if err != nil || city.Version != 2 || !city.EffectiveAutoAssign {
		t.Fatalf("set city = %+v, %v", city, err)
	}
	if !auto("621002") || !auto("621027") || auto("620100") || auto("620000") {
		t.Error("counties do not inherit the city's auto_assign, or it leaked elsewhere")
	}
	county, err := st.UpdateRegionAutoAssign(ctx, "621027", dirPtr(false), 0)
	if err != nil || county.AutoAssign == nil || *county.AutoAssign || county.EffectiveAutoAssign {
		t.Fatalf("set county = %+v, %v", county, err)
	}
	if auto("621027") || !auto("621002") {
		t.Error("a county's own false does not override the city's true")
	}
	if _, err := st.UpdateRegionAutoAssign(ctx, "620000", dirPtr(true), 0); err != nil {
		t.Fatal(err)
	}
	if !auto("620100") {
		t.Error("a county of Lanzhou does not inherit the province's setting through its city")
	}
	if _, err := st.UpdateRegionAutoAssign(ctx, "621027", nil, 2); err != nil {
		t.Fatal(err)
	}
	if !auto("621027") {
		t.Error("a county set back to nil does not follow its city again")
	}
	_, err = st.UpdateRegionAutoAssign(ctx, "621000", dirPtr(false), 1)
	dirWantConflict(t, err)
	_, err = st.UpdateRegionAutoAssign(ctx, "999999", dirPtr(false), 0)
	dirWantNotFound(t, err, "regions/999999")
}

func TestDirectoryOrganizations(t *testing.T) {
	st, _ := newStore(t)
	ctx := context.Background()
	seedDirectory(t, st)

	o, err := st.GetOrganization(ctx, "xifeng-women-studio")
	if err != nil || o.DisplayName != "西峰区巾帼调解工作室" || o.Type != casework.OrgWomenStudio || !o.Active ||
		o.Version != 1 || !o.CourtRoster || !slices.Equal(o.DisputeTypes, []casework.DisputeType{casework.DisputeMarriageFamily}) ||
		!o.CreateTime.Equal(t0) || !o.UpdateTime.Equal(t0) || o.OpenCases != 0 {
		t.Fatalf("GetOrganization = %+v, %v", o, err)
	}
	_, err = st.GetOrganization(ctx, "nowhere")
	dirWantNotFound(t, err, "organizations/nowhere")

	// Refusals write nothing.
	_, err = st.CreateOrganization(ctx, casework.Organization{ID: "xifeng-women-studio", DisplayName: "x", Type: casework.OrgPersonalStudio, RegionCode: "621002"}, t0)
	var ae *casework.AlreadyExistsError
	if !errors.As(err, &ae) || !strings.Contains(ae.Message, "organizations/xifeng-women-studio") {
		t.Errorf("duplicate id: %v", err)
	}
	_, err = st.CreateOrganization(ctx, casework.Organization{ID: "atlantis", DisplayName: "x", Type: casework.OrgPersonalStudio, RegionCode: "629999"}, t0)
	dirWantField(t, err, "organization.region_code", "629999")
	_, err = st.CreateOrganization(ctx, casework.Organization{ID: "gansu", DisplayName: "x", Type: casework.OrgPersonalStudio, RegionCode: "620000"}, t0)
	dirWantField(t, err, "organization.region_code", "620000")
	_, err = st.CreateOrganization(ctx, casework.Organization{ID: "typeless", DisplayName: "x", RegionCode: "621002"}, t0)
	dirWantField(t, err, "organization.type")
	if page, err := st.ListOrganizations(ctx, store.DirectoryListParams{Limit: 100}); err != nil || len(page.Organizations) != 4 {
		t.Errorf("organizations after refusals: %d, %v", len(page.Organizations), err)
	}

	// An update changes what it names, and only that.
	t1 := t0.Add(time.Hour)
	o, err = st.UpdateOrganization(ctx, "xifeng-women-studio", store.OrganizationChange{
		Phone:        dirPtr("0934-8211234"),
		DisputeTypes: dirPtr([]casework.DisputeType{casework.DisputeMarriageFamily, casework.DisputeNeighbor}),
	}, 1, t1)
	if err != nil || o.Phone != "0934-8211234" || len(o.DisputeTypes) != 2 || o.DisplayName != "西峰区巾帼调解工作室" ||
		o.Version != 2 || !o.UpdateTime.Equal(t1) || !o.CreateTime.Equal(t0) {
		t.Fatalf("update = %+v, %v", o, err)
	}
	o, err = st.UpdateOrganization(ctx, "xifeng-women-studio", store.OrganizationChange{DisputeTypes: dirPtr([]casework.DisputeType(nil))}, 0, t1)
	if err != nil || len(o.DisputeTypes) != 0 || o.Phone != "0934-8211234" {
		t.Fatalf("clearing dispute types = %+v, %v", o, err)
	}
	_, err = st.UpdateOrganization(ctx, "xifeng-women-studio", store.OrganizationChange{Phone: dirPtr("x")}, 1, t1)
	dirWantConflict(t, err)
	_, err = st.UpdateOrganization(ctx, "xifeng-women-studio", store.OrganizationChange{RegionCode: dirPtr("629999")}, 3, t1)
	dirWantField(t, err, "organization.region_code", "629999")
	_, err = st.UpdateOrganization(ctx, "nowhere", store.OrganizationChange{Phone: dirPtr("x")}, 0, t1)
	dirWantNotFound(t, err, "organizations/nowhere")
	if o, _ := st.GetOrganization(ctx, "xifeng-women-studio"); o.Version != 3 || o.Phone != "0934-8211234" {
		t.Errorf("refused updates changed the organization: %+v", o)
	}

	// Deactivation and activation; repeating one changes nothing.
	o, err = st.SetOrganizationActive(ctx, "zhenyuan-township", false, 1, t1)
	if err != nil || o.Active || o.Version != 2 {
		t.Fatalf("deactivate = %+v, %v", o, err)
	}
	o, err = st.SetOrganizationActive(ctx, "zhenyuan-township", false, 0, t1.Add(time.Hour))
	if err != nil || o.Active || o.Version != 2 || !o.UpdateTime.Equal(t1) {
		t.Fatalf("deactivate again = %+v, %v", o, err)
	}
	_, err = st.SetOrganizationActive(ctx, "zhenyuan-township", true, 1, t1)
	dirWantConflict(t, err)

	ids := func(filter string) []string {
		t.Helper()
		page, err := st.ListOrganizations(ctx, store.DirectoryListParams{Filter: filter, Limit: 100})
		if err != nil {
			t.Fatalf("%s: %v", filter, err)
		}
		var out []string
		for _, o := range page.Organizations {
			out = append(out, o.ID)
		}
		return out
	}
	// xifeng-women-studio now takes every type (empty list).
	if _, err := st.UpdateOrganization(ctx, "xifeng-women-studio", store.OrganizationChange{DisputeTypes: dirPtr([]casework.DisputeType{casework.DisputeMarriageFamily})}, 0, t1); err != nil {
		t.Fatal(err)
	}
	for filter, want := range map[string][]string{
		``:                                            {"lanzhou-city", "xifeng-medical", "xifeng-women-studio", "zhenyuan-township"},
		`region_code = "621000"`:                      {"xifeng-medical", "xifeng-women-studio", "zhenyuan-township"},
		`region_code = "621002"`:                      {"xifeng-medical", "xifeng-women-studio"},
		`region_code = 620000`:                        {"lanzhou-city", "xifeng-medical", "xifeng-women-studio", "zhenyuan-township"},
		`dispute_type = MARRIAGE_FAMILY`:              {"lanzhou-city", "xifeng-women-studio", "zhenyuan-township"},
		`dispute_type = MEDICAL`:                      {"lanzhou-city", "xifeng-medical", "zhenyuan-township"},
		`dispute_type != MARRIAGE_FAMILY`:             {"xifeng-medical"},
		`NOT dispute_type = MEDICAL`:                  {"xifeng-women-studio"},
		`dispute_type = LABOR OR type = WOMEN_STUDIO`: {"lanzhou-city", "xifeng-women-studio", "zhenyuan-township"},
		`dispute_type = MARRIAGE_FAMILY AND dispute_type = MEDICAL`: {"lanzhou-city", "zhenyuan-township"},
		`active = false`:                        {"zhenyuan-township"},
		`active = true AND court_roster = true`: {"xifeng-women-studio"},
		`type = TOWNSHIP_COMMITTEE`:             {"lanzhou-city", "zhenyuan-township"},
		`display_name = "西峰区医疗纠纷人民调解委员会"`:       {"xifeng-medical"},
	} {
		if got := ids(filter); !slices.Equal(got, want) {
			t.Errorf("%q: %v, want %v", filter, got, want)
		}
	}
	for _, bad := range []string{`dispute_type = MARRIAGE`, `region = 621000`, `active = maybe`} {
		_, err := st.ListOrganizations(ctx, store.DirectoryListParams{Filter: bad, Limit: 10})
		dirWantField(t, err, "filter")
	}

	// Pages of one.
	var paged []string
	after := ""
	for {
		page, err := st.ListOrganizations(ctx, store.DirectoryListParams{After: after, Limit: 1})
		if err != nil {
			t.Fatal(err)
		}
		for _, o := range page.Organizations {
			paged = append(paged, o.ID)
		}
		if page.Next == "" {
			break
		}
		after = page.Next
	}
	if !slices.Equal(paged, ids("")) {
		t.Errorf("paged %v", paged)
	}
}

func TestDirectoryMediators(t *testing.T) {
	st, _ := newStore(t)
	ctx := context.Background()
	seedDirectory(t, st)

	_, err := st.CreateMediator(ctx, casework.Mediator{ID: "ghost", DisplayName: "无名", OrganizationID: "nowhere"}, t0)
	dirWantField(t, err, "mediator.organization", "organizations/nowhere")
	if _, err := st.GetMediator(ctx, "ghost"); !errors.Is(err, casework.ErrNotFound) {
		t.Errorf("a refused mediator was stored: %v", err)
	}
	_, err = st.CreateMediator(ctx, casework.Mediator{ID: "li-hong", DisplayName: "李红", OrganizationID: "xifeng-medical"}, t0)
	var ae *casework.AlreadyExistsError
	if !errors.As(err, &ae) {
		t.Errorf("duplicate mediator: %v", err)
	}

	m, err := st.GetMediator(ctx, "li-hong")
	if err != nil || m.OrganizationID != "xifeng-women-studio" || !m.Active || !m.CourtRoster || m.Version != 1 {
		t.Fatalf("GetMediator = %+v, %v", m, err)
	}
	m, err = st.UpdateMediator(ctx, "zhao-gang", store.MediatorChange{
		OrganizationID: dirPtr("xifeng-medical"), Specialties: dirPtr([]casework.DisputeType{casework.DisputeMedical, casework.DisputeLabor}),
	}, 1, t0)
	if err != nil || m.OrganizationID != "xifeng-medical" || len(m.Specialties) != 2 || m.DisplayName != "赵刚" || m.Version != 2 {
		t.Fatalf("UpdateMediator = %+v, %v", m, err)
	}
	_, err = st.UpdateMediator(ctx, "zhao-gang", store.MediatorChange{OrganizationID: dirPtr("nowhere")}, 0, t0)
	dirWantField(t, err, "mediator.organization", "organizations/nowhere")
	_, err = st.UpdateMediator(ctx, "zhao-gang", store.MediatorChange{Phone: dirPtr("1")}, 1, t0)
	dirWantConflict(t, err)
	if m, err = st.SetMediatorActive(ctx, "wang-fang", false, 0, t0); err != nil || m.Active {
		t.Fatalf("deactivate = %+v, %v", m, err)
	}

	for filter, want := range map[string][]string{
		``: {"li-hong", "wang-fang", "zhao-gang"},
		`organization = "organizations/xifeng-medical"`: {"wang-fang", "zhao-gang"},
		`organization = xifeng-women-studio`:            {"li-hong"},
		`region_code = "621002"`:                        {"li-hong", "wang-fang", "zhao-gang"},
		`region_code = "621027"`:                        nil,
		`specialty = MEDICAL`:                           {"wang-fang", "zhao-gang"},
		`specialty = NEIGHBOR`:                          nil,
		`specialty != MEDICAL`:                          {"li-hong"},
		`active = false`:                                {"wang-fang"},
		`court_roster = true`:                           {"li-hong"},
		`display_name = "赵刚"`:                           {"zhao-gang"},
	} {
		page, err := st.ListMediators(ctx, store.DirectoryListParams{Filter: filter, Limit: 2})
		if err != nil {
			t.Fatalf("%s: %v", filter, err)
		}
		var got []string
		for {
			for _, m := range page.Mediators {
				got = append(got, m.ID)
			}
			if page.Next == "" {
				break
			}
			if page, err = st.ListMediators(ctx, store.DirectoryListParams{Filter: filter, After: page.Next, Limit: 2}); err != nil {
				t.Fatal(err)
			}
		}
		if !slices.Equal(got, want) {
			t.Errorf("%q: %v, want %v", filter, got, want)
		}
	}
	_, err = st.ListMediators(ctx, store.DirectoryListParams{Filter: `organization = "mediators/x"`, Limit: 10})
	dirWantField(t, err, "filter", "organization")
}

// dirAssignCase registers a case of the dispute type and brings it to
// state, assigning it to the organization and mediator given on the way.
func dirAssignCase(t *testing.T, st *store.Store, dt casework.DisputeType, org, med string, state casework.State) casework.Case {
	t.Helper()
	ctx := context.Background()
	n := caseworktest.NewCase("纠纷")
	n.DisputeType = dt
	c, _ := create(t, st, n, "")
	for i, a := range caseworktest.PathTo(state) {
		cmd := caseworktest.Command(a, i)
		if a == casework.ActionAssign {
			cmd.Organization, cmd.Mediator = org, med
		}
		next, _, _, err := applyAction(st, ctx, c.ID, 0, cmd)
		if err != nil {
			t.Fatalf("%s: %v", a, err)
		}
		c = next
	}
	return c
}

func TestDirectoryOpenCasesAndAssignee(t *testing.T) {
	st, _ := newStore(t)
	ctx := context.Background()
	seedDirectory(t, st)
	const org, med = "organizations/xifeng-women-studio", "mediators/li-hong"
	if _, err := st.CreateMediator(ctx, casework.Mediator{ID: "zhang-mei", DisplayName: "张梅", OrganizationID: "xifeng-women-studio"}, t0); err != nil {
		t.Fatal(err)
	}
	family, medical := casework.DisputeMarriageFamily, casework.DisputeMedical
	dirAssignCase(t, st, family, org, med, casework.StateAssigned)
	dirAssignCase(t, st, family, org, med, casework.StateMediating)
	dirAssignCase(t, st, family, org, med, casework.StateAgreed) // no longer open
	dirAssignCase(t, st, family, org, "mediators/zhang-mei", casework.StateMediating)
	dirAssignCase(t, st, medical, "organizations/xifeng-medical", "mediators/wang-fang", casework.StateAssigned)
	dirAssignCase(t, st, family, org, med, casework.StateIntake)

	o, m, err := st.Assignee(ctx, org, med)
	if err != nil || o.ID != "xifeng-women-studio" || m.ID != "li-hong" {
		t.Fatalf("Assignee = %+v, %+v, %v", o, m, err)
	}
	o, _ = st.GetOrganization(ctx, "xifeng-women-studio")
	m, _ = st.GetMediator(ctx, "li-hong")
	if o.OpenCases != 3 || m.OpenCases != 2 {
		t.Errorf("open cases: organization %d, mediator %d; want 3 and 2", o.OpenCases, m.OpenCases)
	}
	if got, _ := st.GetMediator(ctx, "zhang-mei"); got.OpenCases != 1 {
		t.Errorf("zhang-mei open cases %d, want 1", got.OpenCases)
	}
	page, err := st.ListOrganizations(ctx, store.DirectoryListParams{Filter: `region_code = 621002`, Limit: 10})
	if err != nil || len(page.Organizations) != 2 || page.Organizations[0].OpenCases != 1 || page.Organizations[1].OpenCases != 3 {
		t.Errorf("listed open cases = %+v, %v", page.Organizations, err)
	}

	_, _, err = st.Assignee(ctx, "organizations/nowhere", med)
	dirWantField(t, err, "organization", "organizations/nowhere", "does not exist")
	if strings.Contains(err.Error(), med) {
		t.Errorf("%v names the mediator, who exists", err)
	}
	_, _, err = st.Assignee(ctx, org, "mediators/nobody")
	dirWantField(t, err, "mediator", "mediators/nobody", "does not exist")
	_, _, err = st.Assignee(ctx, "organizations/nowhere", "mediators/nobody")
	dirWantField(t, err, "organization", "organizations/nowhere", "mediators/nobody")
	_, _, err = st.Assignee(ctx, "xifeng-women-studio", med)
	dirWantField(t, err, "organization")
}

func TestDirectoryDeadlineRules(t *testing.T) {
	st, _ := newStore(t)
	ctx := context.Background()
	list := func(limit int) []string {
		t.Helper()
		var out []string
		after := ""
		for {
			page, err := st.ListDeadlineRules(ctx, after, limit)
			if err != nil {
				t.Fatal(err)
			}
			for _, r := range page.Rules {
				out = append(out, r.ID)
			}
			if page.Next == "" {
				return out
			}
			after = page.Next
		}
	}
	want := []string{"court-entrusted-summary", "court-delegated", "court-entrusted", "peoples-mediation"}
	for _, limit := range []int{100, 1, 3} {
		if got := list(limit); !slices.Equal(got, want) {
			t.Errorf("list in pages of %d: %v, want %v", limit, got, want)
		}
	}
	if _, err := st.ListDeadlineRules(ctx, "x", 10); err == nil {
		t.Error("a forged cursor was accepted")
	}

	match := func(src casework.Source, ot casework.OrganizationType, cp casework.CourtProcedure) casework.DeadlineRule {
		t.Helper()
		r, err := st.MatchDeadlineRule(ctx, src, ot, cp)
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	tests := []struct {
		src           casework.Source
		ot            casework.OrganizationType
		cp            casework.CourtProcedure
		id            string
		days, maxExts int
	}{
		{casework.SourceWalkIn, "", "", "peoples-mediation", 30, 1},
		{casework.SourceWalkIn, casework.OrgTownshipCommittee, "", "peoples-mediation", 30, 1},
		{casework.SourceCourtDelegated, casework.OrgWomenStudio, "", "court-delegated", 30, 1},
		{casework.SourceCourtEntrusted, "", casework.ProcedureOrdinary, "court-entrusted", 15, 0},
		{casework.SourceCourtEntrusted, casework.OrgStationedRoom, casework.ProcedureSummary, "court-entrusted-summary", 7, 0},
	}
	for _, tt := range tests {
		if r := match(tt.src, tt.ot, tt.cp); r.ID != tt.id || r.Days != tt.days || r.MaxExtensions != tt.maxExts {
			t.Errorf("match(%s, %s, %s) = %+v, want %s", tt.src, tt.ot, tt.cp, r, tt.id)
		}
	}

	women, err := st.CreateDeadlineRule(ctx, casework.DeadlineRule{ID: "walk-in-women", DisplayName: "巾帼工作室（当事人申请）",
		Source: casework.SourceWalkIn, OrganizationType: casework.OrgWomenStudio, Days: 20})
	if err != nil || women.Version != 1 {
		t.Fatalf("create = %+v, %v", women, err)
	}
	if r := match(casework.SourceWalkIn, casework.OrgWomenStudio, ""); r.ID != "walk-in-women" {
		t.Errorf("women's studio walk-in matched %s", r.ID)
	}
	if r := match(casework.SourceWalkIn, casework.OrgTownshipCommittee, ""); r.ID != "peoples-mediation" {
		t.Errorf("township walk-in matched %s", r.ID)
	}
	// Naming the source weighs more than naming the organization type.
	if _, err := st.CreateDeadlineRule(ctx, casework.DeadlineRule{ID: "women-any", DisplayName: "巾帼工作室", OrganizationType: casework.OrgWomenStudio, Days: 25}); err != nil {
		t.Fatal(err)
	}
	if r := match(casework.SourceCourtDelegated, casework.OrgWomenStudio, ""); r.ID != "court-delegated" {
		t.Errorf("court-delegated to a women's studio matched %s", r.ID)
	}
	if r := match(casework.SourceOnline, casework.OrgWomenStudio, ""); r.ID != "women-any" {
		t.Errorf("online to a women's studio matched %s", r.ID)
	}

	_, err = st.CreateDeadlineRule(ctx, casework.DeadlineRule{ID: "again", DisplayName: "x", Source: casework.SourceWalkIn, OrganizationType: casework.OrgWomenStudio, Days: 1})
	var ae *casework.AlreadyExistsError
	if !errors.As(err, &ae) || !strings.Contains(ae.Message, "deadlineRules/walk-in-women") {
		t.Errorf("duplicate combination: %v", err)
	}
	_, err = st.CreateDeadlineRule(ctx, casework.DeadlineRule{ID: "walk-in-women", DisplayName: "x", Source: casework.SourcePolice, Days: 1})
	if !errors.As(err, &ae) || !strings.Contains(ae.Message, "deadlineRules/walk-in-women already exists") {
		t.Errorf("duplicate id: %v", err)
	}
	_, err = st.CreateDeadlineRule(ctx, casework.DeadlineRule{ID: "bad", DisplayName: "x", Source: "CARRIER_PIGEON", Days: 1})
	dirWantField(t, err, "deadline_rule.source")

	r, err := st.UpdateDeadlineRule(ctx, "walk-in-women", store.DeadlineRuleChange{Days: dirPtr(15), ExtensionDays: dirPtr(15)}, 1)
	if err != nil || r.Days != 15 || r.ExtensionDays != 15 || r.DisplayName != women.DisplayName || r.Version != 2 {
		t.Fatalf("update = %+v, %v", r, err)
	}
	_, err = st.UpdateDeadlineRule(ctx, "walk-in-women", store.DeadlineRuleChange{Days: dirPtr(16)}, 1)
	dirWantConflict(t, err)

	err = st.DeleteDeadlineRule(ctx, "peoples-mediation", 0)
	var pe *casework.PreconditionError
	if !errors.As(err, &pe) || !strings.Contains(pe.Message, "catch-all") {
		t.Errorf("delete catch-all: %v", err)
	}
	if r := match(casework.SourceHotline12348, "", ""); r.ID != "peoples-mediation" {
		t.Errorf("catch-all gone: matched %s", r.ID)
	}
	dirWantConflict(t, st.DeleteDeadlineRule(ctx, "walk-in-women", 1))
	if err := st.DeleteDeadlineRule(ctx, "walk-in-women", 2); err != nil {
		t.Fatal(err)
	}
	dirWantNotFound(t, st.DeleteDeadlineRule(ctx, "walk-in-women", 0), "deadlineRules/walk-in-women")
	if r := match(casework.SourceWalkIn, casework.OrgWomenStudio, ""); r.ID != "women-any" {
		t.Errorf("after delete matched %s", r.ID)
	}
}
