package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/mediationd/mediationd/internal/auth"
	"github.com/mediationd/mediationd/internal/authn"
	"github.com/mediationd/mediationd/internal/config"
	"github.com/mediationd/mediationd/internal/store"
)

const usersUsage = `Usage:
  mediationd users add --username NAME --role ROLE --password-stdin [user flags] [settings flags]
  mediationd users list [settings flags]

users add creates a user, reading the password (at least 12 characters)
from the first line of standard input, never from the command line:

  printf '%s\n' "$PASSWORD" | mediationd users add --username admin --role admin --password-stdin

ROLE is admin, supervisor, organization_lead, mediator, court_desk or
auditor. A supervisor needs --region, an organization lead --organization,
a mediator --mediator (its organization comes with it), a court desk
--court. The database is migrated first, as by mediationd migrate.

users list prints every user.

The settings flags (--database-url, --data-dir, ...) are those of
mediationd serve (see mediationd help), given in the same command line:
each flag is taken by users add if it is one of its own (listed by
mediationd users add --help), and passed on to the settings otherwise. With the private PostgreSQL (no
DATABASE_URL) the cluster is left running afterwards, since the service
may be using it; the service's next start reuses it.

User flags:
`

// runUsers is `mediationd users add|list`.
func runUsers(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	if len(args) == 0 || strings.HasPrefix(args[0], "-") {
		if len(args) > 0 && isHelpFlag(args[0]) {
			_, _ = io.WriteString(stderr, strings.TrimSuffix(usersUsage, "\nUser flags:\n"))
			return flag.ErrHelp
		}
		return errors.New("usage: mediationd users add|list [flags]; run `mediationd users --help`")
	}
	switch args[0] {
	case "add":
		return runUsersAdd(ctx, args[1:], stdin, stdout, stderr)
	case "list":
		return runUsersList(ctx, args[1:], stdout, stderr)
	}
	return fmt.Errorf("unknown users command %q: use add or list", args[0])
}

func isHelpFlag(arg string) bool {
	switch strings.TrimLeft(arg, "-") {
	case "h", "help":
		return true
	}
	return false
}

// splitFlags hands each flag of args to own if own defines it (with its
// value, when that is the next argument) and everything else to the
// settings, for config.Parse. A help flag goes to own.
func splitFlags(own *flag.FlagSet, args []string) (ownArgs, settingArgs []string) {
	for i := 0; i < len(args); i++ {
		arg := args[i]
		name, _, hasValue := strings.Cut(strings.TrimLeft(arg, "-"), "=")
		if !strings.HasPrefix(arg, "-") || arg == "-" || arg == "--" {
			settingArgs = append(settingArgs, arg)
			continue
		}
		f := own.Lookup(name)
		takesNext := !hasValue && i+1 < len(args)
		switch {
		case isHelpFlag(arg):
			ownArgs = append(ownArgs, arg)
		case f != nil:
			ownArgs = append(ownArgs, arg)
			if b, ok := f.Value.(interface{ IsBoolFlag() bool }); takesNext && (!ok || !b.IsBoolFlag()) {
				i++
				ownArgs = append(ownArgs, args[i])
			}
		default:
			settingArgs = append(settingArgs, arg)
			if takesNext && name != "migrate" {
				i++
				settingArgs = append(settingArgs, args[i])
			}
		}
	}
	return ownArgs, settingArgs
}

// openStore reads the settings, migrates the database and opens it. The
// private cluster, if used, is left running (see usersUsage).
func openStore(ctx context.Context, name string, settingArgs []string, stderr io.Writer) (*store.Store, error) {
	cfg, err := config.Parse(name, settingArgs, os.Getenv, stderr)
	if err != nil {
		return nil, err
	}
	log := cfg.Logger(os.Stderr)
	dsn, _, _, err := database(ctx, cfg, log)
	if err != nil {
		return nil, err
	}
	if _, err := store.Migrate(ctx, dsn, log); err != nil {
		return nil, err
	}
	return store.Open(ctx, dsn, store.Options{MaxConns: 2})
}

// readPassword reads the first line of r, without its line ending.
func readPassword(r io.Reader) (string, error) {
	line, err := bufio.NewReader(r).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return "", fmt.Errorf("read the password from standard input: %w", err)
	}
	return strings.TrimRight(line, "\r\n"), nil
}

