package server

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/xuri/excelize/v2"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/mediationd/mediationd/internal/casework"
	"github.com/mediationd/mediationd/internal/store"
	mediationv1 "github.com/mediationd/mediationd/proto/mediation/v1"
)

const (
	// casesSheet is the name of the case list's sheet.
	casesSheet = "案件清单"
	// exportPageSize is how many cases the case list reads at a time
	// (one ListCases page through the loopback); memory holds about one
	// page of cases, whatever the number of rows.
	exportPageSize = 500
	// DefaultExportMaxRows is the most rows a case list holds unless
	// Config.ExportMaxRows says otherwise (Excel's own limit is 1,048,576
	// rows a sheet).
	DefaultExportMaxRows = 1_000_000
)

// caseColumn is a column of the case list: its heading, its width (the
// rows are streamed, so widths are set before any is known: wide enough
// for the usual values, Han characters counted as two units), and the
// cell of a case.
type caseColumn struct {
	heading string
	width   float64
	date    bool
	value   func(n *directoryNames, c *mediationv1.Case) any
}

// caseColumns are the columns of the case list.
var caseColumns = []caseColumn{
	{"案号", 26, false, func(_ *directoryNames, c *mediationv1.Case) any { return c.GetCaseNumber() }},
	{"登记时间", 17, true, func(_ *directoryNames, c *mediationv1.Case) any { return c.GetCreateTime() }},
	{"状态", 12, false, func(_ *directoryNames, c *mediationv1.Case) any {
		return casework.State(enumSuffix(c.GetState().String(), "CASE_STATE_")).DisplayName()
	}},
	{"纠纷类型", 14, false, func(_ *directoryNames, c *mediationv1.Case) any {
		return casework.DisputeType(enumSuffix(c.GetDisputeType().String(), "DISPUTE_TYPE_")).DisplayName()
	}},
	{"来源", 12, false, func(_ *directoryNames, c *mediationv1.Case) any {
		return casework.Source(enumSuffix(c.GetSource().String(), "CASE_SOURCE_")).DisplayName()
	}},
	{"地区", 14, false, func(n *directoryNames, c *mediationv1.Case) any { return n.region(c.GetRegionCode()) }},
	{"调解组织", 28, false, func(n *directoryNames, c *mediationv1.Case) any { return n.organization(c.GetOrganization()) }},
	{"调解员", 10, false, func(n *directoryNames, c *mediationv1.Case) any { return n.mediator(c.GetMediator()) }},
	{"当事人", 48, false, func(_ *directoryNames, c *mediationv1.Case) any { return partiesText(c.GetParties()) }},
	{"受理时间", 17, true, func(_ *directoryNames, c *mediationv1.Case) any { return c.GetAcceptTime() }},
	{"期限", 17, true, func(_ *directoryNames, c *mediationv1.Case) any { return c.GetDeadline().GetDueTime() }},
	{"超期", 6, false, func(_ *directoryNames, c *mediationv1.Case) any { return yes(c.GetDeadline().GetOverdue()) }},
	{"结案时间", 17, true, func(_ *directoryNames, c *mediationv1.Case) any { return c.GetCloseTime() }},
	{"结果", 10, false, func(_ *directoryNames, c *mediationv1.Case) any { return outcomeNames[c.GetOutcome()] }},
	{"法院案号", 28, false, func(_ *directoryNames, c *mediationv1.Case) any { return c.GetCourtReferral().GetCourtCaseNumber() }},
	{"群体性", 8, false, func(_ *directoryNames, c *mediationv1.Case) any { return yes(c.GetGroupDispute()) }},
	{"可能激化", 10, false, func(_ *directoryNames, c *mediationv1.Case) any { return yes(c.GetEscalationRisk()) }},
}

