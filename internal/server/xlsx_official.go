package server

import (
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/xuri/excelize/v2"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	mediationv1 "github.com/mediationd/mediationd/proto/mediation/v1"
)

// The official people's-mediation statistics table (人民调解工作统计表):
// the figures of a month, a quarter or a year by the fifteen dispute types
// of the official form and by the three sources it counts, in the form's
// columns. The period is an intake cohort: the cases registered in it
// (create_time, in the service's time zone), with what became of them
// since.

// officialSheet is the name of the official table's sheet.
const officialSheet = "人民调解工作统计表"

// officialTypes are the dispute types of the official form, in its order,
// and the service's types each counts.
var officialTypes = []struct {
	name  string
	types []mediationv1.DisputeType
}{
	{"婚姻家庭", []mediationv1.DisputeType{mediationv1.DisputeType_DISPUTE_TYPE_MARRIAGE_FAMILY}},
	{"邻里", []mediationv1.DisputeType{mediationv1.DisputeType_DISPUTE_TYPE_NEIGHBOR}},
	{"房屋宅基地", []mediationv1.DisputeType{mediationv1.DisputeType_DISPUTE_TYPE_HOUSING_HOMESTEAD}},
	{"合同", []mediationv1.DisputeType{mediationv1.DisputeType_DISPUTE_TYPE_CONTRACT_DEBT}},
	{"生产经营", []mediationv1.DisputeType{mediationv1.DisputeType_DISPUTE_TYPE_PRODUCTION_BUSINESS}},
	{"损害赔偿", []mediationv1.DisputeType{mediationv1.DisputeType_DISPUTE_TYPE_DAMAGES}},
	{"山林土地", []mediationv1.DisputeType{mediationv1.DisputeType_DISPUTE_TYPE_LAND_FOREST_CONTRACT}},
	{"征地拆迁", []mediationv1.DisputeType{mediationv1.DisputeType_DISPUTE_TYPE_LAND_REQUISITION}},
	{"环境污染", []mediationv1.DisputeType{mediationv1.DisputeType_DISPUTE_TYPE_ENVIRONMENT}},
	{"劳动争议", []mediationv1.DisputeType{mediationv1.DisputeType_DISPUTE_TYPE_LABOR}},
	{"消费", []mediationv1.DisputeType{mediationv1.DisputeType_DISPUTE_TYPE_CONSUMER}},
	{"医疗", []mediationv1.DisputeType{mediationv1.DisputeType_DISPUTE_TYPE_MEDICAL}},
	{"道路交通事故", []mediationv1.DisputeType{mediationv1.DisputeType_DISPUTE_TYPE_TRAFFIC_ACCIDENT}},
	{"物业", []mediationv1.DisputeType{mediationv1.DisputeType_DISPUTE_TYPE_PROPERTY_MANAGEMENT}},
	// The form has no row for village affairs (村务管理): it counts as other.
	{"其他", []mediationv1.DisputeType{mediationv1.DisputeType_DISPUTE_TYPE_VILLAGE_AFFAIRS, mediationv1.DisputeType_DISPUTE_TYPE_OTHER}},
}

// officialSources are the sources of the official form and the service's
// sources each counts: the committee's own initiative and what grid
// workers find are 主动调解; a party's application, in person, online or
// through the 12348 hotline, is 申请调解; a dispute passed on by a
// petitions office, the police or a court is 接受委托移送调解.
var officialSources = []struct {
	name    string
	sources []mediationv1.CaseSource
}{
	{"主动调解", []mediationv1.CaseSource{mediationv1.CaseSource_CASE_SOURCE_OWN_INITIATIVE, mediationv1.CaseSource_CASE_SOURCE_GRID_SWEEP}},
	{"申请调解", []mediationv1.CaseSource{mediationv1.CaseSource_CASE_SOURCE_WALK_IN, mediationv1.CaseSource_CASE_SOURCE_ONLINE, mediationv1.CaseSource_CASE_SOURCE_HOTLINE_12348}},
	{"接受委托移送调解", []mediationv1.CaseSource{mediationv1.CaseSource_CASE_SOURCE_PETITION_OFFICE, mediationv1.CaseSource_CASE_SOURCE_POLICE,
		mediationv1.CaseSource_CASE_SOURCE_COURT_DELEGATED, mediationv1.CaseSource_CASE_SOURCE_COURT_ENTRUSTED}},
}

// officialFigures are the figures of one row of the form, summed over the
// service's groups it counts; the rates are computed from the sums.
type officialFigures struct {
	accepted, succeeded, confirmed, performed, checked int64
	oral, written                                      int64
	escalations, escalationPeople                      int64
	petitions, petitionPeople                          int64
	amount                                             float64
}

