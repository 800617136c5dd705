package authn_test

import (
	"context"
	"crypto/sha256"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/mediationd/mediationd/internal/auth"
	"github.com/mediationd/mediationd/internal/authn"
	"github.com/mediationd/mediationd/internal/casework"
	"github.com/mediationd/mediationd/internal/store"
)

const (
	password      = "correct horse battery"
	wrongPassword = "incorrect horse battery"
)

// wantUnauthenticated fails unless err is an authentication error that
// does not contain the credential.
func wantUnauthenticated(t *testing.T, err error, credential string, mentions string) {
	t.Helper()
	if !errors.Is(err, auth.ErrUnauthenticated) {
		t.Fatalf("error = %v, want auth.ErrUnauthenticated", err)
	}
	if credential != "" && strings.Contains(err.Error(), credential) {
		t.Errorf("error %q contains the credential", err)
	}
	if !strings.Contains(err.Error(), mentions) {
		t.Errorf("error %q does not say %q", err, mentions)
	}
}

func login(t *testing.T, a *authn.Authenticator, username, pw string) string {
	t.Helper()
	token, _, _, err := a.Login(context.Background(), username, pw, "192.0.2.1")
	if err != nil {
		t.Fatalf("Login %s: %v", username, err)
	}
	return token
}

func TestLogin(t *testing.T) {
	st := newStore(t)
	c := newClock()
	a := newAuthenticator(t, st, c, authn.Options{})
	ctx := context.Background()
	addUser(t, st, "alice", auth.RoleAdmin, password)

	// A failure first, which the success then forgets.
	if _, _, _, err := a.Login(ctx, "alice", wrongPassword, "192.0.2.1"); !errors.Is(err, authn.ErrWrongCredentials) {
		t.Fatalf("wrong password: %v", err)
	}
	token, expire, u, err := a.Login(ctx, "alice", password, "192.0.2.1")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(token, authn.SessionTokenPrefix) || len(token) != 4+43 {
		t.Errorf("token has the form %q…, length %d; want mds_ and 43 characters", token[:4], len(token))
	}
	if !expire.Equal(t0.Add(authn.DefaultSessionTTL)) || u.Username != "alice" || !u.LastLoginTime.Equal(t0) {
		t.Errorf("Login = expire %v, user %+v", expire, u)
	}
	stored, _ := st.GetUser(ctx, "alice")
	if !stored.LastLoginTime.Equal(t0) {
		t.Errorf("stored last login = %v, want %v", stored.LastLoginTime, t0)
	}
	counts, _ := st.CountLoginFailures(ctx, "alice", "", t0.Add(-time.Hour), 5, 20)
	if counts.Username.Count != 0 {
		t.Errorf("%d failures left after signing in", counts.Username.Count)
	}
	var address string
	h := sha256.Sum256([]byte(token))
	if err := st.Pool().QueryRow(ctx, `SELECT client_address FROM auth_sessions WHERE token_hash = $1`, h[:]).Scan(&address); err != nil || address != "192.0.2.1" {
		t.Errorf("session address = %q, %v", address, err)
	}

	for _, bearer := range []string{token, "Bearer " + token, "bearer  " + token + " "} {
		p, err := a.Authenticate(ctx, bearer)
		if err != nil || p != (auth.Principal{Name: "users/alice", Role: auth.RoleAdmin}) {
			t.Errorf("Authenticate = %+v, %v", p, err)
		}
	}
}

