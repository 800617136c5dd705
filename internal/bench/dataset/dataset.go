// Package dataset generates a large data set for the benchmark: millions
// of cases over the demo's directory (the mediation organizations and
// mediators of 庆阳市), registered over several years, a share of them
// still open in every open state and the rest closed with every outcome,
// each with the whole history the service would have written for it.
//
// Every case is a copy of a case of the demo's plan (package demo), moved
// in time by whole weeks (so that working hours and weekdays stay what
// they were), with its own id and court case number, and decided again
// step by step by the action pipeline's decision code (caseflow.Decide:
// the look-ups, auth.MayAct and casework.Apply), so that its history is
// what the service would have recorded. The rows are loaded with COPY
// from several connections at once with triggers and foreign-key checks
// off (session_replication_role = replica) and the secondary indexes
// dropped and rebuilt after; the invariants the triggers keep are then
// checked in SQL over every row, and Load fails if one does not hold.
// The newest cases (registered within the outbox' retention) go through
// the store's own bulk path instead (store.WriteCaseHistories), with
// their outbox rows, as the service writes them.
package dataset

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/mediationd/mediationd/internal/auth"
	"github.com/mediationd/mediationd/internal/caseflow"
	"github.com/mediationd/mediationd/internal/casework"
	"github.com/mediationd/mediationd/internal/demo"
	"github.com/mediationd/mediationd/internal/store"
)

// Options describe the data set to generate.
type Options struct {
	// Cases is how many cases to register.
	Cases int
	// Open is the share of the cases left open (0.1 = 10%), spread over
	// the open states as the demo spreads its open cases.
	Open float64
	// Years is how far back the registrations go from Now.
	Years int
	// Seed makes the data set; the same seed, options and Now give the
	// same cases.
	Seed uint64
	// Now is the time the data set is made for: every action is before
	// it. Zero = the current time.
	Now time.Time
	// Templates is how many demo cases the data set copies; 0 = 20,000
	// (or Cases, if fewer).
	Templates int
	// Workers is how many connections copy at once; 0 = 3.
	Workers int
	// Batch is how many cases one COPY transaction holds; 0 = 2,000.
	Batch int
	// Recent is how far back from Now cases are written through the
	// store's own bulk path, with their outbox rows; older ones get no
	// outbox rows, as the outbox' retention (7 days after dispatch) would
	// have deleted them. 0 = 7 days; negative = none.
	Recent time.Duration
	// Log receives progress lines; nil = none.
	Log io.Writer
}

// Report is what Load did and how long it took.
type Report struct {
	Cases        int64 `json:"cases"`
	Open         int64 `json:"open"`
	Events       int64 `json:"events"`
	Sessions     int64 `json:"sessions"`
	FollowUps    int64 `json:"follow_ups"`
	Claims       int64 `json:"court_referral_claims"`
	Outbox       int64 `json:"outbox"`
	Copied       int   `json:"copied"`        // cases loaded by COPY
	StoreWritten int   `json:"store_written"` // cases written by store.WriteCaseHistories
	MarkedByJob  int   `json:"marked_overdue_by_job"`
	// Rows is every row written to cases, case_events, case_sessions,
	// case_follow_ups, court_referral_claims and outbox.
	Rows int64 `json:"rows"`

	Generate       time.Duration `json:"generate_ns"` // the templates and the directory
	Copy           time.Duration `json:"copy_ns"`     // deciding and COPY, without the indexes
	Indexes        time.Duration `json:"indexes_ns"`  // rebuilding the secondary indexes
	Recent         time.Duration `json:"recent_ns"`   // the store's bulk path and the overdue job
	Verify         time.Duration `json:"verify_ns"`
	TalliesRebuilt bool          `json:"tallies_rebuilt"`
	Tallies        time.Duration `json:"tallies_ns"`
	Vacuum         time.Duration `json:"vacuum_ns"`
	Total          time.Duration `json:"total_ns"`
	// CopyRowsPerSec is the rows of the COPY phase over its time;
	// RowsPerSec all rows over the whole load.
	CopyRowsPerSec float64 `json:"copy_rows_per_sec"`
	RowsPerSec     float64 `json:"rows_per_sec"`
	CasesPerSec    float64 `json:"cases_per_sec"`
	DatabaseBytes  int64   `json:"database_bytes"`
}

