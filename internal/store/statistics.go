package store

import (
	"context"
	"fmt"

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

// groupKeys is the SQL of each grouping's key, on cases aliased c; %s in
// the create month's is the parameter of the time zone.
var groupKeys = map[Grouping]string{
	GroupRegion:           "c.region_code",
	GroupOrganization:     "c.organization",
	GroupOrganizationType: "COALESCE((SELECT o.type FROM organizations o WHERE o.id = substr(c.organization, 15)), '')",
	GroupMediator:         "c.mediator",
	GroupDisputeType:      "c.dispute_type",
	GroupSource:           "c.source",
	GroupCreateMonth:      "to_char(c.create_time AT TIME ZONE %s, 'YYYY-MM')",
}

// groupNames is the SQL of the display name of a group's key g.key, where the
// directory holds it; the others are named by the caller.
var groupNames = map[Grouping]string{
	GroupRegion:       "(SELECT r.display_name FROM regions r WHERE r.code = g.key)",
	GroupOrganization: "(SELECT o.display_name FROM organizations o WHERE o.id = substr(g.key, 15))",
	GroupMediator:     "(SELECT m.display_name FROM mediators m WHERE m.id = substr(g.key, 11))",
}

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

// agreementAmount is the sum of a case's obligations in yuan; amounts were
// checked on the way in, the pattern guards the cast anyway.
const agreementAmount = `COALESCE((SELECT sum((o->>'amount')::numeric)
	FROM jsonb_array_elements(CASE WHEN jsonb_typeof(c.agreement->'obligations') = 'array'
		THEN c.agreement->'obligations' ELSE '[]'::jsonb END) o
	WHERE o->>'amount' ~ '^[0-9]{1,15}(\.[0-9]{1,2})?$'), 0)`

// figureColumns are the aggregates of a set of the rows of statistics'
// inner query, in the order scanFigures reads them.
const figureColumns = `count(*),
	count(*) FILTER (WHERE state = 'INTAKE'),
	count(*) FILTER (WHERE state = 'ACCEPTED'),
	count(*) FILTER (WHERE state = 'ASSIGNED'),
	count(*) FILTER (WHERE state = 'MEDIATING'),
	count(*) FILTER (WHERE state = 'AGREED'),
	count(*) FILTER (WHERE state = 'CLOSED'),
	count(*) FILTER (WHERE overdue AND state IN ('ACCEPTED', 'ASSIGNED', 'MEDIATING')),
	count(*) FILTER (WHERE needs_reassignment),
	count(*) FILTER (WHERE accepted),
	count(*) FILTER (WHERE accepted AND (state = 'AGREED' OR outcome = 'AGREEMENT')),
	count(*) FILTER (WHERE outcome = 'FAILED'),
	count(*) FILTER (WHERE outcome = 'WITHDRAWN' AND accepted),
	count(*) FILTER (WHERE outcome = 'WITHDRAWN' AND NOT accepted),
	count(*) FILTER (WHERE outcome = 'REJECTED'),
	COALESCE(avg(days_to_close) FILTER (WHERE state = 'CLOSED' AND accepted), 0)::float8,
	round(COALESCE(sum(amount) FILTER (WHERE accepted AND (state = 'AGREED' OR outcome = 'AGREEMENT')), 0), 2)::text,
	count(*) FILTER (WHERE confirmation_decision IS NOT NULL),
	count(*) FILTER (WHERE confirmation_decision = 'CONFIRMED'),
	count(*) FILTER (WHERE confirmation_decision = 'REFUSED'),
	count(*) FILTER (WHERE performance_status = 'PERFORMED'),
	count(*) FILTER (WHERE performance_status = 'PARTLY_PERFORMED'),
	count(*) FILTER (WHERE performance_status = 'NOT_PERFORMED'),
	count(*) FILTER (WHERE group_dispute),
	count(*) FILTER (WHERE escalation_risk),
	count(*) FILTER (WHERE court_referral)`

// CaseStatistics counts the cases that match the filter within the scope,
// in total and grouped, in one statement: the figures are of one snapshot.
func (s *Store) CaseStatistics(ctx context.Context, p StatisticsParams) (Statistics, error) {
	where, args, err := caseCondition(p.Filter, p.Spelling, p.Scope)
	if err != nil {
		return Statistics{}, err
	}
	key, ok := groupKeys[p.GroupBy]
	switch {
	case p.GroupBy == GroupNone:
		key = "''" // one group, the same as the total, left out below
	case !ok:
		return Statistics{}, &casework.FieldError{Field: "group_by", Message: fmt.Sprintf("%q is not a grouping", p.GroupBy)}
	case p.GroupBy == GroupCreateMonth:
		tz := p.TimeZone
		if tz == "" {
			tz = "UTC"
		}
		args = append(args, tz)
		key = fmt.Sprintf(key, fmt.Sprintf("$%d", len(args)))
	}
	name := "NULL::text"
	if n, ok := groupNames[p.GroupBy]; ok {
		name = n
	}
	sql := fmt.Sprintf(`WITH f AS (
		SELECT %s AS k, c.state, c.outcome, c.overdue, c.performance_status, c.group_dispute, c.escalation_risk,
			%s AS needs_reassignment,
			c.accept_time IS NOT NULL AS accepted,
			extract(epoch FROM c.close_time - c.accept_time) / 86400 AS days_to_close,
			%s AS amount,
			CASE WHEN jsonb_typeof(c.confirmation) = 'object' THEN COALESCE(c.confirmation->>'decision', '') END AS confirmation_decision,
			c.court_code IS NOT NULL AS court_referral
		FROM cases c WHERE %s
	), g AS (
		SELECT GROUPING(k) = 1 AS total, COALESCE(k, '') AS key, %s FROM f GROUP BY GROUPING SETS ((k), ())
	)
	SELECT g.*, %s FROM g ORDER BY g.total DESC, g.key COLLATE "C"`, key, needsReassignment, agreementAmount, where, figureColumns, name)
	rows, err := s.pool.Query(ctx, sql, args...)
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
		case p.GroupBy != GroupNone:
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
		&f.GroupDisputes, &f.EscalationRisks, &f.CourtReferrals}
}
