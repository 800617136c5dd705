package server

import (
	"fmt"
	"net/http"
	"strconv"

	"github.com/xuri/excelize/v2"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	mediationv1 "github.com/mediationd/mediationd/proto/mediation/v1"
)

// figureKind says how a figure is shown: which number format.
type figureKind int

const (
	figureCount figureKind = iota
	figureRate
	figureAmount
	figureDays
)

// figureColumn is a column of figures: a Chinese heading and the value.
type figureColumn struct {
	heading string
	kind    figureKind
	value   func(*mediationv1.CaseFigures) float64
}

func countOf(get func(*mediationv1.CaseFigures) int64) func(*mediationv1.CaseFigures) float64 {
	return func(f *mediationv1.CaseFigures) float64 { return float64(get(f)) }
}

func stateCountOf(st mediationv1.CaseState) func(*mediationv1.CaseFigures) float64 {
	return func(f *mediationv1.CaseFigures) float64 {
		for _, c := range f.GetStates() {
			if c.GetState() == st {
				return float64(c.GetCount())
			}
		}
		return 0
	}
}

// amountOf reads an amount in yuan (a decimal string); Excel keeps it as
// a number.
func amountOf(get func(*mediationv1.CaseFigures) string) func(*mediationv1.CaseFigures) float64 {
	return func(f *mediationv1.CaseFigures) float64 {
		v, _ := strconv.ParseFloat(get(f), 64)
		return v
	}
}

// statisticsFigureColumns are the columns of the statistics workbook after
// the group's key and name: the figures of GetCaseStatistics, in the order
// of the CSV, then those of the official table.
var statisticsFigureColumns = []figureColumn{
	{"案件数", figureCount, countOf((*mediationv1.CaseFigures).GetCases)},
	{"登记", figureCount, stateCountOf(mediationv1.CaseState_CASE_STATE_INTAKE)},
	{"已受理", figureCount, stateCountOf(mediationv1.CaseState_CASE_STATE_ACCEPTED)},
	{"已分派", figureCount, stateCountOf(mediationv1.CaseState_CASE_STATE_ASSIGNED)},
	{"调解中", figureCount, stateCountOf(mediationv1.CaseState_CASE_STATE_MEDIATING)},
	{"已达成协议", figureCount, stateCountOf(mediationv1.CaseState_CASE_STATE_AGREED)},
	{"已结案", figureCount, stateCountOf(mediationv1.CaseState_CASE_STATE_CLOSED)},
	{"未结", figureCount, countOf((*mediationv1.CaseFigures).GetOpen)},
	{"超期", figureCount, countOf((*mediationv1.CaseFigures).GetOverdue)},
	{"待重新分派", figureCount, countOf((*mediationv1.CaseFigures).GetNeedsReassignment)},
	{"受理数", figureCount, countOf((*mediationv1.CaseFigures).GetAccepted)},
	{"调解成功数", figureCount, countOf((*mediationv1.CaseFigures).GetSucceeded)},
	{"调解不成", figureCount, countOf((*mediationv1.CaseFigures).GetFailed)},
	{"受理后撤回", figureCount, countOf((*mediationv1.CaseFigures).GetWithdrawnAfterAcceptance)},
	{"受理前撤回", figureCount, countOf((*mediationv1.CaseFigures).GetWithdrawnBeforeAcceptance)},
	{"不予受理", figureCount, countOf((*mediationv1.CaseFigures).GetRejected)},
	{"调解终结数", figureCount, countOf((*mediationv1.CaseFigures).GetConcluded)},
	{"成功率\n(调解成功/调解终结)", figureRate, (*mediationv1.CaseFigures).GetSuccessRate},
	{"成功率\n(调解成功/受理)", figureRate, (*mediationv1.CaseFigures).GetSuccessRateOfAccepted},
	{"平均办结天数", figureDays, (*mediationv1.CaseFigures).GetMeanDaysToClose},
	{"协议涉及金额(元)", figureAmount, amountOf((*mediationv1.CaseFigures).GetAgreementAmount)},
	{"申请司法确认", figureCount, countOf((*mediationv1.CaseFigures).GetConfirmationRequested)},
	{"确认有效", figureCount, countOf((*mediationv1.CaseFigures).GetConfirmationConfirmed)},
	{"驳回申请", figureCount, countOf((*mediationv1.CaseFigures).GetConfirmationRefused)},
	{"已履行", figureCount, countOf((*mediationv1.CaseFigures).GetPerformed)},
	{"部分履行", figureCount, countOf((*mediationv1.CaseFigures).GetPartlyPerformed)},
	{"未履行", figureCount, countOf((*mediationv1.CaseFigures).GetNotPerformed)},
	{"自动履行率", figureRate, (*mediationv1.CaseFigures).GetPerformanceRate},
	{"群体性纠纷", figureCount, countOf((*mediationv1.CaseFigures).GetGroupDisputes)},
	{"可能激化", figureCount, countOf((*mediationv1.CaseFigures).GetEscalationRisks)},
	{"法院委派委托", figureCount, countOf((*mediationv1.CaseFigures).GetCourtReferrals)},
	{"口头协议", figureCount, countOf((*mediationv1.CaseFigures).GetOralAgreements)},
	{"书面协议", figureCount, countOf((*mediationv1.CaseFigures).GetWrittenAgreements)},
	{"防止民转刑\n(件)", figureCount, countOf((*mediationv1.CaseFigures).GetEscalationPrevented)},
	{"防止民转刑\n(人)", figureCount, countOf((*mediationv1.CaseFigures).GetEscalationPreventedPeople)},
	{"防止群体性上访\n(件)", figureCount, countOf((*mediationv1.CaseFigures).GetPetitionPrevented)},
	{"防止群体性上访\n(人)", figureCount, countOf((*mediationv1.CaseFigures).GetPetitionPreventedPeople)},
}

