package store_test

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/mediationd/mediationd/internal/casework"
	"github.com/mediationd/mediationd/internal/identity"
	"github.com/mediationd/mediationd/internal/store"
)

// accessHash is a well-formed stand-in for an argon2id hash: the store
// keeps it without checking it against anything.
const accessHash = "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHRzYWx0c2FsdA$aGFzaGhhc2hoYXNoaGFzaGhhc2hoYXNoaGFzaGhhc2g"

func accessTokenHash(s string) []byte {
	h := sha256.Sum256([]byte(s))
	return h[:]
}

func accessCreateUser(t *testing.T, st *store.Store, u store.User) store.User {
	t.Helper()
	if u.DisplayName == "" {
		u.DisplayName = "用户 " + u.Username
	}
	out, err := st.CreateUser(context.Background(), u, accessHash, t0)
	if err != nil {
		t.Fatalf("CreateUser %s: %v", u.Username, err)
	}
	return out
}

func accessWantAlreadyExists(t *testing.T, err error) {
	t.Helper()
	var ae *casework.AlreadyExistsError
	if !errors.As(err, &ae) {
		t.Fatalf("error = %v, want an AlreadyExistsError", err)
	}
}

func accessWantCredential(t *testing.T, err error, reason string) {
	t.Helper()
	var ce *store.CredentialError
	if !errors.As(err, &ce) || ce.Reason != reason || !errors.Is(err, casework.ErrNotFound) {
		t.Fatalf("error = %v, want a CredentialError %q that is also ErrNotFound", err, reason)
	}
}

func TestAccessUsers(t *testing.T) {
	st, _ := newStore(t)
	ctx := context.Background()

	admin := accessCreateUser(t, st, store.User{Username: "admin", DisplayName: " 管理员 ", Role: identity.RoleAdmin})
	if admin.Name() != "users/admin" || admin.DisplayName != "管理员" || admin.Role != identity.RoleAdmin || !admin.Active ||
		admin.Version != 1 || !admin.CreateTime.Equal(t0) || !admin.LastLoginTime.IsZero() {
		t.Errorf("created %+v", admin)
	}
	_, err := st.CreateUser(ctx, store.User{Username: "admin", DisplayName: "again", Role: identity.RoleAuditor}, accessHash, t0)
	accessWantAlreadyExists(t, err)
	_, err = st.CreateUser(ctx, store.User{Username: "Admin", DisplayName: "x", Role: identity.RoleAdmin}, accessHash, t0)
	dirWantField(t, err, "user_id")
	_, err = st.CreateUser(ctx, store.User{Username: "blank", DisplayName: "  ", Role: identity.RoleAdmin}, accessHash, t0)
	dirWantField(t, err, "user.display_name")
	_, err = st.CreateUser(ctx, store.User{Username: "nobody", DisplayName: "x", Role: "JANITOR"}, accessHash, t0)
	dirWantField(t, err, "user.role")
	if _, err := st.CreateUser(ctx, store.User{Username: "plain", DisplayName: "x", Role: identity.RoleAdmin}, "secret", t0); err == nil {
		t.Error("CreateUser accepted a password hash that is not an argon2id PHC string")
	}

	got, err := st.GetUser(ctx, "admin")
	if err != nil || got != admin {
		t.Errorf("GetUser = %+v, %v; want %+v", got, err, admin)
	}
	_, err = st.GetUser(ctx, "ghost")
	dirWantNotFound(t, err, "users/ghost")
	u, hash, err := st.UserCredentials(ctx, "admin")
	if err != nil || hash != accessHash || u != admin {
		t.Errorf("UserCredentials = %+v, %q, %v", u, hash, err)
	}
	_, _, err = st.UserCredentials(ctx, "ghost")
	dirWantNotFound(t, err, "users/ghost")

	for _, name := range []string{"carol", "bob", "dave", "erin"} {
		accessCreateUser(t, st, store.User{Username: name, Role: identity.RoleAuditor})
	}
	var names []string
	after := ""
	for pages := 0; ; pages++ {
		page, err := st.ListUsers(ctx, after, 2)
		if err != nil {
			t.Fatal(err)
		}
		for _, u := range page.Users {
			names = append(names, u.Username)
		}
		if page.Next == "" {
			if pages != 2 {
				t.Errorf("%d pages, want 3", pages+1)
			}
			break
		}
		after = page.Next
	}
	if fmt.Sprint(names) != "[admin bob carol dave erin]" {
		t.Errorf("ListUsers = %v", names)
	}

	name := "王管理"
	updated, err := st.UpdateUser(ctx, "admin", store.UserChange{DisplayName: &name}, 1, t0.Add(time.Hour))
	if err != nil || updated.DisplayName != name || updated.Version != 2 || !updated.UpdateTime.Equal(t0.Add(time.Hour)) {
		t.Fatalf("UpdateUser = %+v, %v", updated, err)
	}
	_, err = st.UpdateUser(ctx, "admin", store.UserChange{DisplayName: &name}, 1, t0)
	dirWantConflict(t, err)
	_, err = st.UpdateUser(ctx, "ghost", store.UserChange{DisplayName: &name}, 0, t0)
	dirWantNotFound(t, err, "users/ghost")
	blank := " "
	_, err = st.UpdateUser(ctx, "admin", store.UserChange{DisplayName: &blank}, 0, t0)
	dirWantField(t, err, "user.display_name")

	later := t0.Add(2 * time.Hour)
	if err := st.RecordLogin(ctx, "admin", later); err != nil {
		t.Fatal(err)
	}
	got, _ = st.GetUser(ctx, "admin")
	if !got.LastLoginTime.Equal(later) || got.Version != 2 {
		t.Errorf("after RecordLogin: last login %v, version %d; want %v and an unchanged version", got.LastLoginTime, got.Version, later)
	}

	off, err := st.SetUserActive(ctx, "bob", false, later)
	if err != nil || off.Active || off.Version != 2 {
		t.Fatalf("SetUserActive(false) = %+v, %v", off, err)
	}
	again, err := st.SetUserActive(ctx, "bob", false, later.Add(time.Hour))
	if err != nil || again.Version != 2 || !again.UpdateTime.Equal(later) {
		t.Errorf("deactivating again changed the user: %+v, %v", again, err)
	}
	on, err := st.SetUserActive(ctx, "bob", true, later)
	if err != nil || !on.Active || on.Version != 3 {
		t.Errorf("SetUserActive(true) = %+v, %v", on, err)
	}
	_, err = st.SetUserActive(ctx, "ghost", true, later)
	dirWantNotFound(t, err, "users/ghost")
	dirWantNotFound(t, st.SetPasswordHash(ctx, "ghost", accessHash, later), "users/ghost")
}

