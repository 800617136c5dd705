package store

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/mediationd/mediationd/internal/aipfilter"
	"github.com/mediationd/mediationd/internal/casework"
	"github.com/mediationd/mediationd/internal/identity"
)

// Grouping is what CaseStatistics groups the cases by.
type Grouping string

// The groupings; GroupNone gives the totals only.
const (
	GroupNone             Grouping = ""
	GroupRegion           Grouping = "region"
	GroupOrganization     Grouping = "organization"
	GroupOrganizationType Grouping = "organization_type"
	GroupMediator         Grouping = "mediator"
	GroupDisputeType      Grouping = "dispute_type"
	GroupSource           Grouping = "source"
	GroupCreateMonth      Grouping = "create_month"
)

// StatisticsParams select the cases CaseStatistics counts.
type StatisticsParams struct {
	Filter string // AIP-160, the fields of ListCases
	// Spelling maps the caller's names of enum values to the stored ones;
	// nil takes the stored names only.
	Spelling aipfilter.Spelling
	GroupBy  Grouping
	// Scope limits the cases to those the caller may see; nil is every
	// case.
	Scope *identity.CaseScope
	// TimeZone is the IANA name of the zone GroupCreateMonth reads months
	// in; empty is UTC.
	TimeZone string
}

// Figures count a set of cases. The definitions are those of the API's
// CaseFigures.
type Figures struct {
	Cases                     int64
	ByState                   map[casework.State]int64
	Open                      int64
	Overdue                   int64
	NeedsReassignment         int64
	Accepted                  int64
	Succeeded                 int64
	Failed                    int64
	WithdrawnAfterAcceptance  int64
	WithdrawnBeforeAcceptance int64
	Rejected                  int64
	// MeanDaysToClose is the mean time from acceptance to closing in days,
	// over the closed accepted cases; 0 without any.
	MeanDaysToClose float64
	// AgreementAmount is the sum of the agreements' obligations in yuan,
	// with two decimals.
	AgreementAmount       string
	ConfirmationRequested int64
	ConfirmationConfirmed int64
	ConfirmationRefused   int64
	Performed             int64
	PartlyPerformed       int64
	NotPerformed          int64
	GroupDisputes         int64
	EscalationRisks       int64
	CourtReferrals        int64
	// Of the succeeded cases: oral and written agreements, and those
	// flagged at risk of escalation (防止民转刑) or 群体性 (防止群体性上访)
	// with the number of their parties.
	OralAgreements            int64
	WrittenAgreements         int64
	EscalationPrevented       int64
	EscalationPreventedPeople int64
	PetitionPrevented         int64
	PetitionPreventedPeople   int64
}

// Concluded counts the accepted cases whose mediation has ended.
func (f Figures) Concluded() int64 { return f.Succeeded + f.Failed + f.WithdrawnAfterAcceptance }

// SuccessRate is Succeeded / Concluded, 0 without concluded cases.
func (f Figures) SuccessRate() float64 { return ratio(f.Succeeded, f.Concluded()) }

// SuccessRateOfAccepted is Succeeded / Accepted, 0 without accepted cases.
func (f Figures) SuccessRateOfAccepted() float64 { return ratio(f.Succeeded, f.Accepted) }

// PerformanceRate is Performed over the agreements whose performance was
// checked, 0 without any.
func (f Figures) PerformanceRate() float64 {
	return ratio(f.Performed, f.Performed+f.PartlyPerformed+f.NotPerformed)
}

func ratio(n, d int64) float64 {
	if d == 0 {
		return 0
	}
	return float64(n) / float64(d)
}

// StatisticsGroup is the figures of the cases sharing a key.
type StatisticsGroup struct {
	Key string
	// Name is the key's display name where the directory holds it (region,
	// organization, mediator), else empty.
	Name string
	Figures
}

// Statistics is what CaseStatistics returns: the totals, and the groups
// ordered by key.
type Statistics struct {
	Total  Figures
	Groups []StatisticsGroup
}

