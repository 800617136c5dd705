package dataset

import (
	"context"
	"testing"

	"github.com/mediationd/mediationd/internal/pgtest"
	"github.com/mediationd/mediationd/internal/store"
)

// BenchmarkRows measures deciding and laying out the rows of one case,
// the generator's own share of a load's time.
func BenchmarkRows(b *testing.B) {
	ctx := context.Background()
	dsn := pgtest.NewDatabase(b)
	opt := Options{Cases: 20000, Open: 0.1, Years: 3, Seed: 1, Templates: 3000}
	if err := opt.defaults(); err != nil {
		b.Fatal(err)
	}
	st, err := store.Open(ctx, dsn, store.Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	l := &loader{opt: opt, st: st, logf: func(string, ...any) {}}
	if err := l.prepare(ctx); err != nil {
		b.Fatal(err)
	}
	specs, err := l.specs()
	if err != nil {
		b.Fatal(err)
	}
	seqs := make([]int64, len(specs))
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		k := i % len(specs)
		if _, err := l.rows(specs[k:k+1], seqs[k:k+1], k); err != nil {
			b.Fatal(err)
		}
	}
}
