package store

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/mediationd/mediationd/internal/casework"
	"github.com/mediationd/mediationd/internal/identity"
)

// Who may sign in and call the API: users with their password hashes and
// sessions, API keys of other systems, and the failed sign-ins counted to
// throttle guessing. Secrets never reach the database: passwords are kept
// as argon2id hashes (made by package authn), session tokens and API key
// secrets as SHA-256 hashes.

// User is a person who signs in with a password. The password hash is
// not part of it, so that a User can be shown or logged without care; see
// UserCredentials.
type User struct {
	Username    string
	DisplayName string
	Role        identity.Role
	// The scope, as in identity.Principal. For a mediator, OrganizationID is
	// the organization of the mediator entry, read when the user is.
	RegionCode     string
	OrganizationID string
	MediatorID     string
	CourtCode      string
	Active         bool
	Version        int64
	CreateTime     time.Time
	UpdateTime     time.Time
	LastLoginTime  time.Time // zero if the user never signed in
}

// Name is the user's resource name, users/{username}.
func (u User) Name() string { return "users/" + u.Username }

// Principal is the user as the caller of a request.
func (u User) Principal() identity.Principal {
	return identity.Principal{
		Name:           u.Name(),
		Role:           u.Role,
		RegionCode:     u.RegionCode,
		OrganizationID: u.OrganizationID,
		MediatorID:     u.MediatorID,
		CourtCode:      u.CourtCode,
	}
}

// UserPage is one page of users; Next is the username to pass as after
// for the following page, "" when this page is the last.
type UserPage struct {
	Users []User
	Next  string
}

// UserChange holds the fields a user update sets; a nil field keeps its
// stored value. Scope fields the (new) role does not use are cleared; one
// given a value here that the role does not use is refused.
type UserChange struct {
	DisplayName    *string
	Role           *identity.Role
	RegionCode     *string
	OrganizationID *string
	MediatorID     *string
	CourtCode      *string
}

// AuthSession is a signed-in user's bearer token, known only by its
// SHA-256 hash.
type AuthSession struct {
	Username      string
	CreateTime    time.Time
	ExpireTime    time.Time
	RevokeTime    time.Time // zero while the session is not revoked
	ClientAddress string
}

// APIKey lets another system call the API; its secret is known only by
// its SHA-256 hash.
type APIKey struct {
	ID          string
	DisplayName string
	Role        identity.Role
	// The scope: CourtCode for a court desk (with an optional
	// OrganizationID, its litigation–mediation centre), OrganizationID for
	// an organization lead, RegionCode for a supervisor.
	CourtCode      string
	OrganizationID string
	RegionCode     string
	// SecretPrefix is the start of the secret, to recognise it in a
	// configuration.
	SecretPrefix string
	// Creator is the principal that created the key.
	Creator     string
	CreateTime  time.Time
	LastUseTime time.Time // zero if never used
	RevokeTime  time.Time // zero while the key works
}

// Name is the key's resource name, apiKeys/{id}.
func (k APIKey) Name() string { return "apiKeys/" + k.ID }

// Principal is the key as the caller of a request.
func (k APIKey) Principal() identity.Principal {
	return identity.Principal{
		Name:           k.Name(),
		Role:           k.Role,
		RegionCode:     k.RegionCode,
		OrganizationID: k.OrganizationID,
		CourtCode:      k.CourtCode,
	}
}

// APIKeyPage is one page of API keys, newest first; Next is the cursor to
// pass as after for the following page, "" when this page is the last.
type APIKeyPage struct {
	Keys []APIKey
	Next string
}

// CredentialError reports a session or an API key that exists but no
// longer lets anyone in: expired, revoked, or its user deactivated. It
// wraps casework.ErrNotFound, since for the caller the credential is as
// good as unknown; Reason says why, for the authenticator's error.
type CredentialError struct {
	Reason string // e.g. "token expired"
}

func (e *CredentialError) Error() string { return e.Reason }

// Unwrap makes a CredentialError match casework.ErrNotFound.
func (e *CredentialError) Unwrap() error { return casework.ErrNotFound }

// LoginFailureCount is how many failed sign-ins a username or an address
// had since a time, and when the failure that holds the count at the limit
// happened: the limit-th newest, whose leaving the window brings the count
// below the limit. Pivot is zero when the count is below the limit.
type LoginFailureCount struct {
	Count int
	Pivot time.Time
}

// LoginFailureCounts are the counts of one sign-in attempt.
type LoginFailureCounts struct {
	Username LoginFailureCount
	Address  LoginFailureCount
}