// groupKey is the SQL of a grouping's key over a row r with the tally
// dimensions (a tally, a delta, or a case's own tally row), and over a case
// c; {zone} stands for the parameter of the time zone the months are read in.
var groupKey = map[Grouping][2]string{
	GroupNone:             {"''", "''"},
	GroupRegion:           {"r.region_code", "c.region_code"},
	GroupOrganization:     {"r.organization", "c.organization"},
	GroupOrganizationType: {"COALESCE(ko.type, '')", "COALESCE(ko.type, '')"},
	GroupMediator:         {"r.mediator", "c.mediator"},
	GroupDisputeType:      {"r.dispute_type", "c.dispute_type"},
	GroupSource:           {"r.source", "c.source"},
	GroupCreateMonth:      {"to_char(r.create_month AT TIME ZONE {zone}, 'YYYY-MM')", "to_char(c.create_time AT TIME ZONE {zone}, 'YYYY-MM')"},
}

// groupJoin joins what a grouping's key needs to the rows r or the case c
// (%s), as a join rather than a look-up per row.
var groupJoin = map[Grouping]string{
	GroupOrganizationType: "LEFT JOIN organizations ko ON ko.id = substr(%s.organization, 15)",
}

// groupNames is the SQL of the display name of a group's key g.key, where the
// directory holds it; the others are named by the caller.
var groupNames = map[Grouping]string{
	GroupRegion:       "(SELECT r.display_name FROM regions r WHERE r.code = g.key)",
	GroupOrganization: "(SELECT o.display_name FROM organizations o WHERE o.id = substr(g.key, 15))",
	GroupMediator:     "(SELECT m.display_name FROM mediators m WHERE m.id = substr(g.key, 11))",
}

// tallyFigures are the summed columns of the tally tables (migration
// 0011), in the order figureColumns reads them.
const tallyFigures = `cases, state_intake, state_accepted, state_assigned, state_mediating, state_agreed, state_closed,
	overdue, accepted, succeeded, failed, withdrawn_after, withdrawn_before, rejected, closed_accepted,
	close_seconds, amount, confirmation_requested, confirmation_confirmed, confirmation_refused,
	performed, partly_performed, not_performed, group_disputes, escalation_risks, court_referrals,
	oral_agreements, written_agreements, escalation_prevented, escalation_prevented_people,
	petition_prevented, petition_prevented_people`

// tallySums sums tallyFigures under their own names (0 over no rows).
var tallySums = func() string {
	var sums []string
	for f := range strings.SplitSeq(tallyFigures, ",") {
		f = strings.TrimSpace(f)
		sums = append(sums, fmt.Sprintf("COALESCE(sum(%s), 0) AS %s", f, f))
	}
	return strings.Join(sums, ", ")
}()

// tallyDimensions are the dimension columns of the tally tables.
const tallyDimensions = `region_code, create_month, organization, mediator, dispute_type, source`

// figureColumns read the figures of a group g (sums of tallyFigures) and
// the count of its cases needing reassignment n, in the order scanFigures
// reads them.
const figureColumns = `g.cases, g.state_intake, g.state_accepted, g.state_assigned, g.state_mediating, g.state_agreed, g.state_closed,
	g.overdue, COALESCE(n.needs_reassignment, 0), g.accepted, g.succeeded, g.failed,
	g.withdrawn_after, g.withdrawn_before, g.rejected,
	COALESCE(g.close_seconds / NULLIF(g.closed_accepted, 0) / 86400, 0)::float8,
	round(g.amount, 2)::text,
	g.confirmation_requested, g.confirmation_confirmed, g.confirmation_refused,
	g.performed, g.partly_performed, g.not_performed,
	g.group_disputes, g.escalation_risks, g.court_referrals,
	g.oral_agreements, g.written_agreements, g.escalation_prevented, g.escalation_prevented_people,
	g.petition_prevented, g.petition_prevented_people`