func TestAccessUserScopes(t *testing.T) {
	st, _ := newStore(t)
	ctx := context.Background()
	seedDirectory(t, st)
	create := func(u store.User) (store.User, error) {
		u.DisplayName = "x"
		return st.CreateUser(ctx, u, accessHash, t0)
	}

	for _, tt := range []struct {
		user  store.User
		field string
	}{
		{store.User{Username: "s1", Role: identity.RoleSupervisor}, "user.region_code"},
		{store.User{Username: "s2", Role: identity.RoleSupervisor, RegionCode: "629999"}, "user.region_code"},
		{store.User{Username: "l1", Role: identity.RoleOrganizationLead}, "user.organization"},
		{store.User{Username: "l2", Role: identity.RoleOrganizationLead, OrganizationID: "no-such-room"}, "user.organization"},
		{store.User{Username: "m1", Role: identity.RoleMediator}, "user.mediator"},
		{store.User{Username: "m2", Role: identity.RoleMediator, MediatorID: "no-such-mediator"}, "user.mediator"},
		{store.User{Username: "c1", Role: identity.RoleCourtDesk}, "user.court_code"},
		{store.User{Username: "c2", Role: identity.RoleCourtDesk, CourtCode: "甘1002", OrganizationID: "no-such-room"}, "user.organization"},
		{store.User{Username: "a1", Role: identity.RoleAdmin, RegionCode: "621000"}, "user.region_code"},
		{store.User{Username: "a2", Role: identity.RoleAuditor, MediatorID: "li-hong"}, "user.mediator"},
		{store.User{Username: "s3", Role: identity.RoleSupervisor, RegionCode: "621000", CourtCode: "甘1002"}, "user.court_code"},
	} {
		_, err := create(tt.user)
		dirWantField(t, err, tt.field)
	}

	sup, err := create(store.User{Username: "supervisor", Role: identity.RoleSupervisor, RegionCode: "621000"})
	if err != nil || sup.RegionCode != "621000" || sup.Principal().RegionCode != "621000" {
		t.Errorf("supervisor = %+v, %v", sup, err)
	}
	lead, err := create(store.User{Username: "lead", Role: identity.RoleOrganizationLead, OrganizationID: "xifeng-women-studio"})
	if err != nil || lead.Principal().OrganizationName() != "organizations/xifeng-women-studio" {
		t.Errorf("lead = %+v, %v", lead, err)
	}
	// A mediator's organization is the mediator entry's, stored on the row.
	med, err := create(store.User{Username: "lihong", Role: identity.RoleMediator, MediatorID: "li-hong", OrganizationID: "xifeng-medical"})
	if err != nil || med.OrganizationID != "xifeng-women-studio" || med.MediatorID != "li-hong" {
		t.Errorf("mediator = %+v, %v", med, err)
	}
	var storedOrg string
	if err := st.Pool().QueryRow(ctx, `SELECT organization_id FROM users WHERE username = 'lihong'`).Scan(&storedOrg); err != nil || storedOrg != "xifeng-women-studio" {
		t.Errorf("stored organization_id = %q, %v", storedOrg, err)
	}
	desk, err := create(store.User{Username: "desk", Role: identity.RoleCourtDesk, CourtCode: "甘1002"})
	if err != nil || desk.CourtCode != "甘1002" {
		t.Errorf("court desk = %+v, %v", desk, err)
	}

	// Changing the role drops the old role's scope; the new one needs its own.
	admin := identity.RoleAdmin
	up, err := st.UpdateUser(ctx, "supervisor", store.UserChange{Role: &admin}, 0, t0)
	if err != nil || up.RegionCode != "" || up.Role != identity.RoleAdmin {
		t.Errorf("supervisor → admin = %+v, %v", up, err)
	}
	var region *string
	if err := st.Pool().QueryRow(ctx, `SELECT region_code FROM users WHERE username = 'supervisor'`).Scan(&region); err != nil || region != nil {
		t.Errorf("region_code after becoming admin = %v, %v; want NULL", region, err)
	}
	mediator := identity.RoleMediator
	_, err = st.UpdateUser(ctx, "supervisor", store.UserChange{Role: &mediator}, 0, t0)
	dirWantField(t, err, "user.mediator")
	wang := "wang-fang"
	up, err = st.UpdateUser(ctx, "supervisor", store.UserChange{Role: &mediator, MediatorID: &wang}, 0, t0)
	if err != nil || up.OrganizationID != "xifeng-medical" || up.MediatorID != "wang-fang" {
		t.Errorf("admin → mediator = %+v, %v", up, err)
	}
	empty := ""
	_, err = st.UpdateUser(ctx, "lead", store.UserChange{OrganizationID: &empty}, 0, t0)
	dirWantField(t, err, "user.organization")
	region621 := "621002"
	_, err = st.UpdateUser(ctx, "lead", store.UserChange{RegionCode: &region621}, 0, t0)
	dirWantField(t, err, "user.region_code")
	if got, _ := st.GetUser(ctx, "lead"); got.Version != 1 {
		t.Errorf("refused updates changed the lead: %+v", got)
	}

	// A mediator moved to another organization takes the user with them.
	zhenyuan := "zhenyuan-township"
	if _, err := st.UpdateMediator(ctx, "li-hong", store.MediatorChange{OrganizationID: &zhenyuan}, 0, t0); err != nil {
		t.Fatal(err)
	}
	if got, _ := st.GetUser(ctx, "lihong"); got.OrganizationID != "zhenyuan-township" {
		t.Errorf("mediator user's organization after the entry moved = %q", got.OrganizationID)
	}
}