func (o *officialFigures) add(f *mediationv1.CaseFigures) {
	o.accepted += f.GetAccepted()
	o.succeeded += f.GetSucceeded()
	o.oral += f.GetOralAgreements()
	o.written += f.GetWrittenAgreements()
	o.escalations += f.GetEscalationPrevented()
	o.escalationPeople += f.GetEscalationPreventedPeople()
	o.petitions += f.GetPetitionPrevented()
	o.petitionPeople += f.GetPetitionPreventedPeople()
	o.confirmed += f.GetConfirmationConfirmed()
	o.performed += f.GetPerformed()
	o.checked += f.GetPerformed() + f.GetPartlyPerformed() + f.GetNotPerformed()
	v, _ := strconv.ParseFloat(f.GetAgreementAmount(), 64)
	o.amount += v
}

func ratio(n, d int64) float64 {
	if d == 0 {
		return 0
	}
	return float64(n) / float64(d)
}

// officialColumns are the form's columns after the row's name: a heading
// over one or two rows (group, then sub-heading) and the value.
var officialColumns = []struct {
	group, heading string
	kind           figureKind
	value          func(o officialFigures) float64
}{
	{"", "受理\n(件)", figureCount, func(o officialFigures) float64 { return float64(o.accepted) }},
	{"", "调解成功\n(件)", figureCount, func(o officialFigures) float64 { return float64(o.succeeded) }},
	{"", "成功率\n(调解成功/受理)", figureRate, func(o officialFigures) float64 { return ratio(o.succeeded, o.accepted) }},
	{"", "协议涉及金额\n(万元)", figureAmount, func(o officialFigures) float64 { return o.amount / 10000 }},
	{"协议形式", "口头协议\n(件)", figureCount, func(o officialFigures) float64 { return float64(o.oral) }},
	{"协议形式", "书面协议\n(件)", figureCount, func(o officialFigures) float64 { return float64(o.written) }},
	{"防止民转刑", "件", figureCount, func(o officialFigures) float64 { return float64(o.escalations) }},
	{"防止民转刑", "人", figureCount, func(o officialFigures) float64 { return float64(o.escalationPeople) }},
	{"防止群体性上访", "件", figureCount, func(o officialFigures) float64 { return float64(o.petitions) }},
	{"防止群体性上访", "人", figureCount, func(o officialFigures) float64 { return float64(o.petitionPeople) }},
	{"", "司法确认\n(件)", figureCount, func(o officialFigures) float64 { return float64(o.confirmed) }},
	{"", "自动履行\n(件)", figureCount, func(o officialFigures) float64 { return float64(o.performed) }},
	{"", "自动履行率", figureRate, func(o officialFigures) float64 { return ratio(o.performed, o.checked) }},
}

var (
	periodMonth   = regexp.MustCompile(`^([0-9]{4})-(0[1-9]|1[0-2])$`)
	periodQuarter = regexp.MustCompile(`^([0-9]{4})-Q([1-4])$`)
	periodYear    = regexp.MustCompile(`^([0-9]{4})$`)
)

// parsePeriod reads a period, 2026-03, 2026-Q1 or 2026, as the instants it
// spans in loc: [from, to), and its name in Chinese.
func parsePeriod(v string, loc *time.Location) (from, to time.Time, name string, err error) {
	year := func(s string) int { n, _ := strconv.Atoi(s); return n }
	switch {
	case periodMonth.MatchString(v):
		m := periodMonth.FindStringSubmatch(v)
		month, _ := strconv.Atoi(m[2])
		from = time.Date(year(m[1]), time.Month(month), 1, 0, 0, 0, 0, loc)
		return from, from.AddDate(0, 1, 0), fmt.Sprintf("%d年%d月", year(m[1]), month), nil
	case periodQuarter.MatchString(v):
		m := periodQuarter.FindStringSubmatch(v)
		q, _ := strconv.Atoi(m[2])
		from = time.Date(year(m[1]), time.Month(3*q-2), 1, 0, 0, 0, 0, loc)
		return from, from.AddDate(0, 3, 0), fmt.Sprintf("%d年第%s季度", year(m[1]), []string{"一", "二", "三", "四"}[q-1]), nil
	case periodYear.MatchString(v):
		from = time.Date(year(v), 1, 1, 0, 0, 0, 0, loc)
		return from, from.AddDate(1, 0, 0), fmt.Sprintf("%d年", year(v)), nil
	}
	return from, to, "", invalidQueryParameter("period", fmt.Sprintf("%q is not a period: give a month (2026-03), a quarter (2026-Q1) or a year (2026)", v))
}

