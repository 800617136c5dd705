package server

import (
	"context"
	"encoding/csv"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	mediationv1 "github.com/mediationd/mediationd/proto/mediation/v1"
)

// The HTTP side serves a few answers the REST gateway cannot shape: the
// agreement as a printable page and the statistics as a spreadsheet. Each
// calls its method through the gateway's loopback, so the same
// interceptors apply (authentication, authorization, audit, validation,
// rate limits, logs, metrics) as to any call.

// loopbackCall is the outgoing context of a call made for r through the
// loopback: what the gateway passes of a REST request (its request id,
// credential, client address and verified client certificate), and a
// place for the response headers.
func loopbackCall(r *http.Request) (context.Context, *metadata.MD) {
	md := metadata.Pairs(mdRequestID, r.Header.Get("X-Request-Id"), mdClientCertCN, gatewayClientCertCN(r))
	if a := r.Header.Get("Authorization"); a != "" {
		md.Set("authorization", a)
	}
	if host, _, err := net.SplitHostPort(r.RemoteAddr); err == nil {
		md.Set(mdForwarded, host)
	}
	return metadata.NewOutgoingContext(r.Context(), md), new(metadata.MD)
}

// writeCallError answers a refused loopback call as the gateway would.
func writeCallError(w http.ResponseWriter, header metadata.MD, err error) {
	if v := header.Get(mdRetryAfter); len(v) > 0 {
		w.Header().Set("Retry-After", v[0])
	}
	st := status.Convert(err)
	writeStatus(w, httpStatus(st.Code()), st)
}

