package api

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"

	"google.golang.org/protobuf/types/known/fieldmaskpb"

	"github.com/mediationd/mediationd/internal/auth"
	"github.com/mediationd/mediationd/internal/casework"
	"github.com/mediationd/mediationd/internal/store"
	mediationv1 "github.com/mediationd/mediationd/proto/mediation/v1"
)

// DirectoryService serves mediation.v1.DirectoryService: regions,
// organizations, mediators and deadline rules.
//
// Updates follow AIP-134. The update_mask names the fields to change; an
// empty mask, or "*", means every field that may be changed, because
// proto3 cannot tell a field the caller left out from one set to its zero
// value: over gRPC, send the whole resource or name the fields. Through
// the REST gateway an empty mask is derived from the fields present in
// the JSON body. Output-only fields (name, etag, active, counts, times)
// are ignored wherever they appear, in the resource or in the mask; a
// path that is not a field of the resource is INVALID_ARGUMENT. The
// resource's etag, when set, makes an update conditional (AIP-154).
type DirectoryService struct {
	mediationv1.UnimplementedDirectoryServiceServer

	store *store.Store
	now   Clock
}

// NewDirectoryService returns the service. now stamps create and update
// times; nil means time.Now.
func NewDirectoryService(st *store.Store, now Clock) *DirectoryService {
	if now == nil {
		now = time.Now
	}
	return &DirectoryService{store: st, now: now}
}

func (s *DirectoryService) clock() time.Time { return s.now().UTC().Truncate(time.Microsecond) }

