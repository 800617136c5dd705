package bench

import (
	"encoding/json"
	"fmt"
	"time"

	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/mediationd/mediationd/internal/casework"
	mediationv1 "github.com/mediationd/mediationd/proto/mediation/v1"
)

// The data every benchmark case carries, modelled on the README's walk-in
// maintenance dispute: two parties, one with an identity number, a phone
// number and an address, so that masking has work to do. The same values
// are sent over gRPC (proto), over REST (JSON) and to the store (domain
// types), so the three paths store identical cases.
const (
	regionCode     = "621002"
	summaryFormat  = "赡养费纠纷：申请人要求被申请人每月支付赡养费（基准测试 %d）"
	assignReason   = "基准测试分派"
	sessionPlace   = "西峰区妇联巾帼调解工作室"
	sessionMinutes = "调解员告知双方权利义务；双方陈述意见，同意按月支付赡养费。"
	sessionResult  = "达成协议"
	agreementFacts = "申请人年逾七旬，被申请人系其子，自2025年起未支付赡养费。"
	agreementTerms = "王建国自2026年12月起每月10日前支付赡养费800元。"
	agreementPerf  = "银行转账"
	obligationText = "补付2025年度赡养费"
	obligationSum  = "9600"
	obligationDue  = "2027-03-31"
	followUpText   = "已按约支付"

	// organizations is how many organizations the setup creates, each with
	// mediatorsPerOrganization mediators; assignments go round them.
	organizations            = 4
	mediatorsPerOrganization = 2
)

// sessionStart is when benchmark sessions are scheduled: a week ahead.
var sessionStart = time.Now().UTC().Truncate(time.Hour).Add(7 * 24 * time.Hour)

// participants of every benchmark session.
var participants = []string{"王秀英", "王建国"}

// listFilters are the filters of the ListCases calls, in turn: a
// supervisor's view of a county's ongoing mediations, one mediator's cases,
// and the cases waiting for mediation.
var listFilters = []string{
	`state = MEDIATING AND region_code = "621002"`,
	`mediator = "mediators/bench-med-1-1"`,
	`state = ASSIGNED`,
}

// organizationID names the i-th benchmark organization (from 1).
func organizationID(i int) string { return fmt.Sprintf("bench-room-%d", i) }

// mediatorID names the j-th mediator of the i-th organization (from 1).
func mediatorID(i, j int) string { return fmt.Sprintf("bench-med-%d-%d", i, j) }

// assignee returns the organization and mediator of the n-th assignment.
func assignee(n int) (organization, mediator string) {
	i := n%organizations + 1
	j := (n/organizations)%mediatorsPerOrganization + 1
	return "organizations/" + organizationID(i), "mediators/" + mediatorID(i, j)
}

func summary(n int) string { return fmt.Sprintf(summaryFormat, n) }

// protoCase is the benchmark case as a gRPC client sends it.
func protoCase(n int) *mediationv1.Case {
	return &mediationv1.Case{
		DisputeType: mediationv1.DisputeType_DISPUTE_TYPE_MARRIAGE_FAMILY,
		Source:      mediationv1.CaseSource_CASE_SOURCE_WALK_IN,
		Summary:     summary(n),
		RegionCode:  regionCode,
		Parties: []*mediationv1.Party{
			{
				Id: "p1", Name: "王秀英", Role: mediationv1.PartyRole_PARTY_ROLE_APPLICANT,
				IdType: mediationv1.IdType_ID_TYPE_RESIDENT_ID_CARD, IdNumber: "621002195005010024",
				Phone: "13909341234", Address: "西峰区肖金镇米王村",
			},
			{Id: "p2", Name: "王建国", Role: mediationv1.PartyRole_PARTY_ROLE_RESPONDENT, Phone: "0934-8621234"},
		},
	}
}

// domainCase is the benchmark case as the service hands it to the store.
func domainCase(n int) casework.NewCase {
	return casework.NewCase{
		DisputeType: casework.DisputeMarriageFamily,
		Source:      casework.SourceWalkIn,
		Summary:     summary(n),
		RegionCode:  regionCode,
		Parties: []casework.Party{
			{
				ID: "p1", Name: "王秀英", Role: casework.RoleApplicant,
				IDType: casework.IDResidentCard, IDNumber: "621002195005010024",
				Phone: "13909341234", Address: "西峰区肖金镇米王村",
			},
			{ID: "p2", Name: "王建国", Role: casework.RoleRespondent, Phone: "0934-8621234"},
		},
	}
}

// jsonParty and jsonCase are the benchmark case as a REST client sends
// it (the README's JSON).
type jsonParty struct {
	ID       string `json:"id"`
	Name     string `json:"name"`
	Role     string `json:"role"`
	IDType   string `json:"idType,omitempty"`
	IDNumber string `json:"idNumber,omitempty"`
	Phone    string `json:"phone,omitempty"`
	Address  string `json:"address,omitempty"`
}

type jsonCase struct {
	DisputeType string      `json:"disputeType"`
	Source      string      `json:"source"`
	Summary     string      `json:"summary"`
	RegionCode  string      `json:"regionCode"`
	Parties     []jsonParty `json:"parties"`
}