// agreementPage serves the agreement document as the page itself, for a
// browser to show and print.
func (s *Server) agreementPage(w http.ResponseWriter, r *http.Request) {
	ctx, header := loopbackCall(r)
	resp, err := mediationv1.NewCaseServiceClient(s.loopback).GetAgreementDocument(ctx,
		&mediationv1.GetAgreementDocumentRequest{Name: "cases/" + r.PathValue("case")}, grpc.Header(header))
	if err != nil {
		writeCallError(w, *header, err)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Content-Disposition", contentDisposition("inline", resp.GetFileName(), "agreement-"+r.PathValue("case")+".html"))
	_, _ = io.WriteString(w, resp.GetHtml())
}

// statisticsColumns are the columns of the statistics spreadsheet after
// the group's key and name: a heading (in Chinese, with the API's field
// name) and the figure.
var statisticsColumns = []struct {
	heading string
	value   func(f *mediationv1.CaseFigures) string
}{
	{"案件数 cases", count((*mediationv1.CaseFigures).GetCases)},
	{"登记 INTAKE", stateCount(mediationv1.CaseState_CASE_STATE_INTAKE)},
	{"已受理 ACCEPTED", stateCount(mediationv1.CaseState_CASE_STATE_ACCEPTED)},
	{"已分派 ASSIGNED", stateCount(mediationv1.CaseState_CASE_STATE_ASSIGNED)},
	{"调解中 MEDIATING", stateCount(mediationv1.CaseState_CASE_STATE_MEDIATING)},
	{"已达成协议 AGREED", stateCount(mediationv1.CaseState_CASE_STATE_AGREED)},
	{"已结案 CLOSED", stateCount(mediationv1.CaseState_CASE_STATE_CLOSED)},
	{"未结 open", count((*mediationv1.CaseFigures).GetOpen)},
	{"超期 overdue", count((*mediationv1.CaseFigures).GetOverdue)},
	{"待重新分派 needs_reassignment", count((*mediationv1.CaseFigures).GetNeedsReassignment)},
	{"受理数 accepted", count((*mediationv1.CaseFigures).GetAccepted)},
	{"调解成功数 succeeded", count((*mediationv1.CaseFigures).GetSucceeded)},
	{"调解不成 failed", count((*mediationv1.CaseFigures).GetFailed)},
	{"受理后撤回 withdrawn_after_acceptance", count((*mediationv1.CaseFigures).GetWithdrawnAfterAcceptance)},
	{"受理前撤回 withdrawn_before_acceptance", count((*mediationv1.CaseFigures).GetWithdrawnBeforeAcceptance)},
	{"不予受理 rejected", count((*mediationv1.CaseFigures).GetRejected)},
	{"调解终结数 concluded", count((*mediationv1.CaseFigures).GetConcluded)},
	{"成功率(调解成功/调解终结) success_rate", rate((*mediationv1.CaseFigures).GetSuccessRate)},
	{"成功率(调解成功/受理) success_rate_of_accepted", rate((*mediationv1.CaseFigures).GetSuccessRateOfAccepted)},
	{"平均办结天数 mean_days_to_close", func(f *mediationv1.CaseFigures) string {
		return strconv.FormatFloat(f.GetMeanDaysToClose(), 'f', 1, 64)
	}},
	{"协议涉及金额(元) agreement_amount", (*mediationv1.CaseFigures).GetAgreementAmount},
	{"申请司法确认 confirmation_requested", count((*mediationv1.CaseFigures).GetConfirmationRequested)},
	{"确认有效 confirmation_confirmed", count((*mediationv1.CaseFigures).GetConfirmationConfirmed)},
	{"驳回申请 confirmation_refused", count((*mediationv1.CaseFigures).GetConfirmationRefused)},
	{"已履行 performed", count((*mediationv1.CaseFigures).GetPerformed)},
	{"部分履行 partly_performed", count((*mediationv1.CaseFigures).GetPartlyPerformed)},
	{"未履行 not_performed", count((*mediationv1.CaseFigures).GetNotPerformed)},
	{"自动履行率 performance_rate", rate((*mediationv1.CaseFigures).GetPerformanceRate)},
	{"群体性 group_disputes", count((*mediationv1.CaseFigures).GetGroupDisputes)},
	{"可能激化 escalation_risks", count((*mediationv1.CaseFigures).GetEscalationRisks)},
	{"法院委派委托 court_referrals", count((*mediationv1.CaseFigures).GetCourtReferrals)},
}

func count(get func(*mediationv1.CaseFigures) int64) func(*mediationv1.CaseFigures) string {
	return func(f *mediationv1.CaseFigures) string { return strconv.FormatInt(get(f), 10) }
}

func rate(get func(*mediationv1.CaseFigures) float64) func(*mediationv1.CaseFigures) string {
	return func(f *mediationv1.CaseFigures) string { return strconv.FormatFloat(get(f), 'f', 4, 64) }
}

func stateCount(st mediationv1.CaseState) func(*mediationv1.CaseFigures) string {
	return func(f *mediationv1.CaseFigures) string {
		for _, c := range f.GetStates() {
			if c.GetState() == st {
				return strconv.FormatInt(c.GetCount(), 10)
			}
		}
		return "0"
	}
}

// statisticsCSV serves GetCaseStatistics as a spreadsheet (CSV, UTF-8 with
// a byte-order mark, so that Excel reads the Chinese): a row per group,
// then the totals. It takes the query parameters of GET /v1/caseStatistics
// (filter, groupBy).
func (s *Server) statisticsCSV(w http.ResponseWriter, r *http.Request) {
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
	stamp := resp.GetComputeTime().AsTime().In(s.location()).Format("20060102-1504")
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", contentDisposition("attachment", "案件统计-"+stamp+".csv", "case-statistics-"+stamp+".csv"))
	_, _ = io.WriteString(w, "\ufeff")
	cw := csv.NewWriter(w)
	heading := []string{"分组 key", "名称 name"}
	for _, c := range statisticsColumns {
		heading = append(heading, c.heading)
	}
	_ = cw.Write(heading)
	row := func(key, name string, f *mediationv1.CaseFigures) {
		out := []string{textCell(key), textCell(name)}
		for _, c := range statisticsColumns {
			out = append(out, c.value(f))
		}
		_ = cw.Write(out)
	}
	for _, g := range resp.GetGroups() {
		row(g.GetKey(), g.GetDisplayName(), g.GetFigures())
	}
	row("", "合计", resp.GetTotal())
	cw.Flush()
}

// textCell keeps a spreadsheet from reading a text (an organization's
// name, say) as a formula: one starting with = + - @ or a tab gets a
// leading apostrophe, as OWASP advises for CSV.
func textCell(v string) string {
	if v != "" && strings.ContainsRune("=+-@\t\r", rune(v[0])) {
		return "'" + v
	}
	return v
}

// statisticsRequest reads the query of GET /v1/caseStatistics.csv as the
// gateway reads that of GET /v1/caseStatistics: filter and groupBy (or
// group_by), each at most once, the grouping by name or number.
func statisticsRequest(rawQuery string) (*mediationv1.GetCaseStatisticsRequest, error) {
	q, err := url.ParseQuery(rawQuery)
	if err != nil {
		return nil, status.Errorf(codes.InvalidArgument, "the query string is malformed (%v): percent-encode the filter", err)
	}
	req := &mediationv1.GetCaseStatisticsRequest{}
	var grouping []string
	for k, vs := range q {
		switch k {
		case "filter":
			if len(vs) > 1 {
				return nil, invalidQueryParameter("filter", "given more than once")
			}
			req.Filter = vs[0]
		case "groupBy", "group_by":
			grouping = append(grouping, vs...)
		default:
			return nil, status.Errorf(codes.InvalidArgument, "unknown query parameter %q: the parameters are filter and groupBy", k)
		}
	}
	switch {
	case len(grouping) > 1:
		return nil, invalidQueryParameter("group_by", "given more than once")
	case len(grouping) == 1:
		g := grouping[0]
		v, ok := mediationv1.StatisticsGrouping_value[g]
		if n, err := strconv.ParseInt(g, 10, 32); err == nil {
			v, ok = int32(n), true
		}
		if !ok {
			return nil, invalidQueryParameter("group_by", fmt.Sprintf("%q is not a StatisticsGrouping, e.g. STATISTICS_GROUPING_REGION", g))
		}
		req.GroupBy = mediationv1.StatisticsGrouping(v)
	}
	return req, nil
}

// location is the time zone of the service's dates.
func (s *Server) location() *time.Location {
	if s.cfg.Location != nil {
		return s.cfg.Location
	}
	return time.UTC
}

// contentDisposition names a download twice (RFC 6266): filename* with the
// UTF-8 name for clients that read it, and a plain ASCII filename for those
// that do not (curl -OJ among them), which would otherwise save a file
// named after the URL. ascii must be a safe ASCII name; anything else in it
// is replaced by "_".
func contentDisposition(kind, name, ascii string) string {
	safe := []byte(ascii)
	for i, c := range safe {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '-' || c == '_') {
			safe[i] = '_'
		}
	}
	return kind + `; filename="` + string(safe) + `"; filename*=UTF-8''` + url.PathEscape(name)
}