// officialRequest reads the query of GET /v1/caseStatistics/official.xlsx:
// period (required) and filter, each once.
func officialRequest(rawQuery string) (period, filter string, err error) {
	q, err := url.ParseQuery(rawQuery)
	if err != nil {
		return "", "", status.Errorf(codes.InvalidArgument, "the query string is malformed (%v): percent-encode the filter", err)
	}
	for k, vs := range q {
		switch k {
		case "period", "filter":
			if len(vs) > 1 {
				return "", "", invalidQueryParameter(k, "given more than once")
			}
		default:
			return "", "", status.Errorf(codes.InvalidArgument, "unknown query parameter %q: the parameters are period and filter", k)
		}
	}
	if q.Get("period") == "" {
		return "", "", invalidQueryParameter("period", "required: a month (2026-03), a quarter (2026-Q1) or a year (2026)")
	}
	return q.Get("period"), q.Get("filter"), nil
}

// officialXLSX serves the official statistics table of a period as an
// Excel workbook.
func (s *Server) officialXLSX(w http.ResponseWriter, r *http.Request) {
	x := s.beginExport(w, r, routeOfficialXLSX)
	if x == nil {
		return
	}
	period, userFilter, err := officialRequest(r.URL.RawQuery)
	var from, to time.Time
	var periodName string
	if err == nil {
		from, to, periodName, err = parsePeriod(period, s.location())
	}
	if err != nil {
		st := status.Convert(err)
		writeStatus(w, httpStatus(st.Code()), st)
		return
	}
	filter := fmt.Sprintf("create_time >= %q AND create_time < %q", from.Format(time.RFC3339), to.Format(time.RFC3339))
	if strings.TrimSpace(userFilter) != "" {
		filter = "(" + userFilter + ") AND " + filter
	}
	cs := mediationv1.NewCaseServiceClient(s.loopback)
	var byType, bySource *mediationv1.GetCaseStatisticsResponse
	for _, q := range []struct {
		grouping mediationv1.StatisticsGrouping
		dst      **mediationv1.GetCaseStatisticsResponse
	}{
		{mediationv1.StatisticsGrouping_STATISTICS_GROUPING_DISPUTE_TYPE, &byType},
		{mediationv1.StatisticsGrouping_STATISTICS_GROUPING_SOURCE, &bySource},
	} {
		ctx, header := loopbackCall(r)
		resp, err := cs.GetCaseStatistics(ctx, &mediationv1.GetCaseStatisticsRequest{Filter: filter, GroupBy: q.grouping}, grpc.Header(header))
		if err != nil {
			writeCallError(w, *header, err)
			return
		}
		*q.dst = resp
	}
	f := excelize.NewFile()
	defer f.Close()
	if err := s.officialWorkbook(f, periodName, from, to, userFilter, byType, bySource); err != nil {
		s.writeWorkbookError(w, r, err)
		return
	}
	rows := len(officialTypes) + len(officialSources) + 2
	x.send(w, f, rows, fmt.Sprintf("period=%s; filter=%s", period, userFilter),
		"人民调解工作统计表-"+period+".xlsx", "mediation-statistics-"+period+".xlsx")
}