func TestAccessSessions(t *testing.T) {
	st, _ := newStore(t)
	ctx := context.Background()
	accessCreateUser(t, st, store.User{Username: "alice", Role: identity.RoleAdmin})
	accessCreateUser(t, st, store.User{Username: "bob", Role: identity.RoleAuditor})
	expire := t0.Add(12 * time.Hour)
	for _, s := range []struct{ token, user string }{{"a1", "alice"}, {"a2", "alice"}, {"a3", "alice"}, {"b1", "bob"}} {
		if err := st.CreateAuthSession(ctx, accessTokenHash(s.token), s.user, "192.0.2.7", t0, expire); err != nil {
			t.Fatal(err)
		}
	}
	err := st.CreateAuthSession(ctx, accessTokenHash("g"), "ghost", "", t0, expire)
	dirWantNotFound(t, err, "users/ghost")

	u, ses, err := st.AuthSessionUser(ctx, accessTokenHash("a1"), expire.Add(-time.Microsecond))
	if err != nil || u.Username != "alice" || ses.Username != "alice" || !ses.ExpireTime.Equal(expire) || ses.ClientAddress != "192.0.2.7" {
		t.Fatalf("AuthSessionUser = %+v, %+v, %v", u, ses, err)
	}
	_, _, err = st.AuthSessionUser(ctx, accessTokenHash("a1"), expire)
	accessWantCredential(t, err, "token expired")
	_, _, err = st.AuthSessionUser(ctx, accessTokenHash("nope"), t0)
	if !errors.Is(err, casework.ErrNotFound) {
		t.Errorf("unknown session: %v, want ErrNotFound", err)
	}

	if user, err := st.RevokeAuthSession(ctx, accessTokenHash("a1"), t0.Add(time.Minute)); err != nil || user != "alice" {
		t.Fatalf("RevokeAuthSession = %q, %v", user, err)
	}
	if _, err := st.RevokeAuthSession(ctx, accessTokenHash("a1"), t0.Add(time.Hour)); err != nil {
		t.Errorf("revoking twice: %v", err)
	}
	var revoked time.Time
	if err := st.Pool().QueryRow(ctx, `SELECT revoke_time FROM auth_sessions WHERE token_hash = $1`, accessTokenHash("a1")).Scan(&revoked); err != nil || !revoked.Equal(t0.Add(time.Minute)) {
		t.Errorf("revoke_time = %v, %v; want the first revocation", revoked, err)
	}
	_, _, err = st.AuthSessionUser(ctx, accessTokenHash("a1"), t0)
	accessWantCredential(t, err, "token revoked")
	_, err = st.RevokeAuthSession(ctx, accessTokenHash("nope"), t0)
	if !errors.Is(err, casework.ErrNotFound) {
		t.Errorf("revoking an unknown session: %v", err)
	}

	if err := st.RevokeUserSessions(ctx, "alice", t0); err != nil {
		t.Fatal(err)
	}
	_, _, err = st.AuthSessionUser(ctx, accessTokenHash("a2"), t0)
	accessWantCredential(t, err, "token revoked")
	if _, _, err := st.AuthSessionUser(ctx, accessTokenHash("b1"), t0); err != nil {
		t.Errorf("bob's session after revoking alice's: %v", err)
	}

	// Deactivation and a new password end the sessions in the same
	// transaction.
	if _, err := st.SetUserActive(ctx, "bob", false, t0); err != nil {
		t.Fatal(err)
	}
	_, _, err = st.AuthSessionUser(ctx, accessTokenHash("b1"), t0)
	accessWantCredential(t, err, "token revoked")
	if _, err := st.SetUserActive(ctx, "bob", true, t0); err != nil {
		t.Fatal(err)
	}
	if err := st.CreateAuthSession(ctx, accessTokenHash("b2"), "bob", "", t0, expire); err != nil {
		t.Fatal(err)
	}
	if err := st.SetPasswordHash(ctx, "bob", accessHash, t0); err != nil {
		t.Fatal(err)
	}
	_, _, err = st.AuthSessionUser(ctx, accessTokenHash("b2"), t0)
	accessWantCredential(t, err, "token revoked")

	// A session of a user deactivated behind the store's back is refused too.
	if err := st.CreateAuthSession(ctx, accessTokenHash("b3"), "bob", "", t0, expire); err != nil {
		t.Fatal(err)
	}
	if _, err := st.Pool().Exec(ctx, `UPDATE users SET active = false WHERE username = 'bob'`); err != nil {
		t.Fatal(err)
	}
	_, _, err = st.AuthSessionUser(ctx, accessTokenHash("b3"), t0)
	accessWantCredential(t, err, "user deactivated")
}

