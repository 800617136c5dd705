package demo

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/mediationd/mediationd/internal/casework"
	"github.com/mediationd/mediationd/internal/store"
)

// ErrNotEmpty is returned by Load when the database already holds
// organizations or cases: the demo is loaded into an empty database only,
// never on top of real or earlier data.
var ErrNotEmpty = errors.New("demo: the database already holds organizations or cases; the demo data is only loaded into an empty database")

// Batch is how many cases Load writes in one transaction.
const Batch = 500

// Conns is how many database connections Load uses: one holds its lock,
// the other writes.
const Conns = 2

// overdueBatch is how many cases one run of the overdue marking takes.
const overdueBatch = 500

// loadLockID is the advisory lock that keeps two loads (two replicas
// started with MEDIATION_DEMO) from both finding the database empty.
const loadLockID int64 = 0x6d6564646d6f // "meddmo"

// Load writes the plan into the database as the service would have
// written it: the organizations and mediators through the store's own
// functions, then every case with its history, each step looked up,
// authorized and decided as the action pipeline (package caseflow) does
// for the service's own work (auth.MayAct and casework.Apply, given the
// deadline rules and the directory as the database holds them), written
// Batch cases at a time in one transaction by store.WriteCaseHistories,
// in the order of registration, so that case numbers follow registration
// times. Then it marks the cases past their time limit at the plan's
// time, as the overdue job does, and measures what the database holds.
//
// It refuses with ErrNotEmpty when the database has organizations or
// cases, and with an error before writing anything when the plan does not
// replay through the lifecycle (Check), the database's deadline rules
// differ from the ones the plan assumes, or a region of the plan assigns
// accepted cases automatically (the plan assigns them itself).
// Otherwise it stops at the first
// error, naming the case and the step. progress, if not nil, is called
// with the number of cases written so far and the total, one call at a
// time. The store's pool needs at least Conns connections: Load holds one
// for its lock.
//
// The report returned is measured from the database; Load fails if it
// differs from the plan's.
func Load(ctx context.Context, st *store.Store, p Plan, progress func(done, total int)) (Report, error) {
	return load(ctx, st, p, progress, writeCases)
}

// writer writes a plan's cases, with what the database holds of the
// directory and the deadline rules.
type writer func(ctx context.Context, st *store.Store, p Plan, lk *lookups, progress func(done, total int)) error

func load(ctx context.Context, st *store.Store, p Plan, progress func(done, total int), write writer) (Report, error) {
	if n := st.Pool().Config().MaxConns; n < Conns {
		return Report{}, fmt.Errorf("demo: the database pool has %d connection(s); loading needs at least %d", n, Conns)
	}
	conn, err := st.Pool().Acquire(ctx)
	if err != nil {
		return Report{}, fmt.Errorf("demo: connect: %w", err)
	}
	defer conn.Release()
	if _, err := conn.Exec(ctx, `SELECT pg_advisory_lock($1)`, loadLockID); err != nil {
		return Report{}, fmt.Errorf("demo: take the load lock: %w", err)
	}
	defer conn.Exec(context.WithoutCancel(ctx), `SELECT pg_advisory_unlock($1)`, loadLockID) //nolint:errcheck // the lock also ends with the session
	var orgs, cases int
	if err := conn.QueryRow(ctx, countSQL).Scan(&orgs, &cases); err != nil {
		return Report{}, fmt.Errorf("demo: count what the database holds: %w", err)
	}
	if orgs > 0 || cases > 0 {
		return Report{}, fmt.Errorf("%w (it has %d organizations and %d cases)", ErrNotEmpty, orgs, cases)
	}
	if err := p.Check(); err != nil {
		return Report{}, fmt.Errorf("demo: the plan does not replay: %w", err)
	}
	rules, err := checkRules(ctx, st, p)
	if err != nil {
		return Report{}, err
	}
	if err := checkAutoAssign(ctx, st, p); err != nil {
		return Report{}, err
	}
	lk := &lookups{
		orgs: map[string]casework.Organization{},
		meds: map[string]casework.Mediator{},
		rule: func(source casework.Source, orgType casework.OrganizationType, procedure casework.CourtProcedure) casework.DeadlineRule {
			return rules[ruleKey{source, orgType, procedure}]
		},
	}
	for _, o := range p.Organizations {
		stored, err := st.CreateOrganization(ctx, o, p.DirectoryTime)
		if err != nil {
			return Report{}, fmt.Errorf("demo: create %s (%s): %w", o.Name(), o.DisplayName, err)
		}
		lk.orgs[stored.Name()] = stored
	}
	for _, m := range p.Mediators {
		stored, err := st.CreateMediator(ctx, m, p.DirectoryTime)
		if err != nil {
			return Report{}, fmt.Errorf("demo: create %s (%s): %w", m.Name(), m.DisplayName, err)
		}
		lk.meds[stored.Name()] = stored
	}
	if err := write(ctx, st, p, lk, progress); err != nil {
		return Report{}, err
	}
	for {
		n, err := st.MarkOverdue(ctx, p.Now, overdueBatch)
		if err != nil {
			return Report{}, fmt.Errorf("demo: %w", err)
		}
		if n == 0 {
			break
		}
	}
	got, err := measure(ctx, st.Pool())
	if err != nil {
		return Report{}, fmt.Errorf("demo: %w", err)
	}
	if want := p.Report(); !reflect.DeepEqual(got, want) {
		return got, fmt.Errorf("demo: the database holds other data than planned:\nplanned:\n%s\nloaded:\n%s", want, got)
	}
	return got, nil
}

