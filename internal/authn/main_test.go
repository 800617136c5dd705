package authn_test

import (
	"context"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/mediationd/mediationd/internal/auth"
	"github.com/mediationd/mediationd/internal/authn"
	"github.com/mediationd/mediationd/internal/pgtest"
	"github.com/mediationd/mediationd/internal/store"
)

func TestMain(m *testing.M) {
	os.Exit(pgtest.Main(m, func(ctx context.Context, dsn string) error {
		_, err := store.Migrate(ctx, dsn, nil)
		return err
	}))
}

// t0 is when the tests start, on their clock.
var t0 = time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)

// clock is a time the test moves.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func newClock() *clock { return &clock{now: t0} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// newStore opens a store on a fresh database.
func newStore(t *testing.T) *store.Store {
	t.Helper()
	st, err := store.Open(context.Background(), pgtest.NewDatabase(t), store.Options{MaxConns: 10})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(st.Close)
	return st
}

// newAuthenticator returns an authenticator over st on the clock,
// closed (its background writes done) before st is.
func newAuthenticator(t *testing.T, st *store.Store, c *clock, opts authn.Options) *authn.Authenticator {
	t.Helper()
	a := authn.New(st, c.Now, opts)
	t.Cleanup(a.Close)
	return a
}

// addUser creates an active user with the password.
func addUser(t *testing.T, st *store.Store, username string, role auth.Role, password string) store.User {
	t.Helper()
	u, err := st.CreateUser(context.Background(), store.User{Username: username, DisplayName: "用户 " + username, Role: role},
		authn.HashPassword(password), t0)
	if err != nil {
		t.Fatal(err)
	}
	return u
}
