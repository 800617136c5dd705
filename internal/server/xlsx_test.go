package server_test

import (
	"bytes"
	"context"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"
	spb "google.golang.org/genproto/googleapis/rpc/status"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protojson"

	"github.com/mediationd/mediationd/internal/auth"
	"github.com/mediationd/mediationd/internal/casework"
	"github.com/mediationd/mediationd/internal/pgtest"
	"github.com/mediationd/mediationd/internal/server"
	"github.com/mediationd/mediationd/internal/store"
	mediationv1 "github.com/mediationd/mediationd/proto/mediation/v1"
)

// openXLSX opens a downloaded workbook.
func openXLSX(t *testing.T, body []byte) *excelize.File {
	t.Helper()
	f, err := excelize.OpenReader(bytes.NewReader(body))
	if err != nil {
		t.Fatalf("not an Excel workbook (%v): %.200q", err, body)
	}
	t.Cleanup(func() { f.Close() })
	return f
}

// cellValue is the value a cell holds (a number unformatted).
func cellValue(t *testing.T, f *excelize.File, sheet, cell string) string {
	t.Helper()
	v, err := f.GetCellValue(sheet, cell, excelize.Options{RawCellValue: true})
	if err != nil {
		t.Fatalf("%s!%s: %v", sheet, cell, err)
	}
	return v
}

// numberFormat is a cell's number format: the built-in number, or the
// custom code.
func numberFormat(t *testing.T, f *excelize.File, sheet, cell string) string {
	t.Helper()
	id, err := f.GetCellStyle(sheet, cell)
	if err != nil {
		t.Fatal(err)
	}
	st, err := f.GetStyle(id)
	if err != nil {
		t.Fatal(err)
	}
	if st.CustomNumFmt != nil {
		return *st.CustomNumFmt
	}
	return strconv.Itoa(st.NumFmt)
}

// checkPrintLayout checks a sheet's print layout: landscape, one page
// wide, rows 1 to titleRows repeated, title and page numbers in header and
// footer.
func checkPrintLayout(t *testing.T, f *excelize.File, sheet, title string, titleRows int) {
	t.Helper()
	pl, err := f.GetPageLayout(sheet)
	if err != nil || pl.Orientation == nil || *pl.Orientation != "landscape" || pl.FitToWidth == nil || *pl.FitToWidth != 1 {
		t.Errorf("%s: page layout %+v (%v), want landscape, one page wide", sheet, pl, err)
	}
	props, err := f.GetSheetProps(sheet)
	if err != nil || props.FitToPage == nil || !*props.FitToPage {
		t.Errorf("%s: fit to page is off", sheet)
	}
	hf, err := f.GetHeaderFooter(sheet)
	if err != nil || !strings.Contains(hf.OddHeader, title) || !strings.Contains(hf.OddFooter, "&P") || !strings.Contains(hf.OddFooter, "&N") {
		t.Errorf("%s: header %q footer %q (%v), want the title and page numbers", sheet, hf.OddHeader, hf.OddFooter, err)
	}
	want := "'" + sheet + "'!$1:$" + strconv.Itoa(titleRows)
	found := false
	for _, d := range f.GetDefinedName() {
		found = found || d.Name == "_xlnm.Print_Titles" && d.Scope == sheet && d.RefersTo == want
	}
	if !found {
		t.Errorf("%s: no print titles %s in %+v", sheet, want, f.GetDefinedName())
	}
}

// checkRefusal checks that a download answers code with a google.rpc.Status
// whose field violation (when field is not empty) names field.
func checkRefusal(t *testing.T, e *env, path string, header map[string]string, code int, field string) {
	t.Helper()
	resp, body := httpGet(t, e, path, header)
	var st spb.Status
	if err := protojson.Unmarshal(body, &st); resp.StatusCode != code || err != nil {
		t.Errorf("%s: %d %s, want %d with a status", path, resp.StatusCode, body, code)
		return
	}
	if got := fieldViolations(result{st: status.FromProto(&st)}); field != "" && !slices.Equal(got, []string{field}) {
		t.Errorf("%s: field violations %v, want %s (%s)", path, got, field, st.GetMessage())
	}
}