func (o *Options) defaults() error {
	if o.Cases < 1 {
		return fmt.Errorf("dataset: --cases %d: give at least 1", o.Cases)
	}
	if o.Open < 0 || o.Open > 1 {
		return fmt.Errorf("dataset: --open %g: give a share between 0 and 1, e.g. 0.1", o.Open)
	}
	if o.Years < 1 || o.Years > 20 {
		return fmt.Errorf("dataset: --years %d: give 1 to 20", o.Years)
	}
	if o.Now.IsZero() {
		o.Now = time.Now()
	}
	o.Now = o.Now.UTC().Truncate(time.Second)
	if o.Templates <= 0 {
		o.Templates = min(20000, max(o.Cases, demo.DefaultCases))
	}
	if o.Workers <= 0 {
		o.Workers = 3
	}
	if o.Batch <= 0 {
		o.Batch = 2000
	}
	if o.Recent == 0 {
		o.Recent = 7 * 24 * time.Hour
	}
	return nil
}

// week is the unit cases are moved in time by.
const week = 7 * 24 * time.Hour

// template is a demo case ready to copy.
type template struct {
	pc    demo.Case
	open  bool
	state casework.State
	last  time.Time // the time of its last step (its registration if none)
}

// spec is one case of the data set: the template it copies and the whole
// weeks it is moved by.
type spec struct {
	created int64 // unix seconds, after the move
	tmpl    int32
	weeks   int32
}

// loader holds what the phases of one load share.
type loader struct {
	opt     Options
	st      *store.Store
	plan    demo.Plan // the templates, with the directory
	tmpls   []template
	lk      *lookups
	schemes map[string]string // region → case-number scheme region
	logf    func(format string, args ...any)
}

// Load generates the data set into the database at dsn, which must be
// migrated and hold no organizations and no cases, and returns what it
// wrote. It fails, naming what is wrong, if a case's history does not
// decide, or if the rows do not hold the invariants the database's
// triggers and foreign keys keep (checked in SQL after loading). After
// loading it calls case_tallies_rebuild() when the schema has it, then
// VACUUM ANALYZE.
func Load(ctx context.Context, dsn string, opt Options) (Report, error) {
	if err := opt.defaults(); err != nil {
		return Report{}, err
	}
	start := time.Now()
	l := &loader{opt: opt, logf: func(string, ...any) {}}
	if opt.Log != nil {
		l.logf = func(format string, args ...any) {
			fmt.Fprintf(opt.Log, "%s dataset: %s\n", time.Now().Format("15:04:05"), fmt.Sprintf(format, args...))
		}
	}
	st, err := store.Open(ctx, dsn, store.Options{MaxConns: int32(opt.Workers + 2)})
	if err != nil {
		return Report{}, err
	}
	defer st.Close()
	l.st = st
	var rep Report
	if err := l.prepare(ctx); err != nil {
		return rep, err
	}
	rep.Generate = time.Since(start)
	specs, err := l.specs()
	if err != nil {
		return rep, err
	}
	recentFrom := len(specs)
	if opt.Recent > 0 {
		cut := opt.Now.Add(-opt.Recent).Unix()
		recentFrom, _ = slices.BinarySearchFunc(specs, cut, func(s spec, t int64) int { return cmp.Compare(s.created, t) })
	}
	t := time.Now()
	if err := l.copyAll(ctx, specs[:recentFrom], &rep); err != nil {
		return rep, err
	}
	rep.Copy = time.Since(t) - rep.Indexes // copyAll rebuilds the indexes before it returns
	rep.Copied = recentFrom
	copyRows := rep.Rows
	rep.CopyRowsPerSec = float64(copyRows) / rep.Copy.Seconds()

	t = time.Now()
	if err := l.writeRecent(ctx, specs[recentFrom:], recentFrom); err != nil {
		return rep, err
	}
	rep.StoreWritten = len(specs) - recentFrom
	for {
		n, err := st.MarkOverdue(ctx, opt.Now, 1000)
		if err != nil {
			return rep, fmt.Errorf("dataset: %w", err)
		}
		if n == 0 {
			break
		}
		rep.MarkedByJob += n
	}
	rep.Recent = time.Since(t)

	t = time.Now()
	if err := verify(ctx, st, opt.Now, l.logf); err != nil {
		return rep, err
	}
	rep.Verify = time.Since(t)

	t = time.Now()
	if rep.TalliesRebuilt, err = rebuildTallies(ctx, st); err != nil {
		return rep, err
	}
	rep.Tallies = time.Since(t)
	if rep.TalliesRebuilt {
		l.logf("case_tallies_rebuild() took %s", rep.Tallies.Round(time.Millisecond))
	}
	t = time.Now()
	l.logf("VACUUM ANALYZE")
	if _, err := st.Pool().Exec(ctx, `VACUUM ANALYZE`); err != nil {
		return rep, fmt.Errorf("dataset: VACUUM ANALYZE: %w", err)
	}
	rep.Vacuum = time.Since(t)
	if err := count(ctx, st, &rep); err != nil {
		return rep, err
	}
	rep.Total = time.Since(start)
	rep.RowsPerSec = float64(rep.Rows) / rep.Total.Seconds()
	rep.CasesPerSec = float64(rep.Cases) / rep.Total.Seconds()
	return rep, nil
}