var outcomeNames = map[mediationv1.CaseOutcome]string{
	mediationv1.CaseOutcome_CASE_OUTCOME_AGREEMENT: "调解成功",
	mediationv1.CaseOutcome_CASE_OUTCOME_FAILED:    "调解不成",
	mediationv1.CaseOutcome_CASE_OUTCOME_WITHDRAWN: "撤回",
	mediationv1.CaseOutcome_CASE_OUTCOME_REJECTED:  "不予受理",
}

var partyRoleNames = map[mediationv1.PartyRole]string{
	mediationv1.PartyRole_PARTY_ROLE_APPLICANT:   "申请人",
	mediationv1.PartyRole_PARTY_ROLE_RESPONDENT:  "被申请人",
	mediationv1.PartyRole_PARTY_ROLE_THIRD_PARTY: "第三人",
	mediationv1.PartyRole_PARTY_ROLE_AGENT:       "代理人",
}

func enumSuffix(name, prefix string) string { return strings.TrimPrefix(name, prefix) }

func yes(b bool) string {
	if b {
		return "是"
	}
	return ""
}

// partiesText is the parties of a case in one cell, as ListCases shows
// them to the caller (numbers and addresses masked or not): role, name,
// phone, identity number, a party a line.
func partiesText(parties []*mediationv1.Party) string {
	var b strings.Builder
	for i, p := range parties {
		if i > 0 {
			b.WriteString("\n")
		}
		b.WriteString(partyRoleNames[p.GetRole()])
		b.WriteString(" ")
		b.WriteString(p.GetName())
		if v := p.GetPhone(); v != "" {
			b.WriteString(" 电话 " + v)
		}
		if v := p.GetIdNumber(); v != "" {
			b.WriteString(" 证件 " + v)
		}
		if v := p.GetAddress(); v != "" {
			b.WriteString(" 住址 " + v)
		}
	}
	// A cell holds at most 32,767 characters.
	return runeCut(b.String(), 32000)
}

// directoryNames turns the resource names of a case into the names people
// read, reading each from the directory once per export. Names of
// regions, organizations and mediators are public to every role
// (ListOrganizations is anyone's), so they are read from the store
// directly; a name the directory lacks is shown as it is.
type directoryNames struct {
	ctx   context.Context
	s     *Server
	names map[string]string
}

func (n *directoryNames) lookup(key string, read func() (string, error)) string {
	if v, ok := n.names[key]; ok {
		return v
	}
	v, err := read()
	if err != nil || v == "" {
		v = key
	}
	n.names[key] = v
	return v
}

func (n *directoryNames) region(code string) string {
	if code == "" {
		return ""
	}
	return n.lookup("regions/"+code, func() (string, error) {
		r, err := n.s.cfg.Store.GetRegion(n.ctx, code)
		return r.DisplayName, err
	})
}

func (n *directoryNames) organization(name string) string {
	id, ok := strings.CutPrefix(name, "organizations/")
	if !ok {
		return name
	}
	return n.lookup(name, func() (string, error) {
		o, err := n.s.cfg.Store.GetOrganization(n.ctx, id)
		return o.DisplayName, err
	})
}

func (n *directoryNames) mediator(name string) string {
	id, ok := strings.CutPrefix(name, "mediators/")
	if !ok {
		return name
	}
	return n.lookup(name, func() (string, error) {
		m, err := n.s.cfg.Store.GetMediator(n.ctx, id)
		return m.DisplayName, err
	})
}

// casesRequest reads the query of GET /v1/cases.xlsx: filter and orderBy
// (or order_by) of ListCases, each at most once.
func casesRequest(rawQuery string) (*mediationv1.ListCasesRequest, error) {
	q, err := url.ParseQuery(rawQuery)
	if err != nil {
		return nil, status.Errorf(codes.InvalidArgument, "the query string is malformed (%v): percent-encode the filter", err)
	}
	req := &mediationv1.ListCasesRequest{PageSize: exportPageSize}
	var order []string
	for k, vs := range q {
		switch k {
		case "filter":
			if len(vs) > 1 {
				return nil, invalidQueryParameter("filter", "given more than once")
			}
			req.Filter = vs[0]
		case "orderBy", "order_by":
			order = append(order, vs...)
		default:
			return nil, status.Errorf(codes.InvalidArgument, "unknown query parameter %q: the parameters are filter and orderBy", k)
		}
	}
	if len(order) > 1 {
		return nil, invalidQueryParameter("order_by", "given more than once")
	}
	if len(order) == 1 {
		req.OrderBy = order[0]
	}
	return req, nil
}