var (
	directoryIDPattern = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,62}$`)
	regionCodePattern  = regexp.MustCompile(`^[1-9][0-9]{5}$`)
)

// parseID extracts the id from `{collection}/{id}`.
func parseID(field, name, collection string) (string, error) {
	id, ok := strings.CutPrefix(name, collection+"/")
	if !ok || !directoryIDPattern.MatchString(id) {
		return "", &casework.FieldError{Field: field, Message: fmt.Sprintf("%q is not a name of %s: expected %s/{id}, the id being 1 to 63 lower-case letters, digits and hyphens", name, collection, collection)}
	}
	return id, nil
}

// parseRegionName extracts the code from `regions/{code}`.
func parseRegionName(field, name string) (string, error) {
	code, ok := strings.CutPrefix(name, "regions/")
	if !ok || !regionCodePattern.MatchString(code) {
		return "", &casework.FieldError{Field: field, Message: fmt.Sprintf("%q is not a region name: expected regions/{code} with a 6-digit GB/T 2260 code, e.g. regions/621002", name)}
	}
	return code, nil
}

// parseResourceEtag is parseEtag for the etag of a directory resource,
// reported on field.

// maskSchema describes a resource for update masks.
type maskSchema struct {
	mutable   []string // the paths an update may change, in the order messages list them
	immutable []string // fields set at creation: named in a mask, they must keep their value
	ignored   []string // output-only and identifying fields
}

var (
	regionMask = maskSchema{
		mutable: []string{"auto_assign"},
		ignored: []string{"name", "code", "display_name", "level", "parent", "etag"},
	}
	organizationMask = maskSchema{
		mutable: []string{"display_name", "type", "region_code", "dispute_types", "court_roster", "address", "phone"},
		ignored: []string{"name", "active", "open_case_count", "create_time", "update_time", "etag"},
	}
	mediatorMask = maskSchema{
		mutable: []string{"display_name", "organization", "specialties", "court_roster", "phone"},
		ignored: []string{"name", "active", "open_case_count", "create_time", "update_time", "etag"},
	}
	deadlineRuleMask = maskSchema{
		mutable:   []string{"display_name", "days", "max_extensions", "extension_days"},
		immutable: []string{"source", "organization_type", "court_procedure"},
		ignored:   []string{"name", "etag"},
	}
)

// selected returns the mutable and immutable paths mask names: every
// mutable path for an empty mask or "*". A path that is not a field is a
// *casework.FieldError on update_mask naming the allowed paths.
func (ms maskSchema) selected(mask *fieldmaskpb.FieldMask) (map[string]bool, error) {
	out := map[string]bool{}
	paths := mask.GetPaths()
	if len(paths) == 0 || slices.Equal(paths, []string{"*"}) {
		for _, p := range ms.mutable {
			out[p] = true
		}
		return out, nil
	}
	for _, p := range paths {
		p = maskPath(p)
		top, _, nested := strings.Cut(p, ".")
		switch {
		case slices.Contains(ms.ignored, top):
		case !nested && (slices.Contains(ms.mutable, p) || slices.Contains(ms.immutable, p)):
			out[p] = true
		default:
			return nil, &casework.FieldError{Field: "update_mask", Message: fmt.Sprintf("%q is not a field that can be changed; the paths are %s (empty or \"*\" means all of them)", p, strings.Join(ms.mutable, ", "))}
		}
	}
	return out, nil
}

// maskPath reads an update-mask path as the proto field name: a path in
// the JSON spelling (autoAssign), which REST clients send in the
// updateMask query parameter, becomes auto_assign.
func maskPath(p string) string {
	if strings.IndexFunc(p, unicode.IsUpper) < 0 {
		return p
	}
	var b strings.Builder
	for _, r := range p {
		if unicode.IsUpper(r) {
			b.WriteByte('_')
			r = unicode.ToLower(r)
		}
		b.WriteRune(r)
	}
	return b.String()
}

// checkVersion answers an update whose mask selects nothing to change:
// the resource is returned as it is, provided the etag, if any, is still
// current.
func checkVersion(name string, current, want int64) error {
	if want > 0 && current != want {
		return &casework.ConflictError{Message: fmt.Sprintf("%s changed since the etag was read (it is now at version %d); read it again and decide again", name, current), Version: current}
	}
	return nil
}

// keyPageToken is the cursor of a list ordered by a text key: the key of
// the last row of the page, and the fingerprint of the query, as
// pageToken is for lists ordered by a number.
type keyPageToken struct {
	After string `json:"k"`
	Query string `json:"q,omitempty"`
}

func encodeKeyPageToken(after, query string) string {
	if after == "" {
		return ""
	}
	b, _ := json.Marshal(keyPageToken{After: after, Query: query})
	return base64.RawURLEncoding.EncodeToString(b)
}

// decodeKeyPageToken returns the cursor in token; "" is the first page.
func decodeKeyPageToken(token, query string) (string, error) {
	if token == "" {
		return "", nil
	}
	b, err := base64.RawURLEncoding.DecodeString(token)
	var t keyPageToken
	if err == nil {
		err = json.Unmarshal(b, &t)
	}
	if err != nil || t.After == "" {
		return "", &casework.FieldError{Field: "page_token", Message: "not a page token this service issued: pass next_page_token from the previous response unchanged"}
	}
	if t.Query != query {
		return "", &casework.FieldError{Field: "page_token", Message: "the page token belongs to a different list or filter: keep the other parameters unchanged between pages, or start again without a page_token"}
	}
	return t.After, nil
}

// ListRegions lists regions in code order. Region codes are numbers, so
// their page tokens are those of the case lists.
func (s *DirectoryService) ListRegions(ctx context.Context, req *mediationv1.ListRegionsRequest) (*mediationv1.ListRegionsResponse, error) {
	query := queryFingerprint("regions", req.GetFilter())
	after, err := decodePageToken(req.GetPageToken(), query)
	if err != nil {
		return nil, err
	}
	p := store.DirectoryListParams{Filter: req.GetFilter(), Spelling: regionSpelling, Limit: pageSize(req.GetPageSize(), defaultPageSize)}
	if after > 0 {
		p.After = strconv.FormatInt(after, 10)
	}
	page, err := s.store.ListRegions(ctx, p)
	if err != nil {
		return nil, err
	}
	out := &mediationv1.ListRegionsResponse{}
	if page.Next != "" {
		next, err := strconv.ParseInt(page.Next, 10, 64)
		if err != nil {
			return nil, fmt.Errorf("region code %q as a page cursor: %w", page.Next, err)
		}
		out.NextPageToken = encodePageToken(next, query)
	}
	for _, r := range page.Regions {
		out.Regions = append(out.Regions, regionToProto(r))
	}
	return out, nil
}

// GetRegion returns one region.
func (s *DirectoryService) GetRegion(ctx context.Context, req *mediationv1.GetRegionRequest) (*mediationv1.GetRegionResponse, error) {
	code, err := parseRegionName("name", req.GetName())
	if err != nil {
		return nil, err
	}
	r, err := s.store.GetRegion(ctx, code)
	if err != nil {
		return nil, err
	}
	return &mediationv1.GetRegionResponse{Region: regionToProto(r)}, nil
}

// UpdateRegion changes a region's auto_assign. The value set is the
// region's own; a region read back shows the value that applies to it,
// its own or the one it inherits.
func (s *DirectoryService) UpdateRegion(ctx context.Context, req *mediationv1.UpdateRegionRequest) (*mediationv1.UpdateRegionResponse, error) {
	in := req.GetRegion()
	code, err := parseRegionName("region.name", in.GetName())
	if err != nil {
		return nil, err
	}
	if p := auth.FromContext(ctx); p.Role == auth.RoleSupervisor && !strings.HasPrefix(code, auth.RegionPrefix(p.RegionCode)) {
		return nil, &auth.PermissionError{Message: fmt.Sprintf("regions/%s is outside the region %s you supervise", code, p.RegionCode)}
	}
	paths, err := regionMask.selected(req.GetUpdateMask())
	if err != nil {
		return nil, err
	}
	version, err := parseEtag("region.etag", in.GetEtag())
	if err != nil {
		return nil, err
	}
	if !paths["auto_assign"] {
		// Nothing to change: answer with the region, still checking the etag.
		r, err := s.store.GetRegion(ctx, code)
		if err != nil {
			return nil, err
		}
		if err := checkVersion("regions/"+code, r.Version, version); err != nil {
			return nil, err
		}
		return &mediationv1.UpdateRegionResponse{Region: regionToProto(r)}, nil
	}
	autoAssign := in.GetAutoAssign()
	r, err := s.store.UpdateRegionAutoAssign(ctx, code, &autoAssign, version)
	if err != nil {
		return nil, err
	}
	return &mediationv1.UpdateRegionResponse{Region: regionToProto(r)}, nil
}

// CreateOrganization creates an active organization.
func (s *DirectoryService) CreateOrganization(ctx context.Context, req *mediationv1.CreateOrganizationRequest) (*mediationv1.CreateOrganizationResponse, error) {
	if !directoryIDPattern.MatchString(req.GetOrganizationId()) {
		return nil, &casework.FieldError{Field: "organization_id", Message: "must be 1 to 63 lower-case letters, digits and hyphens, starting with a letter or digit"}
	}
	o, err := s.store.CreateOrganization(ctx, organizationFromProto(req.GetOrganizationId(), req.GetOrganization()), s.clock())
	if err != nil {
		return nil, err
	}
	return &mediationv1.CreateOrganizationResponse{Organization: organizationToProto(o)}, nil
}

// GetOrganization returns one organization.
func (s *DirectoryService) GetOrganization(ctx context.Context, req *mediationv1.GetOrganizationRequest) (*mediationv1.GetOrganizationResponse, error) {
	id, err := parseID("name", req.GetName(), "organizations")
	if err != nil {
		return nil, err
	}
	o, err := s.store.GetOrganization(ctx, id)
	if err != nil {
		return nil, err
	}
	return &mediationv1.GetOrganizationResponse{Organization: organizationToProto(o)}, nil
}

// ListOrganizations lists organizations in id order.
func (s *DirectoryService) ListOrganizations(ctx context.Context, req *mediationv1.ListOrganizationsRequest) (*mediationv1.ListOrganizationsResponse, error) {
	query := queryFingerprint("organizations", req.GetFilter())
	after, err := decodeKeyPageToken(req.GetPageToken(), query)
	if err != nil {
		return nil, err
	}
	page, err := s.store.ListOrganizations(ctx, store.DirectoryListParams{
		Filter: req.GetFilter(), Spelling: organizationSpelling, After: after, Limit: pageSize(req.GetPageSize(), defaultPageSize),
	})
	if err != nil {
		return nil, err
	}
	out := &mediationv1.ListOrganizationsResponse{NextPageToken: encodeKeyPageToken(page.Next, query)}
	for _, o := range page.Organizations {
		out.Organizations = append(out.Organizations, organizationToProto(o))
	}
	return out, nil
}

// UpdateOrganization changes the fields of an organization the mask
// selects.
func (s *DirectoryService) UpdateOrganization(ctx context.Context, req *mediationv1.UpdateOrganizationRequest) (*mediationv1.UpdateOrganizationResponse, error) {
	in := req.GetOrganization()
	id, err := parseID("organization.name", in.GetName(), "organizations")
	if err != nil {
		return nil, err
	}
	paths, err := organizationMask.selected(req.GetUpdateMask())
	if err != nil {
		return nil, err
	}
	version, err := parseEtag("organization.etag", in.GetEtag())
	if err != nil {
		return nil, err
	}
	if len(paths) == 0 {
		o, err := s.store.GetOrganization(ctx, id)
		if err != nil {
			return nil, err
		}
		if err := checkVersion(o.Name(), o.Version, version); err != nil {
			return nil, err
		}
		return &mediationv1.UpdateOrganizationResponse{Organization: organizationToProto(o)}, nil
	}
	v := organizationFromProto(id, in)
	var ch store.OrganizationChange
	if paths["display_name"] {
		ch.DisplayName = &v.DisplayName
	}
	if paths["type"] {
		ch.Type = &v.Type
	}
	if paths["region_code"] {
		ch.RegionCode = &v.RegionCode
	}
	if paths["dispute_types"] {
		ch.DisputeTypes = &v.DisputeTypes
	}
	if paths["court_roster"] {
		ch.CourtRoster = &v.CourtRoster
	}
	if paths["address"] {
		ch.Address = &v.Address
	}
	if paths["phone"] {
		ch.Phone = &v.Phone
	}
	o, err := s.store.UpdateOrganization(ctx, id, ch, version, s.clock())
	if err != nil {
		return nil, err
	}
	return &mediationv1.UpdateOrganizationResponse{Organization: organizationToProto(o)}, nil
}

// DeactivateOrganization stops an organization from taking new cases.
func (s *DirectoryService) DeactivateOrganization(ctx context.Context, req *mediationv1.DeactivateOrganizationRequest) (*mediationv1.DeactivateOrganizationResponse, error) {
	o, err := s.setOrganizationActive(ctx, req.GetName(), req.GetEtag(), false)
	if err != nil {
		return nil, err
	}
	return &mediationv1.DeactivateOrganizationResponse{Organization: o}, nil
}

// ActivateOrganization lets an organization take cases again.
func (s *DirectoryService) ActivateOrganization(ctx context.Context, req *mediationv1.ActivateOrganizationRequest) (*mediationv1.ActivateOrganizationResponse, error) {
	o, err := s.setOrganizationActive(ctx, req.GetName(), req.GetEtag(), true)
	if err != nil {
		return nil, err
	}
	return &mediationv1.ActivateOrganizationResponse{Organization: o}, nil
}

func (s *DirectoryService) setOrganizationActive(ctx context.Context, name, etag string, active bool) (*mediationv1.Organization, error) {
	id, err := parseID("name", name, "organizations")
	if err != nil {
		return nil, err
	}
	version, err := parseEtag("etag", etag)
	if err != nil {
		return nil, err
	}
	o, err := s.store.SetOrganizationActive(ctx, id, active, version, s.clock())
	if err != nil {
		return nil, err
	}
	return organizationToProto(o), nil
}

// CreateMediator creates an active mediator of an existing organization.
func (s *DirectoryService) CreateMediator(ctx context.Context, req *mediationv1.CreateMediatorRequest) (*mediationv1.CreateMediatorResponse, error) {
	if !directoryIDPattern.MatchString(req.GetMediatorId()) {
		return nil, &casework.FieldError{Field: "mediator_id", Message: "must be 1 to 63 lower-case letters, digits and hyphens, starting with a letter or digit"}
	}
	in := req.GetMediator()
	orgID, err := parseID("mediator.organization", in.GetOrganization(), "organizations")
	if err != nil {
		return nil, err
	}
	m, err := s.store.CreateMediator(ctx, mediatorFromProto(req.GetMediatorId(), orgID, in), s.clock())
	if err != nil {
		return nil, err
	}
	pm, err := s.viewMediator(ctx, m)
	if err != nil {
		return nil, err
	}
	return &mediationv1.CreateMediatorResponse{Mediator: pm}, nil
}

// GetMediator returns one mediator.
func (s *DirectoryService) GetMediator(ctx context.Context, req *mediationv1.GetMediatorRequest) (*mediationv1.GetMediatorResponse, error) {
	id, err := parseID("name", req.GetName(), "mediators")
	if err != nil {
		return nil, err
	}
	m, err := s.store.GetMediator(ctx, id)
	if err != nil {
		return nil, err
	}
	pm, err := s.viewMediator(ctx, m)
	if err != nil {
		return nil, err
	}
	return &mediationv1.GetMediatorResponse{Mediator: pm}, nil
}

// ListMediators lists mediators in id order.
func (s *DirectoryService) ListMediators(ctx context.Context, req *mediationv1.ListMediatorsRequest) (*mediationv1.ListMediatorsResponse, error) {
	query := queryFingerprint("mediators", req.GetFilter())
	after, err := decodeKeyPageToken(req.GetPageToken(), query)
	if err != nil {
		return nil, err
	}
	page, err := s.store.ListMediators(ctx, store.DirectoryListParams{
		Filter: req.GetFilter(), Spelling: mediatorSpelling, After: after, Limit: pageSize(req.GetPageSize(), defaultPageSize),
	})
	if err != nil {
		return nil, err
	}
	mediators, err := s.viewMediators(ctx, page.Mediators...)
	if err != nil {
		return nil, err
	}
	return &mediationv1.ListMediatorsResponse{Mediators: mediators, NextPageToken: encodeKeyPageToken(page.Next, query)}, nil
}

// UpdateMediator changes the fields of a mediator the mask selects.
func (s *DirectoryService) UpdateMediator(ctx context.Context, req *mediationv1.UpdateMediatorRequest) (*mediationv1.UpdateMediatorResponse, error) {
	in := req.GetMediator()
	id, err := parseID("mediator.name", in.GetName(), "mediators")
	if err != nil {
		return nil, err
	}
	paths, err := mediatorMask.selected(req.GetUpdateMask())
	if err != nil {
		return nil, err
	}
	version, err := parseEtag("mediator.etag", in.GetEtag())
	if err != nil {
		return nil, err
	}
	if len(paths) == 0 {
		m, err := s.store.GetMediator(ctx, id)
		if err != nil {
			return nil, err
		}
		if err := checkVersion(m.Name(), m.Version, version); err != nil {
			return nil, err
		}
		pm, err := s.viewMediator(ctx, m)
		if err != nil {
			return nil, err
		}
		return &mediationv1.UpdateMediatorResponse{Mediator: pm}, nil
	}
	v := mediatorFromProto(id, "", in)
	var ch store.MediatorChange
	if paths["display_name"] {
		ch.DisplayName = &v.DisplayName
	}
	if paths["organization"] {
		orgID, err := parseID("mediator.organization", in.GetOrganization(), "organizations")
		if err != nil {
			return nil, err
		}
		ch.OrganizationID = &orgID
	}
	if paths["specialties"] {
		ch.Specialties = &v.Specialties
	}
	if paths["court_roster"] {
		ch.CourtRoster = &v.CourtRoster
	}
	if paths["phone"] {
		ch.Phone = &v.Phone
	}
	m, err := s.store.UpdateMediator(ctx, id, ch, version, s.clock())
	if err != nil {
		return nil, err
	}
	pm, err := s.viewMediator(ctx, m)
	if err != nil {
		return nil, err
	}
	return &mediationv1.UpdateMediatorResponse{Mediator: pm}, nil
}

// DeactivateMediator stops a mediator from getting new cases.
func (s *DirectoryService) DeactivateMediator(ctx context.Context, req *mediationv1.DeactivateMediatorRequest) (*mediationv1.DeactivateMediatorResponse, error) {
	m, err := s.setMediatorActive(ctx, req.GetName(), req.GetEtag(), false)
	if err != nil {
		return nil, err
	}
	return &mediationv1.DeactivateMediatorResponse{Mediator: m}, nil
}

// ActivateMediator lets a mediator get cases again.
func (s *DirectoryService) ActivateMediator(ctx context.Context, req *mediationv1.ActivateMediatorRequest) (*mediationv1.ActivateMediatorResponse, error) {
	m, err := s.setMediatorActive(ctx, req.GetName(), req.GetEtag(), true)
	if err != nil {
		return nil, err
	}
	return &mediationv1.ActivateMediatorResponse{Mediator: m}, nil
}

func (s *DirectoryService) setMediatorActive(ctx context.Context, name, etag string, active bool) (*mediationv1.Mediator, error) {
	id, err := parseID("name", name, "mediators")
	if err != nil {
		return nil, err
	}
	version, err := parseEtag("etag", etag)
	if err != nil {
		return nil, err
	}
	m, err := s.store.SetMediatorActive(ctx, id, active, version, s.clock())
	if err != nil {
		return nil, err
	}
	return s.viewMediator(ctx, m)
}

// viewMediators renders mediators for the caller of ctx: a telephone
// number the caller may not read (auth.SeesMediatorPhone) is masked as a
// party's is, and each number shown unmasked to someone other than its
// mediator is on record in the audit trail before it is handed out, as
// reads of a case's personal data are.
func (s *DirectoryService) viewMediators(ctx context.Context, ms ...casework.Mediator) ([]*mediationv1.Mediator, error) {
	p := auth.FromContext(ctx)
	out := make([]*mediationv1.Mediator, len(ms))
	var read []string
	for i, m := range ms {
		switch {
		case m.Phone == "":
		case !auth.SeesMediatorPhone(p, m):
			m.Phone = casework.MaskPhone(m.Phone)
		case p.MediatorID != m.ID:
			read = append(read, m.Name())
		}
		out[i] = mediatorToProto(m)
	}
	if err := recordPersonalDataReads(ctx, s.store, s.clock(), read...); err != nil {
		return nil, err
	}
	return out, nil
}

// viewMediator is viewMediators of one mediator.
func (s *DirectoryService) viewMediator(ctx context.Context, m casework.Mediator) (*mediationv1.Mediator, error) {
	out, err := s.viewMediators(ctx, m)
	if err != nil {
		return nil, err
	}
	return out[0], nil
}

// ListDeadlineRules lists the deadline rules, the most specific first.
func (s *DirectoryService) ListDeadlineRules(ctx context.Context, req *mediationv1.ListDeadlineRulesRequest) (*mediationv1.ListDeadlineRulesResponse, error) {
	query := queryFingerprint("deadlineRules")
	after, err := decodeKeyPageToken(req.GetPageToken(), query)
	if err != nil {
		return nil, err
	}
	page, err := s.store.ListDeadlineRules(ctx, after, pageSize(req.GetPageSize(), defaultPageSize))
	if err != nil {
		return nil, err
	}
	out := &mediationv1.ListDeadlineRulesResponse{NextPageToken: encodeKeyPageToken(page.Next, query)}
	for _, r := range page.Rules {
		out.DeadlineRules = append(out.DeadlineRules, deadlineRuleToProto(r))
	}
	return out, nil
}

// CreateDeadlineRule creates a rule for a combination of source,
// organization type and court procedure that has none.
func (s *DirectoryService) CreateDeadlineRule(ctx context.Context, req *mediationv1.CreateDeadlineRuleRequest) (*mediationv1.CreateDeadlineRuleResponse, error) {
	if !directoryIDPattern.MatchString(req.GetDeadlineRuleId()) {
		return nil, &casework.FieldError{Field: "deadline_rule_id", Message: "must be 1 to 63 lower-case letters, digits and hyphens, starting with a letter or digit"}
	}
	r, err := s.store.CreateDeadlineRule(ctx, deadlineRuleFromProto(req.GetDeadlineRuleId(), req.GetDeadlineRule()))
	if err != nil {
		return nil, err
	}
	return &mediationv1.CreateDeadlineRuleResponse{DeadlineRule: deadlineRuleToProto(r)}, nil
}

// UpdateDeadlineRule changes the fields of a rule the mask selects. The
// source, organization type and court procedure say which cases the rule
// is for and cannot change: a mask may name them only with their current
// values (so that a rule read and sent back whole is accepted).
func (s *DirectoryService) UpdateDeadlineRule(ctx context.Context, req *mediationv1.UpdateDeadlineRuleRequest) (*mediationv1.UpdateDeadlineRuleResponse, error) {
	in := req.GetDeadlineRule()
	id, err := parseID("deadline_rule.name", in.GetName(), "deadlineRules")
	if err != nil {
		return nil, err
	}
	paths, err := deadlineRuleMask.selected(req.GetUpdateMask())
	if err != nil {
		return nil, err
	}
	version, err := parseEtag("deadline_rule.etag", in.GetEtag())
	if err != nil {
		return nil, err
	}
	v := deadlineRuleFromProto(id, in)
	changes := paths["display_name"] || paths["days"] || paths["max_extensions"] || paths["extension_days"]
	if !changes || paths["source"] || paths["organization_type"] || paths["court_procedure"] {
		cur, err := s.store.GetDeadlineRule(ctx, id)
		if err != nil {
			return nil, err
		}
		for _, f := range []struct {
			path          string
			given, stored string
		}{
			{"source", string(v.Source), string(cur.Source)},
			{"organization_type", string(v.OrganizationType), string(cur.OrganizationType)},
			{"court_procedure", string(v.CourtProcedure), string(cur.CourtProcedure)},
		} {
			if paths[f.path] && f.given != f.stored {
				return nil, &casework.FieldError{Field: "deadline_rule." + f.path, Message: fmt.Sprintf(
					"cannot be changed (%s applies to %s); create a rule for the other combination instead", cur.Name(), describeRule(cur))}
			}
		}
		if !changes {
			if err := checkVersion(cur.Name(), cur.Version, version); err != nil {
				return nil, err
			}
			return &mediationv1.UpdateDeadlineRuleResponse{DeadlineRule: deadlineRuleToProto(cur)}, nil
		}
	}
	var ch store.DeadlineRuleChange
	if paths["display_name"] {
		ch.DisplayName = &v.DisplayName
	}
	if paths["days"] {
		ch.Days = &v.Days
	}
	if paths["max_extensions"] {
		ch.MaxExtensions = &v.MaxExtensions
	}
	if paths["extension_days"] {
		ch.ExtensionDays = &v.ExtensionDays
	}
	r, err := s.store.UpdateDeadlineRule(ctx, id, ch, version)
	if err != nil {
		return nil, err
	}
	return &mediationv1.UpdateDeadlineRuleResponse{DeadlineRule: deadlineRuleToProto(r)}, nil
}

// describeRule names the cases a rule applies to, in the API's enum names.
func describeRule(r casework.DeadlineRule) string {
	p := deadlineRuleToProto(r)
	return fmt.Sprintf("source %s, organization type %s, court procedure %s", p.GetSource(), p.GetOrganizationType(), p.GetCourtProcedure())
}

// DeleteDeadlineRule deletes a rule other than the catch-all.
func (s *DirectoryService) DeleteDeadlineRule(ctx context.Context, req *mediationv1.DeleteDeadlineRuleRequest) (*mediationv1.DeleteDeadlineRuleResponse, error) {
	id, err := parseID("name", req.GetName(), "deadlineRules")
	if err != nil {
		return nil, err
	}
	version, err := parseEtag("etag", req.GetEtag())
	if err != nil {
		return nil, err
	}
	if err := s.store.DeleteDeadlineRule(ctx, id, version); err != nil {
		return nil, err
	}
	return &mediationv1.DeleteDeadlineRuleResponse{}, nil
}