// decimal is a decimal text as Excel gives the number back.
func decimal(v string) string {
	f, _ := strconv.ParseFloat(v, 64)
	return strconv.FormatFloat(f, 'f', -1, 64)
}

// lastExport is the newest EXPORT row of the audit trail.
func lastExport(t *testing.T, e *env) *mediationv1.AuditEvent {
	t.Helper()
	rows := auditRows(t, e, "kind = AUDIT_EVENT_KIND_EXPORT")
	if len(rows) == 0 {
		t.Fatal("no export in the audit trail")
	}
	return rows[len(rows)-1]
}

// TestStatisticsWorkbook downloads GET /v1/caseStatistics.xlsx and reads
// it back: the sheet, the headings, the figures of GetCaseStatistics with
// their number formats, the computation time as a real date, the frozen
// heading, column widths that fit the Han names, the print layout, the
// download's name and its audit row; and the refusals.
func TestStatisticsWorkbook(t *testing.T) {
	e := startCases(t)
	ctx := context.Background()
	for i, dt := range []mediationv1.DisputeType{
		mediationv1.DisputeType_DISPUTE_TYPE_NEIGHBOR, mediationv1.DisputeType_DISPUTE_TYPE_NEIGHBOR,
		mediationv1.DisputeType_DISPUTE_TYPE_MARRIAGE_FAMILY, mediationv1.DisputeType_DISPUTE_TYPE_LAND_FOREST_CONTRACT,
	} {
		c := newCase("统计导出" + strconv.Itoa(i))
		c.DisputeType = dt
		created, err := e.cases.CreateCase(ctx, &mediationv1.CreateCaseRequest{Case: c})
		if err != nil {
			t.Fatal(err)
		}
		if i%2 == 0 {
			if _, err := e.cases.AcceptCase(ctx, &mediationv1.AcceptCaseRequest{Name: created.GetCase().GetName()}); err != nil {
				t.Fatal(err)
			}
		}
	}
	want, err := e.cases.GetCaseStatistics(ctx, &mediationv1.GetCaseStatisticsRequest{GroupBy: mediationv1.StatisticsGrouping_STATISTICS_GROUPING_DISPUTE_TYPE})
	if err != nil {
		t.Fatal(err)
	}
	resp, body := httpGet(t, e, "/v1/caseStatistics.xlsx?groupBy=STATISTICS_GROUPING_DISPUTE_TYPE", nil)
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet" ||
		!regexp.MustCompile(`^attachment; filename="case-statistics-[0-9]{8}-[0-9]{4}\.xlsx"; filename\*=UTF-8''%E6%A1%88%E4%BB%B6%E7%BB%9F%E8%AE%A1-[0-9]{8}-[0-9]{4}\.xlsx$`).MatchString(resp.Header.Get("Content-Disposition")) {
		t.Fatalf("caseStatistics.xlsx: %d %v %.300q", resp.StatusCode, resp.Header, body)
	}
	f := openXLSX(t, body)
	const sheet = "案件统计"
	if got := f.GetSheetList(); !slices.Equal(got, []string{sheet}) {
		t.Fatalf("sheets %v, want [%s]", got, sheet)
	}
	if got := cellValue(t, f, sheet, "A1"); got != "人民调解案件统计（按纠纷类型）" {
		t.Errorf("title %q", got)
	}
	rows, err := f.GetRows(sheet)
	if err != nil {
		t.Fatal(err)
	}
	heading := rows[3]
	column := map[string]int{}
	for i, h := range heading {
		column[h] = i
	}
	for _, h := range []string{"纠纷类型代码", "纠纷类型", "案件数", "受理数", "成功率\n(调解成功/调解终结)", "协议涉及金额(元)", "自动履行率",
		"口头协议", "书面协议", "防止民转刑\n(件)", "防止民转刑\n(人)", "防止群体性上访\n(件)", "防止群体性上访\n(人)"} {
		if _, ok := column[h]; !ok {
			t.Errorf("no heading %q in %q", h, heading)
		}
	}
	groups := append(want.GetGroups(), &mediationv1.CaseStatisticsGroup{DisplayName: "合计", Figures: want.GetTotal()})
	if len(rows) != 4+len(groups) {
		t.Fatalf("%d rows, want a title, a note, a blank, the headings and %d groups with the totals", len(rows), len(groups))
	}
	cell := func(heading string, row int) string {
		name, _ := excelize.CoordinatesToCellName(column[heading]+1, row)
		return name
	}
	for i, g := range groups {
		row := 5 + i
		fig := g.GetFigures()
		for _, c := range []struct{ heading, want, format string }{
			{"纠纷类型代码", g.GetKey(), ""},
			{"纠纷类型", g.GetDisplayName(), ""},
			{"案件数", strconv.FormatInt(fig.GetCases(), 10), "3"},
			{"受理数", strconv.FormatInt(fig.GetAccepted(), 10), "3"},
			{"已受理", strconv.FormatInt(fig.GetStates()[1].GetCount(), 10), "3"},
			{"成功率\n(调解成功/受理)", strconv.FormatFloat(fig.GetSuccessRateOfAccepted(), 'f', -1, 64), "0.0%"},
			{"协议涉及金额(元)", decimal(fig.GetAgreementAmount()), "4"},
		} {
			at := cell(c.heading, row)
			if got := cellValue(t, f, sheet, at); got != c.want {
				t.Errorf("%s (%s, %s): %q, want %q", at, g.GetDisplayName(), strings.ReplaceAll(c.heading, "\n", ""), got, c.want)
			}
			if c.format != "" {
				if got := numberFormat(t, f, sheet, at); got != c.format {
					t.Errorf("%s (%s): number format %s, want %s", at, c.heading, got, c.format)
				}
			}
		}
	}
	// The computation time is a date Excel can compute with.
	if got := numberFormat(t, f, sheet, "B2"); got != "yyyy-mm-dd hh:mm" {
		t.Errorf("B2: number format %q, want a date", got)
	}
	if v, err := strconv.ParseFloat(cellValue(t, f, sheet, "B2"), 64); err != nil || v < 46000 {
		t.Errorf("B2: %q is not a date of 2026 or later (%v)", cellValue(t, f, sheet, "B2"), err)
	}
	panes, err := f.GetPanes(sheet)
	if err != nil || !panes.Freeze || panes.YSplit != 4 || panes.XSplit != 2 {
		t.Errorf("panes %+v (%v), want the headings and the names frozen", panes, err)
	}
	// 道路交通事故 and 山林土地承包 are 6 Han characters: 12 units wide.
	if w, err := f.GetColWidth(sheet, "B"); err != nil || w < 12 || w > 20 {
		t.Errorf("column B is %g wide (%v), want the names to fit (12 units and padding)", w, err)
	}
	checkPrintLayout(t, f, sheet, "人民调解案件统计（按纠纷类型）", 4)

	got := lastExport(t, e)
	if got.GetActor() != "users/root" || got.GetMethod() != "GET /v1/caseStatistics.xlsx" || got.GetCode() != "OK" ||
		got.GetResource() != "rows="+strconv.Itoa(len(groups))+"; group_by=STATISTICS_GROUPING_DISPUTE_TYPE; filter=" {
		t.Errorf("audit row %v", got)
	}

	// Refusals: a bad parameter is 400 naming it; without a credential
	// 401; a role without access 403, on record.
	for q, field := range map[string]string{
		"filter=" + url.QueryEscape(`phone = "1"`): "filter",
		"groupBy=STATISTICS_GROUPING_PARTY":        "group_by",
		"filter=a&filter=b":                        "filter",
		"pageSize=10":                              "",
	} {
		checkRefusal(t, e, "/v1/caseStatistics.xlsx?"+q, nil, 400, field)
	}
	checkRefusal(t, e, "/v1/caseStatistics.xlsx", map[string]string{"Authorization": "Bearer nonsense"}, 401, "")
	auditor := e.signIn(t, store.User{Username: "xlsx-auditor", DisplayName: "审计员", Role: auth.RoleAuditor})
	checkRefusal(t, e, "/v1/caseStatistics.xlsx", map[string]string{"Authorization": "Bearer " + auditor}, 403, "")
	denied := auditRows(t, e, `kind = AUDIT_EVENT_KIND_PERMISSION_DENIED AND method = "GET /v1/caseStatistics.xlsx"`)
	if len(denied) != 1 || denied[0].GetActor() != "users/xlsx-auditor" {
		t.Errorf("the auditor's refused download is on record as %v", denied)
	}
}