// exportMaxRows is the most rows a case list may hold.
func (s *Server) exportMaxRows() int {
	if s.cfg.ExportMaxRows > 0 {
		return s.cfg.ExportMaxRows
	}
	return DefaultExportMaxRows
}

// casesXLSX serves the cases ListCases lists for the caller and the filter
// as an Excel workbook, streamed: the cases are read a page at a time
// through the loopback (so scope, masking and the audit of unmasked reads
// are ListCases' own) and each row goes to excelize's StreamWriter, which
// keeps at most a chunk in memory and the rest in a temporary file; the
// workbook is then zipped straight into the response.
//
// A filter matching more than the row limit is refused with 400 once the
// limit is passed. The file only goes out once every row is written
// (a workbook is a zip whose directory comes last), so stopping there
// costs no more than the largest allowed export, needs no count that
// could disagree with the rows read, and never sends a partial file.
func (s *Server) casesXLSX(w http.ResponseWriter, r *http.Request) {
	x := s.beginExport(w, r, routeCasesXLSX)
	if x == nil {
		return
	}
	req, err := casesRequest(r.URL.RawQuery)
	if err != nil {
		st := status.Convert(err)
		writeStatus(w, httpStatus(st.Code()), st)
		return
	}
	f := excelize.NewFile()
	defer f.Close()
	started := s.cfg.Clock()
	title := "人民调解案件清单"
	sw, st, err := s.casesSheet(f, title, started, req.GetFilter())
	if err != nil {
		s.writeWorkbookError(w, r, err)
		return
	}
	names := &directoryNames{ctx: r.Context(), s: s, names: map[string]string{}}
	limit := s.exportMaxRows()
	rows := 0
	row := make([]any, len(caseColumns))
	for {
		resp, header, err := s.listCasesPage(r, req)
		if err != nil {
			writeCallError(w, header, err)
			return
		}
		for _, c := range resp.GetCases() {
			rows++
			if rows > limit {
				x.record(store.AuditExport, codes.InvalidArgument, fmt.Sprintf("rows>%d; refused; filter=%s", limit, req.GetFilter())) //nolint:errcheck // best effort: nothing was sent
				st := status.Newf(codes.InvalidArgument, "query parameter filter: the filter matches more than %d cases, the most one export holds; narrow the filter (by create_time, region_code or state, say) and export in parts", limit)
				writeStatus(w, http.StatusBadRequest, withFieldViolation(st, "filter", fmt.Sprintf("matches more than %d cases, the most one export holds", limit)))
				return
			}
			for i, col := range caseColumns {
				v := col.value(names, c)
				if col.date {
					if ts, _ := v.(*timestamppb.Timestamp); ts != nil {
						v = excelize.Cell{StyleID: st.dateTime, Value: excelTime(ts.AsTime(), s.location())}
					} else {
						v = nil
					}
				} else {
					v = excelize.Cell{StyleID: st.text, Value: v}
				}
				row[i] = v
			}
			if err := sw.SetRow(fmt.Sprintf("A%d", casesFirstRow+rows-1), row); err != nil {
				s.writeWorkbookError(w, r, err)
				return
			}
		}
		if req.PageToken = resp.GetNextPageToken(); req.PageToken == "" {
			break
		}
	}
	if err := sw.Flush(); err != nil {
		s.writeWorkbookError(w, r, err)
		return
	}
	stamp := started.In(s.location()).Format("20060102-1504")
	x.send(w, f, rows, fmt.Sprintf("order_by=%s; filter=%s", req.GetOrderBy(), req.GetFilter()), "案件清单-"+stamp+".xlsx", "cases-"+stamp+".xlsx")
}

