package casework

import (
	"cmp"
	"fmt"
	"slices"
)

// specialisedTypes says which organization type specialises in a dispute
// type beyond organizations that list the type themselves: marriage and
// family disputes go to the women's-federation studios (巾帼工作室).
var specialisedTypes = map[DisputeType]OrganizationType{
	DisputeMarriageFamily: OrgWomenStudio,
}

// Candidate is a mediator who could take a case, with their organization.
type Candidate struct {
	Organization Organization
	Mediator     Mediator
}

// Reason is why a candidate is suggested.
type Reason struct {
	Code    string
	Message string
}

// Suggestion is a ranked candidate.
type Suggestion struct {
	Candidate
	Rank    int
	Reasons []Reason
}

// The tiers of a candidate's fit, best first: each is compared before the
// next, so a specialised organization in another county still beats a
// general one next door.
const (
	fitSpecialised = 3 // the organization specialises in the dispute type
	fitGeneral     = 1 // the organization takes every type
)

// Suggest ranks the candidates for case c, best first, and keeps at most
// max. The order: organizations specialised in the dispute type (by type,
// e.g. a 巾帼工作室 for marriage and family, or by listing the type) before
// general ones; then the mediator's own specialty; then the same county,
// the same city, the same province; then the lowest open load; then court
// rostered (特邀) for court referrals; then by name, so the order is
// stable. Left out: inactive organizations and mediators, mediators who
// recused themselves from the case, the mediator who has it now, and
// organizations that do not take the dispute type.
func Suggest(c Case, candidates []Candidate, max int) []Suggestion {
	type scored struct {
		Suggestion
		fit, specialty, region, roster int
	}
	var out []scored
	for _, cand := range candidates {
		org, med := cand.Organization, cand.Mediator
		if !org.Active || !med.Active || med.OrganizationID != org.ID || !org.Takes(c.DisputeType) ||
			slices.Contains(c.RecusedMediators, med.Name()) || med.Name() == c.Mediator {
			continue
		}
		s := scored{Suggestion: Suggestion{Candidate: cand}}
		switch {
		case specialisedTypes[c.DisputeType] == org.Type:
			s.fit = fitSpecialised
			s.Reasons = append(s.Reasons, Reason{"SPECIALISED_ORGANIZATION",
				fmt.Sprintf("%s专门调解%s纠纷", organizationTypeNames[org.Type], disputeTypeNames[c.DisputeType])})
		case slices.Contains(org.DisputeTypes, c.DisputeType):
			s.fit = fitSpecialised
			s.Reasons = append(s.Reasons, Reason{"TAKES_DISPUTE_TYPE",
				fmt.Sprintf("%s专门受理%s纠纷", org.DisplayName, disputeTypeNames[c.DisputeType])})
		default: // it takes every type
			s.fit = fitGeneral
			s.Reasons = append(s.Reasons, Reason{"GENERAL_ORGANIZATION",
				fmt.Sprintf("%s受理各类纠纷", organizationTypeNames[org.Type])})
		}
		if slices.Contains(med.Specialties, c.DisputeType) {
			s.specialty = 1
			s.Reasons = append(s.Reasons, Reason{"MEDIATOR_SPECIALTY",
				fmt.Sprintf("%s擅长%s纠纷", med.DisplayName, disputeTypeNames[c.DisputeType])})
		}
		switch {
		case org.RegionCode == c.RegionCode:
			s.region = 3
			s.Reasons = append(s.Reasons, Reason{"SAME_COUNTY", "与纠纷发生地同一县（区）"})
		case len(c.RegionCode) == 6 && org.RegionCode[:4] == c.RegionCode[:4]:
			s.region = 2
			s.Reasons = append(s.Reasons, Reason{"SAME_CITY", "与纠纷发生地同一市（州）"})
		case len(c.RegionCode) == 6 && org.RegionCode[:2] == c.RegionCode[:2]:
			s.region = 1
			s.Reasons = append(s.Reasons, Reason{"SAME_PROVINCE", "与纠纷发生地同一省"})
		}
		s.Reasons = append(s.Reasons, Reason{"OPEN_CASES", fmt.Sprintf("%s在办案件%d件", med.DisplayName, med.OpenCases)})
		if c.Source.IsCourtReferral() && (org.CourtRoster || med.CourtRoster) {
			s.roster = 1
			s.Reasons = append(s.Reasons, Reason{"COURT_ROSTER", "法院特邀调解组织或特邀调解员"})
		}
		out = append(out, s)
	}
	slices.SortStableFunc(out, func(a, b scored) int {
		return cmp.Or(
			cmp.Compare(b.fit, a.fit),
			cmp.Compare(b.specialty, a.specialty),
			cmp.Compare(b.region, a.region),
			cmp.Compare(a.Mediator.OpenCases, b.Mediator.OpenCases),
			cmp.Compare(b.roster, a.roster),
			cmp.Compare(a.Organization.ID, b.Organization.ID),
			cmp.Compare(a.Mediator.ID, b.Mediator.ID),
		)
	})
	if max > 0 && len(out) > max {
		out = out[:max]
	}
	res := make([]Suggestion, len(out))
	for i, s := range out {
		s.Rank = i + 1
		res[i] = s.Suggestion
	}
	return res
}

var organizationTypeNames = map[OrganizationType]string{
	OrgVillageCommittee:      "村（居）人民调解委员会",
	OrgTownshipCommittee:     "乡镇（街道）人民调解委员会",
	OrgEnterpriseCommittee:   "企事业单位人民调解委员会",
	OrgProfessionalCommittee: "行业性专业性人民调解委员会",
	OrgStationedRoom:         "派驻调解室",
	OrgPersonalStudio:        "个人调解工作室",
	OrgWomenStudio:           "巾帼工作室",
	OrgCourtCenter:           "法院诉调对接中心",
}

var disputeTypeNames = map[DisputeType]string{
	DisputeMarriageFamily:     "婚姻家庭",
	DisputeNeighbor:           "邻里",
	DisputeHousingHomestead:   "房屋宅基地",
	DisputeContractDebt:       "合同债务",
	DisputeProductionBusiness: "生产经营",
	DisputeDamages:            "损害赔偿",
	DisputeLandForestContract: "山林土地承包",
	DisputeLandRequisition:    "征地拆迁",
	DisputeLabor:              "劳动争议",
	DisputeEnvironment:        "环境污染",
	DisputeTrafficAccident:    "道路交通事故",
	DisputeMedical:            "医疗",
	DisputePropertyManagement: "物业",
	DisputeConsumer:           "消费",
	DisputeVillageAffairs:     "村务管理",
	DisputeOther:              "其他",
}

// DisplayName returns the Chinese name of a dispute type.
func (t DisputeType) DisplayName() string { return disputeTypeNames[t] }

// DisplayName returns the Chinese name of an organization type.
func (t OrganizationType) DisplayName() string { return organizationTypeNames[t] }
