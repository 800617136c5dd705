package store_test

import (
	"context"
	"os"
	"testing"

	"github.com/mediationd/mediationd/internal/pgtest"
	"github.com/mediationd/mediationd/internal/store"
)

func TestMain(m *testing.M) {
	os.Exit(pgtest.Main(m, func(ctx context.Context, dsn string) error {
		_, err := store.Migrate(ctx, dsn, nil)
		return err
	}))
}

// newStore opens a store on a fresh database.
func newStore(t *testing.T) (*store.Store, string) {
	t.Helper()
	dsn := pgtest.NewDatabase(t)
	st, err := store.Open(context.Background(), dsn, store.Options{MaxConns: 30})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(st.Close)
	return st, dsn
}