// TestCasesWorkbook downloads GET /v1/cases.xlsx as the assigned mediator
// (who reads the parties' numbers) and as the administrator and a
// supervisor (who read them masked, as ListCases shows them), and checks
// the sheet, headings, dates, frozen headings, widths, print layout, the
// scope of the filter, the audit rows, the row limit and the refusals.
func TestCasesWorkbook(t *testing.T) {
	e := startWith(t, pgtest.NewDatabase(t), func(cfg *server.Config) { cfg.ExportMaxRows = 3 })
	for _, n := range []int{0, 1} {
		seedAssignee(t, e, n)
	}
	ctx := context.Background()
	const phone = "13909347777"
	var numbers []string
	for i, region := range []string{"621002", "621002", "621027"} {
		c := newCase("清单导出" + strconv.Itoa(i))
		c.RegionCode = region
		c.Parties[0].Phone = phone
		created, err := e.cases.CreateCase(ctx, &mediationv1.CreateCaseRequest{Case: c})
		if err != nil {
			t.Fatal(err)
		}
		numbers = append(numbers, created.GetCase().GetCaseNumber())
		if i == 0 {
			name := created.GetCase().GetName()
			if _, err := e.cases.AcceptCase(ctx, &mediationv1.AcceptCaseRequest{Name: name}); err != nil {
				t.Fatal(err)
			}
			if _, err := e.cases.AssignCase(ctx, &mediationv1.AssignCaseRequest{Name: name, Organization: "organizations/room-0", Mediator: "mediators/mediator-0"}); err != nil {
				t.Fatal(err)
			}
		}
	}
	mediator := e.signIn(t, store.User{Username: "xlsx-mediator", DisplayName: "调解员0", Role: auth.RoleMediator, MediatorID: "mediator-0"})
	supervisor := e.signIn(t, store.User{Username: "xlsx-sup", DisplayName: "西峰区司法局", Role: auth.RoleSupervisor, RegionCode: "621002"})

	download := func(who, token, query string) (*excelize.File, [][]string) {
		t.Helper()
		resp, body := httpGet(t, e, "/v1/cases.xlsx?"+query, map[string]string{"Authorization": "Bearer " + token})
		if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet" ||
			!regexp.MustCompile(`^attachment; filename="cases-[0-9]{8}-[0-9]{4}\.xlsx"; filename\*=UTF-8''%E6%A1%88%E4%BB%B6%E6%B8%85%E5%8D%95-[0-9]{8}-[0-9]{4}\.xlsx$`).MatchString(resp.Header.Get("Content-Disposition")) {
			t.Fatalf("cases.xlsx as %s: %d %v %.300q", who, resp.StatusCode, resp.Header, body)
		}
		f := openXLSX(t, body)
		if got := f.GetSheetList(); !slices.Equal(got, []string{"案件清单"}) {
			t.Fatalf("sheets %v", got)
		}
		rows, err := f.GetRows("案件清单")
		if err != nil {
			t.Fatal(err)
		}
		return f, rows
	}

	// The assigned mediator: the one case, the phone in full.
	f, rows := download("mediator", mediator, "")
	const sheet = "案件清单"
	wantHeadings := []string{"案号", "登记时间", "状态", "纠纷类型", "来源", "地区", "调解组织", "调解员", "当事人", "受理时间", "期限", "超期", "结案时间", "结果"}
	if len(rows) < 3 || !slices.Equal(rows[2][:len(wantHeadings)], wantHeadings) {
		t.Fatalf("headings %q, want %q first", rows[min(2, len(rows)-1)], wantHeadings)
	}
	if len(rows) != 4 || rows[3][0] != numbers[0] {
		t.Fatalf("the mediator's list: %q, want the one case %s", rows, numbers[0])
	}
	got := rows[3]
	for i, want := range map[int]string{2: "已分派", 3: "邻里", 4: "当事人申请", 6: "西峰区第0调解室", 7: "调解员0"} {
		if got[i] != want {
			t.Errorf("%s: %q, want %q", wantHeadings[i], got[i], want)
		}
	}
	if !strings.Contains(got[8], "申请人 张三 电话 "+phone) || !strings.Contains(got[8], "被申请人 李四") {
		t.Errorf("the assigned mediator reads the parties as %q, want the phone in full", got[8])
	}
	for _, c := range []string{"B4", "J4", "K4"} {
		if nf := numberFormat(t, f, sheet, c); nf != "yyyy-mm-dd hh:mm" {
			t.Errorf("%s: number format %q, want a date", c, nf)
		}
		if v, err := strconv.ParseFloat(cellValue(t, f, sheet, c), 64); err != nil || v < 46000 {
			t.Errorf("%s: %q is not a date (%v)", c, cellValue(t, f, sheet, c), err)
		}
	}
	if v := cellValue(t, f, sheet, "M4"); v != "" {
		t.Errorf("结案时间 of an open case: %q, want empty", v)
	}
	panes, err := f.GetPanes(sheet)
	if err != nil || !panes.Freeze || panes.YSplit != 3 {
		t.Errorf("panes %+v (%v), want the headings frozen", panes, err)
	}
	// 案号 （2026）甘1002民调……号 is 26 units wide; 调解组织 names are long.
	for col, least := range map[string]float64{"A": 24, "G": 20, "I": 40} {
		if w, err := f.GetColWidth(sheet, col); err != nil || w < least {
			t.Errorf("column %s is %g wide (%v), want at least %g", col, w, err, least)
		}
	}
	checkPrintLayout(t, f, sheet, "人民调解案件清单", 3)
	if row := lastExport(t, e); row.GetActor() != "users/xlsx-mediator" || row.GetMethod() != "GET /v1/cases.xlsx" || row.GetResource() != "rows=1; order_by=; filter=" {
		t.Errorf("audit row %v", row)
	}
	// ListCases put the unmasked read on record, as it does for any list.
	if reads := auditRows(t, e, `kind = AUDIT_EVENT_KIND_READ_PERSONAL_DATA AND actor = "users/xlsx-mediator"`); len(reads) != 1 {
		t.Errorf("%d unmasked reads on record for the mediator's export, want 1", len(reads))
	}

	// The administrator and the supervisor read the phone masked; the
	// supervisor sees the county's two cases, the filter narrows.
	for _, c := range []struct {
		who, token, query string
		want              []string
	}{
		{"admin", e.token, "", []string{numbers[2], numbers[1], numbers[0]}},
		{"admin", e.token, "orderBy=create_time&filter=" + url.QueryEscape(`region_code = "621002"`), []string{numbers[0], numbers[1]}},
		{"supervisor", supervisor, "", []string{numbers[1], numbers[0]}},
	} {
		_, rows := download(c.who, c.token, c.query)
		var listed []string
		for _, r := range rows[3:] {
			listed = append(listed, r[0])
			if strings.Contains(r[8], phone) || !strings.Contains(r[8], casework.MaskPhone(phone)) {
				t.Errorf("%s reads the parties of %s as %q, want the phone masked", c.who, r[0], r[8])
			}
		}
		if !slices.Equal(listed, c.want) {
			t.Errorf("%s?%s lists %v, want %v", c.who, c.query, listed, c.want)
		}
	}

	// One case more than the limit: 400 naming the limit, no file.
	if _, err := e.cases.CreateCase(ctx, &mediationv1.CreateCaseRequest{Case: newCase("超出导出上限")}); err != nil {
		t.Fatal(err)
	}
	resp, body := httpGet(t, e, "/v1/cases.xlsx", nil)
	if resp.StatusCode != 400 || !strings.Contains(string(body), "more than 3 cases") {
		t.Errorf("an export over the limit: %d %s, want 400 naming the limit", resp.StatusCode, body)
	}
	checkRefusal(t, e, "/v1/cases.xlsx", nil, 400, "filter")
	for q, field := range map[string]string{
		"filter=" + url.QueryEscape(`phone = "1"`): "filter",
		"filter=a&filter=b":                        "filter",
		"orderBy=state":                            "order_by",
		"orderBy=a&order_by=b":                     "order_by",
		"pageSize=10":                              "",
	} {
		checkRefusal(t, e, "/v1/cases.xlsx?"+q, nil, 400, field)
	}
	checkRefusal(t, e, "/v1/cases.xlsx", map[string]string{"Authorization": "Bearer nonsense"}, 401, "")
	auditor := e.signIn(t, store.User{Username: "xlsx-auditor", DisplayName: "审计员", Role: auth.RoleAuditor})
	checkRefusal(t, e, "/v1/cases.xlsx", map[string]string{"Authorization": "Bearer " + auditor}, 403, "")
}

