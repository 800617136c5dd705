// Package authn proves who is calling: it signs users in with a password
// (argon2id hashes, throttled after repeated failures), issues and checks
// their session tokens, and checks the secrets of API keys. What a
// principal may then do is package auth's business.
//
// Secrets are never stored: the database keeps SHA-256 hashes of session
// tokens and API key secrets, and argon2id hashes of passwords. Nothing
// here logs a password, a token or a secret, and no error contains one.
//
// A credential that checks out is remembered in memory for CacheTTL, so
// that a busy client costs one database read per CacheTTL rather than one
// per request. Signing out, revoking a key, deactivating a user or
// changing a password through the same Authenticator takes effect at once;
// other replicas of the service notice within CacheTTL.
package authn

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/mediationd/mediationd/internal/auth"
	"github.com/mediationd/mediationd/internal/casework"
	"github.com/mediationd/mediationd/internal/store"
)

// The defaults of Options.
const (
	DefaultSessionTTL         = 12 * time.Hour
	DefaultCacheTTL           = 10 * time.Second
	DefaultMaxFailures        = 5
	DefaultMaxAddressFailures = 20
	DefaultFailureWindow      = 15 * time.Minute
)

// apiKeyTouchInterval is how often, at most, one replica records the use
// of an API key: last_use_time is exact to within it.
const apiKeyTouchInterval = time.Minute

// touchTimeout bounds one background write of an API key's last use.
const touchTimeout = 10 * time.Second

// Options tune an Authenticator; a zero field takes its default.
type Options struct {
	// SessionTTL is how long a session token works after signing in.
	SessionTTL time.Duration
	// CacheTTL is how long a checked credential is trusted without asking
	// the database again: how long other replicas may go on accepting a
	// credential revoked elsewhere. Negative disables the cache.
	CacheTTL time.Duration
	// MaxFailures is how many failed sign-ins of one username within
	// FailureWindow make further attempts wait; MaxAddressFailures the
	// same for one client address, whatever the usernames tried.
	MaxFailures        int
	MaxAddressFailures int
	FailureWindow      time.Duration
	// Logger receives the errors of background work (recording API key
	// use); nil discards them.
	Logger *slog.Logger
}

