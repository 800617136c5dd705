package store

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/mediationd/mediationd/internal/aipfilter"
	"github.com/mediationd/mediationd/internal/casework"
)

// The directory: regions, mediation organizations, their mediators and the
// deadline rules. Every change is one statement with a compare-and-swap on
// the row's version when the caller passes one (its etag); a change that
// finds no row is classified afterwards by one read, so that the caller
// learns whether the row is missing, was changed since, or the input
// refers to something that does not exist.

// codeForeignKeyViolation is the SQLSTATE of a reference to a missing row.
const codeForeignKeyViolation = "23503"

// DirectoryListParams select one page of regions, organizations or
// mediators, in key order (region code, or id).
type DirectoryListParams struct {
	Filter string // AIP-160; see regionFilter, organizationFilter and mediatorFilter
	// Spelling maps the caller's names of enum values to the stored ones;
	// nil takes the stored names only.
	Spelling aipfilter.Spelling
	After    string // the key of the last row of the previous page; "" for the first page
	Limit    int
}

// Region is a region as the directory shows it: its own settings, and the
// auto_assign that applies to it once unset settings are inherited from
// the regions above.
type Region struct {
	casework.Region
	// EffectiveAutoAssign is the region's own auto_assign, else its
	// city's, else its province's, else false.
	EffectiveAutoAssign bool
}

// RegionPage is one page of regions; Next is the key to pass as After for
// the following page, "" when this page is the last.
type RegionPage struct {
	Regions []Region
	Next    string
}

// OrganizationPage is one page of organizations; Next as in RegionPage.
type OrganizationPage struct {
	Organizations []casework.Organization
	Next          string
}

// MediatorPage is one page of mediators; Next as in RegionPage.
type MediatorPage struct {
	Mediators []casework.Mediator
	Next      string
}

// DeadlineRulePage is one page of deadline rules; Next as in RegionPage,
// an opaque cursor for ListDeadlineRules.
type DeadlineRulePage struct {
	Rules []casework.DeadlineRule
	Next  string
}

// OrganizationChange holds the fields an organization update sets; a nil
// field keeps its stored value. The API layer builds it from the update
// mask.
type OrganizationChange struct {
	DisplayName  *string
	Type         *casework.OrganizationType
	RegionCode   *string
	DisputeTypes *[]casework.DisputeType // a pointer to an empty list means every type
	CourtRoster  *bool
	Address      *string
	Phone        *string
}

// MediatorChange holds the fields a mediator update sets; a nil field
// keeps its stored value.
type MediatorChange struct {
	DisplayName    *string
	OrganizationID *string
	Specialties    *[]casework.DisputeType
	CourtRoster    *bool
	Phone          *string
}

// DeadlineRuleChange holds the fields a deadline rule update sets; a nil
// field keeps its stored value. The selectors (source, organization type,
// court procedure) are not changed by an update: a rule for another
// combination is another rule.
type DeadlineRuleChange struct {
	DisplayName   *string
	Days          *int
	MaxExtensions *int
	ExtensionDays *int
}

var regionLevels = []casework.RegionLevel{casework.LevelProvince, casework.LevelCity, casework.LevelCounty}

var courtProcedures = []casework.CourtProcedure{casework.ProcedureOrdinary, casework.ProcedureSummary}

// nameField is a filter field over a resource's id column that users write
// as a resource name (organizations/x) or as the bare id (x). It is an
// aipfilter Enum only because that is the field type whose literal is
// mapped before it is bound: so the comparison is on the indexed id
// column, not on a concatenation.
func nameField(column, collection, placeholder string, id *regexp.Regexp) aipfilter.Field {
	return aipfilter.Field{
		Column:     column,
		Type:       aipfilter.Enum,
		EnumValues: []string{collection + "/" + placeholder},
		Enum: func(lit string) (string, bool) {
			lit = strings.TrimPrefix(lit, collection+"/")
			return lit, id.MatchString(lit)
		},
	}
}

