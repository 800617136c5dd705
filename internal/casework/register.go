package casework

import (
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"
)

// DisputeTypes lists every dispute type in the statistics' order.
var DisputeTypes = []DisputeType{
	DisputeMarriageFamily, DisputeNeighbor, DisputeHousingHomestead, DisputeContractDebt,
	DisputeProductionBusiness, DisputeDamages, DisputeLandForestContract, DisputeLandRequisition,
	DisputeLabor, DisputeEnvironment, DisputeTrafficAccident, DisputeMedical,
	DisputePropertyManagement, DisputeConsumer, DisputeVillageAffairs, DisputeOther,
}

// Sources lists every intake channel.
var Sources = []Source{
	SourceWalkIn, SourceOnline, SourceHotline12348, SourceGridSweep, SourcePetitionOffice,
	SourcePolice, SourceCourtDelegated, SourceCourtEntrusted, SourceOwnInitiative,
}

// PartyRoles lists every party role.
var PartyRoles = []PartyRole{RoleApplicant, RoleRespondent, RoleThirdParty, RoleAgent}

var regionCodePattern = regexp.MustCompile(`^[1-9][0-9]{5}$`)

// NewCase is a dispute as registered at intake.
type NewCase struct {
	DisputeType    DisputeType    `json:"dispute_type"`
	Source         Source         `json:"source"`
	Summary        string         `json:"summary"`
	RegionCode     string         `json:"region_code"`
	Parties        []Party        `json:"parties"`
	CourtReferral  *CourtReferral `json:"court_referral,omitempty"`
	EscalationRisk bool           `json:"escalation_risk,omitempty"`
	FamilyViolence bool           `json:"family_violence,omitempty"`
	MinorsInvolved bool           `json:"minors_involved,omitempty"`
}

// IsCourtReferral reports whether a source is a court referral (委派 or 委托).
func (s Source) IsCourtReferral() bool {
	return s == SourceCourtDelegated || s == SourceCourtEntrusted
}

// Normalize trims surrounding white space from the free-text fields,
// normalises identity numbers and phone numbers, and gives parties
// without an id the ids p1, p2... not taken by others.
func (n *NewCase) Normalize() {
	n.Summary = strings.TrimSpace(n.Summary)
	n.Parties = slices.Clone(n.Parties)
	taken := map[string]bool{}
	for i := range n.Parties {
		p := &n.Parties[i]
		p.ID = strings.TrimSpace(p.ID)
		p.Name = strings.TrimSpace(p.Name)
		p.Address = strings.TrimSpace(p.Address)
		p.Occupation = strings.TrimSpace(p.Occupation)
		p.Ethnicity = strings.TrimSpace(p.Ethnicity)
		p.LegalRepresentative = strings.TrimSpace(p.LegalRepresentative)
		p.RepresentedPartyIDs = slices.Clone(p.RepresentedPartyIDs)
		switch p.IDType {
		case IDResidentCard:
			p.IDNumber = NormalizeResidentID(p.IDNumber)
		default:
			p.IDNumber = strings.ToUpper(strings.TrimSpace(p.IDNumber))
		}
		if p.Phone != "" {
			p.Phone = NormalizePhone(p.Phone)
		}
		if p.ID != "" {
			taken[p.ID] = true
		}
	}
	next := 1
	for i := range n.Parties {
		if n.Parties[i].ID != "" {
			continue
		}
		for taken[fmt.Sprintf("p%d", next)] {
			next++
		}
		n.Parties[i].ID = fmt.Sprintf("p%d", next)
		taken[n.Parties[i].ID] = true
	}
	if r := n.CourtReferral; r != nil {
		cr := *r
		cr.CourtCode = strings.TrimSpace(cr.CourtCode)
		cr.CourtName = strings.TrimSpace(cr.CourtName)
		cr.CourtCaseNumber = strings.TrimSpace(cr.CourtCaseNumber)
		cr.Judge = strings.TrimSpace(cr.Judge)
		cr.Organization = strings.TrimSpace(cr.Organization)
		n.CourtReferral = &cr
	}
}

// GroupDispute reports whether the dispute is 群体性: it has at least as
// many applicants as the policy says.
func (n NewCase) GroupDispute(p Policy) bool {
	applicants := 0
	for _, party := range n.Parties {
		if party.Role == RoleApplicant {
			applicants++
		}
	}
	return applicants >= p.withDefaults().GroupDisputeApplicants
}

