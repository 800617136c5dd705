package api

import (
	"context"

	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/mediationd/mediationd/internal/casework"
	"github.com/mediationd/mediationd/internal/store"
	mediationv1 "github.com/mediationd/mediationd/proto/mediation/v1"
)

var groupings = map[mediationv1.StatisticsGrouping]store.Grouping{
	mediationv1.StatisticsGrouping_STATISTICS_GROUPING_UNSPECIFIED:       store.GroupNone,
	mediationv1.StatisticsGrouping_STATISTICS_GROUPING_REGION:            store.GroupRegion,
	mediationv1.StatisticsGrouping_STATISTICS_GROUPING_ORGANIZATION:      store.GroupOrganization,
	mediationv1.StatisticsGrouping_STATISTICS_GROUPING_ORGANIZATION_TYPE: store.GroupOrganizationType,
	mediationv1.StatisticsGrouping_STATISTICS_GROUPING_MEDIATOR:          store.GroupMediator,
	mediationv1.StatisticsGrouping_STATISTICS_GROUPING_DISPUTE_TYPE:      store.GroupDisputeType,
	mediationv1.StatisticsGrouping_STATISTICS_GROUPING_SOURCE:            store.GroupSource,
	mediationv1.StatisticsGrouping_STATISTICS_GROUPING_CREATE_MONTH:      store.GroupCreateMonth,
}

// unassigned names the group of cases without an organization or mediator.
const unassigned = "未分派"

// GetCaseStatistics counts the cases in the caller's scope.
func (s *CaseService) GetCaseStatistics(ctx context.Context, req *mediationv1.GetCaseStatisticsRequest) (*mediationv1.GetCaseStatisticsResponse, error) {
	grouping, ok := groupings[req.GetGroupBy()]
	if !ok {
		return nil, &casework.FieldError{Field: "group_by", Message: "must be one of the StatisticsGrouping values"}
	}
	scope := access(ctx).Scope
	computed := s.clock()
	st, err := s.store.CaseStatistics(ctx, store.StatisticsParams{
		Filter:   req.GetFilter(),
		Spelling: caseSpelling,
		GroupBy:  grouping,
		Scope:    &scope,
		TimeZone: s.timeZone(),
	})
	if err != nil {
		return nil, err
	}
	out := &mediationv1.GetCaseStatisticsResponse{Total: figuresToProto(st.Total), ComputeTime: timestamppb.New(computed)}
	for _, g := range st.Groups {
		key, name := g.Key, g.Name
		switch grouping {
		case store.GroupDisputeType:
			key, name = disputeTypeToProto(casework.DisputeType(g.Key)).String(), casework.DisputeType(g.Key).DisplayName()
		case store.GroupSource:
			key, name = mediationv1.CaseSource(enumFromDomain(mediationv1.CaseSource_value, "CASE_SOURCE_", casework.Source(g.Key))).String(), casework.Source(g.Key).DisplayName()
		case store.GroupOrganizationType:
			if g.Key != "" {
				key, name = organizationTypeToProto(casework.OrganizationType(g.Key)).String(), casework.OrganizationType(g.Key).DisplayName()
			}
		case store.GroupCreateMonth:
			name = g.Key
		}
		if g.Key == "" {
			name = unassigned
		}
		out.Groups = append(out.Groups, &mediationv1.CaseStatisticsGroup{Key: key, DisplayName: name, Figures: figuresToProto(g.Figures)})
	}
	return out, nil
}

// timeZone is the IANA name of the service's time zone for the database;
// the process's local zone has none PostgreSQL knows, so it counts as UTC.
func (s *CaseService) timeZone() string {
	if name := s.policy.Location.String(); name != "Local" {
		return name
	}
	return "UTC"
}

func figuresToProto(f store.Figures) *mediationv1.CaseFigures {
	out := &mediationv1.CaseFigures{
		Cases:                     f.Cases,
		Open:                      f.Open,
		Overdue:                   f.Overdue,
		NeedsReassignment:         f.NeedsReassignment,
		Accepted:                  f.Accepted,
		Succeeded:                 f.Succeeded,
		Failed:                    f.Failed,
		WithdrawnAfterAcceptance:  f.WithdrawnAfterAcceptance,
		WithdrawnBeforeAcceptance: f.WithdrawnBeforeAcceptance,
		Rejected:                  f.Rejected,
		Concluded:                 f.Concluded(),
		SuccessRate:               f.SuccessRate(),
		SuccessRateOfAccepted:     f.SuccessRateOfAccepted(),
		MeanDaysToClose:           f.MeanDaysToClose,
		AgreementAmount:           f.AgreementAmount,
		ConfirmationRequested:     f.ConfirmationRequested,
		ConfirmationConfirmed:     f.ConfirmationConfirmed,
		ConfirmationRefused:       f.ConfirmationRefused,
		Performed:                 f.Performed,
		PartlyPerformed:           f.PartlyPerformed,
		NotPerformed:              f.NotPerformed,
		PerformanceRate:           f.PerformanceRate(),
		GroupDisputes:             f.GroupDisputes,
		EscalationRisks:           f.EscalationRisks,
		CourtReferrals:            f.CourtReferrals,
		OralAgreements:            f.OralAgreements,
		WrittenAgreements:         f.WrittenAgreements,
		EscalationPrevented:       f.EscalationPrevented,
		EscalationPreventedPeople: f.EscalationPreventedPeople,
		PetitionPrevented:         f.PetitionPrevented,
		PetitionPreventedPeople:   f.PetitionPreventedPeople,
	}
	for _, st := range casework.States {
		out.States = append(out.States, &mediationv1.CaseStateCount{State: stateToProto(st), Count: f.ByState[st]})
	}
	return out
}
