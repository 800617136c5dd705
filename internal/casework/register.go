package casework

import (
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"

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
	DisputeType DisputeType `json:"dispute_type"`
	Source      Source      `json:"source"`
	Summary     string      `json:"summary"`
	RegionCode  string      `json:"region_code"`
	Parties     []Party     `json:"parties"`
}

// Normalize trims surrounding white space from the free-text fields.
func (n *NewCase) Normalize() {
	n.Summary = strings.TrimSpace(n.Summary)
	n.Parties = slices.Clone(n.Parties)
	for i := range n.Parties {
		n.Parties[i].Name = strings.TrimSpace(n.Parties[i].Name)
	}
}

// Validate checks what a registration needs, returning the first problem as
// a *FieldError.
func (n NewCase) Validate() error {
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
	}
	applicants := 0
	for i, p := range n.Parties {
		if isBlank(p.Name) {
			return &FieldError{Field: fmt.Sprintf("case.parties[%d].name", i), Message: "required: the party's full name"}
		}
		if !slices.Contains(PartyRoles, p.Role) {
			return &FieldError{Field: fmt.Sprintf("case.parties[%d].role", i), Message: fmt.Sprintf("required: one of %s", joinValues(PartyRoles))}
		}
		if p.Role == RoleApplicant {
			applicants++
		}
	}
	if applicants == 0 {
		return &FieldError{Field: "case.parties", Message: "at least one party must be an APPLICANT (申请人)"}
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
func Register(n NewCase, id uuid.UUID, actor, requestID string, now time.Time) (Case, Event) {
	c := Case{
		ID:          id,
		Version:     1,
		State:       StateIntake,
		DisputeType: n.DisputeType,
		Source:      n.Source,
		Summary:     n.Summary,
		RegionCode:  n.RegionCode,
		Parties:     slices.Clone(n.Parties),
		CreateTime:  now,
		UpdateTime:  now,
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

func joinValues[T ~string](vs []T) string {
	s := make([]string, len(vs))
	for i, v := range vs {
		s[i] = string(v)
	}
	return strings.Join(s, ", ")
}