// Validate checks what a registration needs, returning the first problem as
// a *FieldError. now dates birth dates in identity numbers.
func (n NewCase) Validate(now time.Time) error {
	switch {
	case !slices.Contains(DisputeTypes, n.DisputeType):
		return &FieldError{Field: "case.dispute_type", Message: fmt.Sprintf("required: one of %s", joinValues(DisputeTypes))}
	case !slices.Contains(Sources, n.Source):
		return &FieldError{Field: "case.source", Message: fmt.Sprintf("required: one of %s", joinValues(Sources))}
	case isBlank(n.Summary):
		return &FieldError{Field: "case.summary", Message: "required: a short account of the dispute"}
	case !regionCodePattern.MatchString(n.RegionCode):
		return &FieldError{Field: "case.region_code", Message: "required: the 6-digit GB/T 2260 code of the county, e.g. 621002"}
	case len(n.Parties) == 0:
		return &FieldError{Field: "case.parties", Message: "required: at least one applicant"}
	case len(n.Parties) > 500:
		return &FieldError{Field: "case.parties", Message: "at most 500 parties; register a larger group dispute with representatives"}
	}
	if err := tooLong("case.summary", n.Summary, 4000); err != nil {
		return err
	}
	if err := n.validateReferral(); err != nil {
		return err
	}
	applicants := 0
	ids := map[string]int{}
	for i, p := range n.Parties {
		if err := p.validate(fmt.Sprintf("case.parties[%d]", i), now); err != nil {
			return err
		}
		if j, dup := ids[p.ID]; dup {
			return &FieldError{Field: fmt.Sprintf("case.parties[%d].id", i), Message: fmt.Sprintf("%q is also the id of parties[%d]; party ids must differ", p.ID, j)}
		}
		ids[p.ID] = i
		if p.Role == RoleApplicant {
			applicants++
		}
	}
	if applicants == 0 {
		return &FieldError{Field: "case.parties", Message: "at least one party must be an APPLICANT (申请人)"}
	}
	for i, p := range n.Parties {
		field := fmt.Sprintf("case.parties[%d].represented_party_ids", i)
		if p.Role != RoleAgent {
			if len(p.RepresentedPartyIDs) > 0 {
				return &FieldError{Field: field, Message: "only an AGENT (代理人) represents other parties"}
			}
			continue
		}
		if len(p.RepresentedPartyIDs) == 0 {
			return &FieldError{Field: field, Message: "required for an AGENT: the ids of the parties the agent represents"}
		}
		for _, id := range p.RepresentedPartyIDs {
			j, ok := ids[id]
			switch {
			case !ok:
				return &FieldError{Field: field, Message: fmt.Sprintf("no party %q in the case", id)}
			case n.Parties[j].Role == RoleAgent:
				return &FieldError{Field: field, Message: fmt.Sprintf("%q is an agent too; an agent represents applicants, respondents or third parties", id)}
			}
		}
	}
	return nil
}

var organizationNameRE = regexp.MustCompile(`^organizations/[a-z0-9][a-z0-9-]{0,62}$`)

func (n NewCase) validateReferral() error {
	r := n.CourtReferral
	switch {
	case n.Source.IsCourtReferral() && r == nil:
		return &FieldError{Field: "case.court_referral", Message: fmt.Sprintf("required for source %s: the referring court's code and case number", n.Source)}
	case !n.Source.IsCourtReferral() && r != nil:
		return &FieldError{Field: "case.court_referral", Message: fmt.Sprintf("only court referrals (COURT_DELEGATED, COURT_ENTRUSTED) carry one; source is %s", n.Source)}
	case r == nil:
		return nil
	case isBlank(r.CourtCode):
		return &FieldError{Field: "case.court_referral.court_code", Message: "required: the court's code, e.g. 甘1002"}
	case isBlank(r.CourtCaseNumber):
		return &FieldError{Field: "case.court_referral.court_case_number", Message: "required: the court's case number, e.g. （2026）甘1002民诉前调123号"}
	case r.Procedure != "" && n.Source != SourceCourtEntrusted:
		return &FieldError{Field: "case.court_referral.procedure", Message: "only a case entrusted after filing (COURT_ENTRUSTED) has a court procedure"}
	case r.Procedure != "" && r.Procedure != ProcedureOrdinary && r.Procedure != ProcedureSummary:
		return &FieldError{Field: "case.court_referral.procedure", Message: "must be ORDINARY or SUMMARY"}
	case r.Organization != "" && !organizationNameRE.MatchString(r.Organization):
		return &FieldError{Field: "case.court_referral.organization", Message: fmt.Sprintf("%q is not an organization name: expected organizations/{organization}, as GET /v1/organizations lists them", r.Organization)}
	}
	return nil
}

var partyKinds = []PartyKind{"", KindNaturalPerson, KindLegalPerson, KindUnincorporated}

var idTypes = []IDType{"", IDResidentCard, IDPassport, IDHKMacaoPermit, IDTaiwanPermit, IDForeignPermanent, IDUnifiedSocialCreditCode, IDOther}