func restCase(n int) ([]byte, error) {
	b, err := json.Marshal(jsonCase{
		DisputeType: "DISPUTE_TYPE_MARRIAGE_FAMILY",
		Source:      "CASE_SOURCE_WALK_IN",
		Summary:     summary(n),
		RegionCode:  regionCode,
		Parties: []jsonParty{
			{
				ID: "p1", Name: "王秀英", Role: "PARTY_ROLE_APPLICANT", IDType: "ID_TYPE_RESIDENT_ID_CARD",
				IDNumber: "621002195005010024", Phone: "13909341234", Address: "西峰区肖金镇米王村",
			},
			{ID: "p2", Name: "王建国", Role: "PARTY_ROLE_RESPONDENT", Phone: "0934-8621234"},
		},
	})
	if err != nil {
		return nil, fmt.Errorf("encode case: %w", err)
	}
	return b, nil
}

func protoAgreement() *mediationv1.Agreement {
	return &mediationv1.Agreement{
		Facts: agreementFacts, Terms: agreementTerms, Performance: agreementPerf,
		Obligations: []*mediationv1.Obligation{{
			ObligorPartyId: "p2", ObligeePartyId: "p1", Description: obligationText,
			Amount: obligationSum, DueDate: obligationDue,
		}},
	}
}

func protoSessionStart() *timestamppb.Timestamp { return timestamppb.New(sessionStart) }

// restAction returns the JSON body of a lifecycle action over REST, as the
// README's curl examples send it.
func restAction(k opKind, caseName, etag string, n int) ([]byte, error) {
	body := map[string]any{"etag": etag}
	switch k {
	case opAssign:
		body["organization"], body["mediator"] = assignee(n)
		body["reason"] = assignReason
	case opScheduleSession:
		body["startTime"], body["place"], body["participants"] = sessionStart.Format(time.RFC3339), sessionPlace, participants
	case opRecordSession:
		body["session"], body["minutes"], body["result"] = caseName+"/sessions/1", sessionMinutes, sessionResult
	case opRecordAgreement:
		body["agreement"] = map[string]any{
			"facts": agreementFacts, "terms": agreementTerms, "performance": agreementPerf,
			"obligations": []map[string]string{{
				"obligorPartyId": "p2", "obligeePartyId": "p1", "description": obligationText,
				"amount": obligationSum, "dueDate": obligationDue,
			}},
		}
	case opRecordFollowUp:
		body["findings"], body["partyIds"], body["performanceStatus"] = followUpText, []string{"p1"}, "PERFORMANCE_STATUS_PERFORMED"
	}
	b, err := json.Marshal(body)
	if err != nil {
		return nil, fmt.Errorf("encode %s: %w", k, err)
	}
	return b, nil
}

// restVerb is the custom method of a lifecycle action in REST paths.
var restVerb = map[opKind]string{
	opAccept: "accept", opAssign: "assign", opStartMediation: "startMediation",
	opScheduleSession: "scheduleSession", opRecordSession: "recordSession",
	opRecordAgreement: "recordAgreement", opRecordFollowUp: "recordFollowUp", opClose: "close",
}

// grpcMethod is the full gRPC method of each call, for the audit context
// of the baseline.
var grpcMethod = map[opKind]string{
	opCreate: "CreateCase", opAccept: "AcceptCase", opAssign: "AssignCase", opStartMediation: "StartMediation",
	opScheduleSession: "ScheduleSession", opRecordSession: "RecordSession", opRecordAgreement: "RecordAgreement",
	opRecordFollowUp: "RecordFollowUp", opClose: "CloseCase", opGet: "GetCase", opList: "ListCases", opEvents: "ListCaseEvents",
}

// domainCommand is the command the service builds from the request of a
// lifecycle action (internal/api), before it adds actor, time and policy.
func domainCommand(k opKind, n int) (casework.Command, error) {
	switch k {
	case opAccept:
		return casework.Command{Action: casework.ActionAccept}, nil
	case opAssign:
		org, med := assignee(n)
		return casework.Command{Action: casework.ActionAssign, Reason: assignReason, Organization: org, Mediator: med}, nil
	case opStartMediation:
		return casework.Command{Action: casework.ActionStartMediation}, nil
	case opScheduleSession:
		return casework.Command{Action: casework.ActionScheduleSession, Session: &casework.Session{
			StartTime: sessionStart, Place: sessionPlace, Participants: participants,
		}}, nil
	case opRecordSession:
		return casework.Command{Action: casework.ActionRecordSession, Session: &casework.Session{
			Number: 1, Minutes: sessionMinutes, Result: sessionResult,
		}}, nil
	case opRecordAgreement:
		return casework.Command{Action: casework.ActionRecordAgreement, Agreement: &casework.Agreement{
			Facts: agreementFacts, Terms: agreementTerms, Performance: agreementPerf,
			Obligations: []casework.Obligation{{
				ObligorPartyID: "p2", ObligeePartyID: "p1", Description: obligationText,
				Amount: obligationSum, DueDate: obligationDue,
			}},
		}}, nil
	case opRecordFollowUp:
		return casework.Command{Action: casework.ActionRecordFollowUp, FollowUp: &casework.FollowUp{
			Findings: followUpText, PartyIDs: []string{"p1"}, PerformanceStatus: casework.Performed,
		}}, nil
	case opClose:
		return casework.Command{Action: casework.ActionClose}, nil
	}
	return casework.Command{}, fmt.Errorf("%s is not a lifecycle action", k)
}
