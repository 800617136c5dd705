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

	ActionUpdate              Action = "update"
	ActionRecuse              Action = "recuse"
	ActionExtendDeadline      Action = "extendDeadline"
	ActionMarkOverdue         Action = "markOverdue"
	ActionScheduleSession     Action = "scheduleSession"
	ActionRecordSession       Action = "recordSession"
	ActionCancelSession       Action = "cancelSession"
	ActionRequestConfirmation Action = "requestConfirmation"
	ActionRecordConfirmation  Action = "recordConfirmation"
	ActionRecordPerformance   Action = "recordPerformance"
	ActionRecordFollowUp      Action = "recordFollowUp"
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

var sourceNames = map[Source]string{
	SourceWalkIn:         "当事人申请",
	SourceOnline:         "网上申请",
	SourceHotline12348:   "12348热线",
	SourceGridSweep:      "网格排查",
	SourcePetitionOffice: "信访转办",
	SourcePolice:         "公安移送",
	SourceCourtDelegated: "法院委派",
	SourceCourtEntrusted: "法院委托",
	SourceOwnInitiative:  "主动调解",
}

// DisplayName returns the Chinese name of an intake source.
func (s Source) DisplayName() string { return sourceNames[s] }

// PartyRole is a party's position in a dispute.
type PartyRole string

// The party roles.
const (
	RoleApplicant  PartyRole = "APPLICANT"
	RoleRespondent PartyRole = "RESPONDENT"
	RoleThirdParty PartyRole = "THIRD_PARTY"
	RoleAgent      PartyRole = "AGENT"
)

// PartyKind is what kind of person a party is.
type PartyKind string

// The party kinds; empty is a natural person.
const (
	KindNaturalPerson  PartyKind = "NATURAL_PERSON"
	KindLegalPerson    PartyKind = "LEGAL_PERSON"
	KindUnincorporated PartyKind = "UNINCORPORATED"
)

// IDType is the kind of identity document.
type IDType string

// The identity document types; empty is none.
const (
	IDResidentCard            IDType = "RESIDENT_ID_CARD"
	IDPassport                IDType = "PASSPORT"
	IDHKMacaoPermit           IDType = "HK_MACAO_PERMIT"
	IDTaiwanPermit            IDType = "TAIWAN_PERMIT"
	IDForeignPermanent        IDType = "FOREIGN_PERMANENT_RESIDENT"
	IDUnifiedSocialCreditCode IDType = "UNIFIED_SOCIAL_CREDIT_CODE"
	IDOther                   IDType = "OTHER"
)

// Gender of a natural person; empty when not given.
type Gender string

// The genders.
const (
	GenderMale   Gender = "MALE"
	GenderFemale Gender = "FEMALE"
)

// Party is a person or organization taking part in a dispute. IDNumber,
// Phone and Address are personal data.
type Party struct {
	ID                  string    `json:"id"`
	Name                string    `json:"name"`
	Role                PartyRole `json:"role"`
	Kind                PartyKind `json:"kind,omitempty"`
	IDType              IDType    `json:"id_type,omitempty"`
	IDNumber            string    `json:"id_number,omitempty"`
	Phone               string    `json:"phone,omitempty"`
	Address             string    `json:"address,omitempty"`
	Gender              Gender    `json:"gender,omitempty"`
	Ethnicity           string    `json:"ethnicity,omitempty"`
	BirthDate           string    `json:"birth_date,omitempty"` // YYYY-MM-DD
	Occupation          string    `json:"occupation,omitempty"`
	LegalRepresentative string    `json:"legal_representative,omitempty"`
	RepresentedPartyIDs []string  `json:"represented_party_ids,omitempty"`
}

// IsOrganization reports whether the party is a legal person or another
// organization rather than a natural person.
func (p Party) IsOrganization() bool {
	return p.Kind == KindLegalPerson || p.Kind == KindUnincorporated
}

// AgreementForm says whether an agreement was written or oral.
type AgreementForm string

// The agreement forms; empty is written.
const (
	FormWritten AgreementForm = "WRITTEN"
	FormOral    AgreementForm = "ORAL"
)

