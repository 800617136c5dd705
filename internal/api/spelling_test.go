package api

import "testing"

// TestSpellings: the filters take the API's enum names as well as the
// stored ones, with the prefix each proto enum gives its values.
func TestSpellings(t *testing.T) {
	for _, c := range []struct {
		spell      func(field, lit string) string
		field, lit string
		want       string
	}{
		{caseSpelling, "state", "CASE_STATE_MEDIATING", "MEDIATING"},
		{caseSpelling, "state", "MEDIATING", "MEDIATING"},
		{caseSpelling, "dispute_type", "DISPUTE_TYPE_MARRIAGE_FAMILY", "MARRIAGE_FAMILY"},
		{caseSpelling, "source", "CASE_SOURCE_COURT_DELEGATED", "COURT_DELEGATED"},
		{caseSpelling, "performance_status", "PERFORMANCE_STATUS_PERFORMED", "PERFORMED"},
		{caseSpelling, "outcome", "CASE_OUTCOME_FAILED", "FAILED"},
		{caseSpelling, "state", "DISPUTE_TYPE_MEDICAL", "DISPUTE_TYPE_MEDICAL"}, // another enum's name stays unknown
		{auditSpelling, "actor_role", "ROLE_COURT_DESK", "COURT_DESK"},
		{auditSpelling, "kind", "AUDIT_EVENT_KIND_WRITE", "WRITE"},
		{organizationSpelling, "type", "ORGANIZATION_TYPE_WOMEN_STUDIO", "WOMEN_STUDIO"},
		{regionSpelling, "level", "REGION_LEVEL_COUNTY", "COUNTY"},
		{mediatorSpelling, "specialty", "DISPUTE_TYPE_MEDICAL", "MEDICAL"},
		{mediatorSpelling, "display_name", "DISPUTE_TYPE_MEDICAL", "DISPUTE_TYPE_MEDICAL"},
		{deliverySpelling, "status", "WEBHOOK_DELIVERY_STATUS_FAILED", "FAILED"},
		{feedSpelling, "action", "CASE_ACTION_RECORD_AGREEMENT", "recordAgreement"},
		{feedSpelling, "action", "RECORD_AGREEMENT", "recordAgreement"},
		{feedSpelling, "action", "recordAgreement", "recordAgreement"},
		{feedSpelling, "case", "RECORD_AGREEMENT", "RECORD_AGREEMENT"}, // only the action is an action
	} {
		if got := c.spell(c.field, c.lit); got != c.want {
			t.Errorf("%s = %s: spelled %q, want %q", c.field, c.lit, got, c.want)
		}
	}
}
