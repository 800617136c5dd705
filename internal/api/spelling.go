package api

import (
	"strings"

	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/mediationd/mediationd/internal/aipfilter"
	mediationv1 "github.com/mediationd/mediationd/proto/mediation/v1"
)

// The filters of the list methods accept an enum value as stored
// (MEDIATING) and as the API names it (CASE_STATE_MEDIATING). The store
// knows the stored names; these spellings, one per list, map the API's
// names onto them, from the protos' own enum descriptors.
var (
	caseSpelling = spelling(map[string]protoreflect.EnumDescriptor{
		"state":              mediationv1.CaseState(0).Descriptor(),
		"outcome":            mediationv1.CaseOutcome(0).Descriptor(),
		"dispute_type":       mediationv1.DisputeType(0).Descriptor(),
		"source":             mediationv1.CaseSource(0).Descriptor(),
		"performance_status": mediationv1.PerformanceStatus(0).Descriptor(),
	})
	regionSpelling = spelling(map[string]protoreflect.EnumDescriptor{
		"level": mediationv1.RegionLevel(0).Descriptor(),
	})
	organizationSpelling = spelling(map[string]protoreflect.EnumDescriptor{
		"type":         mediationv1.OrganizationType(0).Descriptor(),
		"dispute_type": mediationv1.DisputeType(0).Descriptor(),
	})
	mediatorSpelling = spelling(map[string]protoreflect.EnumDescriptor{
		"specialty": mediationv1.DisputeType(0).Descriptor(),
	})
	auditSpelling = spelling(map[string]protoreflect.EnumDescriptor{
		"kind":       mediationv1.AuditEventKind(0).Descriptor(),
		"actor_role": mediationv1.Role(0).Descriptor(),
	})

	deliverySpelling = spelling(map[string]protoreflect.EnumDescriptor{
		"status": mediationv1.WebhookDeliveryStatus(0).Descriptor(),
	})
)

// feedSpelling takes an action in a change feed's filter by its API name
// (CASE_ACTION_RECORD_AGREEMENT or RECORD_AGREEMENT) or as stored
// (recordAgreement).
var feedSpelling aipfilter.Spelling = func() aipfilter.Spelling {
	byName := map[string]string{}
	for a, pa := range actionToProtoMap {
		name := pa.String()
		byName[name] = string(a)
		byName[strings.TrimPrefix(name, "CASE_ACTION_")] = string(a)
	}
	return func(field, lit string) string {
		if stored, ok := byName[lit]; ok && field == "action" {
			return stored
		}
		return lit
	}
}()

// spelling strips the enum's value prefix (CASE_STATE_ of
// CASE_STATE_UNSPECIFIED) from the literals of each field.
func spelling(fields map[string]protoreflect.EnumDescriptor) aipfilter.Spelling {
	prefixes := make(map[string]string, len(fields))
	for field, e := range fields {
		prefixes[field] = strings.TrimSuffix(string(e.Values().ByNumber(0).Name()), "UNSPECIFIED")
	}
	return func(field, lit string) string {
		return strings.TrimPrefix(lit, prefixes[field])
	}
}
