// Command mediation-check runs the concurrency checker against a running
// mediationd (one or several replicas) and verifies the result in its
// database: it registers cases, fires random actions at them from several
// workers, records what every call was told, then reads the database and
// reports every acknowledged action lost, refused action applied, history
// out of order or duplicate case. It exits with status 1 if it found a
// violation and 2 if it could not run.
//
//	mediation-check --grpc-addr localhost:9090 --username admin --password-stdin \
//	    --database-url postgres://... --workers 8 --cases 20 --hot 3 --actions 2000 --duration 30s
package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/mediationd/mediationd/internal/checker"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

// addrList is a repeatable, comma-separated flag.
type addrList []string

func (a *addrList) String() string { return strings.Join(*a, ",") }

func (a *addrList) Set(v string) error {
	for _, s := range strings.Split(v, ",") {
		if s = strings.TrimSpace(s); s != "" {
			*a = append(*a, s)
		}
	}
	return nil
}

// config is the command line.
type config struct {
	addrs         addrList
	token         string
	username      string
	password      string
	passwordStdin bool
	databaseURL   string
	allCases      bool
	opts          checker.Options
	timeout       time.Duration
	verbose       bool
}

func parse(args []string, stderr io.Writer) (*config, error) {
	c := &config{}
	fs := flag.NewFlagSet("mediation-check", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Var(&c.addrs, "grpc-addr", "gRPC address of a replica (host:port); repeat it or separate with commas for several")
	fs.StringVar(&c.token, "token", os.Getenv("MEDIATION_TOKEN"), "an administrator's bearer token (default $MEDIATION_TOKEN)")
	fs.StringVar(&c.username, "username", "", "sign in as this administrator instead of --token")
	fs.StringVar(&c.password, "password", "", "the administrator's password (prefer --password-stdin)")
	fs.BoolVar(&c.passwordStdin, "password-stdin", false, "read the password from the first line of standard input")
	fs.StringVar(&c.databaseURL, "database-url", os.Getenv("DATABASE_URL"), "the service's database, read by the verifier (default $DATABASE_URL)")
	fs.BoolVar(&c.allCases, "all-cases", false, "verify every case in the database, not only the run's (for a database only this run used)")
	fs.IntVar(&c.opts.Workers, "workers", 8, "concurrent workers")
	fs.IntVar(&c.opts.Cases, "cases", 20, "cases to register")
	fs.IntVar(&c.opts.HotCases, "hot", 3, "cases every worker contends for")
	fs.IntVar(&c.opts.Actions, "actions", 2000, "action calls at most")
	fs.DurationVar(&c.opts.Duration, "duration", 30*time.Second, "how long to fire actions at most")
	fs.Int64Var(&c.opts.Seed, "seed", 0, "seed of the workers' choices (0 = from the clock)")
	fs.DurationVar(&c.opts.CallTimeout, "call-timeout", 3*time.Second, "deadline of one call")
	fs.BoolVar(&c.opts.AutoAssign, "auto-assign", false, "turn on automatic assignment in the workload's county (621002) first; changes it for everyone")
	fs.DurationVar(&c.timeout, "timeout", 5*time.Minute, "bound on the whole run, verification included")
	fs.BoolVar(&c.verbose, "v", false, "log progress to standard error")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	switch {
	case fs.NArg() > 0:
		return nil, fmt.Errorf("unexpected arguments: %s", strings.Join(fs.Args(), " "))
	case len(c.addrs) == 0:
		return nil, errors.New("--grpc-addr is required")
	case c.databaseURL == "":
		return nil, errors.New("--database-url (or DATABASE_URL) is required: the verifier reads the database")
	case c.token == "" && c.username == "":
		return nil, errors.New("give --token (or MEDIATION_TOKEN), or --username with --password-stdin")
	case c.username != "" && c.password == "" && !c.passwordStdin:
		return nil, errors.New("--username needs --password-stdin or --password")
	}
	return c, nil
}

func run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	c, err := parse(args, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		fmt.Fprintf(stderr, "mediation-check: %v\n", err)
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	rep, err := check(ctx, c, stdin, stderr)
	if err != nil {
		fmt.Fprintf(stderr, "mediation-check: %v\n", err)
		return 2
	}
	fmt.Fprint(stdout, rep)
	if !rep.OK() {
		return 1
	}
	return 0
}

// check runs the workload and the verifier.
func check(ctx context.Context, c *config, stdin io.Reader, stderr io.Writer) (*checker.Report, error) {
	if c.verbose {
		c.opts.Logf = func(format string, args ...any) { fmt.Fprintf(stderr, format+"\n", args...) }
	}
	conns, err := checker.Dial(c.addrs)
	if err != nil {
		return nil, err
	}
	defer func() {
		for _, conn := range conns {
			conn.Close()
		}
	}()
	token := c.token
	if c.username != "" {
		password := c.password
		if c.passwordStdin {
			line, err := bufio.NewReader(stdin).ReadString('\n')
			if err != nil && !errors.Is(err, io.EOF) {
				return nil, fmt.Errorf("read the password: %w", err)
			}
			password = strings.TrimRight(line, "\r\n")
		}
		sctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		defer cancel()
		if token, err = checker.SignIn(sctx, conns[0], c.username, password); err != nil {
			return nil, err
		}
	}
	w, err := checker.New(conns, token, c.opts)
	if err != nil {
		return nil, err
	}
	if err := w.Setup(ctx); err != nil {
		return nil, err
	}
	if err := w.Run(ctx); err != nil {
		return nil, err
	}
	if st, err := w.Resolve(ctx); err != nil {
		return nil, err
	} else if st.Unresolved > 0 {
		fmt.Fprintf(stderr, "mediation-check: %d requests still had no definitive answer; the verifier treats them as unknown\n", st.Unresolved)
	}
	// The verifier gets its own time: the run may have used up most of ctx.
	vctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Minute)
	defer cancel()
	return checker.Verify(vctx, c.databaseURL, w.Record(), checker.VerifyOptions{AllCases: c.allCases})
}