// tallyFilter is what the tallies can answer of ListCases' filter: the
// tally dimensions, create_time by whole months of the tally zone (see
// tallySource), under the same names and checks as caseFilter's.
var tallyFilter = aipfilter.Schema{
	"region_code":  {Column: "r.region_code", Type: aipfilter.Prefix},
	"organization": {Column: "r.organization", Type: aipfilter.String, Validate: namePattern("organizations")},
	"mediator":     {Column: "r.mediator", Type: aipfilter.String, Validate: namePattern("mediators")},
	"dispute_type": enumField("r.dispute_type", casework.DisputeTypes),
	"source":       enumField("r.source", casework.Sources),
	"create_time":  {Column: "r.create_month", Type: aipfilter.Timestamp},
}

// rollupDims are the dimensions of case_tally_rollups other than region
// and month, by the filter field or grouping that needs them.
var rollupDims = map[string]string{
	"organization": "organization",
	"mediator":     "mediator",
	"dispute_type": "dispute_type",
	"source":       "source",
}

// groupingDim is the tally dimension a grouping needs beyond region and
// month, "" for none.
var groupingDim = map[Grouping]string{
	GroupOrganization:     "organization",
	GroupOrganizationType: "organization",
	GroupMediator:         "mediator",
	GroupDisputeType:      "dispute_type",
	GroupSource:           "source",
}

// tallySource says which summary table answers p: "case_tally_rollups"
// with the one dimension dim it needs, "case_tallies" when it needs more
// than one, or "" when the summaries cannot answer it exactly (a filter on
// another field, create_time not at month starts of the tally zone, a
// scope other than a region, months of another zone).
func tallySource(p StatisticsParams, tallyZone *time.Location, requestZone string) (table, dim string) {
	if p.Scope != nil && !p.Scope.All && p.Scope.RegionPrefix == "" {
		return "", ""
	}
	sameZone := requestZone == tallyZone.String()
	if p.GroupBy == GroupCreateMonth && !sameZone {
		return "", ""
	}
	cmps, err := aipfilter.Comparisons(p.Filter)
	if err != nil {
		return "", ""
	}
	dims := map[string]bool{}
	if d := groupingDim[p.GroupBy]; d != "" {
		dims[d] = true
	}
	for _, c := range cmps {
		if _, ok := tallyFilter[c.Field]; !ok {
			return "", ""
		}
		if d, ok := rollupDims[c.Field]; ok {
			dims[d] = true
		}
		if c.Field == "create_time" {
			// A case created in month m is at or after m's start and before
			// the next month's: ">=" and "<" a month start give the same
			// cases whether compared with the create time or its month.
			t, err := time.Parse(time.RFC3339, c.Value)
			if err != nil || !sameZone || (c.Op != ">=" && c.Op != "<") {
				return "", ""
			}
			lt := t.In(tallyZone)
			if !lt.Equal(time.Date(lt.Year(), lt.Month(), 1, 0, 0, 0, 0, tallyZone)) {
				return "", ""
			}
		}
	}
	switch len(dims) {
	case 0:
		return "case_tally_rollups", ""
	case 1:
		for d := range dims {
			return "case_tally_rollups", d
		}
	}
	return "case_tallies", ""
}

// ErrStatisticsTooSlow is a statistics query the summaries cannot answer
// that ran longer than StatementTimeout counting the cases one by one.
var ErrStatisticsTooSlow = fmt.Errorf("statistics: %w", ErrTooSlow)

