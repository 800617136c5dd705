package server

import (
	"archive/zip"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/xuri/excelize/v2"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/mediationd/mediationd/internal/api"
	"github.com/mediationd/mediationd/internal/auth"
	"github.com/mediationd/mediationd/internal/authn"
	"github.com/mediationd/mediationd/internal/store"
)

// The spreadsheets (Excel workbooks) the HTTP side serves. Each is a
// route of its own in the policy (internal/auth), checked here before any
// figure or case is read; the figures and cases themselves are read
// through the loopback, as the gateway reads them, so that every scope,
// masking and audit rule of GetCaseStatistics and ListCases applies as it
// is. Each download is recorded in the audit trail as an EXPORT: who,
// which route, how many rows and with which query.

// The routes of the exports, as the policy names them.
const (
	routeStatisticsXLSX = "GET /v1/caseStatistics.xlsx"
	routeCasesXLSX      = "GET /v1/cases.xlsx"
	routeOfficialXLSX   = "GET /v1/caseStatistics/official.xlsx"
)

// xlsxContentType is the media type of an Excel workbook.
const xlsxContentType = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

// exporter is one download under way: its request and the caller, known
// and allowed the route.
type exporter struct {
	s      *Server
	r      *http.Request
	route  string
	caller auth.Principal
}

// beginExport authenticates the caller of an export and checks the policy
// for its route. On a refusal it answers (401, 403: the refusal is on
// record as any other) and returns nil.
func (s *Server) beginExport(w http.ResponseWriter, r *http.Request, route string) *exporter {
	x := &exporter{s: s, r: r, route: route}
	var token string
	for _, v := range r.Header.Values("Authorization") {
		if t, ok := authn.BearerToken(v); ok {
			token = t
		}
	}
	if token == "" {
		writeStatus(w, http.StatusUnauthorized, status.Convert(errSignIn))
		return nil
	}
	p, err := s.cfg.Authenticator.Authenticate(r.Context(), token)
	if errors.Is(err, auth.ErrUnauthenticated) {
		err = status.Error(codes.Unauthenticated, "the bearer credential is not valid: it is unknown, expired or revoked; sign in again with POST /v1/sessions")
	}
	if err != nil {
		st := api.ToStatus(err)
		writeStatus(w, httpStatus(st.Code()), st)
		return nil
	}
	x.caller = p
	if err := auth.MayCall(p, route); err != nil {
		st := api.ToStatus(err)
		x.record(store.AuditPermissionDenied, st.Code(), "")
		writeStatus(w, httpStatus(st.Code()), st)
		return nil
	}
	return x
}

// record puts the export on the audit trail: resource says what was
// exported (the rows written and the query). A refusal is recorded on a
// best-effort basis; an export's own row must be written before the file
// is sent.
func (x *exporter) record(kind store.AuditKind, code codes.Code, resource string) error {
	r := x.r
	addr := r.RemoteAddr
	if host, _, err := net.SplitHostPort(addr); err == nil {
		addr = host
	}
	return x.s.cfg.Store.RecordAudit(context.WithoutCancel(r.Context()), store.AuditRecord{
		Time: x.s.cfg.Clock().UTC(), Kind: kind, Actor: x.caller.Name, ActorRole: x.caller.Role,
		ClientAddress: addr, ClientCert: verifiedCN(r.TLS), Method: x.route, RequestID: r.Header.Get("X-Request-Id"),
		Resource: resource, Code: code.String(),
	})
}

// send records the export (rows written, query) and then writes the
// workbook as an attachment named name (ascii for older clients). The
// workbook is zipped straight into the response: the rows of a streamed
// sheet are in temporary files, and nothing holds the whole file in
// memory.
func (x *exporter) send(w http.ResponseWriter, f *excelize.File, rows int, query, name, ascii string) {
	if err := x.record(store.AuditExport, codes.OK, fmt.Sprintf("rows=%d; %s", rows, query)); err != nil {
		st := api.ToStatus(err)
		writeStatus(w, httpStatus(st.Code()), st)
		return
	}
	w.Header().Set("Content-Type", xlsxContentType)
	w.Header().Set("Content-Disposition", contentDisposition("attachment", name, ascii))
	w.Header().Set("Cache-Control", "no-store")
	f.SetZipWriter(func(io.Writer) excelize.ZipWriter { return zip.NewWriter(w) })
	if _, err := f.WriteToBuffer(); err != nil {
		// The status is sent: the client sees a truncated file.
		x.s.log.ErrorContext(x.r.Context(), "write the workbook", "route", x.route, "error", err)
	}
}

// xlsxStyles are the cell styles of the workbooks.
type xlsxStyles struct {
	title, note, heading, text, count, rate, amount, days, date, dateTime int
	totalText, totalCount, totalRate, totalAmount, totalDays              int
}