// Obligation is one structured term of an agreement.
type Obligation struct {
	ObligorPartyID string `json:"obligor_party_id"`
	ObligeePartyID string `json:"obligee_party_id,omitempty"`
	Description    string `json:"description"`
	Amount         string `json:"amount,omitempty"`   // yuan, e.g. 5000.00
	DueDate        string `json:"due_date,omitempty"` // YYYY-MM-DD
}

// Agreement is the settlement recorded when mediation succeeds.
type Agreement struct {
	Terms            string        `json:"terms"`
	RecordTime       time.Time     `json:"record_time"`
	Form             AgreementForm `json:"form,omitempty"`
	Facts            string        `json:"facts,omitempty"`
	Responsibilities string        `json:"responsibilities,omitempty"`
	Obligations      []Obligation  `json:"obligations,omitempty"`
	Performance      string        `json:"performance,omitempty"`
	SignDate         string        `json:"sign_date,omitempty"` // YYYY-MM-DD
	Copies           int           `json:"copies,omitempty"`
	Recorder         string        `json:"recorder,omitempty"`
}

// CourtReferral identifies the court case a referral comes from.
type CourtReferral struct {
	CourtCode       string         `json:"court_code"`
	CourtName       string         `json:"court_name,omitempty"`
	CourtCaseNumber string         `json:"court_case_number"`
	Procedure       CourtProcedure `json:"procedure,omitempty"`
	Judge           string         `json:"judge,omitempty"`
	// Organization is the invited organization the court refers the
	// dispute to, organizations/{id}; "" if the court named none.
	Organization string `json:"organization,omitempty"`
}

// Deadline is a case's time limit.
type Deadline struct {
	DueTime        time.Time `json:"due_time"`
	Overdue        bool      `json:"overdue,omitempty"`
	ExtensionCount int       `json:"extension_count,omitempty"`
	MaxExtensions  int       `json:"max_extensions,omitempty"`
	ExtensionDays  int       `json:"extension_days,omitempty"`
	RuleID         string    `json:"rule_id"`
}

// FailureReason is why mediation ended without agreement.
type FailureReason string

// The failure reasons.
const (
	FailurePartyRefuses        FailureReason = "PARTY_REFUSES"
	FailurePartyUnreachable    FailureReason = "PARTY_UNREACHABLE"
	FailurePositionsTooFar     FailureReason = "POSITIONS_TOO_FAR"
	FailureOutsideScope        FailureReason = "OUTSIDE_SCOPE"
	FailureReferredToCourt     FailureReason = "REFERRED_TO_COURT"
	FailureReferredArbitration FailureReason = "REFERRED_TO_ARBITRATION"
	FailureReferredAdmin       FailureReason = "REFERRED_TO_ADMINISTRATIVE"
	FailureOther               FailureReason = "OTHER"
)

// Failure records why mediation failed.
type Failure struct {
	Reason        FailureReason `json:"reason"`
	Details       string        `json:"details"`
	ReturnToCourt bool          `json:"return_to_court,omitempty"`
}

// ConfirmationDecision is a court's decision on judicial confirmation;
// empty while pending.
type ConfirmationDecision string

// The decisions.
const (
	DecisionConfirmed ConfirmationDecision = "CONFIRMED"
	DecisionRefused   ConfirmationDecision = "REFUSED"
)

// Confirmation tracks a request for judicial confirmation.
type Confirmation struct {
	RequestTime    time.Time            `json:"request_time"`
	CourtCode      string               `json:"court_code"`
	CourtName      string               `json:"court_name,omitempty"`
	Decision       ConfirmationDecision `json:"decision,omitempty"`
	DecisionTime   time.Time            `json:"decision_time,omitzero"`
	DocumentNumber string               `json:"document_number,omitempty"`
	Remarks        string               `json:"remarks,omitempty"`
}

// PerformanceStatus says whether an agreement has been performed; empty
// when not checked.
type PerformanceStatus string

// The performance statuses.
const (
	Performed       PerformanceStatus = "PERFORMED"
	PartlyPerformed PerformanceStatus = "PARTLY_PERFORMED"
	NotPerformed    PerformanceStatus = "NOT_PERFORMED"
)

// SessionKind is the form of a mediation session.
type SessionKind string

