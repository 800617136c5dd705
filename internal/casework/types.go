package casework

import (
	"time"

	"github.com/google/uuid"
)

// State is a case's place in the lifecycle.
type State string

// The lifecycle states. They are a contract with court systems: later
// versions add states, never rename them.
const (
	StateIntake    State = "INTAKE"    // 登记
	StateAccepted  State = "ACCEPTED"  // 受理
	StateAssigned  State = "ASSIGNED"  // 已分派
	StateMediating State = "MEDIATING" // 调解中
	StateAgreed    State = "AGREED"    // 调解成功
	StateClosed    State = "CLOSED"    // 结案
)

// States lists every state in lifecycle order.
var States = []State{StateIntake, StateAccepted, StateAssigned, StateMediating, StateAgreed, StateClosed}

// Outcome says how a closed case ended; it is empty while the case is open.
type Outcome string

// The outcomes of a closed case.
const (
	OutcomeNone      Outcome = ""
	OutcomeAgreement Outcome = "AGREEMENT"
	OutcomeFailed    Outcome = "FAILED"
	OutcomeWithdrawn Outcome = "WITHDRAWN"
	OutcomeRejected  Outcome = "REJECTED"
)

// Action names one step of a case's history. Apart from ActionCreate, each
// is an event of the lifecycle state machine, named by its REST verb.
type Action string

// The actions.
const (
	ActionCreate          Action = "create"
	ActionAccept          Action = "accept"
	ActionReject          Action = "reject"
	ActionAssign          Action = "assign"
	ActionStartMediation  Action = "startMediation"
	ActionRecordAgreement Action = "recordAgreement"
	ActionRecordFailure   Action = "recordFailure"
	ActionWithdraw        Action = "withdraw"
	ActionClose           Action = "close"
)

// DisputeType is the statistics' classification of a dispute.
type DisputeType string

// The dispute types (纠纷类型).
const (
	DisputeMarriageFamily     DisputeType = "MARRIAGE_FAMILY"
	DisputeNeighbor           DisputeType = "NEIGHBOR"
	DisputeHousingHomestead   DisputeType = "HOUSING_HOMESTEAD"
	DisputeContractDebt       DisputeType = "CONTRACT_DEBT"
	DisputeProductionBusiness DisputeType = "PRODUCTION_BUSINESS"
	DisputeDamages            DisputeType = "DAMAGES"
	DisputeLandForestContract DisputeType = "LAND_FOREST_CONTRACT"
	DisputeLandRequisition    DisputeType = "LAND_REQUISITION"
	DisputeLabor              DisputeType = "LABOR"
	DisputeEnvironment        DisputeType = "ENVIRONMENT"
	DisputeTrafficAccident    DisputeType = "TRAFFIC_ACCIDENT"
	DisputeMedical            DisputeType = "MEDICAL"
	DisputePropertyManagement DisputeType = "PROPERTY_MANAGEMENT"
	DisputeConsumer           DisputeType = "CONSUMER"
	DisputeVillageAffairs     DisputeType = "VILLAGE_AFFAIRS"
	DisputeOther              DisputeType = "OTHER"
)

// Source is the intake channel of a dispute.
type Source string

// The intake channels.
const (
	SourceWalkIn         Source = "WALK_IN"
	SourceOnline         Source = "ONLINE"
	SourceHotline12348   Source = "HOTLINE_12348"
	SourceGridSweep      Source = "GRID_SWEEP"
	SourcePetitionOffice Source = "PETITION_OFFICE"
	SourcePolice         Source = "POLICE"
	SourceCourtDelegated Source = "COURT_DELEGATED"
	SourceCourtEntrusted Source = "COURT_ENTRUSTED"
	SourceOwnInitiative  Source = "OWN_INITIATIVE"
)

// PartyRole is a party's position in a dispute.
type PartyRole string

// The party roles.
const (
	RoleApplicant  PartyRole = "APPLICANT"
	RoleRespondent PartyRole = "RESPONDENT"
	RoleThirdParty PartyRole = "THIRD_PARTY"
	RoleAgent      PartyRole = "AGENT"
)

// Party is a person or organization taking part in a dispute.
type Party struct {
	Name string    `json:"name"`
	Role PartyRole `json:"role"`
}

// Agreement is the settlement recorded when mediation succeeds.
type Agreement struct {
	Terms      string    `json:"terms"`
	RecordTime time.Time `json:"record_time"`
}

// Case is one dispute as stored: its registration data and where it stands.
type Case struct {
	ID            uuid.UUID
	Number        string
	Version       int64
	State         State
	Outcome       Outcome
	DisputeType   DisputeType
	Source        Source
	Summary       string
	RegionCode    string
	Parties       []Party
	Organization  string
	Mediator      string
	Agreement     *Agreement
	ClosingReason string
	CreateTime    time.Time
	UpdateTime    time.Time
	CloseTime     time.Time // zero while open
}

// Assignment records who handles a case after an assignment and who did
// before.
type Assignment struct {
	Organization         string `json:"organization"`
	Mediator             string `json:"mediator"`
	PreviousOrganization string `json:"previous_organization,omitempty"`
	PreviousMediator     string `json:"previous_mediator,omitempty"`
}

// EventData is what an action carried, kept in the history.
type EventData struct {
	Reason     string      `json:"reason,omitempty"`
	Assignment *Assignment `json:"assignment,omitempty"`
	Agreement  *Agreement  `json:"agreement,omitempty"`
}

// Event is one step of a case's history. Version is the case version the
// step produced, so a case's history is numbered 1, 2, 3... without gaps.
type Event struct {
	CaseID    uuid.UUID
	Version   int64
	Action    Action
	From      State // empty for ActionCreate
	To        State
	Outcome   Outcome
	Actor     string
	Time      time.Time
	RequestID string
	Data      EventData
}
