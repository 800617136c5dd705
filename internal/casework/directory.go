package casework

import (
	"slices"
	"time"
)

// RegionLevel is a region's place in the GB/T 2260 hierarchy.
type RegionLevel string

// The region levels.
const (
	LevelProvince RegionLevel = "PROVINCE"
	LevelCity     RegionLevel = "CITY"
	LevelCounty   RegionLevel = "COUNTY"
)

// Region is an administrative division.
type Region struct {
	Code        string
	DisplayName string
	Level       RegionLevel
	ParentCode  string // empty for a province
	// AutoAssign is the region's own setting; nil follows the region above.
	AutoAssign *bool
	Version    int64
}

// OrganizationType is the kind of a mediation organization.
type OrganizationType string

// The organization types.
const (
	OrgVillageCommittee      OrganizationType = "VILLAGE_COMMITTEE"      // 村(居)调委会
	OrgTownshipCommittee     OrganizationType = "TOWNSHIP_COMMITTEE"     // 乡镇(街道)调委会
	OrgEnterpriseCommittee   OrganizationType = "ENTERPRISE_COMMITTEE"   // 企事业单位调委会
	OrgProfessionalCommittee OrganizationType = "PROFESSIONAL_COMMITTEE" // 行业性专业性调委会
	OrgStationedRoom         OrganizationType = "STATIONED_ROOM"         // 派驻调解室
	OrgPersonalStudio        OrganizationType = "PERSONAL_STUDIO"        // 个人调解工作室
	OrgWomenStudio           OrganizationType = "WOMEN_STUDIO"           // 巾帼工作室
	OrgCourtCenter           OrganizationType = "COURT_CENTER"           // 法院诉调对接中心
)

// OrganizationTypes lists every organization type.
var OrganizationTypes = []OrganizationType{
	OrgVillageCommittee, OrgTownshipCommittee, OrgEnterpriseCommittee, OrgProfessionalCommittee,
	OrgStationedRoom, OrgPersonalStudio, OrgWomenStudio, OrgCourtCenter,
}

// Organization is a mediation organization that takes cases.
type Organization struct {
	ID           string // the id in organizations/{id}
	DisplayName  string
	Type         OrganizationType
	RegionCode   string
	DisputeTypes []DisputeType // empty = every type
	CourtRoster  bool          // 特邀调解组织
	Address      string
	Phone        string
	Active       bool
	OpenCases    int // ASSIGNED or MEDIATING cases it holds
	Version      int64
	CreateTime   time.Time
	UpdateTime   time.Time
}

// Takes reports whether the organization takes disputes of the type: it
// lists the type, or lists none (it takes every type).
func (o Organization) Takes(t DisputeType) bool {
	return len(o.DisputeTypes) == 0 || slices.Contains(o.DisputeTypes, t)
}

// Name is the organization's resource name.
func (o Organization) Name() string { return "organizations/" + o.ID }

// Mediator is a people's mediator of one organization.
type Mediator struct {
	ID             string // the id in mediators/{id}
	DisplayName    string
	OrganizationID string
	Specialties    []DisputeType
	CourtRoster    bool // 特邀调解员
	Phone          string
	Active         bool
	OpenCases      int // ASSIGNED or MEDIATING cases the mediator holds
	Version        int64
	CreateTime     time.Time
	UpdateTime     time.Time
}

// Name is the mediator's resource name.
func (m Mediator) Name() string { return "mediators/" + m.ID }

// CourtProcedure is the procedure of a case entrusted after filing.
type CourtProcedure string

// The court procedures; empty when not applicable.
const (
	ProcedureOrdinary CourtProcedure = "ORDINARY" // 普通程序
	ProcedureSummary  CourtProcedure = "SUMMARY"  // 简易程序
)

// DeadlineRule sets the time limit of accepted cases. Empty selectors
// match anything; the most specific matching rule applies.
type DeadlineRule struct {
	ID               string
	DisplayName      string
	Source           Source
	OrganizationType OrganizationType
	CourtProcedure   CourtProcedure
	Days             int
	MaxExtensions    int
	ExtensionDays    int
	Version          int64
}

// Name is the rule's resource name.
func (r DeadlineRule) Name() string { return "deadlineRules/" + r.ID }
