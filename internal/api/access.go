package api

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"net"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/protobuf/types/known/durationpb"

	"github.com/mediationd/mediationd/internal/auth"
	"github.com/mediationd/mediationd/internal/authn"
	"github.com/mediationd/mediationd/internal/casework"
	"github.com/mediationd/mediationd/internal/reqinfo"
	"github.com/mediationd/mediationd/internal/store"
	mediationv1 "github.com/mediationd/mediationd/proto/mediation/v1"
)

// AuthService serves mediation.v1.AuthService: signing in and out, and
// saying who the caller is.
type AuthService struct {
	mediationv1.UnimplementedAuthServiceServer

	authn *authn.Authenticator
	store *store.Store
}

// NewAuthService returns the service.
func NewAuthService(a *authn.Authenticator, st *store.Store) *AuthService {
	return &AuthService{authn: a, store: st}
}

// retryAfterHeader is the response header that tells a throttled client,
// in seconds, when to try again (as HTTP's Retry-After).
const retryAfterHeader = "retry-after"

// clientHost is the address of a peer without its port: failed sign-ins
// are counted per host, whatever port each connection comes from.
func clientHost(peer string) string {
	if host, _, err := net.SplitHostPort(peer); err == nil {
		return host
	}
	return peer
}

// CreateSession signs in with a username and password. Wrong credentials
// are UNAUTHENTICATED, the same for an unknown user, a deactivated one and
// a wrong password; too many failures are RESOURCE_EXHAUSTED with a
// google.rpc.RetryInfo detail and a retry-after header (seconds).
func (s *AuthService) CreateSession(ctx context.Context, req *mediationv1.CreateSessionRequest) (*mediationv1.CreateSessionResponse, error) {
	token, expire, u, err := s.authn.Login(ctx, req.GetUsername(), req.GetPassword(), clientHost(reqinfo.From(ctx).Peer))
	var throttled *authn.ThrottledError
	switch {
	case errors.As(err, &throttled):
		seconds := int64((throttled.RetryAfter + time.Second - 1) / time.Second)
		_ = grpc.SetHeader(ctx, metadata.Pairs(retryAfterHeader, strconv.FormatInt(seconds, 10)))
		return nil, withDetails(codes.ResourceExhausted,
			fmt.Sprintf("too many failed sign-ins for this username or from this address: try again in %d seconds", seconds),
			&errdetails.RetryInfo{RetryDelay: durationpb.New(time.Duration(seconds) * time.Second)},
			&errdetails.ErrorInfo{Reason: "SIGN_IN_THROTTLED", Domain: ErrorDomain},
		).Err()
	case errors.Is(err, auth.ErrUnauthenticated):
		return nil, withDetails(codes.Unauthenticated, "wrong username or password",
			&errdetails.ErrorInfo{Reason: "WRONG_CREDENTIALS", Domain: ErrorDomain}).Err()
	case err != nil:
		return nil, err
	}
	return &mediationv1.CreateSessionResponse{Token: token, ExpireTime: timeToProto(expire), User: userToProto(u)}, nil
}

// DeleteSession signs out: the bearer token the call was made with stops
// working.
func (s *AuthService) DeleteSession(ctx context.Context, _ *mediationv1.DeleteSessionRequest) (*mediationv1.DeleteSessionResponse, error) {
	md, _ := metadata.FromIncomingContext(ctx)
	for _, v := range md.Get("authorization") {
		if token, ok := authn.BearerToken(v); ok {
			if err := s.authn.Logout(ctx, token); err != nil {
				return nil, err
			}
			return &mediationv1.DeleteSessionResponse{}, nil
		}
	}
	return nil, fmt.Errorf("%w: no bearer token in the authorization header", auth.ErrUnauthenticated)
}

// GetCaller says who the caller is, their scope, and the methods their
// role may call.
func (s *AuthService) GetCaller(ctx context.Context, _ *mediationv1.GetCallerRequest) (*mediationv1.GetCallerResponse, error) {
	p := auth.FromContext(ctx)
	if !p.Authenticated() {
		return nil, fmt.Errorf("%w: the call carries no credential", auth.ErrUnauthenticated)
	}
	return callerToProto(p), nil
}