func TestMalformedCredentials(t *testing.T) {
	st := newStore(t)
	a := newAuthenticator(t, st, newClock(), authn.Options{})
	ctx := context.Background()
	valid := strings.Repeat("A", 43)
	for _, bearer := range []string{
		"", "Bearer", "Bearer ", "mds_", "mds_short",
		"xyz_" + valid, "mds_" + valid + "A", "mds_" + strings.Repeat("*", 43),
		"mds_" + strings.Repeat("A", 42) + "B", // non-zero padding bits: not a canonical encoding
		"Basic " + "mds_" + valid,
	} {
		_, err := a.Authenticate(ctx, bearer)
		wantUnauthenticated(t, err, "", "not a session token or API key secret")
	}
	_, err := a.Authenticate(ctx, "mds_"+valid)
	wantUnauthenticated(t, err, "mds_"+valid, "unknown token")
	_, err = a.Authenticate(ctx, "mdk_"+valid)
	wantUnauthenticated(t, err, "mdk_"+valid, "unknown API key")
}

func TestWrongCredentialsLookAlike(t *testing.T) {
	st := newStore(t)
	a := newAuthenticator(t, st, newClock(), authn.Options{})
	ctx := context.Background()
	addUser(t, st, "alice", auth.RoleAdmin, password)
	addUser(t, st, "bob", auth.RoleAuditor, password)
	if _, err := a.SetUserActive(ctx, "bob", false); err != nil {
		t.Fatal(err)
	}

	var errs []error
	for _, try := range []struct{ user, pw string }{
		{"alice", wrongPassword}, // wrong password
		{"nobody", password},     // unknown user
		{"bob", password},        // deactivated user, right password
		{"alice", ""},            // empty password
	} {
		token, _, _, err := a.Login(ctx, try.user, try.pw, "192.0.2.1")
		if token != "" || !errors.Is(err, authn.ErrWrongCredentials) || !errors.Is(err, auth.ErrUnauthenticated) {
			t.Fatalf("Login(%s) = %q, %v; want ErrWrongCredentials", try.user, token, err)
		}
		errs = append(errs, err)
	}
	for _, err := range errs[1:] {
		if err.Error() != errs[0].Error() {
			t.Errorf("errors differ: %q and %q", errs[0], err)
		}
	}
	if errs[0].Error() != "unauthenticated: wrong username or password" {
		t.Errorf("error = %q", errs[0])
	}
	// Every kind of failure counts, the unknown username's too.
	for _, user := range []string{"alice", "nobody", "bob"} {
		c, err := st.CountLoginFailures(ctx, user, "", t0.Add(-time.Minute), 5, 20)
		if err != nil || c.Username.Count == 0 {
			t.Errorf("failures of %s = %+v, %v", user, c, err)
		}
	}
}

func TestThrottling(t *testing.T) {
	st := newStore(t)
	c := newClock()
	a := newAuthenticator(t, st, c, authn.Options{MaxAddressFailures: 3})
	ctx := context.Background()
	addUser(t, st, "alice", auth.RoleAdmin, password)

	// Five failures a second apart from different addresses (so that only
	// the username's count matters).
	for i := range 5 {
		_, _, _, err := a.Login(ctx, "alice", wrongPassword, "198.51.100."+string(rune('1'+i)))
		if !errors.Is(err, authn.ErrWrongCredentials) {
			t.Fatalf("failure %d: %v", i+1, err)
		}
		c.Advance(time.Second)
	}
	// Now even the right password is refused without being checked, until
	// the first failure leaves the 15-minute window.
	_, _, _, err := a.Login(ctx, "alice", password, "203.0.113.1")
	var throttled *authn.ThrottledError
	if !errors.As(err, &throttled) {
		t.Fatalf("sixth attempt: %v, want a ThrottledError", err)
	}
	if want := 15*time.Minute - 5*time.Second; throttled.RetryAfter != want {
		t.Errorf("RetryAfter = %v, want %v", throttled.RetryAfter, want)
	}
	counts, _ := st.CountLoginFailures(ctx, "alice", "", t0.Add(-time.Hour), 5, 20)
	if counts.Username.Count != 5 {
		t.Errorf("%d failures recorded, want 5: a throttled attempt does not count", counts.Username.Count)
	}
	c.Advance(throttled.RetryAfter - time.Second)
	if _, _, _, err := a.Login(ctx, "alice", password, "203.0.113.1"); !errors.As(err, &throttled) || throttled.RetryAfter != time.Second {
		t.Fatalf("a second before the end: %v", err)
	}
	c.Advance(time.Second)
	login(t, a, "alice", password)

	// The address limit (3 here): failures of any usernames from one
	// address hold back every username from it, and only from it.
	for _, user := range []string{"x1", "x2", "x3"} {
		if _, _, _, err := a.Login(ctx, user, wrongPassword, "192.0.2.99"); !errors.Is(err, authn.ErrWrongCredentials) {
			t.Fatal(err)
		}
	}
	if _, _, _, err := a.Login(ctx, "alice", password, "192.0.2.99"); !errors.As(err, &throttled) || throttled.RetryAfter <= 0 {
		t.Errorf("from the throttled address: %v", err)
	}
	if _, _, _, err := a.Login(ctx, "alice", password, "192.0.2.100"); err != nil {
		t.Errorf("from another address: %v", err)
	}
}