var (
	resourceIDPattern = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,62}$`)
	regionCodePattern = regexp.MustCompile(`^[1-9][0-9]{5}$`)
)

// regionFilter is what ListRegions' filter may name. code is a Prefix
// field: a city's code also matches its counties.
var regionFilter = aipfilter.Schema{
	"code":         {Column: "r.code", Type: aipfilter.Prefix},
	"level":        enumField("r.level", regionLevels),
	"parent":       nameField("r.parent_code", "regions", "{code}", regionCodePattern),
	"display_name": {Column: "r.display_name", Type: aipfilter.String},
}

// Array membership cannot be said with aipfilter's field types, which
// compare a column with the literal. These markers stand for such fields
// in the schema; compileDirectoryFilter replaces each comparison with one
// of them by a membership test.
const (
	disputeTypeMarker = "__organization_takes_dispute_type__"
	specialtyMarker   = "__mediator_specialty__"
)

// organizationFilter is what ListOrganizations' filter may name.
// dispute_type matches organizations that list the type and those that
// list none (they take every type).
var organizationFilter = aipfilter.Schema{
	"type":         enumField("o.type", casework.OrganizationTypes),
	"region_code":  {Column: "o.region_code", Type: aipfilter.Prefix},
	"dispute_type": enumField(disputeTypeMarker, casework.DisputeTypes),
	"court_roster": {Column: "o.court_roster", Type: aipfilter.Bool},
	"active":       {Column: "o.active", Type: aipfilter.Bool},
	"display_name": {Column: "o.display_name", Type: aipfilter.String},
}

// mediatorFilter is what ListMediators' filter may name; region_code is
// the region of the mediator's organization.
var mediatorFilter = aipfilter.Schema{
	"organization": nameField("m.organization_id", "organizations", "{organization}", resourceIDPattern),
	"region_code":  {Column: "o.region_code", Type: aipfilter.Prefix},
	"specialty":    enumField(specialtyMarker, casework.DisputeTypes),
	"court_roster": {Column: "m.court_roster", Type: aipfilter.Bool},
	"active":       {Column: "m.active", Type: aipfilter.Bool},
	"display_name": {Column: "m.display_name", Type: aipfilter.String},
}

// arrayMembership says what a marker column of a schema stands for: the
// test of one value (a bound parameter) against a collection, such as the
// elements of a text[] column.
type arrayMembership struct {
	marker, column string
	test           func(param string) string
}

// elementOf tests a value against the elements of a text[] column; with
// emptyMatchesAll an empty array matches every value.
func elementOf(column string, emptyMatchesAll bool) func(string) string {
	return func(param string) string {
		test := param + " = ANY(" + column + ")"
		if emptyMatchesAll {
			test += " OR cardinality(" + column + ") = 0"
		}
		return test
	}
}

var directoryArrays = []arrayMembership{
	{marker: disputeTypeMarker, column: "o.dispute_types", test: elementOf("o.dispute_types", true)},
	{marker: specialtyMarker, column: "m.specialties", test: elementOf("m.specialties", false)},
}

// markerComparisonRE matches what aipfilter emits for an equality or
// inequality on a column: "(column = $n)" or "(column IS DISTINCT FROM $n)".
var markerComparisonRE = regexp.MustCompile(`\((__[a-z_]+__) (=|IS DISTINCT FROM) (\$[0-9]+)\)`)

// compileDirectoryFilter compiles filter with aipfilter and turns the
// comparisons on marker columns into membership tests. Every literal is a
// bound parameter, so a marker can only appear where aipfilter wrote it; a
// marker left over means aipfilter's output changed shape, which is
// reported rather than sent to the database.
func compileDirectoryFilter(filter string, spell aipfilter.Spelling, schema aipfilter.Schema, firstArg int) (string, []any, error) {
	return compileMembershipFilter(filter, spell, schema, firstArg, directoryArrays)
}

// compileMembershipFilter is compileDirectoryFilter over the given marker
// columns.
func compileMembershipFilter(filter string, spell aipfilter.Spelling, schema aipfilter.Schema, firstArg int, arrays []arrayMembership) (string, []any, error) {
	where, args, err := compileFilter(filter, spell, schema, firstArg)
	if err != nil {
		return "", nil, err
	}
	where = markerComparisonRE.ReplaceAllStringFunc(where, func(cmp string) string {
		m := markerComparisonRE.FindStringSubmatch(cmp)
		i := slices.IndexFunc(arrays, func(a arrayMembership) bool { return a.marker == m[1] })
		if i < 0 {
			return cmp
		}
		test := arrays[i].test(m[3])
		if m[2] == "=" {
			return "(" + test + ")"
		}
		return "(NOT (" + test + "))"
	})
	for _, a := range arrays {
		if strings.Contains(where, a.marker) {
			return "", nil, fmt.Errorf("compile filter: the comparison on %s was not rewritten into a membership test", a.column)
		}
	}
	return where, args, nil
}

// ---- regions

// regionSelect reads a region with its parent and grandparent, so that
// the auto_assign it inherits comes in the same row.
const regionSelect = `SELECT r.code, r.display_name, r.level, COALESCE(r.parent_code, ''), r.auto_assign, r.version,
	COALESCE(r.auto_assign, p.auto_assign, g.auto_assign, false)