// withFieldViolation adds a BadRequest field violation to st.
func withFieldViolation(st *status.Status, field, problem string) *status.Status {
	if d, err := st.WithDetails(&errdetails.BadRequest{FieldViolations: []*errdetails.BadRequest_FieldViolation{{
		Field: field, Description: problem,
	}}}); err == nil {
		return d
	}
	return st
}

// listCasesPage reads one page of cases through the loopback. A page
// refused by the rate limit is read again once the limiter says, for as
// long as the client waits: an export is many calls at once.
func (s *Server) listCasesPage(r *http.Request, req *mediationv1.ListCasesRequest) (*mediationv1.ListCasesResponse, metadata.MD, error) {
	for {
		ctx, header := loopbackCall(r)
		resp, err := mediationv1.NewCaseServiceClient(s.loopback).ListCases(ctx, req, grpc.Header(header))
		if status.Code(err) != codes.ResourceExhausted {
			return resp, *header, err
		}
		wait := time.Second
		if v := header.Get(mdRetryAfter); len(v) > 0 {
			if n, perr := strconv.Atoi(v[0]); perr == nil && n > 0 {
				wait = time.Duration(n) * time.Second
			}
		}
		select {
		case <-r.Context().Done():
			return nil, *header, err
		case <-time.After(wait):
		}
	}
}

// casesFirstRow is the row of the first case: after the title, the note
// and the headings.
const casesFirstRow = 4

// casesSheet prepares the case list's sheet and returns its StreamWriter
// with the title, the note (when, which filter) and the headings written:
// widths, frozen headings and the print layout are set first, as a
// StreamWriter needs.
func (s *Server) casesSheet(f *excelize.File, title string, now time.Time, filter string) (*excelize.StreamWriter, xlsxStyles, error) {
	st, err := newXLSXStyles(f)
	if err != nil {
		return nil, st, err
	}
	if err := f.SetSheetName("Sheet1", casesSheet); err != nil {
		return nil, st, err
	}
	if err := printLayout(f, casesSheet, title, casesFirstRow-1); err != nil {
		return nil, st, err
	}
	sw, err := f.NewStreamWriter(casesSheet)
	if err != nil {
		return nil, st, err
	}
	for i, c := range caseColumns {
		if err := sw.SetColWidth(i+1, i+1, max(c.width, columnWidth(c.heading))); err != nil {
			return nil, st, err
		}
	}
	if err := sw.SetPanes(&excelize.Panes{Freeze: true, YSplit: casesFirstRow - 1, TopLeftCell: fmt.Sprintf("A%d", casesFirstRow), ActivePane: "bottomLeft"}); err != nil {
		return nil, st, err
	}
	if err := sw.SetRow("A1", []any{excelize.Cell{StyleID: st.title, Value: title}}, excelize.RowOpts{Height: 30}); err != nil {
		return nil, st, err
	}
	lastName, _ := excelize.ColumnNumberToName(len(caseColumns))
	if err := sw.MergeCell("A1", lastName+"1"); err != nil {
		return nil, st, err
	}
	if filter == "" {
		filter = "全部（调用者可见范围内的所有案件）"
	}
	note := []any{
		excelize.Cell{StyleID: st.note, Value: "导出时间"},
		excelize.Cell{StyleID: st.dateTime, Value: excelTime(now, s.location())},
		excelize.Cell{StyleID: st.note, Value: "筛选条件"},
		excelize.Cell{StyleID: st.note, Value: filter},
	}
	if err := sw.SetRow("A2", note); err != nil {
		return nil, st, err
	}
	headings := make([]any, len(caseColumns))
	for i, c := range caseColumns {
		headings[i] = excelize.Cell{StyleID: st.heading, Value: c.heading}
	}
	return sw, st, sw.SetRow("A3", headings, excelize.RowOpts{Height: 20})
}