// prepare loads the demo's directory and logins (through demo.Load with no
// cases, and demo.Logins), plans the templates and decides each once.
func (l *loader) prepare(ctx context.Context) error {
	empty, err := demo.Empty(ctx, l.st)
	if err != nil {
		return err
	}
	if !empty {
		return errors.New("dataset: the database already holds organizations or cases; generate into a freshly migrated database")
	}
	dir := demo.Generate(l.opt.Seed, 0, l.opt.Now)
	if _, err := demo.Load(ctx, l.st, dir, nil); err != nil {
		return fmt.Errorf("dataset: load the directory: %w", err)
	}
	if _, err := demo.Logins(ctx, l.st, dir); err != nil {
		return fmt.Errorf("dataset: %w", err)
	}
	l.logf("planning %d template cases", l.opt.Templates)
	l.plan = demo.Generate(l.opt.Seed, l.opt.Templates, l.opt.Now)
	if !slices.EqualFunc(dir.Organizations, l.plan.Organizations, func(a, b casework.Organization) bool { return a.ID == b.ID }) ||
		!slices.EqualFunc(dir.Mediators, l.plan.Mediators, func(a, b casework.Mediator) bool { return a.ID == b.ID }) {
		return errors.New("dataset: the templates' plan has another directory than the one loaded")
	}
	l.lk = newLookups(l.st, l.plan)
	rows, err := l.st.Pool().Query(ctx, `SELECT region_code FROM case_number_schemes`)
	if err != nil {
		return fmt.Errorf("dataset: read case-number schemes: %w", err)
	}
	schemes, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return fmt.Errorf("dataset: read case-number schemes: %w", err)
	}
	l.schemes = map[string]string{}
	for _, pc := range l.plan.Cases {
		r := pc.New.RegionCode
		if _, ok := l.schemes[r]; ok {
			continue
		}
		// As the store chooses it: the region's own, its city's, its
		// province's, the default.
		l.schemes[r] = "000000"
		for _, c := range []string{r, r[:4] + "00", r[:2] + "0000"} {
			if slices.Contains(schemes, c) {
				l.schemes[r] = c
				break
			}
		}
	}
	for i, pc := range l.plan.Cases {
		h, err := l.decide(pc, 0, "")
		if err != nil {
			return fmt.Errorf("dataset: template %d: %w", i+1, err)
		}
		last := h.Changes[len(h.Changes)-1].Case
		l.tmpls = append(l.tmpls, template{pc: pc, open: last.State != casework.StateClosed, state: last.State, last: last.UpdateTime})
	}
	return nil
}

// specs draws every case of the data set, in the order of registration.
func (l *loader) specs() ([]spec, error) {
	// The open templates by state, so that every open state gets an equal
	// share of the open cases.
	var open [][]int32
	var closed []int32
	byState := map[casework.State]int{}
	for i, t := range l.tmpls {
		if !t.open {
			closed = append(closed, int32(i))
			continue
		}
		k, ok := byState[t.state]
		if !ok {
			k = len(open)
			byState[t.state] = k
			open = append(open, nil)
		}
		open[k] = append(open[k], int32(i))
	}
	if len(byState) < len(casework.States)-1 || len(closed) == 0 {
		return nil, fmt.Errorf("dataset: the %d templates have open cases in %d states (%v) and %d closed cases; plan more templates", len(l.tmpls), len(byState), byState, len(closed))
	}
	r := rand.New(rand.NewPCG(l.opt.Seed, 0x5ca1e))
	now := l.opt.Now
	from := now.AddDate(-l.opt.Years, 0, 0)
	latest := now.Add(-time.Hour) // every step at least an hour before now
	maxWeeks := int(now.Sub(from) / week)
	out := make([]spec, l.opt.Cases)
	for i := range out {
		if r.Float64() < l.opt.Open {
			// An open case: half of them registered in the last two
			// months, the others any time in the window (the backlog).
			in := open[r.IntN(len(open))]
			k := in[r.IntN(len(in))]
			t := l.tmpls[k]
			lo := -int(t.pc.Created.Sub(from) / week) // not before the window
			w := -r.IntN(9)
			if r.IntN(2) == 0 {
				w = -r.IntN(maxWeeks + 1)
			}
			w = max(w, lo)
			out[i] = spec{created: t.pc.Created.Add(time.Duration(w) * week).Unix(), tmpl: k, weeks: int32(w)}
			continue
		}
		for try := 0; ; try++ {
			k := closed[r.IntN(len(closed))]
			t := l.tmpls[k]
			target := from.Add(time.Duration(r.Int64N(int64(now.Sub(from)))))
			lo := int((from.Sub(t.pc.Created) + week - 1) / week) // ceil
			hi := int(latest.Sub(t.last) / week)                  // floor (last may be after latest only by rounding)
			if latest.Before(t.last) {
				hi = -int((t.last.Sub(latest) + week - 1) / week)
			}
			if lo > hi {
				if try > 100 {
					return nil, errors.New("dataset: no closed template fits the window; plan more templates or more years")
				}
				continue
			}
			w := min(max(int(target.Sub(t.pc.Created)/week), lo), hi)
			out[i] = spec{created: t.pc.Created.Add(time.Duration(w) * week).Unix(), tmpl: k, weeks: int32(w)}
			break
		}
	}
	slices.SortStableFunc(out, func(a, b spec) int { return cmp.Compare(a.created, b.created) })
	return out, nil
}