// groupingHeadings name each grouping's key column in Chinese.
var groupingHeadings = map[mediationv1.StatisticsGrouping]string{
	mediationv1.StatisticsGrouping_STATISTICS_GROUPING_UNSPECIFIED:       "范围",
	mediationv1.StatisticsGrouping_STATISTICS_GROUPING_REGION:            "地区",
	mediationv1.StatisticsGrouping_STATISTICS_GROUPING_ORGANIZATION:      "调解组织",
	mediationv1.StatisticsGrouping_STATISTICS_GROUPING_ORGANIZATION_TYPE: "组织类型",
	mediationv1.StatisticsGrouping_STATISTICS_GROUPING_MEDIATOR:          "调解员",
	mediationv1.StatisticsGrouping_STATISTICS_GROUPING_DISPUTE_TYPE:      "纠纷类型",
	mediationv1.StatisticsGrouping_STATISTICS_GROUPING_SOURCE:            "案件来源",
	mediationv1.StatisticsGrouping_STATISTICS_GROUPING_CREATE_MONTH:      "登记月份",
}

// statisticsSheet is the name of the statistics workbook's sheet.
const statisticsSheet = "案件统计"

// statisticsXLSX serves GetCaseStatistics as an Excel workbook: a title,
// when the figures were computed and for which filter, a heading row
// (frozen, repeated on every printed page), a row per group and the
// totals. It takes the query parameters of GET /v1/caseStatistics.csv.
func (s *Server) statisticsXLSX(w http.ResponseWriter, r *http.Request) {
	x := s.beginExport(w, r, routeStatisticsXLSX)
	if x == nil {
		return
	}
	req, err := statisticsRequest(r.URL.RawQuery)
	if err != nil {
		st := status.Convert(err)
		writeStatus(w, httpStatus(st.Code()), st)
		return
	}
	ctx, header := loopbackCall(r)
	resp, err := mediationv1.NewCaseServiceClient(s.loopback).GetCaseStatistics(ctx, req, grpc.Header(header))
	if err != nil {
		writeCallError(w, *header, err)
		return
	}
	computed := resp.GetComputeTime().AsTime()
	f := excelize.NewFile()
	defer f.Close()
	if err := s.statisticsWorkbook(f, req, resp); err != nil {
		s.writeWorkbookError(w, r, err)
		return
	}
	stamp := computed.In(s.location()).Format("20060102-1504")
	query := fmt.Sprintf("group_by=%s; filter=%s", req.GetGroupBy(), req.GetFilter())
	x.send(w, f, len(resp.GetGroups())+1, query, "案件统计-"+stamp+".xlsx", "case-statistics-"+stamp+".xlsx")
}

// writeWorkbookError answers a workbook that could not be built: a fault
// of the service, not of the request.
func (s *Server) writeWorkbookError(w http.ResponseWriter, r *http.Request, err error) {
	s.log.ErrorContext(r.Context(), "build a workbook", "path", r.URL.Path, "error", err)
	writeStatus(w, http.StatusInternalServerError, status.New(codes.Internal, "the workbook could not be built; try again, and report it if it persists"))
}