var (
	usernamePattern = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]{0,63}$`)
	maxDisplayName  = 100
	maxCourtCode    = 20
)

// accessQuerier is what the scope checks need of a pool or a transaction.
type accessQuerier interface {
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// ---- scopes

// scopeUse says whether a role uses a scope field.
type scopeUse int

const (
	scopeUnused scopeUse = iota
	scopeOptional
	scopeRequired
	scopeDerived // set by the service from another field; input ignored
)

// scopeRule says which scope fields a role uses.
type scopeRule struct {
	region, organization, mediator, court scopeUse
}

// userScopes: a supervisor has a region, a lead an organization, a
// mediator a mediator entry (and its organization), a court desk a court
// (and optionally its litigation–mediation centre); administrators and
// auditors have none.
var userScopes = map[identity.Role]scopeRule{
	identity.RoleAdmin:            {},
	identity.RoleAuditor:          {},
	identity.RoleSupervisor:       {region: scopeRequired},
	identity.RoleOrganizationLead: {organization: scopeRequired},
	identity.RoleMediator:         {mediator: scopeRequired, organization: scopeDerived},
	identity.RoleCourtDesk:        {court: scopeRequired, organization: scopeOptional},
}

// apiKeyScopes: keys are for systems of courts, organizations and
// supervising bureaus.
var apiKeyScopes = map[identity.Role]scopeRule{
	identity.RoleSupervisor:       {region: scopeRequired},
	identity.RoleOrganizationLead: {organization: scopeRequired},
	identity.RoleCourtDesk:        {court: scopeRequired, organization: scopeOptional},
}

// scopeFields are a user's or key's scope, while it is checked.
type scopeFields struct {
	region, organization, mediator, court string
}

func roleList(rules map[identity.Role]scopeRule) string {
	var names []string
	for _, r := range identity.Roles {
		if _, ok := rules[r]; ok {
			names = append(names, string(r))
		}
	}
	return strings.Join(names, ", ")
}

// resolveScope checks the scope of a user or key with the role against
// the rules and the directory, and returns it as it is to be stored.
// given holds the values set explicitly by this request: a field the role
// does not use is an error when given a value, and cleared otherwise (so
// that changing a role drops the old role's scope). A mediator's
// organization is that of the mediator entry. Errors are
// *casework.FieldError on prefix.field.
func resolveScope(ctx context.Context, q accessQuerier, prefix string, rules map[identity.Role]scopeRule, role identity.Role, cur, given scopeFields) (scopeFields, error) {
	rule, ok := rules[role]
	if !ok {
		return scopeFields{}, &casework.FieldError{Field: prefix + ".role", Message: fmt.Sprintf("required: one of %s", roleList(rules))}
	}
	out := cur
	for _, f := range []struct {
		field       string
		use         scopeUse
		value       *string
		given, noun string
	}{
		{"region_code", rule.region, &out.region, given.region, "region"},
		{"organization", rule.organization, &out.organization, given.organization, "organization"},
		{"mediator", rule.mediator, &out.mediator, given.mediator, "mediator entry"},
		{"court_code", rule.court, &out.court, given.court, "court code"},
	} {
		switch {
		case f.use == scopeUnused && f.given != "":
			return scopeFields{}, &casework.FieldError{Field: prefix + "." + f.field, Message: fmt.Sprintf("the role %s has no %s: leave it empty", role, f.noun)}
		case f.use == scopeUnused || f.use == scopeDerived:
			*f.value = ""
		case f.use == scopeRequired && *f.value == "":
			return scopeFields{}, &casework.FieldError{Field: prefix + "." + f.field, Message: fmt.Sprintf("required: the role %s needs %s", role, withArticle(f.noun))}
		}
	}
	if out.region != "" {
		var known bool
		if err := q.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM regions WHERE code = $1)`, out.region).Scan(&known); err != nil {
			return scopeFields{}, fmt.Errorf("look up region %s: %w", out.region, err)
		}
		if !known {
			return scopeFields{}, &casework.FieldError{Field: prefix + ".region_code", Message: fmt.Sprintf("%q is not the code of a region the service knows; see ListRegions, e.g. 621000", out.region)}
		}
	}
	if out.organization != "" {
		var known bool
		if err := q.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM organizations WHERE id = $1)`, out.organization).Scan(&known); err != nil {
			return scopeFields{}, fmt.Errorf("look up organization %s: %w", out.organization, err)
		}
		if !known {
			return scopeFields{}, &casework.FieldError{Field: prefix + ".organization", Message: fmt.Sprintf("%s does not exist; see ListOrganizations", casework.Organization{ID: out.organization}.Name())}
		}
	}
	if out.mediator != "" {
		err := q.QueryRow(ctx, `SELECT organization_id FROM mediators WHERE id = $1`, out.mediator).Scan(&out.organization)
		switch {
		case errors.Is(err, pgx.ErrNoRows):
			return scopeFields{}, &casework.FieldError{Field: prefix + ".mediator", Message: fmt.Sprintf("%s does not exist; create the mediator entry first, or see ListMediators", casework.Mediator{ID: out.mediator}.Name())}
		case err != nil:
			return scopeFields{}, fmt.Errorf("look up mediator %s: %w", out.mediator, err)
		}
	}
	if utf8.RuneCountInString(out.court) > maxCourtCode || strings.TrimSpace(out.court) != out.court {
		return scopeFields{}, &casework.FieldError{Field: prefix + ".court_code", Message: fmt.Sprintf("a court code has at most %d characters and no surrounding spaces, e.g. 甘1002", maxCourtCode)}
	}
	return out, nil
}

func withArticle(noun string) string {
	if strings.ContainsRune("aeiou", rune(noun[0])) {
		return "an " + noun
	}
	return "a " + noun
}

func checkDisplayName(field, name string) error {
	if strings.TrimSpace(name) == "" {
		return &casework.FieldError{Field: field, Message: "required: must not be blank"}
	}
	if utf8.RuneCountInString(name) > maxDisplayName {
		return &casework.FieldError{Field: field, Message: fmt.Sprintf("at most %d characters", maxDisplayName)}
	}
	return nil
}

// nullIfEmpty turns "" into NULL for the nullable reference columns.
func nullIfEmpty(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// ---- users

// userColumns are the columns scanUser reads, in order, for users
// aliased u joined with their mediator entry aliased um.
const userColumns = `u.username, u.display_name, u.role, COALESCE(u.region_code, ''),
	COALESCE(um.organization_id, u.organization_id, ''), COALESCE(u.mediator_id, ''), COALESCE(u.court_code, ''),
	u.active, u.version, u.create_time, u.update_time, u.last_login_time`

// userFrom is the FROM clause userColumns read.
const userFrom = ` FROM users u LEFT JOIN mediators um ON um.id = u.mediator_id`

func scanUser(row pgx.Row, extra ...any) (User, error) {
	var (
		u         User
		lastLogin *time.Time
	)
	err := row.Scan(append([]any{&u.Username, &u.DisplayName, &u.Role, &u.RegionCode, &u.OrganizationID, &u.MediatorID, &u.CourtCode,
		&u.Active, &u.Version, &u.CreateTime, &u.UpdateTime, &lastLogin}, extra...)...)
	if lastLogin != nil {
		u.LastLoginTime = *lastLogin
	}
	return u, err
}

func userName(username string) string { return User{Username: username}.Name() }

// CreateUser stores a new, active user with an argon2id password hash in
// the PHC string format, and returns it as stored. A malformed username is
// a *casework.FieldError on user_id; a taken one a
// *casework.AlreadyExistsError. The scope must fit the role (see
// userScopes) and name regions, organizations and mediators the directory
// knows; otherwise it is a *casework.FieldError on user.region_code,
// user.organization, user.mediator or user.court_code.
func (s *Store) CreateUser(ctx context.Context, u User, passwordHash string, now time.Time) (User, error) {
	if !usernamePattern.MatchString(u.Username) {
		return User{}, &casework.FieldError{Field: "user_id", Message: "must be 1 to 64 lower-case letters, digits, dots, hyphens or underscores, starting with a letter or digit"}
	}
	if err := checkDisplayName("user.display_name", u.DisplayName); err != nil {
		return User{}, err
	}
	if !strings.HasPrefix(passwordHash, "$argon2id$") {
		return User{}, fmt.Errorf("create %s: the password hash is not an argon2id PHC string", u.Name())
	}
	var out User
	err := s.InTx(ctx, func(tx pgx.Tx) error {
		given := scopeFields{region: u.RegionCode, organization: u.OrganizationID, mediator: u.MediatorID, court: u.CourtCode}
		sc, err := resolveScope(ctx, tx, "user", userScopes, u.Role, given, given)
		if err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `INSERT INTO users
			(username, display_name, role, region_code, organization_id, mediator_id, court_code, password_hash, create_time, update_time)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9)`,
			u.Username, strings.TrimSpace(u.DisplayName), string(u.Role), nullIfEmpty(sc.region), nullIfEmpty(sc.organization),
			nullIfEmpty(sc.mediator), nullIfEmpty(sc.court), passwordHash, now)
		if pgCode(err) == codeUniqueViolation {
			return idTaken(u.Name(), "user_id")
		}
		if err != nil {
			return fmt.Errorf("create %s: %w", u.Name(), err)
		}
		out, err = scanUser(tx.QueryRow(ctx, `SELECT `+userColumns+userFrom+` WHERE u.username = $1`, u.Username))
		if err != nil {
			return fmt.Errorf("read %s back: %w", u.Name(), err)
		}
		return nil
	})
	if err != nil {
		return User{}, err
	}
	return out, nil
}

// GetUser returns a user, or an error wrapping casework.ErrNotFound.
func (s *Store) GetUser(ctx context.Context, username string) (User, error) {
	u, err := scanUser(s.pool.QueryRow(ctx, `SELECT `+userColumns+userFrom+` WHERE u.username = $1`, username))
	if errors.Is(err, pgx.ErrNoRows) {
		return User{}, fmt.Errorf("%s: %w", userName(username), casework.ErrNotFound)
	}
	if err != nil {
		return User{}, fmt.Errorf("get %s: %w", userName(username), err)
	}
	return u, nil
}

// UserCredentials returns a user with the PHC string of their password
// hash, for signing in; an unknown user is an error wrapping
// casework.ErrNotFound.
func (s *Store) UserCredentials(ctx context.Context, username string) (User, string, error) {
	var hash string
	u, err := scanUser(s.pool.QueryRow(ctx, `SELECT `+userColumns+`, u.password_hash`+userFrom+` WHERE u.username = $1`, username), &hash)
	if errors.Is(err, pgx.ErrNoRows) {
		return User{}, "", fmt.Errorf("%s: %w", userName(username), casework.ErrNotFound)
	}
	if err != nil {
		return User{}, "", fmt.Errorf("get credentials of %s: %w", userName(username), err)
	}
	return u, hash, nil
}

// ListUsers returns a page of users in username order, after the username
// after ("" for the first page).
func (s *Store) ListUsers(ctx context.Context, after string, limit int) (UserPage, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+userColumns+userFrom+` WHERE u.username > $1 ORDER BY u.username LIMIT $2`, after, limit+1)
	if err != nil {
		return UserPage{}, fmt.Errorf("list users: %w", err)
	}
	page := UserPage{}
	page.Users, err = pgx.CollectRows(rows, func(row pgx.CollectableRow) (User, error) { return scanUser(row) })
	if err != nil {
		return UserPage{}, fmt.Errorf("list users: %w", err)
	}
	if len(page.Users) > limit {
		page.Users = page.Users[:limit]
		page.Next = page.Users[limit-1].Username
	}
	return page, nil
}

// UpdateUser sets the fields of ch that are not nil, in one transaction.
// ifVersion > 0 makes the change conditional on the user still being at
// that version (their etag); a mismatch is a *casework.ConflictError. The
// resulting scope is checked as in CreateUser.
func (s *Store) UpdateUser(ctx context.Context, username string, ch UserChange, ifVersion int64, now time.Time) (User, error) {
	name := userName(username)
	if ch.DisplayName != nil {
		if err := checkDisplayName("user.display_name", *ch.DisplayName); err != nil {
			return User{}, err
		}
	}
	var out User
	err := s.InTx(ctx, func(tx pgx.Tx) error {
		cur, err := scanUser(tx.QueryRow(ctx, `SELECT `+userColumns+userFrom+` WHERE u.username = $1 FOR UPDATE OF u`, username))
		switch {
		case errors.Is(err, pgx.ErrNoRows):
			return fmt.Errorf("%s: %w", name, casework.ErrNotFound)
		case err != nil:
			return fmt.Errorf("read %s: %w", name, err)
		case ifVersion > 0 && cur.Version != ifVersion:
			return staleResource(name, cur.Version)
		}
		next := cur
		var given scopeFields
		set := func(dst *string, v *string, g *string) {
			if v != nil {
				*dst, *g = *v, *v
			}
		}
		if ch.DisplayName != nil {
			next.DisplayName = strings.TrimSpace(*ch.DisplayName)
		}
		if ch.Role != nil {
			next.Role = *ch.Role
		}
		set(&next.RegionCode, ch.RegionCode, &given.region)
		set(&next.OrganizationID, ch.OrganizationID, &given.organization)
		set(&next.MediatorID, ch.MediatorID, &given.mediator)
		set(&next.CourtCode, ch.CourtCode, &given.court)
		sc, err := resolveScope(ctx, tx, "user", userScopes, next.Role,
			scopeFields{region: next.RegionCode, organization: next.OrganizationID, mediator: next.MediatorID, court: next.CourtCode}, given)
		if err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `UPDATE users SET display_name = $2, role = $3, region_code = $4, organization_id = $5,
				mediator_id = $6, court_code = $7, version = version + 1, update_time = $8
			WHERE username = $1`,
			username, next.DisplayName, string(next.Role), nullIfEmpty(sc.region), nullIfEmpty(sc.organization),
			nullIfEmpty(sc.mediator), nullIfEmpty(sc.court), now)
		if err != nil {
			return fmt.Errorf("update %s: %w", name, err)
		}
		out, err = scanUser(tx.QueryRow(ctx, `SELECT `+userColumns+userFrom+` WHERE u.username = $1`, username))
		if err != nil {
			return fmt.Errorf("read %s back: %w", name, err)
		}
		return nil
	})
	if err != nil {
		return User{}, err
	}
	return out, nil
}

// SetUserActive activates or deactivates a user. Deactivating also
// revokes every session of the user, in the same transaction. Setting the
// state the user is already in changes nothing (not even the version).
func (s *Store) SetUserActive(ctx context.Context, username string, active bool, now time.Time) (User, error) {
	name := userName(username)
	var out User
	err := s.InTx(ctx, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `UPDATE users SET active = $2,
				version = CASE WHEN active = $2 THEN version ELSE version + 1 END,
				update_time = CASE WHEN active = $2 THEN update_time ELSE $3::timestamptz END
			WHERE username = $1`, username, active, now)
		if err != nil {
			return fmt.Errorf("set active of %s: %w", name, err)
		}
		if tag.RowsAffected() == 0 {
			return fmt.Errorf("%s: %w", name, casework.ErrNotFound)
		}
		if !active {
			if err := revokeUserSessions(ctx, tx, username, now); err != nil {
				return err
			}
		}
		out, err = scanUser(tx.QueryRow(ctx, `SELECT `+userColumns+userFrom+` WHERE u.username = $1`, username))
		if err != nil {
			return fmt.Errorf("read %s back: %w", name, err)
		}
		return nil
	})
	if err != nil {
		return User{}, err
	}
	return out, nil
}

// SetPasswordHash replaces a user's password hash (a PHC string) and
// revokes every session of the user, in one transaction, so that whoever
// knew the old password is signed out. It does not change the user's
// version: the password is not part of the resource.
func (s *Store) SetPasswordHash(ctx context.Context, username, passwordHash string, now time.Time) error {
	name := userName(username)
	if !strings.HasPrefix(passwordHash, "$argon2id$") {
		return fmt.Errorf("set password of %s: the password hash is not an argon2id PHC string", name)
	}
	return s.InTx(ctx, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `UPDATE users SET password_hash = $2, update_time = $3 WHERE username = $1`, username, passwordHash, now)
		if err != nil {
			return fmt.Errorf("set password of %s: %w", name, err)
		}
		if tag.RowsAffected() == 0 {
			return fmt.Errorf("%s: %w", name, casework.ErrNotFound)
		}
		return revokeUserSessions(ctx, tx, username, now)
	})
}

// RecordLogin notes a successful sign-in as the user's last_login_time. It
// does not change the user's version, so that signing in does not make an
// administrator's etag stale.
func (s *Store) RecordLogin(ctx context.Context, username string, now time.Time) error {
	if _, err := s.execChange(ctx, `UPDATE users SET last_login_time = $2 WHERE username = $1`, username, now); err != nil {
		return fmt.Errorf("record sign-in of %s: %w", userName(username), err)
	}
	return nil
}

// ---- sessions

// CreateAuthSession stores a session of the user, known by the SHA-256
// hash of its token, valid until expire.
func (s *Store) CreateAuthSession(ctx context.Context, tokenHash []byte, username, clientAddress string, now, expire time.Time) error {
	_, err := s.execChange(ctx, `INSERT INTO auth_sessions (token_hash, username, create_time, expire_time, client_address)
		VALUES ($1, $2, $3, $4, $5)`, tokenHash, username, now, expire, clientAddress)
	if isMissingReference(err, "auth_sessions_username_fkey") {
		return fmt.Errorf("create session: %s: %w", userName(username), casework.ErrNotFound)
	}
	if err != nil {
		return fmt.Errorf("create session of %s: %w", userName(username), err)
	}
	return nil
}

// AuthSessionUser returns the session with the token hash and its user,
// in one query. A session that does not exist is an error wrapping
// casework.ErrNotFound; one that expired (at or before now), was revoked,
// or whose user is deactivated is a *CredentialError saying which.
func (s *Store) AuthSessionUser(ctx context.Context, tokenHash []byte, now time.Time) (User, AuthSession, error) {
	var (
		ses    AuthSession
		revoke *time.Time
	)
	u, err := scanUser(s.pool.QueryRow(ctx, `SELECT `+userColumns+`, s.create_time, s.expire_time, s.revoke_time, s.client_address
		FROM auth_sessions s JOIN users u ON u.username = s.username LEFT JOIN mediators um ON um.id = u.mediator_id
		WHERE s.token_hash = $1`, tokenHash), &ses.CreateTime, &ses.ExpireTime, &revoke, &ses.ClientAddress)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return User{}, AuthSession{}, fmt.Errorf("session: %w", casework.ErrNotFound)
	case err != nil:
		return User{}, AuthSession{}, fmt.Errorf("look up session: %w", err)
	}
	ses.Username = u.Username
	if revoke != nil {
		ses.RevokeTime = *revoke
	}
	switch {
	case !ses.RevokeTime.IsZero():
		return User{}, AuthSession{}, &CredentialError{Reason: "token revoked"}
	case !now.Before(ses.ExpireTime):
		return User{}, AuthSession{}, &CredentialError{Reason: "token expired"}
	case !u.Active:
		return User{}, AuthSession{}, &CredentialError{Reason: "user deactivated"}
	}
	return u, ses, nil
}

// RevokeAuthSession ends the session with the token hash and returns its
// username. Revoking a revoked session changes nothing; a session that
// does not exist is an error wrapping casework.ErrNotFound.
func (s *Store) RevokeAuthSession(ctx context.Context, tokenHash []byte, now time.Time) (string, error) {
	var username string
	err := s.changeRow(ctx, `UPDATE auth_sessions SET revoke_time = COALESCE(revoke_time, $2)
		WHERE token_hash = $1 RETURNING username`, tokenHash, now).Scan(&username)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", fmt.Errorf("session: %w", casework.ErrNotFound)
	}
	if err != nil {
		return "", fmt.Errorf("revoke session: %w", err)
	}
	return username, nil
}

// RevokeUserSessions ends every session of the user.
func (s *Store) RevokeUserSessions(ctx context.Context, username string, now time.Time) error {
	return revokeUserSessions(ctx, s.pool, username, now)
}

type accessExecer interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
}

func revokeUserSessions(ctx context.Context, q accessExecer, username string, now time.Time) error {
	_, err := q.Exec(ctx, `UPDATE auth_sessions SET revoke_time = $2
		WHERE username = $1 AND revoke_time IS NULL AND expire_time > $2`, username, now)
	if err != nil {
		return fmt.Errorf("revoke the sessions of %s: %w", userName(username), err)
	}
	return nil
}

// ---- API keys

const apiKeyColumns = `k.id, k.display_name, k.role, COALESCE(k.court_code, ''), COALESCE(k.organization_id, ''),
	COALESCE(k.region_code, ''), k.secret_prefix, k.creator, k.create_time, k.last_use_time, k.revoke_time`

func scanAPIKey(row pgx.Row) (APIKey, error) {
	var (
		k               APIKey
		lastUse, revoke *time.Time
	)
	err := row.Scan(&k.ID, &k.DisplayName, &k.Role, &k.CourtCode, &k.OrganizationID, &k.RegionCode,
		&k.SecretPrefix, &k.Creator, &k.CreateTime, &lastUse, &revoke)
	if lastUse != nil {
		k.LastUseTime = *lastUse
	}
	if revoke != nil {
		k.RevokeTime = *revoke
	}
	return k, err
}

func apiKeyName(id string) string { return APIKey{ID: id}.Name() }

// CreateAPIKey stores a new key, known by the SHA-256 hash of its secret,
// and returns it as stored. A taken id is a *casework.AlreadyExistsError;
// a scope that does not fit the role (see apiKeyScopes) or names what the
// directory does not know is a *casework.FieldError on api_key.role,
// api_key.region_code, api_key.organization or api_key.court_code.
func (s *Store) CreateAPIKey(ctx context.Context, k APIKey, secretHash []byte, now time.Time) (APIKey, error) {
	if !resourceIDPattern.MatchString(k.ID) {
		return APIKey{}, &casework.FieldError{Field: "api_key_id", Message: "must be 1 to 63 lower-case letters, digits and hyphens, starting with a letter or digit"}
	}
	if err := checkDisplayName("api_key.display_name", k.DisplayName); err != nil {
		return APIKey{}, err
	}
	if k.Creator == "" || len(secretHash) == 0 || k.SecretPrefix == "" {
		return APIKey{}, fmt.Errorf("create %s: creator, secret hash and secret prefix are required", k.Name())
	}
	var out APIKey
	err := s.InTx(ctx, func(tx pgx.Tx) error {
		given := scopeFields{region: k.RegionCode, organization: k.OrganizationID, court: k.CourtCode}
		sc, err := resolveScope(ctx, tx, "api_key", apiKeyScopes, k.Role, given, given)
		if err != nil {
			return err
		}
		out, err = scanAPIKey(tx.QueryRow(ctx, `INSERT INTO api_keys AS k
			(id, display_name, role, court_code, organization_id, region_code, secret_hash, secret_prefix, creator, create_time)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
			RETURNING `+apiKeyColumns,
			k.ID, strings.TrimSpace(k.DisplayName), string(k.Role), nullIfEmpty(sc.court), nullIfEmpty(sc.organization),
			nullIfEmpty(sc.region), secretHash, k.SecretPrefix, k.Creator, now))
		var pe *pgconn.PgError
		switch {
		case errors.As(err, &pe) && pe.Code == codeUniqueViolation && pe.ConstraintName == "api_keys_pkey":
			return idTaken(k.Name(), "id")
		case err != nil:
			return fmt.Errorf("create %s: %w", k.Name(), err)
		}
		return nil
	})
	if err != nil {
		return APIKey{}, err
	}
	return out, nil
}

// GetAPIKey returns a key, or an error wrapping casework.ErrNotFound.
func (s *Store) GetAPIKey(ctx context.Context, id string) (APIKey, error) {
	k, err := scanAPIKey(s.pool.QueryRow(ctx, `SELECT `+apiKeyColumns+` FROM api_keys k WHERE k.id = $1`, id))
	if errors.Is(err, pgx.ErrNoRows) {
		return APIKey{}, fmt.Errorf("%s: %w", apiKeyName(id), casework.ErrNotFound)
	}
	if err != nil {
		return APIKey{}, fmt.Errorf("get %s: %w", apiKeyName(id), err)
	}
	return k, nil
}

// APIKeyBySecretHash returns the key whose secret has the SHA-256 hash.
// An unknown hash is an error wrapping casework.ErrNotFound; a revoked key
// is a *CredentialError.
func (s *Store) APIKeyBySecretHash(ctx context.Context, secretHash []byte) (APIKey, error) {
	k, err := scanAPIKey(s.pool.QueryRow(ctx, `SELECT `+apiKeyColumns+` FROM api_keys k WHERE k.secret_hash = $1`, secretHash))
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return APIKey{}, fmt.Errorf("API key: %w", casework.ErrNotFound)
	case err != nil:
		return APIKey{}, fmt.Errorf("look up API key: %w", err)
	case !k.RevokeTime.IsZero():
		return APIKey{}, &CredentialError{Reason: "API key revoked"}
	}
	return k, nil
}

// ListAPIKeys returns a page of keys, newest first. after is the Next of
// the previous page ("" for the first); a cursor this function did not
// issue is a *casework.FieldError on page_token.
func (s *Store) ListAPIKeys(ctx context.Context, after string, limit int) (APIKeyPage, error) {
	afterTime, afterID := time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC), ""
	if after != "" {
		micros, id, ok := strings.Cut(after, "/")
		n, err := strconv.ParseInt(micros, 10, 64)
		if !ok || err != nil || !resourceIDPattern.MatchString(id) {
			return APIKeyPage{}, &casework.FieldError{Field: "page_token", Message: "not a page token this service issued: pass next_page_token from the previous response unchanged"}
		}
		afterTime, afterID = time.UnixMicro(n).UTC(), id
	}
	rows, err := s.pool.Query(ctx, `SELECT `+apiKeyColumns+` FROM api_keys k
		WHERE (k.create_time, k.id) < ($1, $2)
		ORDER BY k.create_time DESC, k.id DESC LIMIT $3`, afterTime, afterID, limit+1)
	if err != nil {
		return APIKeyPage{}, fmt.Errorf("list API keys: %w", err)
	}
	page := APIKeyPage{}
	page.Keys, err = pgx.CollectRows(rows, func(row pgx.CollectableRow) (APIKey, error) { return scanAPIKey(row) })
	if err != nil {
		return APIKeyPage{}, fmt.Errorf("list API keys: %w", err)
	}
	if len(page.Keys) > limit {
		page.Keys = page.Keys[:limit]
		last := page.Keys[limit-1]
		page.Next = fmt.Sprintf("%d/%s", last.CreateTime.UnixMicro(), last.ID)
	}
	return page, nil
}

// RevokeAPIKey revokes a key and returns it. Revoking a revoked key keeps
// its first revoke time; a key that does not exist is an error wrapping
// casework.ErrNotFound.
func (s *Store) RevokeAPIKey(ctx context.Context, id string, now time.Time) (APIKey, error) {
	k, err := scanAPIKey(s.changeRow(ctx, `UPDATE api_keys AS k SET revoke_time = COALESCE(k.revoke_time, $2)
		WHERE k.id = $1 RETURNING `+apiKeyColumns, id, now))
	if errors.Is(err, pgx.ErrNoRows) {
		return APIKey{}, fmt.Errorf("%s: %w", apiKeyName(id), casework.ErrNotFound)
	}
	if err != nil {
		return APIKey{}, fmt.Errorf("revoke %s: %w", apiKeyName(id), err)
	}
	return k, nil
}

// TouchAPIKey records a use of the key at t, unless a later use is
// already recorded.
func (s *Store) TouchAPIKey(ctx context.Context, id string, t time.Time) error {
	_, err := s.execChange(ctx, `UPDATE api_keys SET last_use_time = $2
		WHERE id = $1 AND (last_use_time IS NULL OR last_use_time < $2)`, id, t)
	if err != nil {
		return fmt.Errorf("record use of %s: %w", apiKeyName(id), err)
	}
	return nil
}

// ---- failed sign-ins

// RecordLoginFailure notes a failed sign-in with the username tried, from
// the address.
func (s *Store) RecordLoginFailure(ctx context.Context, username, clientAddress string, t time.Time) error {
	_, err := s.execChange(ctx, `INSERT INTO login_failures (username, client_address, failure_time) VALUES ($1, $2, $3)`,
		username, clientAddress, t)
	if err != nil {
		return fmt.Errorf("record failed sign-in: %w", err)
	}
	return nil
}

// CountLoginFailures counts the failed sign-ins after since for the
// username and for the address, in one query, each with the pivot of its
// limit (see LoginFailureCount). An empty address is not counted: it
// stands for callers whose address is unknown.
func (s *Store) CountLoginFailures(ctx context.Context, username, clientAddress string, since time.Time, usernameLimit, addressLimit int) (LoginFailureCounts, error) {
	var (
		c                       LoginFailureCounts
		userPivot, addressPivot *time.Time
		usernameOff, addressOff = max(usernameLimit-1, 0), max(addressLimit-1, 0)
		userCount, addressCount int64
	)
	err := s.pool.QueryRow(ctx, `SELECT
		(SELECT count(*) FROM login_failures WHERE username = $1 AND failure_time > $3),
		(SELECT failure_time FROM login_failures WHERE username = $1 AND failure_time > $3
			ORDER BY failure_time DESC OFFSET $4 LIMIT 1),
		(SELECT count(*) FROM login_failures WHERE $2 <> '' AND client_address = $2 AND failure_time > $3),
		(SELECT failure_time FROM login_failures WHERE $2 <> '' AND client_address = $2 AND failure_time > $3
			ORDER BY failure_time DESC OFFSET $5 LIMIT 1)`,
		username, clientAddress, since, usernameOff, addressOff).Scan(&userCount, &userPivot, &addressCount, &addressPivot)
	if err != nil {
		return LoginFailureCounts{}, fmt.Errorf("count failed sign-ins: %w", err)
	}
	c.Username.Count, c.Address.Count = int(userCount), int(addressCount)
	if userPivot != nil && c.Username.Count >= usernameLimit {
		c.Username.Pivot = *userPivot
	}
	if addressPivot != nil && c.Address.Count >= addressLimit {
		c.Address.Pivot = *addressPivot
	}
	return c, nil
}

// DeleteLoginFailures forgets the failed sign-ins of a username, after it
// signed in.
func (s *Store) DeleteLoginFailures(ctx context.Context, username string) error {
	if _, err := s.execChange(ctx, `DELETE FROM login_failures WHERE username = $1`, username); err != nil {
		return fmt.Errorf("forget failed sign-ins of %s: %w", userName(username), err)
	}
	return nil
}

// PurgeAuthSessions deletes the sessions that expired or were revoked
// before before; the audit trail keeps the sign-ins and sign-outs.
func (s *Store) PurgeAuthSessions(ctx context.Context, before time.Time) (int64, error) {
	tag, err := s.execChange(ctx, `DELETE FROM auth_sessions WHERE expire_time < $1 OR revoke_time < $1`, before)
	if err != nil {
		return 0, fmt.Errorf("purge ended sessions: %w", err)
	}
	return tag.RowsAffected(), nil
}

// PurgeLoginFailures deletes the failed sign-ins older than before, which
// no longer count towards throttling.
func (s *Store) PurgeLoginFailures(ctx context.Context, before time.Time) (int64, error) {
	tag, err := s.execChange(ctx, `DELETE FROM login_failures WHERE failure_time < $1`, before)
	if err != nil {
		return 0, fmt.Errorf("purge failed sign-ins: %w", err)
	}
	return tag.RowsAffected(), nil
}
