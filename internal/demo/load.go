package demo

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"sync"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/mediationd/mediationd/internal/caseflow"
	"github.com/mediationd/mediationd/internal/casework"
	"github.com/mediationd/mediationd/internal/store"
)

// ErrNotEmpty is returned by Load when the database already holds
// organizations or cases: the demo is loaded into an empty database only,
// never on top of real or earlier data.
var ErrNotEmpty = errors.New("demo: the database already holds organizations or cases; the demo data is only loaded into an empty database")

// Workers is how many cases Load writes at once. Cases are independent;
// more workers than database connections only queue.
const Workers = 8

// overdueBatch is how many cases one run of the overdue marking takes.
const overdueBatch = 500

// loadLockID is the advisory lock that keeps two loads (two replicas
// started with MEDIATION_DEMO) from both finding the database empty.
const loadLockID int64 = 0x6d6564646d6f // "meddmo"

// Load writes the plan into the database through the store's own
// functions, as the service would have written it: the organizations and
// mediators, then every case (CreateCase at its registration time and
// year, ApplyAction for each step at the step's time), several cases at
// once. Then it marks the cases past their time limit at the plan's time,
// as the overdue job does, and measures what the database holds.
//
// It refuses with ErrNotEmpty when the database has organizations or
// cases, and with an error before writing anything when the plan does not
// replay through the lifecycle (Check) or the database's deadline rules
// differ from the ones the plan assumes. Otherwise it stops at the first
// error, naming the case and the step. progress, if not nil, is called
// with the number of cases written so far and the total, one call at a
// time. The store's pool needs at least two connections: Load holds one
// for its lock.
//
// The report returned is measured from the database; Load fails if it
// differs from the plan's.
func Load(ctx context.Context, st *store.Store, p Plan, progress func(done, total int)) (Report, error) {
	if n := st.Pool().Config().MaxConns; n < 2 {
		return Report{}, fmt.Errorf("demo: the database pool has %d connection(s); loading needs at least 2", n)
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
	if err := checkRules(ctx, st, p); err != nil {
		return Report{}, err
	}
	for _, o := range p.Organizations {
		if _, err := st.CreateOrganization(ctx, o, p.DirectoryTime); err != nil {
			return Report{}, fmt.Errorf("demo: create %s (%s): %w", o.Name(), o.DisplayName, err)
		}
	}
	for _, m := range p.Mediators {
		if _, err := st.CreateMediator(ctx, m, p.DirectoryTime); err != nil {
			return Report{}, fmt.Errorf("demo: create %s (%s): %w", m.Name(), m.DisplayName, err)
		}
	}
	if err := loadCases(ctx, st, p, progress); err != nil {
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

// checkRules makes sure the database's deadline rules give the time limits
// the plan was made with, for every source, organization type and court
// procedure the plan uses.
func checkRules(ctx context.Context, st *store.Store, p Plan) error {
	type key struct {
		source    casework.Source
		orgType   casework.OrganizationType
		procedure casework.CourtProcedure
	}
	var keys []key
	for _, c := range p.Cases {
		var procedure casework.CourtProcedure
		if r := c.New.CourtReferral; r != nil {
			procedure = r.Procedure
		}
		for _, t := range append([]casework.OrganizationType{""}, casework.OrganizationTypes...) {
			if k := (key{c.New.Source, t, procedure}); !slices.Contains(keys, k) {
				keys = append(keys, k)
			}
		}
	}
	for _, k := range keys {
		got, err := st.MatchDeadlineRule(ctx, k.source, k.orgType, k.procedure)
		if err != nil {
			return fmt.Errorf("demo: %w", err)
		}
		want := ruleFor(k.source, k.procedure)
		if got.ID != want.ID || got.Days != want.Days || got.MaxExtensions != want.MaxExtensions || got.ExtensionDays != want.ExtensionDays {
			return fmt.Errorf("demo: the plan assumes the default deadline rules, but for source %s, organization type %q and procedure %q the database has %s (%d days, %d extension(s) of %d days) instead of %s (%d days): load the demo into a freshly migrated database",
				k.source, k.orgType, k.procedure, got.Name(), got.Days, got.MaxExtensions, got.ExtensionDays, want.Name(), want.Days)
		}
	}
	return nil
}

// loadCases writes the cases: one goroutine per region registers that
// region's cases in order, so that case numbers follow registration
// times, and Workers goroutines apply each registered case's steps. The
// first error stops them all.
func loadCases(ctx context.Context, st *store.Store, p Plan, progress func(done, total int)) error {
	g, ctx := errgroup.WithContext(ctx)
	total := len(p.Cases)
	numbers := make([]string, total)
	registered := make(chan int, 4*Workers)

	var regions []string
	byRegion := map[string][]int{}
	for i, c := range p.Cases {
		r := c.New.RegionCode
		if _, ok := byRegion[r]; !ok {
			regions = append(regions, r)
		}
		byRegion[r] = append(byRegion[r], i)
	}
	var creators sync.WaitGroup
	for _, r := range regions {
		creators.Add(1)
		g.Go(func() error {
			defer creators.Done()
			return createCases(ctx, st, p, byRegion[r], numbers, registered)
		})
	}
	go func() {
		creators.Wait()
		close(registered)
	}()

	var mu sync.Mutex
	done := 0
	every := max(1, total/100)
	if progress != nil {
		progress(0, total)
	}
	for range Workers {
		g.Go(func() error {
			for i := range registered {
				if ctx.Err() != nil {
					continue // drain, so that the registering goroutines can end
				}
				if err := applySteps(ctx, st, p, i, numbers[i]); err != nil {
					return err
				}
				mu.Lock()
				done++
				if progress != nil && (done%every == 0 || done == total) {
					progress(done, total)
				}
				mu.Unlock()
			}
			return nil
		})
	}
	return g.Wait()
}

// createCases registers the cases of one region, in order.
func createCases(ctx context.Context, st *store.Store, p Plan, idx []int, numbers []string, registered chan<- int) error {
	for _, i := range idx {
		c := p.Cases[i]
		stored, replayed, err := st.CreateCase(ctx, store.CreateParams{
			New: c.New, ID: c.ID, Actor: Actor, Now: c.Created, Year: p.Year(c), Policy: p.Policy,
		})
		if err == nil && replayed {
			err = fmt.Errorf("the database returned an earlier case, %s, instead of registering it", stored.Number)
		}
		if err != nil {
			return fmt.Errorf("demo: case %d of %d (registered %s): register: %w", i+1, len(p.Cases), c.Created.In(p.Location).Format(time.DateTime), err)
		}
		numbers[i] = stored.Number
		select {
		case registered <- i:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return nil
}

// applySteps applies a registered case's steps, each conditional on the
// version the step before produced.
func applySteps(ctx context.Context, st *store.Store, p Plan, i int, number string) error {
	c := p.Cases[i]
	flow := caseflow.New(st, nil, p.Policy, nil)
	for j, cmd := range c.Steps {
		if _, err := flow.Act(ctx, caseflow.System, c.ID, int64(j+1), cmd); err != nil {
			return fmt.Errorf("demo: case %s (%d of %d): step %d of %d, %s at %s: %w",
				number, i+1, len(p.Cases), j+1, len(c.Steps), cmd.Action, cmd.Time.In(p.Location).Format(time.DateTime), err)
		}
	}
	return nil
}