FROM regions r
LEFT JOIN regions p ON p.code = r.parent_code
LEFT JOIN regions g ON g.code = p.parent_code`

func scanRegion(row pgx.Row) (Region, error) {
	var r Region
	err := row.Scan(&r.Code, &r.DisplayName, &r.Level, &r.ParentCode, &r.AutoAssign, &r.Version, &r.EffectiveAutoAssign)
	return r, err
}

func regionName(code string) string { return "regions/" + code }

// ListRegions returns a page of regions in code order.
func (s *Store) ListRegions(ctx context.Context, p DirectoryListParams) (RegionPage, error) {
	where, args, err := compileDirectoryFilter(p.Filter, p.Spelling, regionFilter, 1)
	if err != nil {
		return RegionPage{}, err
	}
	args = append(args, p.After, p.Limit+1)
	sql := fmt.Sprintf(`%s WHERE (%s) AND r.code > $%d ORDER BY r.code LIMIT $%d`, regionSelect, where, len(args)-1, len(args))
	rows, err := s.pool.Query(ctx, sql, args...)
	if err != nil {
		return RegionPage{}, fmt.Errorf("list regions: %w", err)
	}
	page := RegionPage{}
	page.Regions, err = pgx.CollectRows(rows, func(row pgx.CollectableRow) (Region, error) { return scanRegion(row) })
	if err != nil {
		return RegionPage{}, fmt.Errorf("list regions: %w", err)
	}
	if len(page.Regions) > p.Limit {
		page.Regions = page.Regions[:p.Limit]
		page.Next = page.Regions[p.Limit-1].Code
	}
	return page, nil
}

// GetRegion returns a region, or an error wrapping casework.ErrNotFound.
func (s *Store) GetRegion(ctx context.Context, code string) (Region, error) {
	r, err := scanRegion(s.pool.QueryRow(ctx, regionSelect+` WHERE r.code = $1`, code))
	if errors.Is(err, pgx.ErrNoRows) {
		return Region{}, fmt.Errorf("%s: %w", regionName(code), casework.ErrNotFound)
	}
	if err != nil {
		return Region{}, fmt.Errorf("get %s: %w", regionName(code), err)
	}
	return r, nil
}

// UpdateRegionAutoAssign sets a region's own auto_assign; nil makes it
// follow the region above again. ifVersion > 0 makes the change
// conditional on the region still being at that version (the caller's
// etag); a mismatch is a *casework.ConflictError.
func (s *Store) UpdateRegionAutoAssign(ctx context.Context, code string, autoAssign *bool, ifVersion int64) (Region, error) {
	defer s.settings.forgetRegions()

	var version int64
	err := s.changeRow(ctx, `UPDATE regions SET auto_assign = $2, version = version + 1
		WHERE code = $1 AND ($3::bigint = 0 OR version = $3) RETURNING version`, code, autoAssign, ifVersion).Scan(&version)
	if errors.Is(err, pgx.ErrNoRows) {
		return Region{}, s.explainMiss(ctx, `SELECT version FROM regions WHERE code = $1`, regionName(code), code, ifVersion, nil)
	}
	if err != nil {
		return Region{}, fmt.Errorf("update %s: %w", regionName(code), err)
	}
	return s.GetRegion(ctx, code)
}

// RegionAutoAssign reports whether accepted cases of a region are assigned
// automatically: the region's own setting, else its city's, else its
// province's. A region the directory does not know, or one without any
// setting up its chain, is false.
func (s *Store) RegionAutoAssign(ctx context.Context, regionCode string) (bool, error) {
	settings, err := s.regionAutoAssign(ctx)
	if err != nil {
		return false, fmt.Errorf("read auto_assign of %s: %w", regionName(regionCode), err)
	}
	return settings[regionCode], nil
}

// RegionKnown reports whether the directory has a region with the code
// (from the same cache as RegionAutoAssign: the directory's regions come
// with the schema and are never deleted).
func (s *Store) RegionKnown(ctx context.Context, regionCode string) (bool, error) {
	settings, err := s.regionAutoAssign(ctx)
	if err != nil {
		return false, fmt.Errorf("look up %s: %w", regionName(regionCode), err)
	}
	_, ok := settings[regionCode]
	return ok, nil
}

// explainMiss says why a conditional change touched no row: the row does
// not exist (an error wrapping casework.ErrNotFound), or its version is
// not the one the caller read (*casework.ConflictError), or else
// otherwise, the problem with the input the statement checked (nil when
// there is none: then a concurrent change got in the way). versionSQL
// reads the row's version by key.
func (s *Store) explainMiss(ctx context.Context, versionSQL, name string, key any, ifVersion int64, otherwise error) error {
	var version int64
	err := s.pool.QueryRow(ctx, versionSQL, key).Scan(&version)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return fmt.Errorf("%s: %w", name, casework.ErrNotFound)
	case err != nil:
		return fmt.Errorf("read %s: %w", name, err)
	case ifVersion > 0 && version != ifVersion:
		return staleResource(name, version)
	case otherwise != nil:
		return otherwise
	}
	return &casework.ConflictError{Message: fmt.Sprintf("%s changed while it was being updated; read it again and retry", name)}
}

func staleResource(name string, version int64) error {
	return &casework.ConflictError{Message: fmt.Sprintf("%s changed since the etag was read (it is now at version %d); read it again and decide again", name, version), Version: version}
}

// ---- organizations

// organizationColumns are the columns scanOrganization reads, in order,
// for a row aliased o. The open cases are counted in the same statement,
// through the index on cases.organization.
const organizationColumns = organizationFields + `,
	(SELECT count(*) FROM cases c WHERE c.organization = 'organizations/' || o.id AND c.organization <> ''
		AND c.state IN ('ASSIGNED', 'MEDIATING'))`

// organizationFields are organizationColumns without the open-case count,
// which decisions about one assignment do not need.
const organizationFields = `o.id, o.display_name, o.type, o.region_code, o.dispute_types, o.court_roster,
	o.address, o.phone, o.active, o.version, o.create_time, o.update_time`

// organizationTargets are the scan destinations of organizationColumns.
func organizationTargets(o *casework.Organization) []any {
	return []any{&o.ID, &o.DisplayName, &o.Type, &o.RegionCode, &o.DisputeTypes, &o.CourtRoster,
		&o.Address, &o.Phone, &o.Active, &o.Version, &o.CreateTime, &o.UpdateTime, &o.OpenCases}
}

func scanOrganization(row pgx.Row) (casework.Organization, error) {
	var o casework.Organization
	err := row.Scan(organizationTargets(&o)...)
	return o, err
}

// servedRegionSQL, with a placeholder for %s, is true when that code is a
// city or county the directory knows.
const servedRegionSQL = `EXISTS (SELECT 1 FROM regions WHERE code = %s AND level IN ('CITY', 'COUNTY'))`

func unknownRegion(code string) error {
	return &casework.FieldError{Field: "organization.region_code", Message: fmt.Sprintf("%q is not the code of a city or county the service knows; see ListRegions, e.g. 621002", code)}
}

func checkOrganization(o casework.Organization) error {
	switch {
	case strings.TrimSpace(o.DisplayName) == "":
		return &casework.FieldError{Field: "organization.display_name", Message: "required: the organization's name"}
	case !slices.Contains(casework.OrganizationTypes, o.Type):
		return &casework.FieldError{Field: "organization.type", Message: fmt.Sprintf("required: one of %s", joinEnum(casework.OrganizationTypes))}
	}
	return checkDisputeTypes("organization.dispute_types", o.DisputeTypes)
}

func checkDisputeTypes(field string, types []casework.DisputeType) error {
	for i, t := range types {
		if !slices.Contains(casework.DisputeTypes, t) {
			return &casework.FieldError{Field: fmt.Sprintf("%s[%d]", field, i), Message: fmt.Sprintf("%q is not a dispute type; one of %s", t, joinEnum(casework.DisputeTypes))}
		}
	}
	return nil
}

func joinEnum[T ~string](values []T) string {
	names := make([]string, len(values))
	for i, v := range values {
		names[i] = string(v)
	}
	return strings.Join(names, ", ")
}

// CreateOrganization stores a new, active organization with the id, and
// returns it as stored. A taken id is a *casework.AlreadyExistsError; a
// region code that is not a known city or county is a
// *casework.FieldError on organization.region_code.
func (s *Store) CreateOrganization(ctx context.Context, o casework.Organization, now time.Time) (casework.Organization, error) {
	if err := checkOrganization(o); err != nil {
		return casework.Organization{}, err
	}
	name := o.Name()
	out, err := scanOrganization(s.changeRow(ctx, `INSERT INTO organizations AS o
		(id, display_name, type, region_code, dispute_types, court_roster, address, phone, create_time, update_time)
		SELECT $1::text, $2::text, $3::text, $4::text, COALESCE($5::text[], '{}'), $6::boolean, $7::text, $8::text, $9::timestamptz, $9::timestamptz
		WHERE `+fmt.Sprintf(servedRegionSQL, "$4::text")+`
		RETURNING `+organizationColumns,
		o.ID, o.DisplayName, o.Type, o.RegionCode, o.DisputeTypes, o.CourtRoster, o.Address, o.Phone, now))
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return casework.Organization{}, unknownRegion(o.RegionCode)
	case pgCode(err) == codeUniqueViolation:
		return casework.Organization{}, idTaken(name, "organization_id")
	case err != nil:
		return casework.Organization{}, fmt.Errorf("create %s: %w", name, err)
	}
	return out, nil
}

func idTaken(name, idField string) error {
	return &casework.AlreadyExistsError{Reason: "ID_TAKEN", Message: fmt.Sprintf("%s already exists; choose another %s", name, idField)}
}

// GetOrganization returns an organization with its open cases, or an
// error wrapping casework.ErrNotFound.
func (s *Store) GetOrganization(ctx context.Context, id string) (casework.Organization, error) {
	name := casework.Organization{ID: id}.Name()
	o, err := scanOrganization(s.pool.QueryRow(ctx, `SELECT `+organizationColumns+` FROM organizations o WHERE o.id = $1`, id))
	if errors.Is(err, pgx.ErrNoRows) {
		return casework.Organization{}, fmt.Errorf("%s: %w", name, casework.ErrNotFound)
	}
	if err != nil {
		return casework.Organization{}, fmt.Errorf("get %s: %w", name, err)
	}
	return o, nil
}

// ListOrganizations returns a page of organizations in id order.
func (s *Store) ListOrganizations(ctx context.Context, p DirectoryListParams) (OrganizationPage, error) {
	where, args, err := compileDirectoryFilter(p.Filter, p.Spelling, organizationFilter, 1)
	if err != nil {
		return OrganizationPage{}, err
	}
	args = append(args, p.After, p.Limit+1)
	sql := fmt.Sprintf(`SELECT %s FROM organizations o WHERE (%s) AND o.id > $%d ORDER BY o.id LIMIT $%d`,
		organizationColumns, where, len(args)-1, len(args))
	rows, err := s.pool.Query(ctx, sql, args...)
	if err != nil {
		return OrganizationPage{}, fmt.Errorf("list organizations: %w", err)
	}
	page := OrganizationPage{}
	page.Organizations, err = pgx.CollectRows(rows, func(row pgx.CollectableRow) (casework.Organization, error) { return scanOrganization(row) })
	if err != nil {
		return OrganizationPage{}, fmt.Errorf("list organizations: %w", err)
	}
	if len(page.Organizations) > p.Limit {
		page.Organizations = page.Organizations[:p.Limit]
		page.Next = page.Organizations[p.Limit-1].ID
	}
	return page, nil
}

// UpdateOrganization sets the fields of ch that are not nil, in one
// statement. ifVersion > 0 makes the change conditional on the
// organization still being at that version; a mismatch is a
// *casework.ConflictError. A new region code must be a known city or
// county (*casework.FieldError otherwise).
func (s *Store) UpdateOrganization(ctx context.Context, id string, ch OrganizationChange, ifVersion int64, now time.Time) (casework.Organization, error) {
	name := casework.Organization{ID: id}.Name()
	if ch.DisplayName != nil && strings.TrimSpace(*ch.DisplayName) == "" {
		return casework.Organization{}, &casework.FieldError{Field: "organization.display_name", Message: "required: the organization's name"}
	}
	if ch.Type != nil && !slices.Contains(casework.OrganizationTypes, *ch.Type) {
		return casework.Organization{}, &casework.FieldError{Field: "organization.type", Message: fmt.Sprintf("required: one of %s", joinEnum(casework.OrganizationTypes))}
	}
	var disputeTypes []casework.DisputeType
	if ch.DisputeTypes != nil {
		disputeTypes = *ch.DisputeTypes
		if err := checkDisputeTypes("organization.dispute_types", disputeTypes); err != nil {
			return casework.Organization{}, err
		}
	}
	o, err := scanOrganization(s.changeRow(ctx, `UPDATE organizations AS o SET
			display_name = COALESCE($3::text, o.display_name),
			type = COALESCE($4::text, o.type),
			region_code = COALESCE($5::text, o.region_code),
			dispute_types = CASE WHEN $6::boolean THEN COALESCE($7::text[], '{}') ELSE o.dispute_types END,
			court_roster = COALESCE($8::boolean, o.court_roster),
			address = COALESCE($9::text, o.address),
			phone = COALESCE($10::text, o.phone),
			version = o.version + 1,
			update_time = $11::timestamptz
		WHERE o.id = $1 AND ($2::bigint = 0 OR o.version = $2)
			AND ($5::text IS NULL OR `+fmt.Sprintf(servedRegionSQL, "$5::text")+`)
		RETURNING `+organizationColumns,
		id, ifVersion, ch.DisplayName, ch.Type, ch.RegionCode, ch.DisputeTypes != nil, disputeTypes,
		ch.CourtRoster, ch.Address, ch.Phone, now))
	if errors.Is(err, pgx.ErrNoRows) {
		var badRegion error
		if ch.RegionCode != nil {
			badRegion = unknownRegion(*ch.RegionCode)
		}
		return casework.Organization{}, s.explainMiss(ctx, `SELECT version FROM organizations WHERE id = $1`, name, id, ifVersion, badRegion)
	}
	if err != nil {
		return casework.Organization{}, fmt.Errorf("update %s: %w", name, err)
	}
	return o, nil
}

// SetOrganizationActive activates or deactivates an organization. Setting
// the state it is already in changes nothing (not even its version).
// ifVersion as in UpdateOrganization.
func (s *Store) SetOrganizationActive(ctx context.Context, id string, active bool, ifVersion int64, now time.Time) (casework.Organization, error) {
	name := casework.Organization{ID: id}.Name()
	o, err := scanOrganization(s.changeRow(ctx, `UPDATE organizations AS o SET
			active = $3,
			version = CASE WHEN o.active = $3 THEN o.version ELSE o.version + 1 END,
			update_time = CASE WHEN o.active = $3 THEN o.update_time ELSE $4::timestamptz END
		WHERE o.id = $1 AND ($2::bigint = 0 OR o.version = $2)
		RETURNING `+organizationColumns, id, ifVersion, active, now))
	if errors.Is(err, pgx.ErrNoRows) {
		return casework.Organization{}, s.explainMiss(ctx, `SELECT version FROM organizations WHERE id = $1`, name, id, ifVersion, nil)
	}
	if err != nil {
		return casework.Organization{}, fmt.Errorf("set active of %s: %w", name, err)
	}
	return o, nil
}

// ---- mediators

// mediatorColumns are the columns scanMediator reads, in order, for a row
// aliased m, with its open cases counted through the index on
// cases.mediator.
const mediatorColumns = mediatorFields + `,
	(SELECT count(*) FROM cases c WHERE c.mediator = 'mediators/' || m.id AND c.mediator <> ''
		AND c.state IN ('ASSIGNED', 'MEDIATING'))`

// mediatorFields are mediatorColumns without the open-case count.
const mediatorFields = `m.id, m.display_name, m.organization_id, m.specialties, m.court_roster, m.phone,
	m.active, m.version, m.create_time, m.update_time`

// mediatorTargets are the scan destinations of mediatorColumns.
func mediatorTargets(m *casework.Mediator) []any {
	return []any{&m.ID, &m.DisplayName, &m.OrganizationID, &m.Specialties, &m.CourtRoster, &m.Phone,
		&m.Active, &m.Version, &m.CreateTime, &m.UpdateTime, &m.OpenCases}
}

func scanMediator(row pgx.Row) (casework.Mediator, error) {
	var m casework.Mediator
	err := row.Scan(mediatorTargets(&m)...)
	return m, err
}

func unknownOrganization(id string) error {
	return &casework.FieldError{Field: "mediator.organization", Message: fmt.Sprintf("%s does not exist; create the organization first, or see ListOrganizations", casework.Organization{ID: id}.Name())}
}

// isMissingReference reports a foreign-key violation on constraint.
func isMissingReference(err error, constraint string) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && pe.Code == codeForeignKeyViolation && pe.ConstraintName == constraint
}

// CreateMediator stores a new, active mediator with the id, and returns it
// as stored. A taken id is a *casework.AlreadyExistsError; an
// organization that does not exist is a *casework.FieldError on
// mediator.organization.
func (s *Store) CreateMediator(ctx context.Context, m casework.Mediator, now time.Time) (casework.Mediator, error) {
	if strings.TrimSpace(m.DisplayName) == "" {
		return casework.Mediator{}, &casework.FieldError{Field: "mediator.display_name", Message: "required: the mediator's full name"}
	}
	if err := checkDisputeTypes("mediator.specialties", m.Specialties); err != nil {
		return casework.Mediator{}, err
	}
	name := m.Name()
	out, err := scanMediator(s.changeRow(ctx, `INSERT INTO mediators AS m
		(id, display_name, organization_id, specialties, court_roster, phone, create_time, update_time)
		VALUES ($1, $2, $3, COALESCE($4::text[], '{}'), $5, $6, $7, $7)
		RETURNING `+mediatorColumns,
		m.ID, m.DisplayName, m.OrganizationID, m.Specialties, m.CourtRoster, m.Phone, now))
	switch {
	case isMissingReference(err, "mediators_organization_id_fkey"):
		return casework.Mediator{}, unknownOrganization(m.OrganizationID)
	case pgCode(err) == codeUniqueViolation:
		return casework.Mediator{}, idTaken(name, "mediator_id")
	case err != nil:
		return casework.Mediator{}, fmt.Errorf("create %s: %w", name, err)
	}
	return out, nil
}

// GetMediator returns a mediator with the open cases, or an error wrapping
// casework.ErrNotFound.
func (s *Store) GetMediator(ctx context.Context, id string) (casework.Mediator, error) {
	name := casework.Mediator{ID: id}.Name()
	m, err := scanMediator(s.pool.QueryRow(ctx, `SELECT `+mediatorColumns+` FROM mediators m WHERE m.id = $1`, id))
	if errors.Is(err, pgx.ErrNoRows) {
		return casework.Mediator{}, fmt.Errorf("%s: %w", name, casework.ErrNotFound)
	}
	if err != nil {
		return casework.Mediator{}, fmt.Errorf("get %s: %w", name, err)
	}
	return m, nil
}

// ListMediators returns a page of mediators in id order.
func (s *Store) ListMediators(ctx context.Context, p DirectoryListParams) (MediatorPage, error) {
	where, args, err := compileDirectoryFilter(p.Filter, p.Spelling, mediatorFilter, 1)
	if err != nil {
		return MediatorPage{}, err
	}
	args = append(args, p.After, p.Limit+1)
	sql := fmt.Sprintf(`SELECT %s FROM mediators m JOIN organizations o ON o.id = m.organization_id
		WHERE (%s) AND m.id > $%d ORDER BY m.id LIMIT $%d`, mediatorColumns, where, len(args)-1, len(args))
	rows, err := s.pool.Query(ctx, sql, args...)
	if err != nil {
		return MediatorPage{}, fmt.Errorf("list mediators: %w", err)
	}
	page := MediatorPage{}
	page.Mediators, err = pgx.CollectRows(rows, func(row pgx.CollectableRow) (casework.Mediator, error) { return scanMediator(row) })
	if err != nil {
		return MediatorPage{}, fmt.Errorf("list mediators: %w", err)
	}
	if len(page.Mediators) > p.Limit {
		page.Mediators = page.Mediators[:p.Limit]
		page.Next = page.Mediators[p.Limit-1].ID
	}
	return page, nil
}

// UpdateMediator sets the fields of ch that are not nil, in one statement.
// ifVersion as in UpdateOrganization; a new organization that does not
// exist is a *casework.FieldError on mediator.organization.
func (s *Store) UpdateMediator(ctx context.Context, id string, ch MediatorChange, ifVersion int64, now time.Time) (casework.Mediator, error) {
	name := casework.Mediator{ID: id}.Name()
	if ch.DisplayName != nil && strings.TrimSpace(*ch.DisplayName) == "" {
		return casework.Mediator{}, &casework.FieldError{Field: "mediator.display_name", Message: "required: the mediator's full name"}
	}
	var specialties []casework.DisputeType
	if ch.Specialties != nil {
		specialties = *ch.Specialties
		if err := checkDisputeTypes("mediator.specialties", specialties); err != nil {
			return casework.Mediator{}, err
		}
	}
	m, err := scanMediator(s.changeRow(ctx, `UPDATE mediators AS m SET
			display_name = COALESCE($3::text, m.display_name),
			organization_id = COALESCE($4::text, m.organization_id),
			specialties = CASE WHEN $5::boolean THEN COALESCE($6::text[], '{}') ELSE m.specialties END,
			court_roster = COALESCE($7::boolean, m.court_roster),
			phone = COALESCE($8::text, m.phone),
			version = m.version + 1,
			update_time = $9::timestamptz
		WHERE m.id = $1 AND ($2::bigint = 0 OR m.version = $2)
		RETURNING `+mediatorColumns,
		id, ifVersion, ch.DisplayName, ch.OrganizationID, ch.Specialties != nil, specialties, ch.CourtRoster, ch.Phone, now))
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return casework.Mediator{}, s.explainMiss(ctx, `SELECT version FROM mediators WHERE id = $1`, name, id, ifVersion, nil)
	case isMissingReference(err, "mediators_organization_id_fkey"):
		return casework.Mediator{}, unknownOrganization(*ch.OrganizationID)
	case err != nil:
		return casework.Mediator{}, fmt.Errorf("update %s: %w", name, err)
	}
	return m, nil
}

// SetMediatorActive activates or deactivates a mediator, as
// SetOrganizationActive does an organization.
func (s *Store) SetMediatorActive(ctx context.Context, id string, active bool, ifVersion int64, now time.Time) (casework.Mediator, error) {
	name := casework.Mediator{ID: id}.Name()
	m, err := scanMediator(s.changeRow(ctx, `UPDATE mediators AS m SET
			active = $3,
			version = CASE WHEN m.active = $3 THEN m.version ELSE m.version + 1 END,
			update_time = CASE WHEN m.active = $3 THEN m.update_time ELSE $4::timestamptz END
		WHERE m.id = $1 AND ($2::bigint = 0 OR m.version = $2)
		RETURNING `+mediatorColumns, id, ifVersion, active, now))
	if errors.Is(err, pgx.ErrNoRows) {
		return casework.Mediator{}, s.explainMiss(ctx, `SELECT version FROM mediators WHERE id = $1`, name, id, ifVersion, nil)
	}
	if err != nil {
		return casework.Mediator{}, fmt.Errorf("set active of %s: %w", name, err)
	}
	return m, nil
}

// Assignee returns the organization and the mediator a case is to be
// assigned to, given their resource names (organizations/{id},
// mediators/{id}), in one round trip; their OpenCases are left 0, since
// counting them costs a scan of the open cases. A name that
// is not a resource name is a *casework.FieldError on organization or
// mediator, and so is one that names nothing in the directory (the
// organization when both do).
// Whether the mediator belongs to the organization, and whether both are
// active, is for the caller to decide.
func (s *Store) Assignee(ctx context.Context, organization, mediator string) (casework.Organization, casework.Mediator, error) {
	orgID, ok := strings.CutPrefix(organization, "organizations/")
	if !ok || !resourceIDPattern.MatchString(orgID) {
		return casework.Organization{}, casework.Mediator{}, &casework.FieldError{Field: "organization", Message: fmt.Sprintf("%q is not an organization name: expected organizations/{organization}", organization)}
	}
	medID, ok := strings.CutPrefix(mediator, "mediators/")
	if !ok || !resourceIDPattern.MatchString(medID) {
		return casework.Organization{}, casework.Mediator{}, &casework.FieldError{Field: "mediator", Message: fmt.Sprintf("%q is not a mediator name: expected mediators/{mediator}", mediator)}
	}
	batch := &pgx.Batch{}
	var (
		o                  casework.Organization
		m                  casework.Mediator
		orgErr, medErr     error
		orgFound, medFound bool
	)
	// An assignment's checks need no open-case counts: 0 stands in.
	batch.Queue(`SELECT `+organizationFields+`, 0 FROM organizations o WHERE o.id = $1`, orgID).QueryRow(func(row pgx.Row) error {
		o, orgErr = scanOrganization(row)
		orgFound = orgErr == nil
		if errors.Is(orgErr, pgx.ErrNoRows) {
			orgErr = nil
		}
		return orgErr
	})
	batch.Queue(`SELECT `+mediatorFields+`, 0 FROM mediators m WHERE m.id = $1`, medID).QueryRow(func(row pgx.Row) error {
		m, medErr = scanMediator(row)
		medFound = medErr == nil
		if errors.Is(medErr, pgx.ErrNoRows) {
			medErr = nil
		}
		return medErr
	})
	if err := s.pool.SendBatch(ctx, batch).Close(); err != nil {
		return casework.Organization{}, casework.Mediator{}, fmt.Errorf("read %s and %s: %w", organization, mediator, err)
	}
	const see = "ListOrganizations and ListMediators show who can take cases"
	switch {
	case !orgFound && !medFound:
		return casework.Organization{}, casework.Mediator{}, &casework.FieldError{Field: "organization", Message: organization + " does not exist in the directory, nor does " + mediator + "; " + see}
	case !orgFound:
		return casework.Organization{}, casework.Mediator{}, &casework.FieldError{Field: "organization", Message: organization + " does not exist in the directory; " + see}
	case !medFound:
		return casework.Organization{}, casework.Mediator{}, &casework.FieldError{Field: "mediator", Message: mediator + " does not exist in the directory; " + see}
	}
	return o, m, nil
}

// ---- deadline rules

// ruleRank orders deadline rules from the least specific (0) to the most
// specific (7): naming the source weighs most, then the organization
// type, then the court procedure.
const ruleRank = `((r.source <> '')::int * 4 + (r.organization_type <> '')::int * 2 + (r.court_procedure <> '')::int)`

const ruleColumns = `r.id, r.display_name, r.source, r.organization_type, r.court_procedure, r.days,
	r.max_extensions, r.extension_days, r.version`

func scanRule(row pgx.Row, extra ...any) (casework.DeadlineRule, error) {
	var r casework.DeadlineRule
	err := row.Scan(append([]any{&r.ID, &r.DisplayName, &r.Source, &r.OrganizationType, &r.CourtProcedure, &r.Days,
		&r.MaxExtensions, &r.ExtensionDays, &r.Version}, extra...)...)
	return r, err
}

// ListDeadlineRules returns a page of deadline rules, the most specific
// first, then by id. after is the Next of the previous page ("" for the
// first); a cursor this function did not issue is a *casework.FieldError
// on page_token.
func (s *Store) ListDeadlineRules(ctx context.Context, after string, limit int) (DeadlineRulePage, error) {
	afterRank, afterID := 8, ""
	if after != "" {
		rank, id, ok := strings.Cut(after, "/")
		n, err := strconv.Atoi(rank)
		if !ok || err != nil || n < 0 || n > 7 {
			return DeadlineRulePage{}, &casework.FieldError{Field: "page_token", Message: "not a page token this service issued: pass next_page_token from the previous response unchanged"}
		}
		afterRank, afterID = n, id
	}
	rows, err := s.pool.Query(ctx, `SELECT `+ruleColumns+`, `+ruleRank+` FROM deadline_rules r
		WHERE (`+ruleRank+` < $1 OR (`+ruleRank+` = $1 AND r.id > $2))
		ORDER BY `+ruleRank+` DESC, r.id LIMIT $3`, afterRank, afterID, limit+1)
	if err != nil {
		return DeadlineRulePage{}, fmt.Errorf("list deadline rules: %w", err)
	}
	var ranks []int
	page := DeadlineRulePage{}
	page.Rules, err = pgx.CollectRows(rows, func(row pgx.CollectableRow) (casework.DeadlineRule, error) {
		var rank int
		r, err := scanRule(row, &rank)
		ranks = append(ranks, rank)
		return r, err
	})
	if err != nil {
		return DeadlineRulePage{}, fmt.Errorf("list deadline rules: %w", err)
	}
	if len(page.Rules) > limit {
		page.Rules = page.Rules[:limit]
		page.Next = fmt.Sprintf("%d/%s", ranks[limit-1], page.Rules[limit-1].ID)
	}
	return page, nil
}

// GetDeadlineRule returns a rule, or an error wrapping casework.ErrNotFound.
func (s *Store) GetDeadlineRule(ctx context.Context, id string) (casework.DeadlineRule, error) {
	name := casework.DeadlineRule{ID: id}.Name()
	r, err := scanRule(s.pool.QueryRow(ctx, `SELECT `+ruleColumns+` FROM deadline_rules r WHERE r.id = $1`, id))
	if errors.Is(err, pgx.ErrNoRows) {
		return casework.DeadlineRule{}, fmt.Errorf("%s: %w", name, casework.ErrNotFound)
	}
	if err != nil {
		return casework.DeadlineRule{}, fmt.Errorf("get %s: %w", name, err)
	}
	return r, nil
}

func checkRuleSelectors(r casework.DeadlineRule) error {
	switch {
	case r.Source != "" && !slices.Contains(casework.Sources, r.Source):
		return &casework.FieldError{Field: "deadline_rule.source", Message: fmt.Sprintf("one of %s, or unspecified for any source", joinEnum(casework.Sources))}
	case r.OrganizationType != "" && !slices.Contains(casework.OrganizationTypes, r.OrganizationType):
		return &casework.FieldError{Field: "deadline_rule.organization_type", Message: fmt.Sprintf("one of %s, or unspecified for any type", joinEnum(casework.OrganizationTypes))}
	case r.CourtProcedure != "" && !slices.Contains(courtProcedures, r.CourtProcedure):
		return &casework.FieldError{Field: "deadline_rule.court_procedure", Message: fmt.Sprintf("one of %s, or unspecified for any procedure", joinEnum(courtProcedures))}
	}
	return nil
}

// describeSelectors says which cases a rule applies to, for messages.
func describeSelectors(r casework.DeadlineRule) string {
	part := func(label, v string) string {
		if v == "" {
			return "any " + label
		}
		return label + " " + v
	}
	return part("source", string(r.Source)) + ", " + part("organization type", string(r.OrganizationType)) + ", " + part("court procedure", string(r.CourtProcedure))
}

// CreateDeadlineRule stores a new rule. A taken id, or a second rule for
// the same source, organization type and court procedure, is a
// *casework.AlreadyExistsError; out-of-range numbers are refused by the
// database's checks, which the API validates first.
func (s *Store) CreateDeadlineRule(ctx context.Context, r casework.DeadlineRule) (casework.DeadlineRule, error) {
	defer s.settings.forgetRules()

	if err := checkRuleSelectors(r); err != nil {
		return casework.DeadlineRule{}, err
	}
	if strings.TrimSpace(r.DisplayName) == "" {
		return casework.DeadlineRule{}, &casework.FieldError{Field: "deadline_rule.display_name", Message: "required: what the rule is, e.g. 委托调解（简易程序）"}
	}
	out, err := scanRule(s.changeRow(ctx, `INSERT INTO deadline_rules AS r
		(id, display_name, source, organization_type, court_procedure, days, max_extensions, extension_days)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
		RETURNING `+ruleColumns,
		r.ID, r.DisplayName, r.Source, r.OrganizationType, r.CourtProcedure, r.Days, r.MaxExtensions, r.ExtensionDays))
	var pe *pgconn.PgError
	switch {
	case err == nil:
		return out, nil
	case errors.As(err, &pe) && pe.Code == codeUniqueViolation && pe.ConstraintName == "deadline_rules_pkey":
		return casework.DeadlineRule{}, idTaken(r.Name(), "deadline_rule_id")
	case pgCode(err) == codeUniqueViolation:
		var existing string
		if qerr := s.pool.QueryRow(ctx, `SELECT id FROM deadline_rules WHERE source = $1 AND organization_type = $2 AND court_procedure = $3`,
			r.Source, r.OrganizationType, r.CourtProcedure).Scan(&existing); qerr != nil {
			existing = "another rule"
		} else {
			existing = casework.DeadlineRule{ID: existing}.Name()
		}
		return casework.DeadlineRule{}, &casework.AlreadyExistsError{Reason: "DEADLINE_RULE_EXISTS", Message: fmt.Sprintf(
			"%s already applies to %s; change that rule instead", existing, describeSelectors(r))}
	}
	return casework.DeadlineRule{}, fmt.Errorf("create %s: %w", r.Name(), err)
}

// UpdateDeadlineRule sets the fields of ch that are not nil, in one
// statement; ifVersion as in UpdateOrganization.
func (s *Store) UpdateDeadlineRule(ctx context.Context, id string, ch DeadlineRuleChange, ifVersion int64) (casework.DeadlineRule, error) {
	defer s.settings.forgetRules()

	name := casework.DeadlineRule{ID: id}.Name()
	if ch.DisplayName != nil && strings.TrimSpace(*ch.DisplayName) == "" {
		return casework.DeadlineRule{}, &casework.FieldError{Field: "deadline_rule.display_name", Message: "required: what the rule is, e.g. 委托调解（简易程序）"}
	}
	for _, n := range []struct {
		field    string
		value    *int
		min, max int
	}{
		{"deadline_rule.days", ch.Days, 1, 365},
		{"deadline_rule.max_extensions", ch.MaxExtensions, 0, 10},
		{"deadline_rule.extension_days", ch.ExtensionDays, 0, 365},
	} {
		if n.value != nil && (*n.value < n.min || *n.value > n.max) {
			return casework.DeadlineRule{}, &casework.FieldError{Field: n.field, Message: fmt.Sprintf("must be between %d and %d, got %d", n.min, n.max, *n.value)}
		}
	}
	r, err := scanRule(s.changeRow(ctx, `UPDATE deadline_rules AS r SET
			display_name = COALESCE($3::text, r.display_name),
			days = COALESCE($4::int, r.days),
			max_extensions = COALESCE($5::int, r.max_extensions),
			extension_days = COALESCE($6::int, r.extension_days),
			version = r.version + 1
		WHERE r.id = $1 AND ($2::bigint = 0 OR r.version = $2)
		RETURNING `+ruleColumns, id, ifVersion, ch.DisplayName, ch.Days, ch.MaxExtensions, ch.ExtensionDays))
	if errors.Is(err, pgx.ErrNoRows) {
		return casework.DeadlineRule{}, s.explainMiss(ctx, `SELECT version FROM deadline_rules WHERE id = $1`, name, id, ifVersion, nil)
	}
	if err != nil {
		return casework.DeadlineRule{}, fmt.Errorf("update %s: %w", name, err)
	}
	return r, nil
}

// DeleteDeadlineRule deletes a rule; ifVersion as in UpdateOrganization.
// The catch-all rule (any source, organization type and procedure) is
// what every case falls back to, so deleting it is a
// *casework.PreconditionError.
func (s *Store) DeleteDeadlineRule(ctx context.Context, id string, ifVersion int64) error {
	defer s.settings.forgetRules()

	name := casework.DeadlineRule{ID: id}.Name()
	var (
		version           int64
		catchAll, deleted bool
	)
	err := s.changeRow(ctx, `WITH cur AS (
			SELECT version, source = '' AND organization_type = '' AND court_procedure = '' AS catch_all
			FROM deadline_rules WHERE id = $1
		), del AS (
			DELETE FROM deadline_rules r USING cur
			WHERE r.id = $1 AND NOT cur.catch_all AND ($2::bigint = 0 OR r.version = $2)
			RETURNING r.id
		)
		SELECT cur.version, cur.catch_all, EXISTS (SELECT 1 FROM del) FROM cur`, id, ifVersion).Scan(&version, &catchAll, &deleted)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return fmt.Errorf("%s: %w", name, casework.ErrNotFound)
	case err != nil:
		return fmt.Errorf("delete %s: %w", name, err)
	case catchAll:
		return &casework.PreconditionError{Reason: "CATCH_ALL_DEADLINE_RULE", Message: fmt.Sprintf(
			"%s is the catch-all rule (any source, organization type and court procedure) that every case falls back to: it cannot be deleted; change its days instead", name)}
	case !deleted && ifVersion > 0 && version != ifVersion:
		return staleResource(name, version)
	case !deleted:
		return &casework.ConflictError{Message: fmt.Sprintf("%s changed while it was being deleted; read it again and retry", name)}
	}
	return nil
}

// MatchDeadlineRule returns the rule that sets the time limit of a case:
// of the rules whose source, organization type and court procedure each
// equal the case's or are unspecified (""), the most specific, where
// naming the source weighs more than naming the organization type, which
// weighs more than naming the procedure. The catch-all rule matches every
// case.
func (s *Store) MatchDeadlineRule(ctx context.Context, source casework.Source, orgType casework.OrganizationType, procedure casework.CourtProcedure) (casework.DeadlineRule, error) {
	rules, err := s.deadlineRules(ctx)
	if err != nil {
		return casework.DeadlineRule{}, fmt.Errorf("match deadline rule: %w", err)
	}
	best, found := casework.DeadlineRule{}, false
	for _, r := range rules {
		if (r.Source != "" && r.Source != source) || (r.OrganizationType != "" && r.OrganizationType != orgType) ||
			(r.CourtProcedure != "" && r.CourtProcedure != procedure) {
			continue
		}
		if !found || ruleRankOf(r) > ruleRankOf(best) {
			best, found = r, true
		}
	}
	if !found {
		return casework.DeadlineRule{}, fmt.Errorf("deadline rule for %s: %w", describeSelectors(casework.DeadlineRule{Source: source, OrganizationType: orgType, CourtProcedure: procedure}), casework.ErrNotFound)
	}
	return best, nil
}