// TestOfficialWorkbook downloads the official statistics table of a
// quarter and of a month and checks the rows (the fifteen types of the
// form, village affairs counted as other; the three sources), the period
// read in the service's time zone (a case registered at 23:30 on 31 March
// in Beijing is the first quarter's, one at 00:30 on 1 April is not), the
// formats, the two-row heading, the print layout, the audit row and the
// refusals.
func TestOfficialWorkbook(t *testing.T) {
	e, clk := startAt(t, pgtest.NewDatabase(t), time.Date(2026, 3, 31, 15, 30, 0, 0, time.UTC))
	ctx := context.Background()
	register := func(dt mediationv1.DisputeType, src mediationv1.CaseSource, accept bool) {
		t.Helper()
		c := newCase("统计表")
		c.DisputeType, c.Source = dt, src
		created, err := e.cases.CreateCase(ctx, &mediationv1.CreateCaseRequest{Case: c})
		if err != nil {
			t.Fatal(err)
		}
		if accept {
			if _, err := e.cases.AcceptCase(ctx, &mediationv1.AcceptCaseRequest{Name: created.GetCase().GetName()}); err != nil {
				t.Fatal(err)
			}
		}
	}
	register(mediationv1.DisputeType_DISPUTE_TYPE_NEIGHBOR, mediationv1.CaseSource_CASE_SOURCE_WALK_IN, true)
	register(mediationv1.DisputeType_DISPUTE_TYPE_VILLAGE_AFFAIRS, mediationv1.CaseSource_CASE_SOURCE_GRID_SWEEP, true)
	register(mediationv1.DisputeType_DISPUTE_TYPE_OTHER, mediationv1.CaseSource_CASE_SOURCE_OWN_INITIATIVE, true)
	register(mediationv1.DisputeType_DISPUTE_TYPE_CONTRACT_DEBT, mediationv1.CaseSource_CASE_SOURCE_POLICE, false)
	// A dispute at risk of escalation among three parties, settled orally:
	// 邻里, 申请调解, one oral agreement, one escalation prevented, three people.
	seedAssignee(t, e, 0)
	risky := newCase("可能激化的邻里纠纷")
	risky.EscalationRisk = true
	risky.Parties = append(risky.Parties, &mediationv1.Party{Name: "王五", Role: mediationv1.PartyRole_PARTY_ROLE_THIRD_PARTY})
	created, err := e.cases.CreateCase(ctx, &mediationv1.CreateCaseRequest{Case: risky})
	if err != nil {
		t.Fatal(err)
	}
	name := created.GetCase().GetName()
	for _, step := range []func() error{
		func() error {
			_, err := e.cases.AcceptCase(ctx, &mediationv1.AcceptCaseRequest{Name: name})
			return err
		},
		func() error {
			_, err := e.cases.AssignCase(ctx, &mediationv1.AssignCaseRequest{Name: name, Organization: "organizations/room-0", Mediator: "mediators/mediator-0"})
			return err
		},
		func() error {
			_, err := e.cases.StartMediation(ctx, &mediationv1.StartMediationRequest{Name: name})
			return err
		},
		func() error {
			_, err := e.cases.RecordAgreement(ctx, &mediationv1.RecordAgreementRequest{Name: name, Agreement: &mediationv1.Agreement{
				Terms: "互相谅解，不再追究", Form: mediationv1.AgreementForm_AGREEMENT_FORM_ORAL}})
			return err
		},
	} {
		if err := step(); err != nil {
			t.Fatal(err)
		}
	}
	clk.set(time.Date(2026, 3, 31, 16, 30, 0, 0, time.UTC)) // 1 April, 00:30 in Beijing
	register(mediationv1.DisputeType_DISPUTE_TYPE_NEIGHBOR, mediationv1.CaseSource_CASE_SOURCE_POLICE, true)

	const sheet = "人民调解工作统计表"
	table := func(query string) (*excelize.File, [][]string) {
		t.Helper()
		resp, body := httpGet(t, e, "/v1/caseStatistics/official.xlsx?"+query, nil)
		if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet" ||
			!regexp.MustCompile(`^attachment; filename="mediation-statistics-[0-9Q-]+\.xlsx"; filename\*=UTF-8''%E4%BA%BA.*\.xlsx$`).MatchString(resp.Header.Get("Content-Disposition")) {
			t.Fatalf("official.xlsx?%s: %d %v %.300q", query, resp.StatusCode, resp.Header, body)
		}
		f := openXLSX(t, body)
		if got := f.GetSheetList(); !slices.Equal(got, []string{sheet}) {
			t.Fatalf("sheets %v", got)
		}
		rows, err := f.GetRows(sheet)
		if err != nil {
			t.Fatal(err)
		}
		return f, rows
	}
	f, rows := table("period=2026-Q1")
	if got := cellValue(t, f, sheet, "A1"); got != "人民调解工作统计表（2026年第一季度）" {
		t.Errorf("title %q", got)
	}
	if got := cellValue(t, f, sheet, "A2"); !strings.Contains(got, "2026年1月1日至2026年3月31日") {
		t.Errorf("period line %q", got)
	}
	wantNames := []string{"一、按纠纷类型", "婚姻家庭", "邻里", "房屋宅基地", "合同", "生产经营", "损害赔偿", "山林土地", "征地拆迁", "环境污染",
		"劳动争议", "消费", "医疗", "道路交通事故", "物业", "其他", "合计", "二、按案件来源", "主动调解", "申请调解", "接受委托移送调解", "合计"}
	var names []string
	for _, r := range rows[5:] {
		names = append(names, r[0])
	}
	if !slices.Equal(names, wantNames) {
		t.Fatalf("rows %q,\nwant %q", names, wantNames)
	}
	if rows[3][0] != "项目" || rows[3][1] != "受理\n(件)" || rows[3][3] != "成功率\n(调解成功/受理)" || rows[3][4] != "协议涉及金额\n(万元)" {
		t.Errorf("headings %q", rows[3])
	}
	accepted := map[int]string{8: "2", 10: "0", 21: "2", 22: "4", 24: "2", 25: "2", 26: "0", 27: "4"} // row → 受理
	for row, want := range accepted {
		if got := cellValue(t, f, sheet, "B"+strconv.Itoa(row)); got != want {
			t.Errorf("受理 of %s (row %d): %q, want %s", names[row-6], row, got, want)
		}
	}
	if rows[3][5] != "协议形式" || rows[4][5] != "口头协议\n(件)" || rows[4][6] != "书面协议\n(件)" || rows[3][7] != "防止民转刑" || rows[4][8] != "人" ||
		rows[3][9] != "防止群体性上访" || rows[4][10] != "人" || rows[3][11] != "司法确认\n(件)" || rows[3][13] != "自动履行率" {
		t.Errorf("two-row heading %q / %q", rows[3], rows[4])
	}
	// 邻里 (row 8), 申请调解 (row 25) and the totals: one success, oral,
	// one escalation prevented among three people.
	for _, row := range []string{"8", "22", "25", "27"} {
		for col, want := range map[string]string{"C": "1", "D": "0.5", "F": "1", "G": "0", "H": "1", "I": "3", "J": "0", "K": "0"} {
			if row == "22" || row == "27" {
				if col == "D" {
					want = "0.25"
				}
			}
			if got := cellValue(t, f, sheet, col+row); got != want {
				t.Errorf("%s%s: %q, want %s", col, row, got, want)
			}
		}
	}
	for cell, want := range map[string]string{"B8": "3", "D8": "0.0%", "E8": "4", "I8": "3", "N27": "0.0%"} {
		if got := numberFormat(t, f, sheet, cell); got != want {
			t.Errorf("%s: number format %s, want %s", cell, got, want)
		}
	}
	if merged, err := f.GetMergeCells(sheet); err != nil || len(merged) < 5 {
		t.Errorf("merged cells %v (%v): want the title, notes, 项目 over two rows and the sections", merged, err)
	}
	panes, err := f.GetPanes(sheet)
	if err != nil || !panes.Freeze || panes.YSplit != 5 || panes.XSplit != 1 {
		t.Errorf("panes %+v (%v)", panes, err)
	}
	if w, err := f.GetColWidth(sheet, "A"); err != nil || w < 16 {
		t.Errorf("column A is %g wide, want 接受委托移送调解 (16 units) to fit", w)
	}
	checkPrintLayout(t, f, sheet, "人民调解工作统计表（2026年第一季度）", 5)
	if row := lastExport(t, e); row.GetMethod() != "GET /v1/caseStatistics/official.xlsx" || row.GetResource() != "rows=20; period=2026-Q1; filter=" {
		t.Errorf("audit row %v", row)
	}

	// April holds the case registered at 00:30 on 1 April, from the police.
	f, _ = table("period=2026-04&filter=" + url.QueryEscape(`region_code = "621002"`))
	for cell, want := range map[string]string{"B8": "1", "B22": "1", "B24": "0", "B26": "1"} {
		if got := cellValue(t, f, sheet, cell); got != want {
			t.Errorf("April, %s: %q, want %s", cell, got, want)
		}
	}
	f, _ = table("period=2026")
	if got := cellValue(t, f, sheet, "B22"); got != "5" {
		t.Errorf("the year's 受理: %q, want 5", got)
	}

	for q, field := range map[string]string{
		"":                      "period",
		"period=2026-13":        "period",
		"period=2026-Q5":        "period",
		"period=Q1":             "period",
		"period=a&period=b":     "period",
		"period=2026&groupBy=1": "",
		"period=2026&filter=" + url.QueryEscape(`phone = "1"`): "filter",
	} {
		checkRefusal(t, e, "/v1/caseStatistics/official.xlsx?"+q, nil, 400, field)
	}
}