// decide builds the history of a template moved by weeks, deciding each
// step as the service's pipeline decides it for the system's own caller;
// courtSuffix, if not empty, makes the court case number unique. An open
// case past its due time at Now is marked overdue as the overdue job would
// have marked it, as soon as it could.
func (l *loader) decide(pc demo.Case, weeks int, courtSuffix string) (store.CaseHistory, error) {
	d := time.Duration(weeks) * week
	n := pc.New
	steps := pc.Steps
	created := pc.Created.Add(d)
	if weeks != 0 || courtSuffix != "" {
		n, steps = clone(pc.New), clone(pc.Steps)
		shiftTimes(&n, d)
		shiftTimes(&steps, d)
		if n.CourtReferral != nil && courtSuffix != "" {
			n.CourtReferral.CourtCaseNumber = courtNumber(n.CourtReferral.CourtCaseNumber, created.In(l.plan.Location).Year(), courtSuffix)
		}
	}
	n.Normalize()
	if err := n.Validate(created); err != nil {
		return store.CaseHistory{}, fmt.Errorf("registration: %w", err)
	}
	id := caseID(pc.ID, created, courtSuffix)
	c, ev := casework.Register(n, id, demo.Actor, "", created, l.plan.Policy)
	h := store.CaseHistory{Year: created.In(l.plan.Location).Year(), RegistrationHash: n.Hash(), Changes: make([]store.CaseChange, 1, 2+len(steps))}
	h.Changes[0] = store.CaseChange{Case: c, Event: ev}
	clk := caseLookups{lookups: l.lk, sessions: map[int]casework.Session{}}
	for j, cmd := range steps {
		if !cmd.Time.Before(l.opt.Now) {
			return store.CaseHistory{}, fmt.Errorf("step %d (%s) at %s is not before %s", j+1, cmd.Action, cmd.Time, l.opt.Now)
		}
		next, ev, err := caseflow.Decide(context.Background(), clk, auth.System, c, cmd)
		if err != nil {
			return store.CaseHistory{}, fmt.Errorf("step %d of %d (%s at %s): %w", j+1, len(steps), cmd.Action, cmd.Time.Format(time.DateTime), err)
		}
		if s := ev.Data.Session; s != nil {
			clk.sessions[s.Number] = *s
		}
		h.Changes = append(h.Changes, store.CaseChange{Case: next, Event: ev})
		c = next
	}
	if dl := c.Deadline; dl != nil && !dl.Overdue && casework.Allowed(c.State, casework.ActionMarkOverdue) && dl.DueTime.Before(l.opt.Now) {
		at := dl.DueTime.Add(time.Minute).Truncate(time.Second)
		if !at.After(c.UpdateTime) {
			at = c.UpdateTime.Add(time.Minute)
		}
		if at.Before(l.opt.Now) {
			cmd := casework.Command{Action: casework.ActionMarkOverdue, Actor: store.SystemActor, Time: at, Policy: l.plan.Policy}
			next, ev, err := caseflow.Decide(context.Background(), clk, auth.System, c, cmd)
			if err != nil {
				return store.CaseHistory{}, fmt.Errorf("mark overdue at %s: %w", at.Format(time.DateTime), err)
			}
			h.Changes = append(h.Changes, store.CaseChange{Case: next, Event: ev})
		}
	}
	return h, nil
}