// The session kinds.
const (
	SessionBilateral  SessionKind = "BILATERAL"
	SessionTrilateral SessionKind = "TRILATERAL"
	SessionExpert     SessionKind = "EXPERT"
	SessionJoint      SessionKind = "JOINT"
)

// SessionStatus is where a session stands.
type SessionStatus string

// The session statuses.
const (
	SessionScheduled SessionStatus = "SCHEDULED"
	SessionHeld      SessionStatus = "HELD"
	SessionCancelled SessionStatus = "CANCELLED"
)

// Session is one mediation session of a case, numbered from 1.
type Session struct {
	Number       int           `json:"number"`
	Kind         SessionKind   `json:"kind"`
	StartTime    time.Time     `json:"start_time"`
	Place        string        `json:"place,omitempty"`
	Online       bool          `json:"online,omitempty"`
	Participants []string      `json:"participants,omitempty"`
	Status       SessionStatus `json:"status"`
	Minutes      string        `json:"minutes,omitempty"`
	Result       string        `json:"result,omitempty"`
	CancelReason string        `json:"cancel_reason,omitempty"`
	CreateTime   time.Time     `json:"create_time"`
	UpdateTime   time.Time     `json:"update_time"`
}

// FollowUp is a follow-up visit after an agreement, numbered from 1.
type FollowUp struct {
	Number            int               `json:"number"`
	VisitTime         time.Time         `json:"visit_time"`
	Visitor           string            `json:"visitor"`
	PartyIDs          []string          `json:"party_ids,omitempty"`
	Purpose           string            `json:"purpose,omitempty"`
	Findings          string            `json:"findings"`
	PerformanceStatus PerformanceStatus `json:"performance_status,omitempty"`
	CreateTime        time.Time         `json:"create_time"`
}

// Case is one dispute as stored: its registration data and where it stands.
type Case struct {
	ID             uuid.UUID
	Number         string
	Version        int64
	State          State
	Outcome        Outcome
	DisputeType    DisputeType
	Source         Source
	Summary        string
	RegionCode     string
	Parties        []Party
	CourtReferral  *CourtReferral
	GroupDispute   bool
	EscalationRisk bool
	FamilyViolence bool
	MinorsInvolved bool
	Organization   string
	Mediator       string
	// IntakeOrganization registered the case, organizations/{id}; empty
	// when the registrant belongs to none (an administrator, a court).
	IntakeOrganization string
	RecusedMediators   []string // mediators who withdrew from the case (回避)
	NeedsReassignment  bool     // derived on read: the mediator or organization is inactive
	Agreement          *Agreement
	ClosingReason      string
	Failure            *Failure
	Deadline           *Deadline // set at acceptance
	Confirmation       *Confirmation
	PerformanceStatus  PerformanceStatus
	FollowUpCount      int
	SessionCount       int
	NoFollowUpReason   string
	CreateTime         time.Time
	UpdateTime         time.Time
	AcceptTime         time.Time // zero until accepted
	CloseTime          time.Time // zero while open
}

// Open reports whether the case is being handled: accepted and not yet
// agreed or closed. Only open cases run against their time limit.
func (c Case) Open() bool {
	return c.State == StateAccepted || c.State == StateAssigned || c.State == StateMediating
}

// Party returns the party with the given id.
func (c Case) Party(id string) (Party, bool) {
	for _, p := range c.Parties {
		if p.ID == id {
			return p, true
		}
	}
	return Party{}, false
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
	Reason             string            `json:"reason,omitempty"`
	Assignment         *Assignment       `json:"assignment,omitempty"`
	Agreement          *Agreement        `json:"agreement,omitempty"`
	Deadline           *Deadline         `json:"deadline,omitempty"`
	ConsentingPartyIDs []string          `json:"consenting_party_ids,omitempty"`
	Session            *Session          `json:"session,omitempty"`
	Failure            *Failure          `json:"failure,omitempty"`
	Confirmation       *Confirmation     `json:"confirmation,omitempty"`
	PerformanceStatus  PerformanceStatus `json:"performance_status,omitempty"`
	FollowUp           *FollowUp         `json:"follow_up,omitempty"`
	ChangedFields      []string          `json:"changed_fields,omitempty"`
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
