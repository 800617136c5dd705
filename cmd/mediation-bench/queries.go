package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/mediationd/mediationd/internal/bench"
)

const queriesUsage = `mediation-bench queries: the supervisors' queries on a large data set, one at a time.

Against a running mediationd whose database was filled by mediation-bench dataset
(the demo logins demo-admin and demo-supervisor sign in with the demo password),
it times, one call at a time after a warm-up: GetCaseStatistics totals and every
single grouping for the national, a province, a city and a county scope and an
intake cohort (a month of create_time), a few over REST; ListCases first page and
a walk following next_page_token 1,000 pages deep (then that deepest page again)
for every documented filter field, alone and with a region. Every statistics
answer is compared with a recount from the rows (a plain GROUP BY written here,
not the store's code): the run fails naming any figure that differs.

Usage:
  mediation-bench queries --grpc-addr 127.0.0.1:9090 --http-addr 127.0.0.1:8080 --database-url URL

Flags:
`

// runQueries runs the queries subcommand.
func runQueries(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("mediation-bench queries", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		_, _ = io.WriteString(stderr, queriesUsage)
		fs.PrintDefaults()
	}
	var cfg bench.QueryConfig
	fs.StringVar(&cfg.GRPCAddr, "grpc-addr", "127.0.0.1:9090", "gRPC address of the running server (loopback)")
	fs.StringVar(&cfg.HTTPAddr, "http-addr", "127.0.0.1:8080", "HTTP address of the running server (loopback)")
	fs.StringVar(&cfg.DatabaseURL, "database-url", "", "the server's database, for the recount and the sizes (required)")
	fs.IntVar(&cfg.Runs, "runs", 20, "timed runs of each query")
	fs.IntVar(&cfg.Warmup, "warmup", 2, "untimed runs before them")
	fs.IntVar(&cfg.MinRuns, "min-runs", 3, "runs of a query even past --max-query-time")
	fs.DurationVar(&cfg.MaxQueryTime, "max-query-time", 30*time.Second, "time one query's runs may take before stopping at --min-runs")
	fs.IntVar(&cfg.PageSize, "page-size", 50, "page size of the ListCases calls")
	fs.IntVar(&cfg.DeepPages, "deep-pages", 1000, "how deep the walks follow next_page_token")
	fs.DurationVar(&cfg.DeepBudget, "deep-budget", 60*time.Second, "time one walk may take")
	fs.StringVar(&cfg.Only, "only", "", "run only the queries whose name contains this")
	groupingsFlag := fs.String("groupings", "", "comma-separated statistics groupings to ask for (totals, region, organization, organization_type, mediator, dispute_type, source, create_month); empty = all")
	format := fs.String("format", "markdown", "report format: markdown or json")
	quiet := fs.Bool("quiet", false, "no progress lines on standard error")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("queries: unexpected arguments: %s", strings.Join(fs.Args(), " "))
	}
	for g := range strings.SplitSeq(*groupingsFlag, ",") {
		if g = strings.TrimSpace(g); g != "" {
			cfg.Groupings = append(cfg.Groupings, g)
		}
	}
	if cfg.DatabaseURL == "" {
		return errors.New("queries: --database-url is required: the server's database, for the recount")
	}
	if *format != "markdown" && *format != "json" {
		return fmt.Errorf("queries: --format %q: use markdown or json", *format)
	}
	if !*quiet {
		cfg.Log = stderr
	}
	rep, err := bench.RunQueries(ctx, cfg)
	if rep != nil {
		var werr error
		if *format == "json" {
			werr = rep.WriteJSON(stdout)
		} else {
			werr = rep.WriteMarkdown(stdout, "mediation-bench "+strings.Join(redactURL(os.Args[1:]), " "))
		}
		err = errors.Join(err, werr)
	}
	return err
}

// redactURL drops a password from the command line printed in the report.
func redactURL(args []string) []string {
	out := make([]string, len(args))
	for i, a := range args {
		if at := strings.Index(a, "@"); strings.Contains(a, "://") && at > 0 {
			if c := strings.Index(a[strings.Index(a, "://")+3:at], ":"); c >= 0 {
				a = a[:strings.Index(a, "://")+3+c] + ":…" + a[at:]
			}
		}
		out[i] = a
	}
	return out
}