// caseID is a UUID version 7 for a case registered at t: the template's
// random bits mixed with the copy's suffix, the time its own.
func caseID(tmpl uuid.UUID, t time.Time, suffix string) uuid.UUID {
	u := tmpl
	if suffix != "" {
		u = uuid.NewSHA1(tmpl, []byte(suffix))
	}
	ms := uint64(t.UnixMilli())
	for i := range 6 {
		u[i] = byte(ms >> (40 - 8*i))
	}
	u[6] = u[6]&0x0f | 0x70 // version 7
	u[8] = u[8]&0x3f | 0x80 // RFC 4122 variant
	return u
}

// courtNumber gives a copied court referral a court case number of its
// own: the year of its registration, and the copy's suffix before 号.
func courtNumber(num string, year int, suffix string) string {
	// The demo's numbers read （2024）甘1002民诉前调123号.
	if i, j := indexRune(num, '（'), indexRune(num, '）'); i == 0 && j > 0 {
		num = fmt.Sprintf("（%d）%s", year, num[j+len("）"):])
	}
	if k := len(num) - len("号"); k > 0 && num[k:] == "号" {
		return num[:k] + suffix + "号"
	}
	return num + suffix
}

func indexRune(s string, r rune) int {
	for i, c := range s {
		if c == r {
			return i
		}
	}
	return -1
}

// lookups answer the pipeline's look-ups for every case: the deadline
// rules as the database holds them (read once per key), the directory as
// planned (the one loaded).
type lookups struct {
	st    *store.Store
	orgs  map[string]casework.Organization
	meds  map[string]casework.Mediator
	mu    sync.Mutex
	rules map[[3]string]casework.DeadlineRule
}

func newLookups(st *store.Store, p demo.Plan) *lookups {
	lk := &lookups{st: st, orgs: map[string]casework.Organization{}, meds: map[string]casework.Mediator{}, rules: map[[3]string]casework.DeadlineRule{}}
	for _, o := range p.Organizations {
		lk.orgs[o.Name()] = o
	}
	for _, m := range p.Mediators {
		lk.meds[m.Name()] = m
	}
	return lk
}

// caseLookups are the look-ups of one case being decided, with the
// sessions its steps scheduled so far.
type caseLookups struct {
	*lookups
	sessions map[int]casework.Session
}

func (lk caseLookups) MatchDeadlineRule(ctx context.Context, source casework.Source, orgType casework.OrganizationType, procedure casework.CourtProcedure) (casework.DeadlineRule, error) {
	k := [3]string{string(source), string(orgType), string(procedure)}
	lk.mu.Lock()
	defer lk.mu.Unlock()
	if r, ok := lk.rules[k]; ok {
		return r, nil
	}
	r, err := lk.st.MatchDeadlineRule(ctx, source, orgType, procedure)
	if err != nil {
		return r, err
	}
	lk.rules[k] = r
	return r, nil
}

func (lk caseLookups) Assignee(_ context.Context, organization, mediator string) (casework.Organization, casework.Mediator, error) {
	org, med := lk.orgs[organization], lk.meds[mediator]
	if org.ID == "" || med.ID == "" {
		return org, med, fmt.Errorf("%s or %s is not in the directory", organization, mediator)
	}
	return org, med, nil
}

func (lk caseLookups) Session(_ context.Context, caseID uuid.UUID, number int) (casework.Session, error) {
	if s, ok := lk.sessions[number]; ok {
		return s, nil
	}
	return casework.Session{}, fmt.Errorf("cases/%s/sessions/%d: %w", caseID, number, casework.ErrNotFound)
}

// progress logs the cases written, at most every few seconds.
type progress struct {
	l     *loader
	total int
	done  atomic.Int64
	start time.Time
	mu    sync.Mutex
	last  time.Time
}

func (p *progress) add(n int) {
	d := p.done.Add(int64(n))
	p.mu.Lock()
	defer p.mu.Unlock()
	if time.Since(p.last) < 10*time.Second && int(d) < p.total {
		return
	}
	p.last = time.Now()
	el := time.Since(p.start)
	rate := float64(d) / el.Seconds()
	p.l.logf("%d of %d cases (%.0f cases/s, %s, about %s left)", d, p.total, rate, el.Round(time.Second),
		(time.Duration(float64(p.total-int(d))/rate) * time.Second).Round(time.Second))
}