func TestSessionExpiry(t *testing.T) {
	st := newStore(t)
	c := newClock()
	a := newAuthenticator(t, st, c, authn.Options{SessionTTL: time.Hour})
	ctx := context.Background()
	addUser(t, st, "alice", auth.RoleAdmin, password)
	token := login(t, a, "alice", password)

	c.Advance(time.Hour - time.Second)
	if _, err := a.Authenticate(ctx, token); err != nil {
		t.Fatalf("a second before expiry: %v", err)
	}
	// The cache keeps the entry for 10s, but not past the session's end.
	c.Advance(time.Second)
	_, err := a.Authenticate(ctx, token)
	wantUnauthenticated(t, err, token, "token expired")
}

func TestRevocation(t *testing.T) {
	st := newStore(t)
	c := newClock()
	here := newAuthenticator(t, st, c, authn.Options{})
	there := newAuthenticator(t, st, c, authn.Options{}) // another replica
	ctx := context.Background()
	addUser(t, st, "alice", auth.RoleAdmin, password)
	token := login(t, here, "alice", password)
	for _, a := range []*authn.Authenticator{here, there} {
		if _, err := a.Authenticate(ctx, token); err != nil {
			t.Fatal(err)
		}
	}

	if err := here.Logout(ctx, token); err != nil {
		t.Fatal(err)
	}
	_, err := here.Authenticate(ctx, token)
	wantUnauthenticated(t, err, token, "token revoked")
	// The other replica trusts its cache for CacheTTL at most.
	c.Advance(authn.DefaultCacheTTL - time.Millisecond)
	if _, err := there.Authenticate(ctx, token); err != nil {
		t.Errorf("other replica within the cache time: %v (it may still accept the token)", err)
	}
	c.Advance(time.Millisecond)
	_, err = there.Authenticate(ctx, token)
	wantUnauthenticated(t, err, token, "token revoked")

	err = here.Logout(ctx, "mds_"+strings.Repeat("A", 43))
	wantUnauthenticated(t, err, "", "unknown token")
}

