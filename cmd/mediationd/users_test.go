package main

import (
	"bytes"
	"context"
	"errors"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/mediationd/mediationd/internal/auth"
	"github.com/mediationd/mediationd/internal/authn"
	"github.com/mediationd/mediationd/internal/pgtest"
	"github.com/mediationd/mediationd/internal/store"
)

// runWithStdin runs the binary to completion with stdin as its standard
// input and returns its exit status and output.
func runWithStdin(t *testing.T, stdin string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, binary, args...)
	cmd.Env = baseEnv()
	cmd.Stdin = strings.NewReader(stdin)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	var exitErr *exec.ExitError
	switch {
	case errors.As(err, &exitErr):
		code = exitErr.ExitCode()
	case err != nil:
		t.Fatalf("run mediationd %s: %v", strings.Join(args, " "), err)
	}
	return code, out.String(), errOut.String()
}

// TestUsersAdd creates users with `mediationd users add` on an unmigrated
// database, and checks them in the database.
func TestUsersAdd(t *testing.T) {
	t.Parallel()
	dsn := pgtest.NewDatabase(t)
	const password = "correct horse battery"

	code, stdout, stderr := runWithStdin(t, password+"\n",
		"users", "add", "--username", "admin", "--role", "admin", "--password-stdin", "--database-url", dsn, "--display-name", "王管理")
	if code != 0 || stdout != "created users/admin (ADMIN)\n" {
		t.Fatalf("users add: exit status %d, stdout %q; stderr:\n%s", code, stdout, stderr)
	}
	if strings.Contains(stdout+stderr, password) {
		t.Error("users add printed the password")
	}
	// The settings flags may come first and take the form --flag=value.
	code, stdout, stderr = runWithStdin(t, "another long password\r\nignored second line\n",
		"users", "add", "--database-url="+dsn, "--log-level", "warn", "--username=sup", "--role=SUPERVISOR", "--region", "621000", "--password-stdin")
	if code != 0 || stdout != "created users/sup (SUPERVISOR)\n" {
		t.Fatalf("users add supervisor: exit status %d, stdout %q; stderr:\n%s", code, stdout, stderr)
	}

	ctx := context.Background()
	st, err := store.Open(ctx, dsn, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	u, phc, err := st.UserCredentials(ctx, "admin")
	if err != nil || u.Role != auth.RoleAdmin || u.DisplayName != "王管理" || !u.Active {
		t.Fatalf("stored admin = %+v, %v", u, err)
	}
	if ok, err := authn.CheckPassword(phc, password); !ok || err != nil {
		t.Errorf("the stored hash does not match the password given on stdin: %v, %v", ok, err)
	}
	sup, phc, err := st.UserCredentials(ctx, "sup")
	if err != nil || sup.RegionCode != "621000" || sup.DisplayName != "sup" {
		t.Fatalf("stored supervisor = %+v, %v", sup, err)
	}
	if ok, _ := authn.CheckPassword(phc, "another long password"); !ok {
		t.Error("the password is the first line without its line ending")
	}

	code, stdout, stderr = runWithStdin(t, "", "users", "list", "--database-url", dsn)
	if code != 0 || !strings.Contains(stdout, "users/admin") || !strings.Contains(stdout, "users/sup") || !strings.Contains(stdout, "regions/621000") {
		t.Errorf("users list: exit status %d, stdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}

	for _, tt := range []struct {
		name, stdin string
		args        []string
		want        string
	}{
		{"short password", "short\n", []string{"--username", "x", "--role", "admin", "--password-stdin"}, "at least 12 characters"},
		{"no password", "", []string{"--username", "x", "--role", "admin", "--password-stdin"}, "at least 12 characters"},
		{"password not from stdin", password + "\n", []string{"--username", "x", "--role", "admin"}, "--password-stdin is required"},
		{"unknown role", password + "\n", []string{"--username", "x", "--role", "janitor", "--password-stdin"}, "janitor"},
		{"supervisor without region", password + "\n", []string{"--username", "x", "--role", "supervisor", "--password-stdin"}, "user.region_code"},
		{"taken username", password + "\n", []string{"--username", "admin", "--role", "auditor", "--password-stdin"}, "already exists"},
		{"unknown setting", password + "\n", []string{"--username", "x", "--role", "admin", "--password-stdin", "--colour", "blue"}, "colour"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			args := append([]string{"users", "add", "--database-url", dsn}, tt.args...)
			code, stdout, stderr := runWithStdin(t, tt.stdin, args...)
			if code == 0 || !strings.Contains(stderr, tt.want) {
				t.Errorf("exit status %d, want failure mentioning %q; stdout %q; stderr:\n%s", code, tt.want, stdout, stderr)
			}
		})
	}
	page, err := st.ListUsers(ctx, "", 10)
	if err != nil || len(page.Users) != 2 {
		t.Errorf("after the refused commands: %d users, %v; want 2", len(page.Users), err)
	}
}
