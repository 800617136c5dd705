// Command mediationd is the mediation case-management service: gRPC and
// REST APIs over PostgreSQL. With no DATABASE_URL it runs its own private
// PostgreSQL cluster in its data directory, so it works out of the box.
//
// Usage:
//
//	mediationd [serve] [flags]     run the service (the default)
//	mediationd migrate [flags]     apply pending database migrations and exit
//	mediationd psql [flags]        open psql on the service's database
//	mediationd pg-exec -- CMD...   run CMD against a throwaway PostgreSQL cluster
//	mediationd demo [flags]        load the 庆阳市 demo data (--seed N, --cases N) into an empty database
//	mediationd users add|list      create a user (password on stdin), list users
//	mediationd version             print the version
//	mediationd help backup         print the backup and restore commands (pgBackRest)
//
// Every flag has an environment variable; `mediationd help` lists them.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

func main() {
	ctx, done := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := realMain(ctx, os.Args[1:], os.Stdout, os.Stderr)
	done()
	var exit exitCode
	switch {
	case errors.Is(err, flag.ErrHelp):
		// The flag package printed the usage.
	case errors.As(err, &exit):
		os.Exit(int(exit))
	case err != nil:
		slog.New(slog.NewTextHandler(os.Stderr, nil)).Error("mediationd failed", "error", err.Error())
		os.Exit(1)
	}
}

// exitCode is an error that only carries a process exit status (for
// pg-exec, which exits with its command's status).
type exitCode int

func (e exitCode) Error() string { return fmt.Sprintf("exit status %d", int(e)) }

func realMain(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	cmd := "serve"
	switch {
	case len(args) > 0 && (args[0] == "-h" || args[0] == "--help" || args[0] == "-help"):
		cmd, args = "help", args[1:]
	case len(args) > 0 && len(args[0]) > 0 && args[0][0] != '-':
		cmd, args = args[0], args[1:]
	}
	switch cmd {
	case "serve":
		return runServe(ctx, args, stderr)
	case "migrate":
		return runMigrate(ctx, args, stderr)
	case "psql":
		return runPsql(ctx, args, stderr)
	case "pg-exec":
		return runPGExec(ctx, args, stderr)
	case "demo":
		return runDemo(ctx, args, stdout, stderr)
	case "users":
		return runUsers(ctx, args, os.Stdin, stdout, stderr)
	case "version":
		_, err := fmt.Fprintln(stdout, "mediationd", version)
		return err
	case "help":
		if len(args) > 0 && args[0] == "backup" {
			return printBackupHelp(stdout, os.Getenv)
		}
		return printHelp(stdout)
	}
	return fmt.Errorf("unknown command %q; run `mediationd help`", cmd)
}