// countSQL counts the organizations and the cases.
const countSQL = `SELECT (SELECT count(*) FROM organizations), (SELECT count(*) FROM cases)`

// Empty reports whether the database holds no organizations and no cases,
// as Load requires: a cheap look before generating a plan. Load checks
// again, under a lock.
func Empty(ctx context.Context, st *store.Store) (bool, error) {
	var orgs, cases int
	if err := st.Pool().QueryRow(ctx, countSQL).Scan(&orgs, &cases); err != nil {
		return false, fmt.Errorf("demo: count what the database holds: %w", err)
	}
	return orgs == 0 && cases == 0, nil
}

// ruleKey is what chooses a case's deadline rule.
type ruleKey struct {
	source    casework.Source
	orgType   casework.OrganizationType
	procedure casework.CourtProcedure
}

// checkRules makes sure the database's deadline rules give the time limits
// the plan was made with, for every source, organization type and court
// procedure the plan uses, and returns them as the database has them.
func checkRules(ctx context.Context, st *store.Store, p Plan) (map[ruleKey]casework.DeadlineRule, error) {
	rules := map[ruleKey]casework.DeadlineRule{}
	for _, c := range p.Cases {
		var procedure casework.CourtProcedure
		if r := c.New.CourtReferral; r != nil {
			procedure = r.Procedure
		}
		for _, t := range append([]casework.OrganizationType{""}, casework.OrganizationTypes...) {
			k := ruleKey{c.New.Source, t, procedure}
			if _, ok := rules[k]; ok {
				continue
			}
			got, err := st.MatchDeadlineRule(ctx, k.source, k.orgType, k.procedure)
			if err != nil {
				return nil, fmt.Errorf("demo: %w", err)
			}
			want := ruleFor(k.source, k.procedure)
			if got.ID != want.ID || got.Days != want.Days || got.MaxExtensions != want.MaxExtensions || got.ExtensionDays != want.ExtensionDays {
				return nil, fmt.Errorf("demo: the plan assumes the default deadline rules, but for source %s, organization type %q and procedure %q the database has %s (%d days, %d extension(s) of %d days) instead of %s (%d days): load the demo into a freshly migrated database",
					k.source, k.orgType, k.procedure, got.Name(), got.Days, got.MaxExtensions, got.ExtensionDays, want.Name(), want.Days)
			}
			rules[k] = got
		}
	}
	return rules, nil
}

// checkAutoAssign makes sure no region of the plan assigns accepted cases
// automatically: the service would then assign them after acceptance,
// before the assignments the plan makes.
func checkAutoAssign(ctx context.Context, st *store.Store, p Plan) error {
	var regions []string
	for _, c := range p.Cases {
		if !slices.Contains(regions, c.New.RegionCode) {
			regions = append(regions, c.New.RegionCode)
		}
	}
	for _, r := range regions {
		on, err := st.RegionAutoAssign(ctx, r)
		if err != nil {
			return fmt.Errorf("demo: %w", err)
		}
		if on {
			return fmt.Errorf("demo: the region %s (%s) assigns accepted cases automatically, but the plan assigns them itself: load the demo into a freshly migrated database", r, regionName(r))
		}
	}
	return nil
}

// writeCases decides the cases' histories and writes them Batch at a
// time, in the order of registration: one goroutine decides the next
// batch while the database writes the one before.
func writeCases(ctx context.Context, st *store.Store, p Plan, lk *lookups, progress func(done, total int)) error {
	total := len(p.Cases)
	if progress != nil {
		progress(0, total)
	}
	g, ctx := errgroup.WithContext(ctx)
	batches := make(chan []store.CaseHistory, 1)
	g.Go(func() error {
		defer close(batches)
		for from := 0; from < total; from += Batch {
			hs := make([]store.CaseHistory, 0, Batch)
			for i := from; i < min(from+Batch, total); i++ {
				c := p.Cases[i]
				h, err := p.replay(c, lk)
				if err != nil {
					return fmt.Errorf("demo: case %d of %d (registered %s): %w", i+1, total, c.Created.In(p.Location).Format(time.DateTime), err)
				}
				hs = append(hs, h)
			}
			select {
			case batches <- hs:
			case <-ctx.Done():
				return ctx.Err()
			}
		}
		return nil
	})
	g.Go(func() error {
		done := 0
		for hs := range batches {
			if _, err := st.WriteCaseHistories(ctx, hs); err != nil {
				return fmt.Errorf("demo: cases %d to %d of %d (registered from %s): %w",
					done+1, done+len(hs), total, p.Cases[done].Created.In(p.Location).Format(time.DateTime), err)
			}
			done += len(hs)
			if progress != nil {
				progress(done, total)
			}
		}
		return nil
	})
	return g.Wait()
}