// officialWorkbook lays the form out: title, period and scope, a heading
// of two rows, the block by dispute type and its total, the block by
// source and its total.
func (s *Server) officialWorkbook(f *excelize.File, periodName string, from, to time.Time, filter string, byType, bySource *mediationv1.GetCaseStatisticsResponse) error {
	st, err := newXLSXStyles(f)
	if err != nil {
		return err
	}
	sheet := officialSheet
	if err := f.SetSheetName("Sheet1", sheet); err != nil {
		return err
	}
	title := "人民调解工作统计表（" + periodName + "）"
	lastCol := 1 + len(officialColumns)
	lastName, _ := excelize.ColumnNumberToName(lastCol)
	set := func(cell string, v any, style int) error {
		if err := f.SetCellValue(sheet, cell, v); err != nil {
			return err
		}
		return f.SetCellStyle(sheet, cell, cell, style)
	}
	if filter == "" {
		filter = "调用者可见范围内的全部案件"
	}
	for _, c := range []struct {
		cell  string
		v     any
		style int
	}{
		{"A1", title, st.title},
		{"A2", fmt.Sprintf("统计期间：%s至%s（按登记时间）", from.Format("2006年1月2日"), to.AddDate(0, 0, -1).Format("2006年1月2日")), st.note},
		{"A3", "统计范围：" + filter, st.note},
	} {
		if err := set(c.cell, c.v, c.style); err != nil {
			return err
		}
	}
	for _, m := range [][2]string{{"A1", lastName + "1"}, {"A2", lastName + "2"}, {"A3", lastName + "3"}} {
		if err := f.MergeCell(sheet, m[0], m[1]); err != nil {
			return err
		}
	}
	if err := f.SetRowHeight(sheet, 1, 30); err != nil {
		return err
	}
	// The heading: 项目, then each column; a column of a group has the
	// group above it, one without is merged over both rows.
	const headTop, headBottom = 4, 5
	if err := set(fmt.Sprintf("A%d", headTop), "项目", st.heading); err != nil {
		return err
	}
	if err := f.MergeCell(sheet, fmt.Sprintf("A%d", headTop), fmt.Sprintf("A%d", headBottom)); err != nil {
		return err
	}
	widths := []float64{columnWidth("接受委托移送调解", "项目") + 2}
	for i, c := range officialColumns {
		col, _ := excelize.ColumnNumberToName(2 + i)
		top, bottom := fmt.Sprintf("%s%d", col, headTop), fmt.Sprintf("%s%d", col, headBottom)
		if c.group == "" {
			if err := set(top, c.heading, st.heading); err != nil {
				return err
			}
			if err := f.MergeCell(sheet, top, bottom); err != nil {
				return err
			}
		} else {
			if err := set(top, c.group, st.heading); err != nil {
				return err
			}
			if err := set(bottom, c.heading, st.heading); err != nil {
				return err
			}
		}
		widths = append(widths, max(columnWidth(c.heading), columnWidth(c.group)/2, 10))
	}
	if err := f.SetCellStyle(sheet, fmt.Sprintf("A%d", headTop), fmt.Sprintf("%s%d", lastName, headBottom), st.heading); err != nil {
		return err
	}
	// Groups with a column group merge their top cells.
	for i := 0; i < len(officialColumns); {
		j := i
		for j+1 < len(officialColumns) && officialColumns[j+1].group != "" && officialColumns[j+1].group == officialColumns[i].group {
			j++
		}
		if officialColumns[i].group != "" && j > i {
			a, _ := excelize.ColumnNumberToName(2 + i)
			b, _ := excelize.ColumnNumberToName(2 + j)
			if err := f.MergeCell(sheet, fmt.Sprintf("%s%d", a, headTop), fmt.Sprintf("%s%d", b, headTop)); err != nil {
				return err
			}
		}
		i = j + 1
	}
	if err := f.SetRowHeight(sheet, headBottom, 32); err != nil {
		return err
	}
	row := headBottom + 1
	put := func(name string, o officialFigures, total bool) error {
		values := []any{name}
		for _, c := range officialColumns {
			values = append(values, c.value(o))
		}
		if err := f.SetSheetRow(sheet, fmt.Sprintf("A%d", row), &values); err != nil {
			return err
		}
		text, styles := st.text, map[figureKind]int{figureCount: st.count, figureRate: st.rate, figureAmount: st.amount}
		if total {
			text, styles = st.totalText, map[figureKind]int{figureCount: st.totalCount, figureRate: st.totalRate, figureAmount: st.totalAmount}
		}
		if err := f.SetCellStyle(sheet, fmt.Sprintf("A%d", row), fmt.Sprintf("A%d", row), text); err != nil {
			return err
		}
		for i, c := range officialColumns {
			cell, _ := excelize.CoordinatesToCellName(2+i, row)
			if err := f.SetCellStyle(sheet, cell, cell, styles[c.kind]); err != nil {
				return err
			}
		}
		row++
		return nil
	}
	section := func(name string) error {
		cell := fmt.Sprintf("A%d", row)
		if err := set(cell, name, st.totalText); err != nil {
			return err
		}
		if err := f.MergeCell(sheet, cell, fmt.Sprintf("%s%d", lastName, row)); err != nil {
			return err
		}
		row++
		return nil
	}
	var total officialFigures
	total.add(byType.GetTotal())
	if err := section("一、按纠纷类型"); err != nil {
		return err
	}
	for _, t := range officialTypes {
		var o officialFigures
		for _, g := range byType.GetGroups() {
			for _, dt := range t.types {
				if g.GetKey() == dt.String() {
					o.add(g.GetFigures())
				}
			}
		}
		if err := put(t.name, o, false); err != nil {
			return err
		}
	}
	if err := put("合计", total, true); err != nil {
		return err
	}
	if err := section("二、按案件来源"); err != nil {
		return err
	}
	for _, src := range officialSources {
		var o officialFigures
		for _, g := range bySource.GetGroups() {
			for _, cs := range src.sources {
				if g.GetKey() == cs.String() {
					o.add(g.GetFigures())
				}
			}
		}
		if err := put(src.name, o, false); err != nil {
			return err
		}
	}
	if err := put("合计", total, true); err != nil {
		return err
	}
	for i, wd := range widths {
		name, _ := excelize.ColumnNumberToName(i + 1)
		if err := f.SetColWidth(sheet, name, name, wd); err != nil {
			return err
		}
	}
	if err := f.SetPanes(sheet, &excelize.Panes{Freeze: true, XSplit: 1, YSplit: headBottom, TopLeftCell: fmt.Sprintf("B%d", headBottom+1), ActivePane: "bottomRight"}); err != nil {
		return err
	}
	return printLayout(f, sheet, title, headBottom)
}