func TestAPIKeys(t *testing.T) {
	st := newStore(t)
	c := newClock()
	a := newAuthenticator(t, st, c, authn.Options{})
	ctx := context.Background()

	secret, hash, prefix := authn.NewAPIKeySecret()
	if !strings.HasPrefix(secret, authn.APIKeySecretPrefix) || len(secret) != 47 || !strings.HasPrefix(secret, prefix) || len(prefix) >= 20 {
		t.Fatalf("NewAPIKeySecret = %d characters, prefix %q", len(secret), prefix)
	}
	if sum := sha256.Sum256([]byte(secret)); string(sum[:]) != string(hash) {
		t.Fatal("the hash is not the SHA-256 of the secret")
	}
	if _, err := st.CreateAPIKey(ctx, store.APIKey{
		ID: "court-gan1002", DisplayName: "西峰区人民法院诉调对接系统", Role: auth.RoleCourtDesk, CourtCode: "甘1002",
		SecretPrefix: prefix, Creator: "users/admin",
	}, hash, t0); err != nil {
		t.Fatal(err)
	}

	p, err := a.Authenticate(ctx, "Bearer "+secret)
	if err != nil || p != (auth.Principal{Name: "apiKeys/court-gan1002", Role: auth.RoleCourtDesk, CourtCode: "甘1002"}) {
		t.Fatalf("Authenticate = %+v, %v", p, err)
	}
	lastUse := func() time.Time {
		t.Helper()
		a.Close() // wait for the background write
		k, err := st.GetAPIKey(ctx, "court-gan1002")
		if err != nil {
			t.Fatal(err)
		}
		return k.LastUseTime
	}
	if got := lastUse(); !got.Equal(t0) {
		t.Errorf("last use = %v, want %v", got, t0)
	}
	// Within a minute, uses are not written again; after it, they are.
	c.Advance(30 * time.Second)
	if _, err := a.Authenticate(ctx, secret); err != nil {
		t.Fatal(err)
	}
	if got := lastUse(); !got.Equal(t0) {
		t.Errorf("last use after 30s = %v, want still %v", got, t0)
	}
	c.Advance(31 * time.Second)
	if _, err := a.Authenticate(ctx, secret); err != nil {
		t.Fatal(err)
	}
	if got := lastUse(); !got.Equal(t0.Add(61 * time.Second)) {
		t.Errorf("last use after 61s = %v, want %v", got, t0.Add(61*time.Second))
	}

	var pe *casework.PreconditionError
	if err := a.Logout(ctx, secret); !errors.As(err, &pe) {
		t.Errorf("Logout with an API key: %v, want a PreconditionError", err)
	}
	k, err := a.RevokeAPIKey(ctx, "court-gan1002")
	if err != nil || k.RevokeTime.IsZero() {
		t.Fatalf("RevokeAPIKey = %+v, %v", k, err)
	}
	_, err = a.Authenticate(ctx, secret)
	wantUnauthenticated(t, err, secret, "API key revoked")
}

func TestDeactivatedUser(t *testing.T) {
	st := newStore(t)
	c := newClock()
	a := newAuthenticator(t, st, c, authn.Options{})
	ctx := context.Background()
	addUser(t, st, "alice", auth.RoleAdmin, password)
	token := login(t, a, "alice", password)
	if _, err := a.Authenticate(ctx, token); err != nil {
		t.Fatal(err)
	}

	if _, err := a.SetUserActive(ctx, "alice", false); err != nil {
		t.Fatal(err)
	}
	_, err := a.Authenticate(ctx, token)
	wantUnauthenticated(t, err, token, "token revoked")
	if _, _, _, err := a.Login(ctx, "alice", password, "192.0.2.1"); !errors.Is(err, authn.ErrWrongCredentials) {
		t.Errorf("deactivated user signing in: %v", err)
	}

	if _, err := a.SetUserActive(ctx, "alice", true); err != nil {
		t.Fatal(err)
	}
	_, err = a.Authenticate(ctx, token)
	wantUnauthenticated(t, err, token, "token revoked")
	login(t, a, "alice", password)
}

