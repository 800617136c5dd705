package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/mediationd/mediationd/internal/config"
	"github.com/mediationd/mediationd/internal/demo"
	"github.com/mediationd/mediationd/internal/store"
)

// demoEnv names the variable that makes `mediationd serve` load the demo
// data into an empty database before serving; its value is the seed.
const demoEnv = "MEDIATION_DEMO"

// defaultDemoSeed is the seed of `mediationd demo` without --seed.
const defaultDemoSeed = 42

// demoUsage describes the demo command's own flags; the settings follow.
const demoUsage = `Usage: mediationd demo [--seed N] [--cases N] [flags]

Loads the 庆阳市 demo data set (organizations, mediators, cases with their
history) into the configured database, which must hold no organizations and
no cases. The same seed always gives the same data.

  --seed N     the seed of the data set (default 42)
  --cases N    how many cases (default 3000)

`

// runDemo loads the demo data into the service's database (DATABASE_URL's
// or the private cluster's), migrated first, printing progress to stderr
// and the report of what was loaded to stdout.
func runDemo(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	seed, cases, rest, err := demoFlags(args)
	if err != nil {
		return err
	}
	if containsHelp(rest) {
		io.WriteString(stderr, demoUsage) //nolint:errcheck // the usage is best effort
	}
	cfg, err := config.Parse("mediationd demo", rest, os.Getenv, stderr)
	if err != nil {
		return err
	}
	log := cfg.Logger(os.Stderr)
	dsn, _, stopDB, err := database(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer stopDB()
	if _, err := store.Migrate(ctx, dsn, log); err != nil {
		return err
	}
	start := time.Now()
	plan := demo.Generate(seed, cases, start)
	fmt.Fprintf(stderr, "loading the 庆阳市 demo data: seed %d, %d cases registered since %s\n",
		seed, len(plan.Cases), plan.Cases[0].Created.In(plan.Location).Format(time.DateOnly))
	last := -1
	r, logins, err := loadDemo(ctx, dsn, plan, func(done, total int) {
		if tenth := done * 10 / total; tenth != last {
			last = tenth
			fmt.Fprintf(stderr, "  %d/%d cases\n", done, total)
		}
	})
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(stdout, "loaded the 庆阳市 demo data (seed %d) in %s\n%s\n%s",
		seed, time.Since(start).Round(100*time.Millisecond), r, loginsText(logins))
	return err
}

// demoFlags takes the demo command's own flags (--seed, --cases, as
// --name N or --name=N, with one or two dashes) out of args and returns
// the rest for the settings.
func demoFlags(args []string) (seed uint64, cases int, rest []string, err error) {
	seed, cases = defaultDemoSeed, demo.DefaultCases
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			rest = append(rest, args[i:]...)
			break
		}
		name, value, hasValue := strings.Cut(strings.TrimPrefix(strings.TrimPrefix(a, "-"), "-"), "=")
		if !strings.HasPrefix(a, "-") || (name != "seed" && name != "cases") {
			rest = append(rest, a)
			continue
		}
		if !hasValue {
			if i+1 == len(args) {
				return 0, 0, nil, fmt.Errorf("--%s needs a value, e.g. --%s 42", name, name)
			}
			i++
			value = args[i]
		}
		switch name {
		case "seed":
			if seed, err = strconv.ParseUint(value, 10, 64); err != nil {
				return 0, 0, nil, fmt.Errorf("--seed: %q is not a number ≥ 0", value)
			}
		case "cases":
			if cases, err = strconv.Atoi(value); err != nil || cases < 1 || cases > 1_000_000 {
				return 0, 0, nil, fmt.Errorf("--cases: %q is not a number from 1 to 1000000", value)
			}
		}
	}
	return seed, cases, rest, nil
}

func containsHelp(args []string) bool {
	for _, a := range args {
		switch a {
		case "-h", "-help", "--help", "-h=true", "--help=true":
			return true
		case "--":
			return false
		}
	}
	return false
}

// loadDemo loads a plan through a store of its own, with the connections
// Load uses.
func loadDemo(ctx context.Context, dsn string, plan demo.Plan, progress func(done, total int)) (demo.Report, []demo.Login, error) {
	st, err := store.Open(ctx, dsn, store.Options{MaxConns: demo.Conns})
	if err != nil {
		return demo.Report{}, nil, err
	}
	defer st.Close()
	r, err := demo.Load(ctx, st, plan, progress)
	if err != nil {
		return r, nil, err
	}
	logins, err := demo.Logins(ctx, st, plan)
	return r, logins, err
}

// serveDemo is `mediationd serve`'s MEDIATION_DEMO: when the variable
// holds a seed and the database holds no organizations and no cases, it
// loads demo.DefaultCases cases of demo data before the service starts,
// logging progress; when the database is not empty it logs that the demo
// is skipped. An empty variable does nothing.
func serveDemo(ctx context.Context, dsn string, getenv func(string) string, log *slog.Logger) error {
	value := strings.TrimSpace(getenv(demoEnv))
	if value == "" {
		return nil
	}
	seed, err := strconv.ParseUint(value, 10, 64)
	if err != nil {
		return fmt.Errorf("%s: %q is not a seed such as 42 (leave it empty for no demo data)", demoEnv, value)
	}
	st, err := store.Open(ctx, dsn, store.Options{MaxConns: 1})
	if err != nil {
		return err
	}
	wanted, err := demoWanted(ctx, st)
	st.Close()
	if err != nil {
		return err
	}
	if !wanted {
		log.Info("demo data skipped: the database already holds organizations or cases", "env", demoEnv, "seed", seed)
		return nil
	}
	start := time.Now()
	plan := demo.Generate(seed, demo.DefaultCases, start)
	log.Info("loading demo data", "env", demoEnv, "seed", seed, "cases", len(plan.Cases))
	last := 0
	r, logins, err := loadDemo(ctx, dsn, plan, func(done, total int) {
		if tenth := done * 10 / total; tenth != last {
			last = tenth
			log.Info("loading demo data", "done", done, "total", total)
		}
	})
	switch {
	case errors.Is(err, demo.ErrNotEmpty):
		log.Info("demo data skipped: the database already holds organizations or cases", "env", demoEnv, "seed", seed)
		return nil
	case err != nil:
		return fmt.Errorf("load the demo data (%s=%s): %w", demoEnv, value, err)
	}
	log.Info("loaded demo data", "seed", seed, "cases", r.Cases, "mediators", r.Mediators,
		"success_rate", fmt.Sprintf("%.2f%%", 100*r.SuccessRate), "elapsed", time.Since(start).Round(time.Millisecond).String())
	for _, l := range logins {
		log.Info("demo login", "username", l.Username, "role", string(l.Role), "sees", l.Scope, "password", demo.Password)
	}
	return nil
}

// loginsText lists the demo logins for a person to read.
func loginsText(logins []demo.Login) string {
	var b strings.Builder
	fmt.Fprintf(&b, "demo logins (password %q for all):\n", demo.Password)
	for _, l := range logins {
		fmt.Fprintf(&b, "  %s\n", l)
	}
	return b.String()
}

// demoWanted reports whether the database is ready for the demo data:
// migrated, and without organizations or cases.
func demoWanted(ctx context.Context, st *store.Store) (bool, error) {
	v, err := st.SchemaVersion(ctx)
	if err != nil {
		return false, err
	}
	if v < store.LatestVersion() {
		return false, fmt.Errorf("%s: the database schema is at version %d, not %d: start with --migrate, or run `mediationd migrate` first", demoEnv, v, store.LatestVersion())
	}
	return demo.Empty(ctx, st)
}
