package bench

import (
	"context"
	"math/rand/v2"
	"sync"
)

// worker is one client's loop body: each call of next makes one call to
// the service and says which.
type worker interface {
	next(ctx context.Context) (opKind, error)
}

// lifecycleWorker takes one case after another through the whole
// lifecycle, each call with the etag of the previous answer.
type lifecycleWorker struct {
	d   driver
	cur caseRef
	n   int // cases started
	// pool, if set, learns the cases the worker creates.
	pool *casePool
}

func (w *lifecycleWorker) next(ctx context.Context) (opKind, error) {
	if w.cur.next == 0 {
		w.n++
		c, err := w.d.create(ctx, w.n)
		if err != nil {
			return opCreate, err
		}
		w.cur = c
		if w.pool != nil {
			w.pool.add(c.name)
		}
		return opCreate, nil
	}
	k := lifecycle[w.cur.next]
	if err := w.d.act(ctx, &w.cur, k); err != nil {
		w.cur = caseRef{} // start afresh with a new case
		return k, err
	}
	w.cur.next = (w.cur.next + 1) % len(lifecycle)
	return k, nil
}

// The mixed workload, in percent of calls.
const (
	mixCreate  = 20
	mixAction  = 40
	mixGet     = 25
	mixList    = 10
	mixEvents  = 5
	maxPending = 8 // cases a mixed client keeps working on
)

// mixedWorker makes the calls of a busy office: registrations, lifecycle
// actions on the cases it has open, reads of cases anyone registered,
// filtered lists and histories.
type mixedWorker struct {
	d       driver
	rng     *rand.Rand
	pending []caseRef
	n       int
	lists   int
	pool    *casePool
}

func newMixedWorker(d driver, pool *casePool, seed uint64) *mixedWorker {
	return &mixedWorker{d: d, rng: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)), pool: pool}
}

func (w *mixedWorker) next(ctx context.Context) (opKind, error) {
	r := w.rng.IntN(100)
	if w.pool.len() == 0 {
		r = 0 // nothing to read yet: register
	}
	switch {
	case r < mixCreate || (r < mixCreate+mixAction && len(w.pending) == 0):
		w.n++
		c, err := w.d.create(ctx, w.n)
		if err != nil {
			return opCreate, err
		}
		if len(w.pending) == maxPending {
			// The oldest stays open in the database: the office's backlog.
			w.pending = append(w.pending[:0], w.pending[1:]...)
		}
		w.pending = append(w.pending, c)
		w.pool.add(c.name)
		return opCreate, nil
	case r < mixCreate+mixAction:
		i := w.rng.IntN(len(w.pending))
		c := &w.pending[i]
		k := lifecycle[c.next]
		err := w.d.act(ctx, c, k)
		c.next++
		if err != nil || c.next == len(lifecycle) {
			w.pending = append(w.pending[:i], w.pending[i+1:]...)
		}
		return k, err
	case r < mixCreate+mixAction+mixGet:
		return opGet, w.d.get(ctx, w.pool.pick(w.rng))
	case r < mixCreate+mixAction+mixGet+mixList:
		w.lists++
		return opList, w.d.list(ctx, listFilters[w.lists%len(listFilters)])
	default:
		return opEvents, w.d.events(ctx, w.pool.pick(w.rng))
	}
}

// casePool holds the names of recent cases, which reads pick from.
type casePool struct {
	mu    sync.Mutex
	names []string
	next  int // where the next name goes once the pool is full
}

// poolSize bounds the names a casePool keeps.
const poolSize = 20000

func (p *casePool) add(name string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.names) < poolSize {
		p.names = append(p.names, name)
		return
	}
	p.names[p.next] = name
	p.next = (p.next + 1) % poolSize
}

func (p *casePool) len() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.names)
}

// pick returns a random name; the pool must not be empty.
func (p *casePool) pick(rng *rand.Rand) string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.names[rng.IntN(len(p.names))]
}