// UserService serves mediation.v1.UserService: users and API keys.
//
// UpdateUser follows AIP-134 as the directory's updates do (see
// DirectoryService): the mask names the fields to change, empty or "*"
// meaning all of them. The user in an UpdateUserRequest is not checked by
// protovalidate (an update carries only some fields), so the handler
// checks the fields the mask names.
type UserService struct {
	mediationv1.UnimplementedUserServiceServer

	store *store.Store
	authn *authn.Authenticator
	now   Clock
}

// NewUserService returns the service. The authenticator hashes passwords
// and forgets cached credentials when users or keys change; now stamps
// create and update times (nil means time.Now).
func NewUserService(st *store.Store, a *authn.Authenticator, now Clock) *UserService {
	if now == nil {
		now = time.Now
	}
	return &UserService{store: st, authn: a, now: now}
}

func (s *UserService) clock() time.Time { return s.now().UTC().Truncate(time.Microsecond) }

var (
	userNamePattern = regexp.MustCompile(`^users/([a-z0-9][a-z0-9._-]{0,63})$`)
	userIDPattern   = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]{0,63}$`)
)

// parseUserName extracts the username from `users/{username}`.
func parseUserName(field, name string) (string, error) {
	m := userNamePattern.FindStringSubmatch(name)
	if m == nil {
		return "", &casework.FieldError{Field: field, Message: fmt.Sprintf("%q is not a user name: expected users/{username}, the username being 1 to 64 lower-case letters, digits, dots, hyphens or underscores", name)}
	}
	return m[1], nil
}

var userMask = maskSchema{
	mutable: []string{"display_name", "role", "region_code", "organization", "mediator", "court_code"},
	ignored: []string{"name", "active", "create_time", "last_login_time", "etag"},
}

// userRoleFromProto reads the role of a user.
func userRoleFromProto(r mediationv1.Role) (auth.Role, error) {
	role := authRoleFromProto(r)
	if role == "" {
		return "", &casework.FieldError{Field: "user.role", Message: "required: one of ROLE_ADMIN, ROLE_SUPERVISOR, ROLE_ORGANIZATION_LEAD, ROLE_MEDIATOR, ROLE_COURT_DESK, ROLE_AUDITOR"}
	}
	return role, nil
}

// optionalID extracts the id from `{collection}/{id}`, "" staying "".
func optionalID(field, name, collection string) (string, error) {
	if name == "" {
		return "", nil
	}
	return parseID(field, name, collection)
}

func checkRegionCode(field, code string) error {
	if code != "" && !regionCodePattern.MatchString(code) {
		return &casework.FieldError{Field: field, Message: "must be a 6-digit GB/T 2260 code such as 621000"}
	}
	return nil
}

func checkUserDisplayName(field, name string) error {
	switch {
	case strings.TrimSpace(name) == "":
		return &casework.FieldError{Field: field, Message: "required: must not be blank"}
	case utf8.RuneCountInString(name) > 100:
		return &casework.FieldError{Field: field, Message: "at most 100 characters"}
	}
	return nil
}

// CreateUser creates an active user with a password.
func (s *UserService) CreateUser(ctx context.Context, req *mediationv1.CreateUserRequest) (*mediationv1.CreateUserResponse, error) {
	if !userIDPattern.MatchString(req.GetUserId()) {
		return nil, &casework.FieldError{Field: "user_id", Message: "must be 1 to 64 lower-case letters, digits, dots, hyphens or underscores, starting with a letter or digit"}
	}
	in := req.GetUser()
	if err := checkUserDisplayName("user.display_name", in.GetDisplayName()); err != nil {
		return nil, err
	}
	role, err := userRoleFromProto(in.GetRole())
	if err != nil {
		return nil, err
	}
	if err := checkRegionCode("user.region_code", in.GetRegionCode()); err != nil {
		return nil, err
	}
	u := store.User{Username: req.GetUserId(), DisplayName: strings.TrimSpace(in.GetDisplayName()), Role: role, RegionCode: in.GetRegionCode(), CourtCode: in.GetCourtCode()}
	if role != auth.RoleMediator {
		// A mediator's organization is that of the mediator entry.
		if u.OrganizationID, err = optionalID("user.organization", in.GetOrganization(), "organizations"); err != nil {
			return nil, err
		}
	}
	if u.MediatorID, err = optionalID("user.mediator", in.GetMediator(), "mediators"); err != nil {
		return nil, err
	}
	phc, err := s.authn.HashPassword(ctx, req.GetPassword())
	if err != nil {
		return nil, err
	}
	out, err := s.store.CreateUser(ctx, u, phc, s.clock())
	if err != nil {
		return nil, err
	}
	return &mediationv1.CreateUserResponse{User: userToProto(out)}, nil
}

// GetUser returns one user.
func (s *UserService) GetUser(ctx context.Context, req *mediationv1.GetUserRequest) (*mediationv1.GetUserResponse, error) {
	username, err := parseUserName("name", req.GetName())
	if err != nil {
		return nil, err
	}
	u, err := s.store.GetUser(ctx, username)
	if err != nil {
		return nil, err
	}
	return &mediationv1.GetUserResponse{User: userToProto(u)}, nil
}

// ListUsers lists users by name.
func (s *UserService) ListUsers(ctx context.Context, req *mediationv1.ListUsersRequest) (*mediationv1.ListUsersResponse, error) {
	query := queryFingerprint("users")
	after, err := decodeKeyPageToken(req.GetPageToken(), query)
	if err != nil {
		return nil, err
	}
	page, err := s.store.ListUsers(ctx, after, pageSize(req.GetPageSize(), defaultPageSize))
	if err != nil {
		return nil, err
	}
	out := &mediationv1.ListUsersResponse{NextPageToken: encodeKeyPageToken(page.Next, query)}
	for _, u := range page.Users {
		out.Users = append(out.Users, userToProto(u))
	}
	return out, nil
}

// UpdateUser changes the fields of a user the mask selects. The user's
// cached sessions on this replica are forgotten, so that a new role or
// scope applies to their next request; other replicas follow within the
// authenticator's cache time.
func (s *UserService) UpdateUser(ctx context.Context, req *mediationv1.UpdateUserRequest) (*mediationv1.UpdateUserResponse, error) {
	in := req.GetUser()
	username, err := parseUserName("user.name", in.GetName())
	if err != nil {
		return nil, err
	}
	paths, err := userMask.selected(req.GetUpdateMask())
	if err != nil {
		return nil, err
	}
	version, err := parseEtag("user.etag", in.GetEtag())
	if err != nil {
		return nil, err
	}
	if len(paths) == 0 {
		u, err := s.store.GetUser(ctx, username)
		if err != nil {
			return nil, err
		}
		if err := checkVersion(u.Name(), u.Version, version); err != nil {
			return nil, err
		}
		return &mediationv1.UpdateUserResponse{User: userToProto(u)}, nil
	}
	var ch store.UserChange
	if paths["display_name"] {
		if err := checkUserDisplayName("user.display_name", in.GetDisplayName()); err != nil {
			return nil, err
		}
		name := strings.TrimSpace(in.GetDisplayName())
		ch.DisplayName = &name
	}
	if paths["role"] {
		role, err := userRoleFromProto(in.GetRole())
		if err != nil {
			return nil, err
		}
		ch.Role = &role
	}
	if paths["region_code"] {
		code := in.GetRegionCode()
		if err := checkRegionCode("user.region_code", code); err != nil {
			return nil, err
		}
		ch.RegionCode = &code
	}
	if paths["organization"] {
		id, err := optionalID("user.organization", in.GetOrganization(), "organizations")
		if err != nil {
			return nil, err
		}
		ch.OrganizationID = &id
	}
	if paths["mediator"] {
		id, err := optionalID("user.mediator", in.GetMediator(), "mediators")
		if err != nil {
			return nil, err
		}
		ch.MediatorID = &id
	}
	if paths["court_code"] {
		code := in.GetCourtCode()
		ch.CourtCode = &code
	}
	u, err := s.store.UpdateUser(ctx, username, ch, version, s.clock())
	if err != nil {
		return nil, err
	}
	s.authn.ForgetUser(username)
	return &mediationv1.UpdateUserResponse{User: userToProto(u)}, nil
}

// DeactivateUser stops a user from signing in and ends their sessions.
// Administrators cannot deactivate themselves, so that the last one
// cannot lock everyone out.
func (s *UserService) DeactivateUser(ctx context.Context, req *mediationv1.DeactivateUserRequest) (*mediationv1.DeactivateUserResponse, error) {
	username, err := parseUserName("name", req.GetName())
	if err != nil {
		return nil, err
	}
	if auth.FromContext(ctx).Name == req.GetName() {
		return nil, &casework.PreconditionError{Reason: "SELF_DEACTIVATION", Message: "you cannot deactivate yourself: ask another administrator"}
	}
	u, err := s.authn.SetUserActive(ctx, username, false)
	if err != nil {
		return nil, err
	}
	return &mediationv1.DeactivateUserResponse{User: userToProto(u)}, nil
}

// ActivateUser lets a deactivated user sign in again.
func (s *UserService) ActivateUser(ctx context.Context, req *mediationv1.ActivateUserRequest) (*mediationv1.ActivateUserResponse, error) {
	username, err := parseUserName("name", req.GetName())
	if err != nil {
		return nil, err
	}
	u, err := s.authn.SetUserActive(ctx, username, true)
	if err != nil {
		return nil, err
	}
	return &mediationv1.ActivateUserResponse{User: userToProto(u)}, nil
}

// SetPassword sets a user's password and ends their sessions.
func (s *UserService) SetPassword(ctx context.Context, req *mediationv1.SetPasswordRequest) (*mediationv1.SetPasswordResponse, error) {
	username, err := parseUserName("name", req.GetName())
	if err != nil {
		return nil, err
	}
	if err := s.authn.SetPassword(ctx, username, req.GetPassword()); err != nil {
		return nil, err
	}
	return &mediationv1.SetPasswordResponse{}, nil
}

// newAPIKeyID returns a random key id: 16 lower-case letters and digits.
func newAPIKeyID() string { return strings.ToLower(rand.Text()[:16]) }

// CreateApiKey creates an API key for the caller's role and scope as
// given, and returns its secret, which is shown only this once. The
// creator is the calling principal.
func (s *UserService) CreateApiKey(ctx context.Context, req *mediationv1.CreateApiKeyRequest) (*mediationv1.CreateApiKeyResponse, error) {
	in := req.GetApiKey()
	if err := checkUserDisplayName("api_key.display_name", in.GetDisplayName()); err != nil {
		return nil, err
	}
	if err := checkRegionCode("api_key.region_code", in.GetRegionCode()); err != nil {
		return nil, err
	}
	orgID, err := optionalID("api_key.organization", in.GetOrganization(), "organizations")
	if err != nil {
		return nil, err
	}
	secret, hash, prefix := authn.NewAPIKeySecret()
	k, err := s.store.CreateAPIKey(ctx, store.APIKey{
		ID:             newAPIKeyID(),
		DisplayName:    strings.TrimSpace(in.GetDisplayName()),
		Role:           authRoleFromProto(in.GetRole()),
		CourtCode:      strings.TrimSpace(in.GetCourtCode()),
		OrganizationID: orgID,
		RegionCode:     in.GetRegionCode(),
		SecretPrefix:   prefix,
		Creator:        auth.FromContext(ctx).Name,
	}, hash, s.clock())
	if err != nil {
		return nil, err
	}
	return &mediationv1.CreateApiKeyResponse{ApiKey: apiKeyToProto(k), Secret: secret}, nil
}

// ListApiKeys lists API keys, newest first, without their secrets.
func (s *UserService) ListApiKeys(ctx context.Context, req *mediationv1.ListApiKeysRequest) (*mediationv1.ListApiKeysResponse, error) {
	query := queryFingerprint("apiKeys")
	after, err := decodeKeyPageToken(req.GetPageToken(), query)
	if err != nil {
		return nil, err
	}
	page, err := s.store.ListAPIKeys(ctx, after, pageSize(req.GetPageSize(), defaultPageSize))
	if err != nil {
		return nil, err
	}
	out := &mediationv1.ListApiKeysResponse{NextPageToken: encodeKeyPageToken(page.Next, query)}
	for _, k := range page.Keys {
		out.ApiKeys = append(out.ApiKeys, apiKeyToProto(k))
	}
	return out, nil
}

// RevokeApiKey revokes an API key. It stops working at once on this
// replica, and on the others within the authenticator's cache time.
func (s *UserService) RevokeApiKey(ctx context.Context, req *mediationv1.RevokeApiKeyRequest) (*mediationv1.RevokeApiKeyResponse, error) {
	id, err := parseID("name", req.GetName(), "apiKeys")
	if err != nil {
		return nil, err
	}
	k, err := s.authn.RevokeAPIKey(ctx, id)
	if err != nil {
		return nil, err
	}
	return &mediationv1.RevokeApiKeyResponse{ApiKey: apiKeyToProto(k)}, nil
}

// The services implement the generated interfaces.
var (
	_ mediationv1.AuthServiceServer = (*AuthService)(nil)
	_ mediationv1.UserServiceServer = (*UserService)(nil)
)