func (p Party) validate(field string, now time.Time) error {
	switch {
	case isBlank(p.Name):
		return &FieldError{Field: field + ".name", Message: "required: the party's full name"}
	case !slices.Contains(PartyRoles, p.Role):
		return &FieldError{Field: field + ".role", Message: fmt.Sprintf("required: one of %s", joinValues(PartyRoles))}
	case !slices.Contains(partyKinds, p.Kind):
		return &FieldError{Field: field + ".kind", Message: "must be NATURAL_PERSON, LEGAL_PERSON or UNINCORPORATED"}
	case !slices.Contains(idTypes, p.IDType):
		return &FieldError{Field: field + ".id_type", Message: fmt.Sprintf("must be one of %s", joinValues(idTypes[1:]))}
	case p.IDType == "" && p.IDNumber != "":
		return &FieldError{Field: field + ".id_type", Message: "required with an id_number: say which document it is"}
	case p.IDType != "" && p.IDNumber == "":
		return &FieldError{Field: field + ".id_number", Message: "required with an id_type: the document's number"}
	case p.Gender != "" && p.Gender != GenderMale && p.Gender != GenderFemale:
		return &FieldError{Field: field + ".gender", Message: "must be MALE or FEMALE"}
	}
	for _, f := range []struct {
		name, value string
		max         int
	}{
		{"name", p.Name, 100}, {"id", p.ID, 16}, {"id_number", p.IDNumber, 40}, {"phone", p.Phone, 30},
		{"address", p.Address, 200}, {"ethnicity", p.Ethnicity, 20}, {"occupation", p.Occupation, 50},
		{"legal_representative", p.LegalRepresentative, 100},
	} {
		if err := tooLong(field+"."+f.name, f.value, f.max); err != nil {
			return err
		}
	}
	switch p.IDType {
	case IDResidentCard:
		if p.IsOrganization() {
			return &FieldError{Field: field + ".id_type", Message: "a legal person or organization is identified by its UNIFIED_SOCIAL_CREDIT_CODE, not a resident ID card"}
		}
		if err := CheckResidentID(p.IDNumber, now); err != nil {
			return &FieldError{Field: field + ".id_number", Message: "not a valid resident ID card number (居民身份证号码): " + err.Error()}
		}
	case IDUnifiedSocialCreditCode:
		if err := CheckUnifiedSocialCreditCode(p.IDNumber); err != nil {
			return &FieldError{Field: field + ".id_number", Message: "not a valid unified social credit code (统一社会信用代码): " + err.Error()}
		}
	}
	if p.Phone != "" {
		if err := CheckMobilePhone(p.Phone); err != nil {
			return &FieldError{Field: field + ".phone", Message: err.Error()}
		}
	}
	if p.BirthDate != "" {
		b, err := time.Parse(time.DateOnly, p.BirthDate)
		if err != nil || b.After(now) || b.Year() < 1900 {
			return &FieldError{Field: field + ".birth_date", Message: fmt.Sprintf("%q is not a date of birth in the form YYYY-MM-DD", p.BirthDate)}
		}
	}
	return nil
}

// Hash fingerprints the registration, so that a retried create can be told
// apart from a different create that reuses the same request id.
func (n NewCase) Hash() []byte {
	// NewCase holds only strings and slices of them: Marshal cannot fail.
	b, _ := json.Marshal(n)
	sum := sha256.Sum256(b)
	return sum[:]
}

// Register returns the case and first history event for a registration.
// The case number is assigned by the store.
func Register(n NewCase, id uuid.UUID, actor, requestID string, now time.Time, p Policy) (Case, Event) {
	c := Case{
		ID:             id,
		Version:        1,
		State:          StateIntake,
		DisputeType:    n.DisputeType,
		Source:         n.Source,
		Summary:        n.Summary,
		RegionCode:     n.RegionCode,
		Parties:        slices.Clone(n.Parties),
		GroupDispute:   n.GroupDispute(p),
		EscalationRisk: n.EscalationRisk,
		FamilyViolence: n.FamilyViolence,
		MinorsInvolved: n.MinorsInvolved,
		CreateTime:     now,
		UpdateTime:     now,
	}
	if n.CourtReferral != nil {
		r := *n.CourtReferral
		c.CourtReferral = &r
	}
	ev := Event{
		CaseID:    id,
		Version:   1,
		Action:    ActionCreate,
		To:        StateIntake,
		Actor:     actor,
		Time:      now,
		RequestID: requestID,
	}
	return c, ev
}

// tooLong refuses text longer than max characters.
func tooLong(field, s string, max int) error {
	if n := utf8.RuneCountInString(s); n > max {
		return &FieldError{Field: field, Message: fmt.Sprintf("at most %d characters, got %d", max, n)}
	}
	return nil
}

func joinValues[T ~string](vs []T) string {
	s := make([]string, len(vs))
	for i, v := range vs {
		s[i] = string(v)
	}
	return strings.Join(s, ", ")
}