// statisticsWorkbook lays the figures out on the workbook's one sheet.
func (s *Server) statisticsWorkbook(f *excelize.File, req *mediationv1.GetCaseStatisticsRequest, resp *mediationv1.GetCaseStatisticsResponse) error {
	st, err := newXLSXStyles(f)
	if err != nil {
		return err
	}
	sheet := statisticsSheet
	if err := f.SetSheetName("Sheet1", sheet); err != nil {
		return err
	}
	title := "人民调解案件统计"
	keyHeading := groupingHeadings[req.GetGroupBy()]
	if req.GetGroupBy() != mediationv1.StatisticsGrouping_STATISTICS_GROUPING_UNSPECIFIED {
		title += "（按" + keyHeading + "）"
	}
	const headingRow, firstRow = 4, 5
	lastCol := 2 + len(statisticsFigureColumns)
	lastName, _ := excelize.ColumnNumberToName(lastCol)
	filter := req.GetFilter()
	if filter == "" {
		filter = "全部（调用者可见范围内的所有案件）"
	}
	cells := []struct {
		cell  string
		value any
		style int
	}{
		{"A1", title, st.title},
		{"A2", "统计时间", st.note},
		{"B2", excelTime(resp.GetComputeTime().AsTime(), s.location()), st.dateTime},
		{"C2", "筛选条件", st.note},
		{"D2", filter, st.note},
	}
	for _, c := range cells {
		if err := f.SetCellValue(sheet, c.cell, c.value); err != nil {
			return err
		}
		if err := f.SetCellStyle(sheet, c.cell, c.cell, c.style); err != nil {
			return err
		}
	}
	if err := f.MergeCell(sheet, "A1", lastName+"1"); err != nil {
		return err
	}
	if err := f.SetRowHeight(sheet, 1, 30); err != nil {
		return err
	}
	headings := []string{keyHeading + "代码", keyHeading}
	for _, c := range statisticsFigureColumns {
		headings = append(headings, c.heading)
	}
	widths := make([][]string, lastCol)
	for i, h := range headings {
		widths[i] = append(widths[i], h)
	}
	if err := f.SetSheetRow(sheet, fmt.Sprintf("A%d", headingRow), &headings); err != nil {
		return err
	}
	if err := f.SetCellStyle(sheet, fmt.Sprintf("A%d", headingRow), fmt.Sprintf("%s%d", lastName, headingRow), st.heading); err != nil {
		return err
	}
	if err := f.SetRowHeight(sheet, headingRow, 32); err != nil {
		return err
	}
	row := firstRow
	put := func(key, name string, fig *mediationv1.CaseFigures, total bool) error {
		values := []any{key, name}
		widths[0], widths[1] = append(widths[0], key), append(widths[1], name)
		for i, c := range statisticsFigureColumns {
			v := c.value(fig)
			values = append(values, v)
			widths[2+i] = append(widths[2+i], strconv.FormatFloat(v, 'f', 2, 64))
		}
		if err := f.SetSheetRow(sheet, fmt.Sprintf("A%d", row), &values); err != nil {
			return err
		}
		text, styles := st.text, map[figureKind]int{figureCount: st.count, figureRate: st.rate, figureAmount: st.amount, figureDays: st.days}
		if total {
			text, styles = st.totalText, map[figureKind]int{figureCount: st.totalCount, figureRate: st.totalRate, figureAmount: st.totalAmount, figureDays: st.totalDays}
		}
		if err := f.SetCellStyle(sheet, fmt.Sprintf("A%d", row), fmt.Sprintf("B%d", row), text); err != nil {
			return err
		}
		for i, c := range statisticsFigureColumns {
			cell, _ := excelize.CoordinatesToCellName(3+i, row)
			if err := f.SetCellStyle(sheet, cell, cell, styles[c.kind]); err != nil {
				return err
			}
		}
		row++
		return nil
	}
	for _, g := range resp.GetGroups() {
		if err := put(g.GetKey(), g.GetDisplayName(), g.GetFigures(), false); err != nil {
			return err
		}
	}
	if err := put("", "合计", resp.GetTotal(), true); err != nil {
		return err
	}
	for i, texts := range widths {
		name, _ := excelize.ColumnNumberToName(i + 1)
		if err := f.SetColWidth(sheet, name, name, columnWidth(texts...)); err != nil {
			return err
		}
	}
	if err := f.SetPanes(sheet, &excelize.Panes{Freeze: true, XSplit: 2, YSplit: headingRow, TopLeftCell: fmt.Sprintf("C%d", firstRow), ActivePane: "bottomRight"}); err != nil {
		return err
	}
	return printLayout(f, sheet, title, headingRow)
}