func (o Options) withDefaults() Options {
	if o.SessionTTL <= 0 {
		o.SessionTTL = DefaultSessionTTL
	}
	if o.CacheTTL == 0 {
		o.CacheTTL = DefaultCacheTTL
	}
	if o.MaxFailures <= 0 {
		o.MaxFailures = DefaultMaxFailures
	}
	if o.MaxAddressFailures <= 0 {
		o.MaxAddressFailures = DefaultMaxAddressFailures
	}
	if o.FailureWindow <= 0 {
		o.FailureWindow = DefaultFailureWindow
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return o
}

// ErrWrongCredentials is the answer to every failed sign-in, whether the
// username is unknown, the user deactivated or the password wrong, so
// that it does not reveal which usernames exist. It wraps
// auth.ErrUnauthenticated.
var ErrWrongCredentials = fmt.Errorf("%w: wrong username or password", auth.ErrUnauthenticated)

// ThrottledError refuses a sign-in attempt made after too many failures:
// the username, or the client's address, must wait RetryAfter before
// trying again. The password is not checked, and the attempt is not
// counted as a failure.
type ThrottledError struct {
	RetryAfter time.Duration
}

func (e *ThrottledError) Error() string {
	return fmt.Sprintf("too many failed sign-ins: try again in %s", e.RetryAfter)
}

// Authenticator signs users in and out and turns bearer credentials into
// principals. It is safe for concurrent use.
type Authenticator struct {
	store *store.Store
	now   func() time.Time
	opts  Options

	// hashSlots bounds the argon2id computations running at once: each
	// takes 19 MiB, so a burst of sign-ins must queue rather than exhaust
	// memory.
	hashSlots chan struct{}

	mu    sync.Mutex
	cache map[[32]byte]cacheEntry

	touchMu sync.Mutex
	touched map[string]time.Time // API key id → when this replica last recorded its use
	touches sync.WaitGroup
}

// cacheEntry is a credential that checked out, until until.
type cacheEntry struct {
	principal auth.Principal
	until     time.Time
	username  string // the user of a session
	keyID     string // the id of an API key
}

// cacheSweepSize is the cache size above which expired entries are
// dropped when a new one is added.
const cacheSweepSize = 1024

// New returns an Authenticator over the store. now tells the time (nil
// means time.Now); tests move it to expire sessions and cache entries.
func New(st *store.Store, now func() time.Time, opts Options) *Authenticator {
	if now == nil {
		now = time.Now
	}
	// Hash the stand-in password now rather than during the first sign-in
	// with an unknown username, which would otherwise take twice as long.
	dummyHash()
	return &Authenticator{
		store:     st,
		now:       now,
		opts:      opts.withDefaults(),
		hashSlots: make(chan struct{}, max(runtime.GOMAXPROCS(0), 2)),
		cache:     map[[32]byte]cacheEntry{},
		touched:   map[string]time.Time{},
	}
}

// EndedSessionRetention is how long a session is kept after it expired or
// was revoked, so that a client using it is told "token expired" or
// "token revoked" rather than "unknown token".
const EndedSessionRetention = 7 * 24 * time.Hour

// Housekeep deletes what no longer serves: failed sign-ins older than the
// throttling window, and sessions ended more than EndedSessionRetention
// ago. It returns how many of each it deleted. Replicas may all run it.
func (a *Authenticator) Housekeep(ctx context.Context) (failures, sessions int64, err error) {
	now := a.clock()
	if failures, err = a.store.PurgeLoginFailures(ctx, now.Add(-a.opts.FailureWindow)); err != nil {
		return 0, 0, err
	}
	sessions, err = a.store.PurgeAuthSessions(ctx, now.Add(-EndedSessionRetention))
	return failures, sessions, err
}

// Close waits for background writes (the last use of API keys) to finish;
// call it before closing the store.
func (a *Authenticator) Close() { a.touches.Wait() }

func (a *Authenticator) clock() time.Time { return a.now().UTC().Truncate(time.Microsecond) }

// Authenticate returns the principal of a bearer credential: a session
// token (mds_…) or an API key secret (mdk_…), with or without the
// "Bearer " scheme. A credential that is malformed, unknown, expired or
// revoked, or whose user is deactivated, is an error wrapping
// auth.ErrUnauthenticated that says which but never contains the
// credential. Other errors (the database is unreachable) are returned as
// they are.
func (a *Authenticator) Authenticate(ctx context.Context, bearer string) (auth.Principal, error) {
	credential := strings.TrimSpace(bearer)
	if c, ok := BearerToken(credential); ok {
		credential = c
	}
	kind := kindOf(credential)
	if kind == kindInvalid {
		return auth.Principal{}, fmt.Errorf("%w: not a session token or API key secret of this service", auth.ErrUnauthenticated)
	}
	h := hashOf(credential)
	now := a.clock()
	if e, ok := a.cached(h, now); ok {
		if e.keyID != "" {
			a.touch(ctx, e.keyID, now)
		}
		return e.principal, nil
	}
	switch kind {
	case kindSession:
		u, ses, err := a.store.AuthSessionUser(ctx, h[:], now)
		if err != nil {
			return auth.Principal{}, credentialError(err, "unknown token")
		}
		p := u.Principal()
		a.remember(h, cacheEntry{principal: p, until: ses.ExpireTime, username: u.Username}, now)
		return p, nil
	default:
		k, err := a.store.APIKeyBySecretHash(ctx, h[:])
		if err != nil {
			return auth.Principal{}, credentialError(err, "unknown API key")
		}
		p := k.Principal()
		a.remember(h, cacheEntry{principal: p, keyID: k.ID}, now)
		a.touch(ctx, k.ID, now)
		return p, nil
	}
}

// credentialError turns the store's answer for a credential that does not
// check out into an authentication error; other errors pass through.
func credentialError(err error, unknown string) error {
	var ce *store.CredentialError
	switch {
	case errors.As(err, &ce):
		return fmt.Errorf("%w: %s", auth.ErrUnauthenticated, ce.Reason)
	case errors.Is(err, casework.ErrNotFound):
		return fmt.Errorf("%w: %s", auth.ErrUnauthenticated, unknown)
	}
	return fmt.Errorf("authenticate: %w", err)
}

// cached returns the cache entry of a credential hash if it is still
// good at now.
func (a *Authenticator) cached(h [32]byte, now time.Time) (cacheEntry, bool) {
	if a.opts.CacheTTL < 0 {
		return cacheEntry{}, false
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	e, ok := a.cache[h]
	if !ok {
		return cacheEntry{}, false
	}
	if !now.Before(e.until) {
		delete(a.cache, h)
		return cacheEntry{}, false
	}
	return e, true
}

// remember caches a credential that checked out for CacheTTL, or until
// e.until if that is sooner (a session's expiry).
func (a *Authenticator) remember(h [32]byte, e cacheEntry, now time.Time) {
	if a.opts.CacheTTL < 0 {
		return
	}
	if until := now.Add(a.opts.CacheTTL); e.until.IsZero() || until.Before(e.until) {
		e.until = until
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if len(a.cache) >= cacheSweepSize {
		for k, old := range a.cache {
			if !now.Before(old.until) {
				delete(a.cache, k)
			}
		}
	}
	a.cache[h] = e
}

// forget drops the cache entries for which drop is true.
func (a *Authenticator) forget(drop func(cacheEntry) bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	for k, e := range a.cache {
		if drop(e) {
			delete(a.cache, k)
		}
	}
}

// ForgetUser drops the cached sessions of a user, so that a change of
// their role or scope applies to their next request on this replica.
func (a *Authenticator) ForgetUser(username string) {
	a.forget(func(e cacheEntry) bool { return e.username == username })
}

// touch records the use of an API key at now in the background, at most
// once per apiKeyTouchInterval per key on this replica, so that the
// request does not wait for the write.
func (a *Authenticator) touch(ctx context.Context, keyID string, now time.Time) {
	a.touchMu.Lock()
	last, ok := a.touched[keyID]
	if ok && now.Sub(last) < apiKeyTouchInterval {
		a.touchMu.Unlock()
		return
	}
	a.touched[keyID] = now
	a.touchMu.Unlock()

	a.touches.Add(1)
	go func() {
		defer a.touches.Done()
		ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), touchTimeout)
		defer cancel()
		if err := a.store.TouchAPIKey(ctx, keyID, now); err != nil {
			a.opts.Logger.Warn("record API key use", "api_key", store.APIKey{ID: keyID}.Name(), "error", err.Error())
		}
	}()
}

// acquireHashSlot waits for a turn to run argon2id (see hashSlots).
func (a *Authenticator) acquireHashSlot(ctx context.Context) (release func(), err error) {
	select {
	case a.hashSlots <- struct{}{}:
		return func() { <-a.hashSlots }, nil
	case <-ctx.Done():
		return nil, fmt.Errorf("wait to check a password: %w", ctx.Err())
	}
}

func (a *Authenticator) checkPassword(ctx context.Context, phc, password string) (bool, error) {
	release, err := a.acquireHashSlot(ctx)
	if err != nil {
		return false, err
	}
	defer release()
	return CheckPassword(phc, password)
}

// HashPassword hashes a new password as the package's HashPassword does,
// within the Authenticator's bound on concurrent hashing. A password
// shorter than MinPasswordLength characters is a *casework.FieldError on
// password.
func (a *Authenticator) HashPassword(ctx context.Context, password string) (string, error) {
	if err := CheckPasswordStrength(password); err != nil {
		return "", err
	}
	release, err := a.acquireHashSlot(ctx)
	if err != nil {
		return "", err
	}
	defer release()
	return HashPassword(password), nil
}

// CheckPasswordStrength refuses a new password shorter than
// MinPasswordLength characters, with a *casework.FieldError on password.
func CheckPasswordStrength(password string) error {
	if utf8.RuneCountInString(password) < MinPasswordLength {
		return &casework.FieldError{Field: "password", Message: fmt.Sprintf("must have at least %d characters", MinPasswordLength)}
	}
	return nil
}

// Login checks a username and password and opens a session: it returns
// the bearer token, when it expires, and the user.
//
// Attempts are throttled before the password is checked: when the
// username had MaxFailures failures, or the client address
// MaxAddressFailures, within FailureWindow, the answer is a
// *ThrottledError whose RetryAfter is when enough of them leave the
// window. An unknown username, a deactivated user and a wrong password
// all get ErrWrongCredentials after the same argon2id work, and count as
// a failure. A success forgets the username's failures and records the
// sign-in.
func (a *Authenticator) Login(ctx context.Context, username, password, clientAddress string) (string, time.Time, store.User, error) {
	now := a.clock()
	counts, err := a.store.CountLoginFailures(ctx, username, clientAddress, now.Add(-a.opts.FailureWindow),
		a.opts.MaxFailures, a.opts.MaxAddressFailures)
	if err != nil {
		return "", time.Time{}, store.User{}, fmt.Errorf("sign in: %w", err)
	}
	if wait := a.retryAfter(counts, now); wait > 0 {
		return "", time.Time{}, store.User{}, &ThrottledError{RetryAfter: wait}
	}

	u, phc, err := a.store.UserCredentials(ctx, username)
	known := err == nil
	switch {
	case errors.Is(err, casework.ErrNotFound):
		phc = dummyHash()
	case err != nil:
		return "", time.Time{}, store.User{}, fmt.Errorf("sign in: %w", err)
	}
	match, err := a.checkPassword(ctx, phc, password)
	if err != nil {
		return "", time.Time{}, store.User{}, fmt.Errorf("check the password of %s: %w", u.Name(), err)
	}
	if !known || !match || !u.Active {
		if err := a.store.RecordLoginFailure(ctx, username, clientAddress, now); err != nil {
			return "", time.Time{}, store.User{}, fmt.Errorf("sign in: %w", err)
		}
		return "", time.Time{}, store.User{}, ErrWrongCredentials
	}

	if err := a.store.DeleteLoginFailures(ctx, username); err != nil {
		return "", time.Time{}, store.User{}, fmt.Errorf("sign in: %w", err)
	}
	if err := a.store.RecordLogin(ctx, username, now); err != nil {
		return "", time.Time{}, store.User{}, fmt.Errorf("sign in: %w", err)
	}
	token := newSecret(SessionTokenPrefix)
	h := hashOf(token)
	expire := now.Add(a.opts.SessionTTL)
	if err := a.store.CreateAuthSession(ctx, h[:], username, clientAddress, now, expire); err != nil {
		return "", time.Time{}, store.User{}, fmt.Errorf("sign in: %w", err)
	}
	u.LastLoginTime = now
	return token, expire, u, nil
}

// retryAfter is how long a sign-in attempt at now must wait, 0 if it need
// not: until the failure that holds a count at its limit leaves the
// window, rounded up to a whole second.
func (a *Authenticator) retryAfter(c store.LoginFailureCounts, now time.Time) time.Duration {
	var until time.Time
	if c.Username.Count >= a.opts.MaxFailures && !c.Username.Pivot.IsZero() {
		until = c.Username.Pivot.Add(a.opts.FailureWindow)
	}
	if c.Address.Count >= a.opts.MaxAddressFailures && !c.Address.Pivot.IsZero() {
		if t := c.Address.Pivot.Add(a.opts.FailureWindow); t.After(until) {
			until = t
		}
	}
	wait := until.Sub(now)
	if until.IsZero() || wait <= 0 {
		return 0
	}
	return (wait + time.Second - 1).Truncate(time.Second)
}

// Logout ends the session of a bearer token, here at once and on other
// replicas within CacheTTL. An API key secret is refused with a
// *casework.PreconditionError (a key is revoked, not signed out); a
// credential that is not a known session is an error wrapping
// auth.ErrUnauthenticated.
func (a *Authenticator) Logout(ctx context.Context, bearer string) error {
	credential := strings.TrimSpace(bearer)
	if c, ok := BearerToken(credential); ok {
		credential = c
	}
	switch kindOf(credential) {
	case kindInvalid:
		return fmt.Errorf("%w: not a session token of this service", auth.ErrUnauthenticated)
	case kindAPIKey:
		return &casework.PreconditionError{Reason: "NOT_A_SESSION", Message: "the call was made with an API key, which does not sign out: an administrator revokes it with RevokeApiKey"}
	}
	h := hashOf(credential)
	if _, err := a.store.RevokeAuthSession(ctx, h[:], a.clock()); err != nil {
		return credentialError(err, "unknown token")
	}
	a.mu.Lock()
	delete(a.cache, h)
	a.mu.Unlock()
	return nil
}

// SetPassword sets a user's password (at least MinPasswordLength
// characters) and ends all their sessions.
func (a *Authenticator) SetPassword(ctx context.Context, username, password string) error {
	phc, err := a.HashPassword(ctx, password)
	if err != nil {
		return err
	}
	if err := a.store.SetPasswordHash(ctx, username, phc, a.clock()); err != nil {
		return err
	}
	a.ForgetUser(username)
	return nil
}

// SetUserActive activates or deactivates a user; deactivating ends all
// their sessions.
func (a *Authenticator) SetUserActive(ctx context.Context, username string, active bool) (store.User, error) {
	u, err := a.store.SetUserActive(ctx, username, active, a.clock())
	if err != nil {
		return store.User{}, err
	}
	if !active {
		a.ForgetUser(username)
	}
	return u, nil
}

// RevokeAPIKey revokes an API key: it stops working here at once, and on
// other replicas within CacheTTL.
func (a *Authenticator) RevokeAPIKey(ctx context.Context, id string) (store.APIKey, error) {
	k, err := a.store.RevokeAPIKey(ctx, id, a.clock())
	if err != nil {
		return store.APIKey{}, err
	}
	a.forget(func(e cacheEntry) bool { return e.keyID == id })
	return k, nil
}