// newXLSXStyles adds the styles to f: headings bold on grey with borders,
// counts #,##0, rates 0.0%, amounts #,##0.00, dates yyyy-mm-dd, and a
// bold variant of each figure for the totals.
func newXLSXStyles(f *excelize.File) (xlsxStyles, error) {
	border := []excelize.Border{{Type: "left", Color: "A0A0A0", Style: 1}, {Type: "right", Color: "A0A0A0", Style: 1},
		{Type: "top", Color: "A0A0A0", Style: 1}, {Type: "bottom", Color: "A0A0A0", Style: 1}}
	font := &excelize.Font{Family: "SimSun", Size: 11}
	bold := &excelize.Font{Family: "SimSun", Size: 11, Bold: true}
	var s xlsxStyles
	var err error
	add := func(dst *int, st excelize.Style) {
		if err == nil {
			*dst, err = f.NewStyle(&st)
		}
	}
	numFmt := func(builtin int, custom string) (int, *string) {
		if custom != "" {
			return 0, &custom
		}
		return builtin, nil
	}
	figure := func(dst *int, f *excelize.Font, builtin int, custom string) {
		n, c := numFmt(builtin, custom)
		add(dst, excelize.Style{Font: f, Border: border, NumFmt: n, CustomNumFmt: c, Alignment: &excelize.Alignment{Vertical: "center"}})
	}
	add(&s.title, excelize.Style{Font: &excelize.Font{Family: "SimHei", Size: 16, Bold: true}, Alignment: &excelize.Alignment{Horizontal: "center", Vertical: "center"}})
	add(&s.note, excelize.Style{Font: font, Alignment: &excelize.Alignment{Vertical: "center"}})
	add(&s.heading, excelize.Style{Font: bold, Border: border, Fill: excelize.Fill{Type: "pattern", Pattern: 1, Color: []string{"D9D9D9"}},
		Alignment: &excelize.Alignment{Horizontal: "center", Vertical: "center", WrapText: true}})
	add(&s.text, excelize.Style{Font: font, Border: border, Alignment: &excelize.Alignment{Vertical: "center", WrapText: true}})
	add(&s.totalText, excelize.Style{Font: bold, Border: border, Alignment: &excelize.Alignment{Vertical: "center"}})
	figure(&s.count, font, 3, "")      // #,##0
	figure(&s.totalCount, bold, 3, "") // #,##0
	figure(&s.rate, font, 0, "0.0%")
	figure(&s.totalRate, bold, 0, "0.0%")
	figure(&s.amount, font, 4, "") // #,##0.00
	figure(&s.totalAmount, bold, 4, "")
	figure(&s.days, font, 0, "0.0")
	figure(&s.totalDays, bold, 0, "0.0")
	figure(&s.date, font, 0, "yyyy-mm-dd")
	figure(&s.dateTime, font, 0, "yyyy-mm-dd hh:mm")
	return s, err
}

// textWidth is the width of s in Excel's column units: a Han character (or
// any other wide one: kana, hangul, full-width forms and punctuation)
// takes about two, anything else one.
func textWidth(s string) float64 {
	w := 0.0
	for _, r := range s {
		if wideRune(r) {
			w += 2
		} else {
			w++
		}
	}
	return w
}

func wideRune(r rune) bool {
	return unicode.In(r, unicode.Han, unicode.Hiragana, unicode.Katakana, unicode.Hangul) ||
		r >= 0x3000 && r <= 0x303F || // CJK symbols and punctuation
		r >= 0xFF00 && r <= 0xFF60 || r >= 0xFFE0 && r <= 0xFFE6 // full-width forms
}

// columnWidth is a column's width for the widest of its texts: two units
// of padding, at least 8, at most 60 (longer texts wrap).
func columnWidth(texts ...string) float64 {
	w := 8.0
	for _, t := range texts {
		// A wrapped heading is as wide as its longest line.
		for _, line := range strings.Split(t, "\n") {
			w = max(w, textWidth(line)+2)
		}
	}
	return min(w, 60)
}

// excelTime is t as Excel keeps a date: the wall clock of the service's
// time zone, without a zone (excelize counts from UTC).
func excelTime(t time.Time, loc *time.Location) time.Time {
	t = t.In(loc)
	return time.Date(t.Year(), t.Month(), t.Day(), t.Hour(), t.Minute(), t.Second(), 0, time.UTC)
}

// printLayout sets sheet up for printing: landscape A4 fitted to one page
// wide, the rows 1 to titleRows repeated on every page, the title in the
// header and the page numbers in the footer. With a StreamWriter it must
// be called before the writer is made.
func printLayout(f *excelize.File, sheet, title string, titleRows int) error {
	landscape, a4, one, zero, fit := "landscape", 9, 1, 0, true
	if err := f.SetSheetProps(sheet, &excelize.SheetPropsOptions{FitToPage: &fit}); err != nil {
		return err
	}
	if err := f.SetPageLayout(sheet, &excelize.PageLayoutOptions{Orientation: &landscape, Size: &a4, FitToWidth: &one, FitToHeight: &zero}); err != nil {
		return err
	}
	header := "&C&\"SimHei,Bold\"&14" + strings.ReplaceAll(title, "&", "&&")
	footer := "&L打印时间 &D &T&C第 &P 页，共 &N 页"
	if err := f.SetHeaderFooter(sheet, &excelize.HeaderFooterOptions{OddHeader: header, OddFooter: footer}); err != nil {
		return err
	}
	return f.SetDefinedName(&excelize.DefinedName{
		Name: "_xlnm.Print_Titles", Scope: sheet, RefersTo: fmt.Sprintf("'%s'!$1:$%d", sheet, titleRows),
	})
}

// runeCut shortens s to at most n characters, for a cell's text.
func runeCut(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	return string([]rune(s)[:n-1]) + "…"
}
