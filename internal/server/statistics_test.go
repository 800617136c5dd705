package server_test

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"maps"
	"math"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	spb "google.golang.org/genproto/googleapis/rpc/status"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	"github.com/mediationd/mediationd/internal/auth"
	"github.com/mediationd/mediationd/internal/casework"
	"github.com/mediationd/mediationd/internal/demo"
	"github.com/mediationd/mediationd/internal/pgtest"
	"github.com/mediationd/mediationd/internal/server"
	"github.com/mediationd/mediationd/internal/store"
	mediationv1 "github.com/mediationd/mediationd/proto/mediation/v1"
)

// statRow is a case as the database holds it, read plainly, for the test
// to count itself.
type statRow struct {
	state, outcome, region, organization, orgType, mediator, disputeType, source string
	court, intakeOrganization                                                    string
	performance, confirmation                                                    string
	accepted, overdue, groupDispute, escalation, courtReferral, orphaned         bool
	createTime                                                                   time.Time
	daysToClose                                                                  float64
	agreementFen                                                                 int64
	oralAgreement                                                                bool
	parties                                                                      int64
}

func readStatRows(t *testing.T, e *env) []statRow {
	t.Helper()
	rows, err := e.store.Pool().Query(t.Context(), `SELECT c.state, c.outcome, c.region_code, c.organization,
			COALESCE(o.type, ''), c.mediator, c.dispute_type, c.source, c.performance_status,
			COALESCE(c.confirmation->>'decision', CASE WHEN c.confirmation IS NULL OR c.confirmation = 'null' THEN NULL ELSE '' END),
			c.accept_time, c.close_time, c.overdue, c.group_dispute, c.escalation_risk, c.court_code IS NOT NULL,
			COALESCE(NOT o.active, false) OR COALESCE(NOT m.active, false), c.create_time, c.agreement,
			COALESCE(c.court_code, ''), c.intake_organization, c.parties
		FROM cases c
		LEFT JOIN organizations o ON 'organizations/' || o.id = c.organization
		LEFT JOIN mediators m ON 'mediators/' || m.id = c.mediator`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []statRow
	for rows.Next() {
		var r statRow
		var confirmation *string
		var accept, closed *time.Time
		var agreement, parties []byte
		if err := rows.Scan(&r.state, &r.outcome, &r.region, &r.organization, &r.orgType, &r.mediator, &r.disputeType,
			&r.source, &r.performance, &confirmation, &accept, &closed, &r.overdue, &r.groupDispute, &r.escalation,
			&r.courtReferral, &r.orphaned, &r.createTime, &agreement, &r.court, &r.intakeOrganization, &parties); err != nil {
			t.Fatal(err)
		}
		var ps []casework.Party
		if err := json.Unmarshal(parties, &ps); err != nil {
			t.Fatal(err)
		}
		r.parties = int64(len(ps))
		if confirmation != nil {
			r.confirmation = *confirmation
			if r.confirmation == "" {
				r.confirmation = "PENDING"
			}
		}
		r.accepted = accept != nil
		if accept != nil && closed != nil {
			r.daysToClose = closed.Sub(*accept).Hours() / 24
		}
		if len(agreement) > 0 {
			var a casework.Agreement
			if err := json.Unmarshal(agreement, &a); err != nil {
				t.Fatal(err)
			}
			r.oralAgreement = a.Form == casework.FormOral
			for _, o := range a.Obligations {
				if o.Amount == "" {
					continue
				}
				yuan, fen, _ := strings.Cut(o.Amount, ".")
				y, err1 := strconv.ParseInt(yuan, 10, 64)
				f, err2 := strconv.ParseInt((fen + "00")[:2], 10, 64)
				if err1 != nil || err2 != nil {
					t.Fatalf("amount %q", o.Amount)
				}
				r.agreementFen += 100*y + f
			}
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// expectFigures counts rows as CaseFigures documents it.
func expectFigures(rows []statRow) *mediationv1.CaseFigures {
	f := &mediationv1.CaseFigures{}
	byState := map[string]int64{}
	var fen int64
	var closedAccepted int64
	var days float64
	for _, r := range rows {
		f.Cases++
		byState[r.state]++
		open := r.state != "CLOSED"
		inMediation := r.state == "ASSIGNED" || r.state == "MEDIATING"
		succeeded := r.accepted && (r.state == "AGREED" || r.outcome == "AGREEMENT")
		count := func(n *int64, yes bool) {
			if yes {
				*n++
			}
		}
		count(&f.Open, open)
		count(&f.Overdue, r.overdue && (r.state == "ACCEPTED" || inMediation))
		count(&f.NeedsReassignment, inMediation && r.orphaned)
		count(&f.Accepted, r.accepted)
		count(&f.Succeeded, succeeded)
		count(&f.Failed, r.outcome == "FAILED")
		count(&f.WithdrawnAfterAcceptance, r.outcome == "WITHDRAWN" && r.accepted)
		count(&f.WithdrawnBeforeAcceptance, r.outcome == "WITHDRAWN" && !r.accepted)
		count(&f.Rejected, r.outcome == "REJECTED")
		count(&f.ConfirmationRequested, r.confirmation != "")
		count(&f.ConfirmationConfirmed, r.confirmation == "CONFIRMED")
		count(&f.ConfirmationRefused, r.confirmation == "REFUSED")
		count(&f.Performed, r.performance == "PERFORMED")
		count(&f.PartlyPerformed, r.performance == "PARTLY_PERFORMED")
		count(&f.NotPerformed, r.performance == "NOT_PERFORMED")
		count(&f.GroupDisputes, r.groupDispute)
		count(&f.EscalationRisks, r.escalation)
		count(&f.CourtReferrals, r.courtReferral)
		if succeeded {
			fen += r.agreementFen
			count(&f.OralAgreements, r.oralAgreement)
			count(&f.WrittenAgreements, !r.oralAgreement)
			if r.escalation {
				f.EscalationPrevented++
				f.EscalationPreventedPeople += r.parties
			}
			if r.groupDispute {
				f.PetitionPrevented++
				f.PetitionPreventedPeople += r.parties
			}
		}
		if r.state == "CLOSED" && r.accepted {
			closedAccepted++
			days += r.daysToClose
		}
	}
	for _, s := range casework.States {
		f.States = append(f.States, &mediationv1.CaseStateCount{State: mediationv1.CaseState(mediationv1.CaseState_value["CASE_STATE_"+string(s)]), Count: byState[string(s)]})
	}
	f.Concluded = f.Succeeded + f.Failed + f.WithdrawnAfterAcceptance
	rate := func(n, d int64) float64 {
		if d == 0 {
			return 0
		}
		return float64(n) / float64(d)
	}
	f.SuccessRate = rate(f.Succeeded, f.Concluded)
	f.SuccessRateOfAccepted = rate(f.Succeeded, f.Accepted)
	f.PerformanceRate = rate(f.Performed, f.Performed+f.PartlyPerformed+f.NotPerformed)
	f.AgreementAmount = fmt.Sprintf("%d.%02d", fen/100, fen%100)
	if closedAccepted > 0 {
		f.MeanDaysToClose = days / float64(closedAccepted)
	}
	return f
}

// sameFigures compares figures, the mean duration to a millionth of a day.
func sameFigures(t *testing.T, what string, got, want *mediationv1.CaseFigures) {
	t.Helper()
	if math.Abs(got.GetMeanDaysToClose()-want.GetMeanDaysToClose()) > 1e-6 {
		t.Errorf("%s: mean days to close %v, want %v", what, got.GetMeanDaysToClose(), want.GetMeanDaysToClose())
	}
	g, w := proto.CloneOf(got), proto.CloneOf(want)
	g.MeanDaysToClose, w.MeanDaysToClose = 0, 0
	if !proto.Equal(g, w) {
		t.Errorf("%s:\n got %v\nwant %v", what, g, w)
	}
}

func statistics(t *testing.T, ctx context.Context, e *env, req *mediationv1.GetCaseStatisticsRequest) *mediationv1.GetCaseStatisticsResponse {
	t.Helper()
	resp, err := e.cases.GetCaseStatistics(ctx, req)
	if err != nil {
		t.Fatalf("GetCaseStatistics(%v): %v", req, err)
	}
	return resp
}

// TestCaseStatistics loads a demo data set, then checks the statistics
// against what the test counts itself from the cases as stored and against
// what the demo generator planned: totals, every grouping, a filter, the
// scopes of a supervisor, a mediator and a court, and the refusals.
func TestCaseStatistics(t *testing.T) {
	ctx := t.Context()
	p := demo.Generate(11, 300, time.Date(2026, 3, 18, 15, 4, 5, 0, time.UTC))
	clk := &clock{t: time.Now()}
	e := startWith(t, pgtest.NewDatabase(t), func(c *server.Config) {
		c.OverdueInterval = -1
		c.Clock = clk.now
		c.Location = p.Location // Asia/Shanghai
	})
	if _, err := demo.Load(ctx, e.store, p, nil); err != nil {
		t.Fatal(err)
	}
	// A deactivated mediator leaves open cases needing reassignment.
	var orphanedMediator string
	for _, c := range p.Cases {
		if c.State == casework.StateMediating {
			orphanedMediator = c.Mediator
			break
		}
	}
	if _, err := mediationv1.NewDirectoryServiceClient(e.conn).DeactivateMediator(ctx, &mediationv1.DeactivateMediatorRequest{Name: orphanedMediator}); err != nil {
		t.Fatal(err)
	}
	rows := readStatRows(t, e)
	all := expectFigures(rows)
	if all.NeedsReassignment == 0 || all.ConfirmationRequested == 0 || all.Performed == 0 || all.AgreementAmount == "0.00" {
		t.Fatalf("the data set lacks variety: %v", all)
	}

	// The totals, as counted here and as the generator planned them.
	got := statistics(t, ctx, e, &mediationv1.GetCaseStatisticsRequest{})
	sameFigures(t, "totals", got.GetTotal(), all)
	if len(got.GetGroups()) != 0 {
		t.Errorf("%d groups without group_by", len(got.GetGroups()))
	}
	r := p.Report()
	tot := got.GetTotal()
	for _, c := range []struct {
		what      string
		got, want int64
	}{
		{"cases", tot.GetCases(), int64(r.Cases)},
		{"accepted", tot.GetAccepted(), int64(r.Accepted)},
		{"succeeded", tot.GetSucceeded(), int64(r.Succeeded)},
		{"failed", tot.GetFailed(), int64(r.Failed)},
		{"withdrawn after acceptance", tot.GetWithdrawnAfterAcceptance(), int64(r.WithdrawnAfterAcceptance)},
		{"withdrawn", tot.GetWithdrawnAfterAcceptance() + tot.GetWithdrawnBeforeAcceptance(), int64(r.ByOutcome[casework.OutcomeWithdrawn])},
		{"rejected", tot.GetRejected(), int64(r.ByOutcome[casework.OutcomeRejected])},
		{"concluded", tot.GetConcluded(), int64(r.Concluded)},
		{"overdue", tot.GetOverdue(), int64(r.Overdue)},
		{"group disputes", tot.GetGroupDisputes(), int64(r.GroupDisputes)},
		{"confirmations", tot.GetConfirmationRequested(), int64(r.Confirmations)},
	} {
		if c.got != c.want {
			t.Errorf("%s: %d, the generator planned %d", c.what, c.got, c.want)
		}
	}
	if tot.GetSuccessRate() != r.SuccessRate {
		t.Errorf("success rate %v, the generator planned %v", tot.GetSuccessRate(), r.SuccessRate)
	}

	// Every grouping: each group as counted here, named, and adding up to
	// the totals.
	names := map[string]string{}
	for _, o := range p.Organizations {
		names[o.Name()] = o.DisplayName
	}
	for _, m := range p.Mediators {
		names[m.Name()] = m.DisplayName
	}
	groupings := []struct {
		by   mediationv1.StatisticsGrouping
		key  func(statRow) string
		name func(key string) string
	}{
		{mediationv1.StatisticsGrouping_STATISTICS_GROUPING_REGION, func(r statRow) string { return r.region }, nil},
		{mediationv1.StatisticsGrouping_STATISTICS_GROUPING_ORGANIZATION, func(r statRow) string { return r.organization },
			func(k string) string { return names[k] }},
		{mediationv1.StatisticsGrouping_STATISTICS_GROUPING_ORGANIZATION_TYPE, func(r statRow) string {
			if r.orgType == "" {
				return ""
			}
			return "ORGANIZATION_TYPE_" + r.orgType
		}, func(k string) string {
			return casework.OrganizationType(strings.TrimPrefix(k, "ORGANIZATION_TYPE_")).DisplayName()
		}},
		{mediationv1.StatisticsGrouping_STATISTICS_GROUPING_MEDIATOR, func(r statRow) string { return r.mediator },
			func(k string) string { return names[k] }},
		{mediationv1.StatisticsGrouping_STATISTICS_GROUPING_DISPUTE_TYPE, func(r statRow) string { return "DISPUTE_TYPE_" + r.disputeType },
			func(k string) string {
				return casework.DisputeType(strings.TrimPrefix(k, "DISPUTE_TYPE_")).DisplayName()
			}},
		{mediationv1.StatisticsGrouping_STATISTICS_GROUPING_SOURCE, func(r statRow) string { return "CASE_SOURCE_" + r.source },
			func(k string) string { return casework.Source(strings.TrimPrefix(k, "CASE_SOURCE_")).DisplayName() }},
		{mediationv1.StatisticsGrouping_STATISTICS_GROUPING_CREATE_MONTH, func(r statRow) string { return r.createTime.In(p.Location).Format("2006-01") },
			func(k string) string { return k }},
	}
	for _, g := range groupings {
		t.Run(g.by.String(), func(t *testing.T) {
			resp := statistics(t, ctx, e, &mediationv1.GetCaseStatisticsRequest{GroupBy: g.by})
			sameFigures(t, "totals", resp.GetTotal(), all)
			byKey := map[string][]statRow{}
			for _, r := range rows {
				byKey[g.key(r)] = append(byKey[g.key(r)], r)
			}
			keys := slices.Sorted(func(yield func(string) bool) {
				for k := range byKey {
					if !yield(k) {
						return
					}
				}
			})
			var gotKeys []string
			for _, grp := range resp.GetGroups() {
				gotKeys = append(gotKeys, grp.GetKey())
				sameFigures(t, "group "+grp.GetKey(), grp.GetFigures(), expectFigures(byKey[grp.GetKey()]))
				want := "未分派"
				switch {
				case grp.GetKey() != "" && g.name != nil:
					want = g.name(grp.GetKey())
				case grp.GetKey() != "":
					want = grp.GetDisplayName() // regions: checked below
				}
				if grp.GetDisplayName() != want || want == "" {
					t.Errorf("group %q is named %q, want %q", grp.GetKey(), grp.GetDisplayName(), want)
				}
			}
			if !slices.Equal(gotKeys, keys) {
				t.Errorf("group keys %q, want %q", gotKeys, keys)
			}
		})
	}
	byRegion := statistics(t, ctx, e, &mediationv1.GetCaseStatisticsRequest{GroupBy: mediationv1.StatisticsGrouping_STATISTICS_GROUPING_REGION})
	regionNames := map[string]string{}
	for _, g := range byRegion.GetGroups() {
		regionNames[g.GetKey()] = g.GetDisplayName()
		if want := int64(r.ByCounty[g.GetKey()]); g.GetFigures().GetCases() != want {
			t.Errorf("region %s: %d cases, the generator planned %d", g.GetKey(), g.GetFigures().GetCases(), want)
		}
	}
	if regionNames["621002"] != "西峰区" || regionNames["621021"] != "庆城县" {
		t.Errorf("region names %v", regionNames)
	}

	// A filter, the same over REST.
	filter := `dispute_type = MARRIAGE_FAMILY AND region_code = "621002"`
	filtered := statistics(t, ctx, e, &mediationv1.GetCaseStatisticsRequest{Filter: filter, GroupBy: mediationv1.StatisticsGrouping_STATISTICS_GROUPING_MEDIATOR})
	var marriage []statRow
	for _, r := range rows {
		if r.disputeType == "MARRIAGE_FAMILY" && r.region == "621002" {
			marriage = append(marriage, r)
		}
	}
	if len(marriage) == 0 {
		t.Fatal("no 婚姻家庭 dispute in 西峰区")
	}
	sameFigures(t, "filtered", filtered.GetTotal(), expectFigures(marriage))
	var rest mediationv1.GetCaseStatisticsResponse
	res := restClient{e}.do(t, "GET", "/v1/caseStatistics?"+url.Values{"filter": {filter}, "groupBy": {"STATISTICS_GROUPING_MEDIATOR"}}.Encode(), nil, &rest)
	if res.st != nil {
		t.Fatalf("REST: %d %v", res.httpStatus, res.st)
	}
	rest.ComputeTime, filtered.ComputeTime = nil, nil
	if !proto.Equal(&rest, filtered) {
		t.Errorf("REST answered\n%v\ngRPC\n%v", &rest, filtered)
	}
	none := statistics(t, ctx, e, &mediationv1.GetCaseStatisticsRequest{Filter: `case_number = "no such case"`, GroupBy: mediationv1.StatisticsGrouping_STATISTICS_GROUPING_REGION})
	sameFigures(t, "nothing matched", none.GetTotal(), expectFigures(nil))
	if len(none.GetGroups()) != 0 {
		t.Errorf("nothing matched, yet %d groups", len(none.GetGroups()))
	}

	// Scopes: a county's supervisor counts the county's cases; a mediator
	// and a court count what they can list.
	supervisor := e.signIn(t, store.User{Username: "stat-supervisor", DisplayName: "庆城县司法局", Role: auth.RoleSupervisor, RegionCode: "621021"})
	var county []statRow
	for _, r := range rows {
		if strings.HasPrefix(r.region, "621021") {
			county = append(county, r)
		}
	}
	sameFigures(t, "supervisor of 621021", statistics(t, as(ctx, supervisor), e, &mediationv1.GetCaseStatisticsRequest{}).GetTotal(), expectFigures(county))
	mediatorOrg := map[string]string{}
	for _, m := range p.Mediators {
		mediatorOrg[m.ID] = "organizations/" + m.OrganizationID
	}
	var mediatorID string
	for _, c := range p.Cases {
		if c.Mediator != "" && c.Mediator != orphanedMediator {
			mediatorID = strings.TrimPrefix(c.Mediator, "mediators/")
			break
		}
	}
	for _, u := range []store.User{
		{Username: "stat-mediator", DisplayName: "调解员", Role: auth.RoleMediator, MediatorID: mediatorID},
		{Username: "stat-court", DisplayName: "西峰区人民法院", Role: auth.RoleCourtDesk, CourtCode: "甘1002"},
	} {
		token := e.signIn(t, u)
		var listed int64
		for page := ""; ; {
			resp, err := e.cases.ListCases(as(ctx, token), &mediationv1.ListCasesRequest{PageSize: 1000, PageToken: page})
			if err != nil {
				t.Fatal(err)
			}
			listed += int64(len(resp.GetCases()))
			if page = resp.GetNextPageToken(); page == "" {
				break
			}
		}
		got := statistics(t, as(ctx, token), e, &mediationv1.GetCaseStatisticsRequest{}).GetTotal()
		if got.GetCases() != listed || listed == 0 || listed == all.GetCases() {
			t.Errorf("%s counts %d cases and lists %d of %d", u.Username, got.GetCases(), listed, all.GetCases())
		}
		var mine []statRow
		for _, r := range rows {
			switch {
			case u.Role == auth.RoleCourtDesk && r.court == u.CourtCode,
				u.Role == auth.RoleMediator && (r.mediator == "mediators/"+u.MediatorID || r.organization == "" && r.intakeOrganization == mediatorOrg[u.MediatorID]):
				mine = append(mine, r)
			}
		}
		sameFigures(t, u.Username, got, expectFigures(mine))
	}

	// The spreadsheet: a row per group and the totals, the figures of
	// GetCaseStatistics; refusals in JSON as over REST.
	resp, body := httpGet(t, e, "/v1/caseStatistics.csv?groupBy=STATISTICS_GROUPING_REGION", nil)
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "text/csv; charset=utf-8" ||
		!regexp.MustCompile(`^attachment; filename="case-statistics-[0-9]{8}-[0-9]{4}\.csv"; filename\*=UTF-8''%E6%A1%88%E4%BB%B6%E7%BB%9F%E8%AE%A1-[0-9]{8}-[0-9]{4}\.csv$`).MatchString(resp.Header.Get("Content-Disposition")) {
		t.Fatalf("caseStatistics.csv: %d %v %s", resp.StatusCode, resp.Header, body)
	}
	text, bom := strings.CutPrefix(string(body), "\ufeff")
	records, err := csv.NewReader(strings.NewReader(text)).ReadAll()
	if err != nil || !bom {
		t.Fatalf("caseStatistics.csv is not CSV with a byte-order mark (%v):\n%s", err, body)
	}
	if len(records) != len(byRegion.GetGroups())+2 {
		t.Fatalf("caseStatistics.csv has %d rows, want a heading, %d regions and the totals", len(records), len(byRegion.GetGroups()))
	}
	column := map[string]int{}
	for i, h := range records[0] {
		column[h] = i
	}
	for i, g := range append(byRegion.GetGroups(), &mediationv1.CaseStatisticsGroup{DisplayName: "合计", Figures: byRegion.GetTotal()}) {
		rec, f := records[i+1], g.GetFigures()
		for _, c := range []struct{ heading, want string }{
			{"分组 key", g.GetKey()},
			{"名称 name", g.GetDisplayName()},
			{"案件数 cases", strconv.FormatInt(f.GetCases(), 10)},
			{"调解中 MEDIATING", strconv.FormatInt(f.GetStates()[3].GetCount(), 10)},
			{"超期 overdue", strconv.FormatInt(f.GetOverdue(), 10)},
			{"调解成功数 succeeded", strconv.FormatInt(f.GetSucceeded(), 10)},
			{"成功率(调解成功/调解终结) success_rate", strconv.FormatFloat(f.GetSuccessRate(), 'f', 4, 64)},
			{"协议涉及金额(元) agreement_amount", f.GetAgreementAmount()},
			{"法院委派委托 court_referrals", strconv.FormatInt(f.GetCourtReferrals(), 10)},
		} {
			j, ok := column[c.heading]
			if !ok || rec[j] != c.want {
				t.Errorf("caseStatistics.csv row %d, %s: %q, want %q", i+1, c.heading, rec[min(j, len(rec)-1)], c.want)
			}
		}
	}
	for _, c := range []struct {
		query  string
		status int
		field  string
	}{
		{"filter=" + url.QueryEscape(`phone = "1"`), 400, "filter"},
		{"groupBy=STATISTICS_GROUPING_PARTY", 400, "group_by"},
		{"pageSize=10", 400, ""},
		{"filter=%ZZ", 400, ""},
		{"filter=a&filter=b", 400, "filter"},
		{"groupBy=1&group_by=1", 400, "group_by"},
		{"groupBy=42", 400, "group_by"},
	} {
		resp, body := httpGet(t, e, "/v1/caseStatistics.csv?"+c.query, nil)
		var st spb.Status
		if err := protojson.Unmarshal(body, &st); resp.StatusCode != c.status || err != nil {
			t.Errorf("caseStatistics.csv?%s: %d %s, want %d with a status", c.query, resp.StatusCode, body, c.status)
			continue
		}
		if got := fieldViolations(result{st: status.FromProto(&st)}); c.field != "" && !slices.Equal(got, []string{c.field}) {
			t.Errorf("caseStatistics.csv?%s: field violations %v, want %s", c.query, got, c.field)
		}
	}
	if resp, numeric := httpGet(t, e, "/v1/caseStatistics.csv?groupBy=1", nil); resp.StatusCode != 200 || string(numeric) != string(body) {
		t.Errorf("caseStatistics.csv?groupBy=1 (REGION by number): %d, and not the same sheet", resp.StatusCode)
	}
	anonymous := &http.Client{Timeout: 10 * time.Second}
	if resp, err := anonymous.Get(e.baseURL + "/v1/caseStatistics.csv"); err != nil || resp.StatusCode != 401 {
		t.Errorf("caseStatistics.csv without a token: %v %v, want 401", resp, err)
	} else {
		resp.Body.Close()
	}

	// Months are the service's: a case registered at 02:30 on 1 March in
	// Shanghai, still February in UTC, counts in March.
	clk.set(time.Date(2026, 2, 28, 18, 30, 0, 0, time.UTC))
	if _, err := e.cases.CreateCase(ctx, &mediationv1.CreateCaseRequest{Case: newCase("三月一日凌晨登记的纠纷")}); err != nil {
		t.Fatal(err)
	}
	clk.set(time.Now())
	months := map[string]int64{}
	for _, r := range readStatRows(t, e) {
		months[r.createTime.In(p.Location).Format("2006-01")]++
	}
	byMonth := statistics(t, ctx, e, &mediationv1.GetCaseStatisticsRequest{GroupBy: mediationv1.StatisticsGrouping_STATISTICS_GROUPING_CREATE_MONTH})
	gotMonths := map[string]int64{}
	for _, g := range byMonth.GetGroups() {
		gotMonths[g.GetKey()] = g.GetFigures().GetCases()
	}
	if !maps.Equal(gotMonths, months) || months["2026-03"] == 0 {
		t.Errorf("cases by month %v, want %v", gotMonths, months)
	}

	// Refusals, over gRPC and REST.
	for _, c := range []struct {
		req   *mediationv1.GetCaseStatisticsRequest
		query string
		field string
	}{
		{&mediationv1.GetCaseStatisticsRequest{Filter: `phone = "13800000000"`}, "filter=" + url.QueryEscape(`phone = "13800000000"`), "filter"},
		{&mediationv1.GetCaseStatisticsRequest{Filter: `state = `}, "filter=" + url.QueryEscape(`state = `), "filter"},
		{&mediationv1.GetCaseStatisticsRequest{GroupBy: 42}, "groupBy=42", "group_by"},
	} {
		_, err := e.cases.GetCaseStatistics(ctx, c.req)
		got := result{st: status.Convert(err)}
		if err == nil || got.code() != codes.InvalidArgument || !slices.Equal(fieldViolations(got), []string{c.field}) {
			t.Errorf("GetCaseStatistics(%v): %v, want INVALID_ARGUMENT naming %s", c.req, err, c.field)
		}
		res := restClient{e}.do(t, "GET", "/v1/caseStatistics?"+c.query, nil, &mediationv1.GetCaseStatisticsResponse{})
		if res.httpStatus != 400 || !slices.Equal(fieldViolations(res), []string{c.field}) {
			t.Errorf("GET /v1/caseStatistics?%s: HTTP %d %v, want 400 naming %s", c.query, res.httpStatus, res.st, c.field)
		}
	}
}