func TestAccessAPIKeys(t *testing.T) {
	st, _ := newStore(t)
	ctx := context.Background()
	seedDirectory(t, st)
	key := func(id string, role identity.Role) store.APIKey {
		return store.APIKey{ID: id, DisplayName: "西峰区人民法院诉调对接系统", Role: role, SecretPrefix: "mdk_" + id, Creator: "users/admin"}
	}

	court := key("court-1", identity.RoleCourtDesk)
	court.CourtCode = "甘1002"
	court.OrganizationID = "xifeng-women-studio"
	k, err := st.CreateAPIKey(ctx, court, accessTokenHash("secret-1"), t0)
	if err != nil || k.Name() != "apiKeys/court-1" || k.CourtCode != "甘1002" || k.OrganizationID != "xifeng-women-studio" ||
		!k.CreateTime.Equal(t0) || !k.LastUseTime.IsZero() || !k.RevokeTime.IsZero() || k.Creator != "users/admin" {
		t.Fatalf("CreateAPIKey = %+v, %v", k, err)
	}
	if p := k.Principal(); p.Name != "apiKeys/court-1" || p.Role != identity.RoleCourtDesk || p.CourtCode != "甘1002" {
		t.Errorf("principal = %+v", p)
	}
	_, err = st.CreateAPIKey(ctx, court, accessTokenHash("secret-other"), t0)
	accessWantAlreadyExists(t, err)

	for _, tt := range []struct {
		key   store.APIKey
		field string
	}{
		{key("k-admin", identity.RoleAdmin), "api_key.role"},
		{key("k-mediator", identity.RoleMediator), "api_key.role"},
		{key("k-desk", identity.RoleCourtDesk), "api_key.court_code"},
		{key("k-lead", identity.RoleOrganizationLead), "api_key.organization"},
		{key("k-sup", identity.RoleSupervisor), "api_key.region_code"},
		{store.APIKey{ID: "Bad_Id", DisplayName: "x", Role: identity.RoleSupervisor, RegionCode: "621000", SecretPrefix: "p", Creator: "c"}, "api_key_id"},
	} {
		_, err := st.CreateAPIKey(ctx, tt.key, accessTokenHash(tt.key.ID), t0)
		dirWantField(t, err, tt.field)
	}
	sup := key("sup-1", identity.RoleSupervisor)
	sup.RegionCode = "621000"
	if _, err := st.CreateAPIKey(ctx, sup, accessTokenHash("secret-2"), t0.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	lead := key("lead-1", identity.RoleOrganizationLead)
	lead.OrganizationID = "xifeng-medical"
	if _, err := st.CreateAPIKey(ctx, lead, accessTokenHash("secret-3"), t0.Add(2*time.Minute)); err != nil {
		t.Fatal(err)
	}

	got, err := st.APIKeyBySecretHash(ctx, accessTokenHash("secret-2"))
	if err != nil || got.ID != "sup-1" || got.RegionCode != "621000" {
		t.Errorf("APIKeyBySecretHash = %+v, %v", got, err)
	}
	if _, err := st.APIKeyBySecretHash(ctx, accessTokenHash("unknown")); !errors.Is(err, casework.ErrNotFound) {
		t.Errorf("unknown secret: %v", err)
	}

	var ids []string
	after := ""
	for {
		page, err := st.ListAPIKeys(ctx, after, 2)
		if err != nil {
			t.Fatal(err)
		}
		for _, k := range page.Keys {
			ids = append(ids, k.ID)
		}
		if page.Next == "" {
			break
		}
		after = page.Next
	}
	if fmt.Sprint(ids) != "[lead-1 sup-1 court-1]" {
		t.Errorf("ListAPIKeys = %v, want newest first", ids)
	}
	_, err = st.ListAPIKeys(ctx, "garbage", 2)
	dirWantField(t, err, "page_token")

	use := t0.Add(time.Hour)
	if err := st.TouchAPIKey(ctx, "court-1", use); err != nil {
		t.Fatal(err)
	}
	if err := st.TouchAPIKey(ctx, "court-1", use.Add(-time.Minute)); err != nil {
		t.Fatal(err)
	}
	if got, _ := st.GetAPIKey(ctx, "court-1"); !got.LastUseTime.Equal(use) {
		t.Errorf("last use = %v, want %v (an earlier use does not move it back)", got.LastUseTime, use)
	}

	revoked, err := st.RevokeAPIKey(ctx, "court-1", use)
	if err != nil || !revoked.RevokeTime.Equal(use) {
		t.Fatalf("RevokeAPIKey = %+v, %v", revoked, err)
	}
	if again, err := st.RevokeAPIKey(ctx, "court-1", use.Add(time.Hour)); err != nil || !again.RevokeTime.Equal(use) {
		t.Errorf("revoking again = %+v, %v; want the first revoke time", again, err)
	}
	_, err = st.APIKeyBySecretHash(ctx, accessTokenHash("secret-1"))
	accessWantCredential(t, err, "API key revoked")
	_, err = st.RevokeAPIKey(ctx, "ghost", use)
	dirWantNotFound(t, err, "apiKeys/ghost")
	_, err = st.GetAPIKey(ctx, "ghost")
	dirWantNotFound(t, err, "apiKeys/ghost")
}

func TestAccessLoginFailures(t *testing.T) {
	st, _ := newStore(t)
	ctx := context.Background()
	// alice: 6 failures a minute apart from 192.0.2.1; 2 more usernames
	// from the same address; one failure of alice from elsewhere, and one
	// from an unknown address.
	for i := range 6 {
		if err := st.RecordLoginFailure(ctx, "alice", "192.0.2.1", t0.Add(time.Duration(i)*time.Minute)); err != nil {
			t.Fatal(err)
		}
	}
	for _, u := range []string{"bob", "carol"} {
		if err := st.RecordLoginFailure(ctx, u, "192.0.2.1", t0.Add(10*time.Minute)); err != nil {
			t.Fatal(err)
		}
	}
	if err := st.RecordLoginFailure(ctx, "alice", "198.51.100.9", t0.Add(11*time.Minute)); err != nil {
		t.Fatal(err)
	}
	if err := st.RecordLoginFailure(ctx, "dave", "", t0); err != nil {
		t.Fatal(err)
	}

	c, err := st.CountLoginFailures(ctx, "alice", "192.0.2.1", t0.Add(-time.Second), 5, 20)
	if err != nil {
		t.Fatal(err)
	}
	// alice's 7 failures: the 5th newest is at t0+2m; the address's 8
	// failures stay below its limit.
	want := store.LoginFailureCounts{
		Username: store.LoginFailureCount{Count: 7, Pivot: t0.Add(2 * time.Minute)},
		Address:  store.LoginFailureCount{Count: 8},
	}
	if !c.Username.Pivot.Equal(want.Username.Pivot) || c.Username.Count != want.Username.Count || c.Address != want.Address {
		t.Errorf("CountLoginFailures = %+v, want %+v", c, want)
	}
	c, err = st.CountLoginFailures(ctx, "alice", "192.0.2.1", t0.Add(3*time.Minute), 5, 3)
	if err != nil {
		t.Fatal(err)
	}
	if c.Username.Count != 3 || !c.Username.Pivot.IsZero() || c.Address.Count != 4 || !c.Address.Pivot.Equal(t0.Add(5*time.Minute)) {
		t.Errorf("CountLoginFailures since t0+3m = %+v", c)
	}
	c, err = st.CountLoginFailures(ctx, "dave", "", t0.Add(-time.Second), 5, 20)
	if err != nil || c.Username.Count != 1 || c.Address.Count != 0 {
		t.Errorf("an unknown address is not counted: %+v, %v", c, err)
	}

	if err := st.DeleteLoginFailures(ctx, "alice"); err != nil {
		t.Fatal(err)
	}
	c, _ = st.CountLoginFailures(ctx, "alice", "192.0.2.1", t0.Add(-time.Second), 5, 20)
	if c.Username.Count != 0 || c.Address.Count != 2 {
		t.Errorf("after DeleteLoginFailures(alice) = %+v", c)
	}
	n, err := st.PurgeLoginFailures(ctx, t0.Add(5*time.Minute))
	if err != nil || n != 1 {
		t.Errorf("PurgeLoginFailures = %d, %v; want dave's one failure", n, err)
	}
}