// CaseStatistics counts the cases that match the filter within the scope,
// in total and grouped, in one statement: the figures are of one snapshot.
// It sums the summary tables and the deltas not folded into them yet when
// they can answer (tallySource), else counts the matching cases.
func (s *Store) CaseStatistics(ctx context.Context, p StatisticsParams) (Statistics, error) {
	keys, ok := groupKey[p.GroupBy]
	if !ok {
		return Statistics{}, &casework.FieldError{Field: "group_by", Message: fmt.Sprintf("%q is not a grouping", p.GroupBy)}
	}
	zone := p.TimeZone
	if zone == "" {
		zone = "UTC"
	}
	// The filter is checked against the cases' schema first: its errors
	// are the same whichever way the figures are counted.
	caseWhere, args, err := caseCondition(p.Filter, p.Spelling, p.Scope)
	if err != nil {
		return Statistics{}, err
	}
	tallyZone, err := s.tallyZone(ctx)
	if err != nil {
		return Statistics{}, err
	}
	table, dim := tallySource(p, tallyZone, zone)
	var rows string
	if table != "" {
		where, targs, err := aipfilter.CompileSpelled(p.Filter, tallyFilter, len(args)+1, p.Spelling)
		if err != nil {
			return Statistics{}, err
		}
		args = append(args, targs...)
		if p.Scope != nil && p.Scope.RegionPrefix != "" {
			args = append(args, p.Scope.RegionPrefix+"%")
			where = fmt.Sprintf("%s AND r.region_code LIKE $%d", where, len(args))
		}
		summary := "case_tallies r WHERE " + where
		if table == "case_tally_rollups" {
			args = append(args, dim)
			summary = fmt.Sprintf("case_tally_rollups r WHERE r.dim = $%d AND %s", len(args), where)
		}
		rows = fmt.Sprintf(`SELECT %[1]s, %[2]s FROM %[3]s
			UNION ALL SELECT %[1]s, %[2]s FROM case_tally_deltas r WHERE %[4]s`, tallyDimensions, tallyFigures, summary, where)
	}
	// The zone's parameter comes last, and only where it is used: an
	// unused parameter would have no type.
	zoneParam := fmt.Sprintf("$%d::text", len(args)+1)
	if table == "" || p.GroupBy == GroupCreateMonth {
		args = append(args, zone)
	}
	if table == "" {
		rows = fmt.Sprintf(`SELECT t.* FROM cases c, case_tally_of(c, 1, %s) t WHERE %s`, zoneParam, caseWhere)
	}
	joinTo := func(alias string) string {
		if j, ok := groupJoin[p.GroupBy]; ok {
			return fmt.Sprintf(j, alias)
		}
		return ""
	}
	name := "NULL::text"
	if n, ok := groupNames[p.GroupBy]; ok {
		name = n
	}
	sql := fmt.Sprintf(`WITH g AS (
		SELECT GROUPING(k) = 1 AS total, COALESCE(k, '') AS key, %[1]s
		FROM (SELECT %[2]s AS k, r.* FROM (%[3]s) r %[8]s) x
		GROUP BY GROUPING SETS ((k), ())
	), n AS (
		SELECT GROUPING(k) = 1 AS total, COALESCE(k, '') AS key, count(*) AS needs_reassignment
		FROM (SELECT %[4]s AS k FROM cases c %[9]s
			WHERE c.state IN ('ASSIGNED', 'MEDIATING')
			AND (c.mediator = ANY (ARRAY(SELECT 'mediators/' || m.id FROM mediators m WHERE NOT m.active))
				OR c.organization = ANY (ARRAY(SELECT 'organizations/' || o.id FROM organizations o WHERE NOT o.active)))
			AND %[5]s) x
		GROUP BY GROUPING SETS ((k), ())
	)
	SELECT g.total, g.key, %[6]s, %[7]s
	FROM g LEFT JOIN n ON n.total = g.total AND n.key = g.key
	WHERE g.total OR g.cases <> 0
	ORDER BY g.total DESC, g.key COLLATE "C"`,
		tallySums, strings.ReplaceAll(keys[0], "{zone}", zoneParam), rows, strings.ReplaceAll(keys[1], "{zone}", zoneParam), caseWhere, figureColumns, name, joinTo("r"), joinTo("c"))
	st, err := s.readStatistics(ctx, s.pool, p.GroupBy, sql, args)
	if tooSlow(ctx, err) {
		return Statistics{}, ErrStatisticsTooSlow
	}
	return st, err
}

