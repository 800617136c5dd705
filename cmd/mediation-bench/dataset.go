package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime/debug"
	"strings"
	"time"

	"github.com/mediationd/mediationd/internal/bench/dataset"
	"github.com/mediationd/mediationd/internal/store"
)

const datasetUsage = `mediation-bench dataset: generate a large data set into a migrated, empty database.

Cases are copies of the demo's cases (庆阳市's organizations and mediators),
moved in time by whole weeks over --years, --open of them open (an equal share
in each open state), the others closed with every outcome, each history decided
again by the service's decision code. Loaded with COPY from --workers
connections (triggers off, secondary indexes rebuilt after), then checked in
SQL against the invariants the triggers keep; the last 7 days' cases go through
the store's own bulk path with their outbox rows. Then case_tallies_rebuild()
if the schema has it, and VACUUM ANALYZE. The demo logins (demo-admin,
demo-supervisor, ... with the demo password) are created.

Usage:
  mediation-bench dataset --database-url URL --cases 1000000 [--open 0.1] [--years 3]

Flags:
`

// runDataset runs the dataset subcommand.
func runDataset(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("mediation-bench dataset", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		_, _ = io.WriteString(stderr, datasetUsage)
		fs.PrintDefaults()
	}
	var (
		databaseURL = fs.String("database-url", "", "the database to fill (required); migrated first")
		cases       = fs.Int("cases", 1000000, "cases to register")
		open        = fs.Float64("open", 0.1, "share of the cases left open")
		years       = fs.Int("years", 3, "registrations spread over this many years before now")
		seed        = fs.Uint64("seed", 1, "seed of the data set")
		nowFlag     = fs.String("now", "", "the time the data set is made for (RFC 3339); empty = now")
		templates   = fs.Int("templates", 0, "demo cases planned as templates; 0 = 20,000")
		workers     = fs.Int("workers", 3, "connections copying at once")
		batch       = fs.Int("batch", 2000, "cases per COPY transaction")
		jsonOut     = fs.Bool("json", false, "print the report as JSON")
	)
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("dataset: unexpected arguments: %s", strings.Join(fs.Args(), " "))
	}
	if *databaseURL == "" {
		return errors.New("dataset: --database-url is required: the database to fill (it is migrated first)")
	}
	opt := dataset.Options{Cases: *cases, Open: *open, Years: *years, Seed: *seed, Templates: *templates,
		Workers: *workers, Batch: *batch, Log: stderr}
	if *nowFlag != "" {
		t, err := time.Parse(time.RFC3339, *nowFlag)
		if err != nil {
			return fmt.Errorf("dataset: --now %q: give an RFC 3339 time such as 2026-12-01T00:00:00+08:00", *nowFlag)
		}
		opt.Now = t
	}
	if os.Getenv("GOGC") == "" {
		// Deciding histories allocates much that dies at once; a fifth
		// of the generator's CPU went to the collector at the default.
		debug.SetGCPercent(400)
	}
	if _, err := store.Migrate(ctx, *databaseURL, nil); err != nil {
		return fmt.Errorf("dataset: migrate: %w", err)
	}
	rep, err := dataset.Load(ctx, *databaseURL, opt)
	if err != nil {
		return err
	}
	if *jsonOut {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(rep)
	}
	_, err = fmt.Fprintf(stdout, `cases %d (%d open), events %d, sessions %d, follow-up visits %d, court-referral claims %d, outbox %d
copied %d cases, %d through the store; %d marked overdue by the job
rows %d in %s: %.0f rows/s, %.0f cases/s (COPY phase %s at %.0f rows/s; indexes %s; recent %s; verify %s; tallies rebuilt %t in %s; vacuum %s)
database size %.2f GB
`, rep.Cases, rep.Open, rep.Events, rep.Sessions, rep.FollowUps, rep.Claims, rep.Outbox,
		rep.Copied, rep.StoreWritten, rep.MarkedByJob,
		rep.Rows, rep.Total.Round(time.Second), rep.RowsPerSec, rep.CasesPerSec, rep.Copy.Round(time.Second), rep.CopyRowsPerSec,
		rep.Indexes.Round(time.Second), rep.Recent.Round(time.Second), rep.Verify.Round(time.Second), rep.TalliesRebuilt, rep.Tallies.Round(time.Second),
		rep.Vacuum.Round(time.Second), float64(rep.DatabaseBytes)/1e9)
	return err
}