func TestPasswordChange(t *testing.T) {
	st := newStore(t)
	c := newClock()
	a := newAuthenticator(t, st, c, authn.Options{})
	ctx := context.Background()
	addUser(t, st, "alice", auth.RoleAdmin, password)
	first := login(t, a, "alice", password)
	second := login(t, a, "alice", password)
	for _, tok := range []string{first, second} {
		if _, err := a.Authenticate(ctx, tok); err != nil {
			t.Fatal(err)
		}
	}

	var fe *casework.FieldError
	if err := a.SetPassword(ctx, "alice", "too short"); !errors.As(err, &fe) || fe.Field != "password" {
		t.Errorf("short password: %v, want a FieldError on password", err)
	}
	const newPassword = "a much better passphrase"
	if err := a.SetPassword(ctx, "alice", newPassword); err != nil {
		t.Fatal(err)
	}
	for _, tok := range []string{first, second} {
		_, err := a.Authenticate(ctx, tok)
		wantUnauthenticated(t, err, tok, "token revoked")
	}
	if _, _, _, err := a.Login(ctx, "alice", password, "192.0.2.1"); !errors.Is(err, authn.ErrWrongCredentials) {
		t.Errorf("old password: %v", err)
	}
	login(t, a, "alice", newPassword)
	if err := a.SetPassword(ctx, "ghost", newPassword); !errors.Is(err, casework.ErrNotFound) {
		t.Errorf("SetPassword of an unknown user: %v", err)
	}
}

// TestRoleChangeForgotten checks that ForgetUser makes a new role apply
// to the user's next request on this replica.
func TestRoleChangeForgotten(t *testing.T) {
	st := newStore(t)
	a := newAuthenticator(t, st, newClock(), authn.Options{})
	ctx := context.Background()
	addUser(t, st, "alice", auth.RoleAdmin, password)
	token := login(t, a, "alice", password)
	if p, _ := a.Authenticate(ctx, token); p.Role != auth.RoleAdmin {
		t.Fatalf("role = %s", p.Role)
	}
	auditor := auth.RoleAuditor
	if _, err := st.UpdateUser(ctx, "alice", store.UserChange{Role: &auditor}, 0, t0); err != nil {
		t.Fatal(err)
	}
	if p, _ := a.Authenticate(ctx, token); p.Role != auth.RoleAdmin {
		t.Errorf("role before ForgetUser = %s, want the cached ADMIN", p.Role)
	}
	a.ForgetUser("alice")
	if p, err := a.Authenticate(ctx, token); err != nil || p.Role != auth.RoleAuditor {
		t.Errorf("role after ForgetUser = %s, %v; want AUDITOR", p.Role, err)
	}
}

// TestOnlyHashesStored reads the tables: they hold hashes, never a
// password, a token or a secret.
func TestOnlyHashesStored(t *testing.T) {
	st := newStore(t)
	a := newAuthenticator(t, st, newClock(), authn.Options{})
	ctx := context.Background()
	addUser(t, st, "alice", auth.RoleAdmin, password)
	token := login(t, a, "alice", password)
	secret, hash, prefix := authn.NewAPIKeySecret()
	if _, err := st.CreateAPIKey(ctx, store.APIKey{ID: "key", DisplayName: "k", Role: auth.RoleSupervisor, RegionCode: "621000",
		SecretPrefix: prefix, Creator: "users/alice"}, hash, t0); err != nil {
		t.Fatal(err)
	}

	var phc string
	if err := st.Pool().QueryRow(ctx, `SELECT password_hash FROM users WHERE username = 'alice'`).Scan(&phc); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(phc, "$argon2id$v=19$m=19456,t=2,p=1$") || strings.Contains(phc, password) {
		t.Errorf("password_hash = %q, want an argon2id PHC string with m=19456,t=2,p=1", phc)
	}
	if ok, err := authn.CheckPassword(phc, password); !ok || err != nil {
		t.Errorf("the stored hash does not check: %v, %v", ok, err)
	}

	tokenHash := sha256.Sum256([]byte(token))
	var sessionHash []byte
	if err := st.Pool().QueryRow(ctx, `SELECT token_hash FROM auth_sessions`).Scan(&sessionHash); err != nil {
		t.Fatal(err)
	}
	if string(sessionHash) != string(tokenHash[:]) {
		t.Errorf("auth_sessions.token_hash is not the SHA-256 of the token")
	}
	secretHash := sha256.Sum256([]byte(secret))
	var keyHash []byte
	var keyPrefix string
	if err := st.Pool().QueryRow(ctx, `SELECT secret_hash, secret_prefix FROM api_keys`).Scan(&keyHash, &keyPrefix); err != nil {
		t.Fatal(err)
	}
	if string(keyHash) != string(secretHash[:]) || keyPrefix != prefix || len(keyPrefix) >= len(secret)/2 {
		t.Errorf("api_keys holds hash %x, prefix %q", keyHash, keyPrefix)
	}

	// No column of any of the tables holds the secrets themselves.
	for _, table := range []string{"users", "auth_sessions", "api_keys", "login_failures"} {
		var dump string
		if err := st.Pool().QueryRow(ctx, `SELECT COALESCE(string_agg(t::text, E'\n'), '') FROM `+table+` t`).Scan(&dump); err != nil {
			t.Fatal(err)
		}
		for _, s := range []string{password, token, token[4:], secret, secret[4:]} {
			if strings.Contains(dump, s) {
				t.Errorf("table %s holds a secret in the clear", table)
			}
		}
	}
}