type querier interface {
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
}

func (s *Store) readStatistics(ctx context.Context, q querier, grouping Grouping, sql string, args []any) (Statistics, error) {
	rows, err := q.Query(ctx, sql, append([]any{pgx.QueryExecModeCacheDescribe}, args...)...)
	if err != nil {
		return Statistics{}, fmt.Errorf("case statistics: %w", err)
	}
	defer rows.Close()
	var out Statistics
	for rows.Next() {
		var total bool
		var g StatisticsGroup
		var name *string
		f := &g.Figures
		f.ByState = map[casework.State]int64{}
		var byState [6]int64
		if err := rows.Scan(append(append([]any{&total, &g.Key}, f.targets(&byState)...), &name)...); err != nil {
			return Statistics{}, fmt.Errorf("case statistics: %w", err)
		}
		for i, st := range casework.States {
			f.ByState[st] = byState[i]
			if st != casework.StateClosed {
				f.Open += byState[i]
			}
		}
		if name != nil {
			g.Name = *name
		}
		switch {
		case total:
			out.Total = g.Figures
		case grouping != GroupNone:
			out.Groups = append(out.Groups, g)
		}
	}
	if err := rows.Err(); err != nil {
		return Statistics{}, fmt.Errorf("case statistics: %w", err)
	}
	return out, nil
}

// targets are the scan destinations of figureColumns; byState receives the
// counts of casework.States in order.
func (f *Figures) targets(byState *[6]int64) []any {
	return []any{&f.Cases,
		&byState[0], &byState[1], &byState[2], &byState[3], &byState[4], &byState[5],
		&f.Overdue, &f.NeedsReassignment, &f.Accepted, &f.Succeeded, &f.Failed,
		&f.WithdrawnAfterAcceptance, &f.WithdrawnBeforeAcceptance, &f.Rejected,
		&f.MeanDaysToClose, &f.AgreementAmount,
		&f.ConfirmationRequested, &f.ConfirmationConfirmed, &f.ConfirmationRefused,
		&f.Performed, &f.PartlyPerformed, &f.NotPerformed,
		&f.GroupDisputes, &f.EscalationRisks, &f.CourtReferrals,
		&f.OralAgreements, &f.WrittenAgreements, &f.EscalationPrevented, &f.EscalationPreventedPeople,
		&f.PetitionPrevented, &f.PetitionPreventedPeople}
}

// tallyZone is the zone whose months the tallies count in
// (case_tally_settings), read once.
func (s *Store) tallyZone(ctx context.Context) (*time.Location, error) {
	s.tallyMu.Lock()
	defer s.tallyMu.Unlock()
	if s.tallyLoc != nil {
		return s.tallyLoc, nil
	}
	var name string
	if err := s.pool.QueryRow(ctx, `SELECT time_zone FROM case_tally_settings`).Scan(&name); err != nil {
		return nil, fmt.Errorf("read the tallies' time zone: %w", err)
	}
	loc, err := time.LoadLocation(name)
	if err != nil {
		return nil, fmt.Errorf("the tallies' time zone %q: %w", name, err)
	}
	s.tallyLoc = loc
	return loc, nil
}

// FoldCaseTallies folds up to batch deltas of the statistics' summaries
// into the summary tables, oldest first, and returns how many it folded;
// 0 when there were none or another replica is folding.
func (s *Store) FoldCaseTallies(ctx context.Context, batch int) (int64, error) {
	var n int64
	if err := s.pool.QueryRow(ctx, `SELECT case_tallies_fold($1)`, batch).Scan(&n); err != nil {
		return 0, fmt.Errorf("fold case tallies: %w", err)
	}
	return n, nil
}