func runUsersAdd(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("mediationd users add", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		_, _ = io.WriteString(stderr, usersUsage)
		fs.PrintDefaults()
	}
	var (
		username      = fs.String("username", "", "the username: lower-case letters, digits, dots, hyphens, underscores")
		role          = fs.String("role", "", "admin, supervisor, organization_lead, mediator, court_desk or auditor")
		passwordStdin = fs.Bool("password-stdin", false, "read the password from the first line of standard input (required)")
		displayName   = fs.String("display-name", "", "the person's name, e.g. 李红 (default: the username)")
		region        = fs.String("region", "", "a supervisor's region code, e.g. 621000")
		organization  = fs.String("organization", "", "an organization lead's organization id (or organizations/ID)")
		mediator      = fs.String("mediator", "", "a mediator's directory entry id (or mediators/ID)")
		court         = fs.String("court", "", "a court desk's court code, e.g. 甘1002")
	)
	ownArgs, settingArgs := splitFlags(fs, args)
	if err := fs.Parse(ownArgs); err != nil {
		return err
	}
	switch {
	case *username == "":
		return errors.New("users add: --username is required")
	case *role == "":
		return errors.New("users add: --role is required: admin, supervisor, organization_lead, mediator, court_desk or auditor")
	case !*passwordStdin:
		return errors.New("users add: --password-stdin is required: the password is read from standard input, never from the command line")
	}
	r := auth.Role(strings.ToUpper(*role))
	if !slices.Contains(auth.Roles, r) {
		return fmt.Errorf("users add: --role %q is not admin, supervisor, organization_lead, mediator, court_desk or auditor", *role)
	}
	password, err := readPassword(stdin)
	if err != nil {
		return err
	}
	if err := authn.CheckPasswordStrength(password); err != nil {
		return fmt.Errorf("users add: the password from standard input %s", strings.TrimPrefix(err.Error(), "password: "))
	}
	u := store.User{
		Username:       *username,
		DisplayName:    *displayName,
		Role:           r,
		RegionCode:     *region,
		OrganizationID: strings.TrimPrefix(*organization, "organizations/"),
		MediatorID:     strings.TrimPrefix(*mediator, "mediators/"),
		CourtCode:      *court,
	}
	if u.DisplayName == "" {
		u.DisplayName = u.Username
	}

	st, err := openStore(ctx, "mediationd users add", settingArgs, stderr)
	if err != nil {
		return err
	}
	defer st.Close()
	out, err := st.CreateUser(ctx, u, authn.HashPassword(password), time.Now().UTC().Truncate(time.Microsecond))
	if err != nil {
		return fmt.Errorf("users add: %w", err)
	}
	_, err = fmt.Fprintf(stdout, "created %s (%s)\n", out.Name(), out.Role)
	return err
}

func runUsersList(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("mediationd users list", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { _, _ = io.WriteString(stderr, strings.TrimSuffix(usersUsage, "\nUser flags:\n")) }
	ownArgs, settingArgs := splitFlags(fs, args)
	if err := fs.Parse(ownArgs); err != nil {
		return err
	}
	st, err := openStore(ctx, "mediationd users list", settingArgs, stderr)
	if err != nil {
		return err
	}
	defer st.Close()

	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tROLE\tSCOPE\tACTIVE\tLAST SIGN-IN\tDISPLAY NAME")
	after := ""
	for {
		page, err := st.ListUsers(ctx, after, 500)
		if err != nil {
			return fmt.Errorf("users list: %w", err)
		}
		for _, u := range page.Users {
			lastLogin := "never"
			if !u.LastLoginTime.IsZero() {
				lastLogin = u.LastLoginTime.UTC().Format(time.RFC3339)
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%t\t%s\t%s\n", u.Name(), u.Role, userScope(u), u.Active, lastLogin, u.DisplayName)
		}
		if page.Next == "" {
			break
		}
		after = page.Next
	}
	return tw.Flush()
}

// userScope describes a user's scope in one word or two.
func userScope(u store.User) string {
	var parts []string
	if u.RegionCode != "" {
		parts = append(parts, "regions/"+u.RegionCode)
	}
	if p := u.Principal(); p.OrganizationID != "" {
		parts = append(parts, p.OrganizationName())
	}
	if p := u.Principal(); p.MediatorID != "" {
		parts = append(parts, p.MediatorName())
	}
	if u.CourtCode != "" {
		parts = append(parts, "court "+u.CourtCode)
	}
	if len(parts) == 0 {
		return "-"
	}
	return strings.Join(parts, ",")
}
