package api

import (
	"strings"

	"github.com/mediationd/mediationd/internal/casework"
	"github.com/mediationd/mediationd/internal/store"
	mediationv1 "github.com/mediationd/mediationd/proto/mediation/v1"
)

// Conversions between the directory's domain types and its messages.
// Output-only fields of a message are never read.

func regionToProto(r store.Region) *mediationv1.Region {
	out := &mediationv1.Region{
		Name:        "regions/" + r.Code,
		Code:        r.Code,
		DisplayName: r.DisplayName,
		Level:       mediationv1.RegionLevel(enumFromDomain(mediationv1.RegionLevel_value, "REGION_LEVEL_", r.Level)),
		AutoAssign:  r.EffectiveAutoAssign,
		Etag:        Etag(r.Version),
	}
	if r.ParentCode != "" {
		out.Parent = "regions/" + r.ParentCode
	}
	return out
}

func organizationTypeToProto(t casework.OrganizationType) mediationv1.OrganizationType {
	return mediationv1.OrganizationType(enumFromDomain(mediationv1.OrganizationType_value, "ORGANIZATION_TYPE_", t))
}

func organizationTypeFromProto(t mediationv1.OrganizationType) casework.OrganizationType {
	return enumToDomain[casework.OrganizationType](mediationv1.OrganizationType_name, "ORGANIZATION_TYPE_", int32(t))
}

func disputeTypesToProto(types []casework.DisputeType) []mediationv1.DisputeType {
	out := make([]mediationv1.DisputeType, len(types))
	for i, t := range types {
		out[i] = mediationv1.DisputeType(enumFromDomain(mediationv1.DisputeType_value, "DISPUTE_TYPE_", t))
	}
	return out
}

func disputeTypesFromProto(types []mediationv1.DisputeType) []casework.DisputeType {
	out := make([]casework.DisputeType, len(types))
	for i, t := range types {
		out[i] = enumToDomain[casework.DisputeType](mediationv1.DisputeType_name, "DISPUTE_TYPE_", int32(t))
	}
	return out
}

func organizationToProto(o casework.Organization) *mediationv1.Organization {
	return &mediationv1.Organization{
		Name:          o.Name(),
		DisplayName:   o.DisplayName,
		Type:          organizationTypeToProto(o.Type),
		RegionCode:    o.RegionCode,
		DisputeTypes:  disputeTypesToProto(o.DisputeTypes),
		CourtRoster:   o.CourtRoster,
		Address:       o.Address,
		Phone:         o.Phone,
		Active:        o.Active,
		OpenCaseCount: int32(o.OpenCases),
		CreateTime:    timeToProto(o.CreateTime),
		UpdateTime:    timeToProto(o.UpdateTime),
		Etag:          Etag(o.Version),
	}
}

// organizationFromProto reads the fields a caller may set.
func organizationFromProto(id string, po *mediationv1.Organization) casework.Organization {
	return casework.Organization{
		ID:           id,
		DisplayName:  strings.TrimSpace(po.GetDisplayName()),
		Type:         organizationTypeFromProto(po.GetType()),
		RegionCode:   po.GetRegionCode(),
		DisputeTypes: disputeTypesFromProto(po.GetDisputeTypes()),
		CourtRoster:  po.GetCourtRoster(),
		Address:      strings.TrimSpace(po.GetAddress()),
		Phone:        strings.TrimSpace(po.GetPhone()),
	}
}

func mediatorToProto(m casework.Mediator) *mediationv1.Mediator {
	return &mediationv1.Mediator{
		Name:          m.Name(),
		DisplayName:   m.DisplayName,
		Organization:  casework.Organization{ID: m.OrganizationID}.Name(),
		Specialties:   disputeTypesToProto(m.Specialties),
		CourtRoster:   m.CourtRoster,
		Phone:         m.Phone,
		Active:        m.Active,
		OpenCaseCount: int32(m.OpenCases),
		CreateTime:    timeToProto(m.CreateTime),
		UpdateTime:    timeToProto(m.UpdateTime),
		Etag:          Etag(m.Version),
	}
}

// mediatorFromProto reads the fields a caller may set; organizationID is
// the id of pm.organization, parsed by the caller.
func mediatorFromProto(id, organizationID string, pm *mediationv1.Mediator) casework.Mediator {
	return casework.Mediator{
		ID:             id,
		DisplayName:    strings.TrimSpace(pm.GetDisplayName()),
		OrganizationID: organizationID,
		Specialties:    disputeTypesFromProto(pm.GetSpecialties()),
		CourtRoster:    pm.GetCourtRoster(),
		Phone:          strings.TrimSpace(pm.GetPhone()),
	}
}

func deadlineRuleToProto(r casework.DeadlineRule) *mediationv1.DeadlineRule {
	return &mediationv1.DeadlineRule{
		Name:             r.Name(),
		DisplayName:      r.DisplayName,
		Source:           mediationv1.CaseSource(enumFromDomain(mediationv1.CaseSource_value, "CASE_SOURCE_", r.Source)),
		OrganizationType: organizationTypeToProto(r.OrganizationType),
		CourtProcedure:   mediationv1.CourtProcedure(enumFromDomain(mediationv1.CourtProcedure_value, "COURT_PROCEDURE_", r.CourtProcedure)),
		Days:             int32(r.Days),
		MaxExtensions:    int32(r.MaxExtensions),
		ExtensionDays:    int32(r.ExtensionDays),
		Etag:             Etag(r.Version),
	}
}

// deadlineRuleFromProto reads the fields a caller may set.
func deadlineRuleFromProto(id string, pr *mediationv1.DeadlineRule) casework.DeadlineRule {
	return casework.DeadlineRule{
		ID:               id,
		DisplayName:      strings.TrimSpace(pr.GetDisplayName()),
		Source:           enumToDomain[casework.Source](mediationv1.CaseSource_name, "CASE_SOURCE_", int32(pr.GetSource())),
		OrganizationType: organizationTypeFromProto(pr.GetOrganizationType()),
		CourtProcedure:   enumToDomain[casework.CourtProcedure](mediationv1.CourtProcedure_name, "COURT_PROCEDURE_", int32(pr.GetCourtProcedure())),
		Days:             int(pr.GetDays()),
		MaxExtensions:    int(pr.GetMaxExtensions()),
		ExtensionDays:    int(pr.GetExtensionDays()),
	}
}