func TestHousekeeping(t *testing.T) {
	st := newStore(t)
	c := newClock()
	// Sessions outlive the retention, so that a revoked session is
	// deleted for its revocation, not for its expiry.
	const ttl = 30 * 24 * time.Hour
	a := newAuthenticator(t, st, c, authn.Options{SessionTTL: ttl})
	ctx := context.Background()
	addUser(t, st, "alice", auth.RoleAdmin, password)
	count := func(table string) int {
		t.Helper()
		var n int
		if err := st.Pool().QueryRow(ctx, "SELECT count(*) FROM "+table).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	housekeep := func(wantFailures, wantSessions int64) {
		t.Helper()
		f, s, err := a.Housekeep(ctx)
		if err != nil || f != wantFailures || s != wantSessions {
			t.Fatalf("Housekeep = %d failures, %d sessions, %v; want %d and %d", f, s, err, wantFailures, wantSessions)
		}
	}

	revoked := login(t, a, "alice", password)
	if err := a.Logout(ctx, revoked); err != nil {
		t.Fatal(err)
	}
	valid := login(t, a, "alice", password)
	// Failures of an unknown username: a successful sign-in forgets the
	// failures of its own.
	for range 2 {
		if _, _, _, err := a.Login(ctx, "mallory", "a guess", "192.0.2.1"); err == nil {
			t.Fatal("a wrong password signed in")
		}
	}
	housekeep(0, 0)

	// Past the throttling window the two failures go; a new one stays.
	c.Advance(authn.DefaultFailureWindow + time.Minute)
	if _, _, _, err := a.Login(ctx, "mallory", "another guess", "192.0.2.1"); err == nil {
		t.Fatal("a wrong password signed in")
	}
	housekeep(2, 0)
	if n := count("login_failures"); n != 1 {
		t.Fatalf("%d failed sign-ins left, want the recent one", n)
	}

	// An hour before the revoked session has been over for a week, it
	// stays; two hours later it goes, and the valid session stays and works.
	c.Advance(authn.EndedSessionRetention - authn.DefaultFailureWindow - 2*time.Minute - time.Hour)
	housekeep(1, 0)
	c.Advance(2 * time.Hour)
	housekeep(0, 1)
	if n := count("auth_sessions"); n != 1 {
		t.Fatalf("%d sessions left, want the valid one", n)
	}
	if _, err := a.Authenticate(ctx, valid); err != nil {
		t.Fatalf("the valid session after housekeeping: %v", err)
	}

	// Expired, it is kept for a week, then goes too.
	c.Advance(ttl - authn.EndedSessionRetention)
	housekeep(0, 0)
	if _, err := a.Authenticate(ctx, valid); err == nil {
		t.Fatal("an expired session authenticates")
	}
	c.Advance(authn.EndedSessionRetention)
	housekeep(0, 1)
	if n := count("auth_sessions"); n != 0 {
		t.Fatalf("%d sessions left, want none", n)
	}
}
