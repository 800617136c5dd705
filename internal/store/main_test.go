package store_test

import (
	"context"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/mediationd/mediationd/internal/caseflow"
	"github.com/mediationd/mediationd/internal/casework"
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

// newCaseStore is newStore with the organizations and mediators that
// caseworktest.Command's assignments name (room-n and mediator-n for n in
// 0..9, 98, 99).
func newCaseStore(t *testing.T) (*store.Store, string) {
	t.Helper()
	st, dsn := newStore(t)
	for _, n := range []int{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 98, 99} {
		seedAssignee(t, st, n)
	}
	return st, dsn
}

// seedAssignee creates organizations/room-n (a township committee in 西峰区
// taking every dispute type) and its mediators/mediator-n.
func seedAssignee(t *testing.T, st *store.Store, n int) {
	t.Helper()
	ctx := context.Background()
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	_, err := st.CreateOrganization(ctx, casework.Organization{
		ID: fmt.Sprintf("room-%d", n), DisplayName: fmt.Sprintf("西峰区第%d调解室", n),
		Type: casework.OrgTownshipCommittee, RegionCode: "621002", Active: true,
	}, now)
	if err != nil {
		t.Fatal(err)
	}
	_, err = st.CreateMediator(ctx, casework.Mediator{
		ID: fmt.Sprintf("mediator-%d", n), DisplayName: fmt.Sprintf("调解员%d", n),
		OrganizationID: fmt.Sprintf("room-%d", n), Active: true,
	}, now)
	if err != nil {
		t.Fatal(err)
	}
}

// applyAction runs cmd through the action pipeline as the service's own
// work (every case, no permission check), as the service would.
func applyAction(st *store.Store, ctx context.Context, id uuid.UUID, ifVersion int64, cmd casework.Command) (casework.Case, casework.Event, bool, error) {
	res, err := caseflow.New(st, nil, cmd.Policy, nil).Act(ctx, caseflow.System, id, ifVersion, cmd)
	return res.Case, res.Event, res.Replayed, err
}
