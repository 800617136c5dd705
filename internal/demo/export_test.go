package demo

import (
	"context"
	"fmt"

	"github.com/mediationd/mediationd/internal/caseflow"
	"github.com/mediationd/mediationd/internal/store"
)

// LoadOneByOne is Load writing each case as the service's pipeline does
// one request at a time: the store's CreateCase, then caseflow's Act for
// each step, which looks up, authorizes, decides and writes it, one case
// after the other. The tests compare what it writes with what Load
// writes.
func LoadOneByOne(ctx context.Context, st *store.Store, p Plan) (Report, error) {
	flow := caseflow.New(st, nil, p.Policy, nil)
	return load(ctx, st, p, nil, func(ctx context.Context, st *store.Store, p Plan, _ *lookups, _ func(int, int)) error {
		for i, c := range p.Cases {
			stored, replayed, err := st.CreateCase(ctx, store.CreateParams{
				New: c.New, ID: c.ID, Actor: Actor, Now: c.Created, Year: p.Year(c), Policy: p.Policy,
			})
			if err == nil && replayed {
				err = fmt.Errorf("the database returned an earlier case, %s, instead of registering it", stored.Number)
			}
			if err != nil {
				return fmt.Errorf("case %d: register: %w", i+1, err)
			}
			for j, cmd := range c.Steps {
				if _, err := flow.Act(ctx, caseflow.System, c.ID, int64(j+1), cmd); err != nil {
					return fmt.Errorf("case %s: step %d, %s: %w", stored.Number, j+1, cmd.Action, err)
				}
			}
		}
		return nil
	})
}
