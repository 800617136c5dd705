package main

import (
	"context"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/mediationd/mediationd/internal/checker"
	"github.com/mediationd/mediationd/internal/delivery"
)

// drillStanza is the stanza of deploy/pgbackrest/pgbackrest.conf.
const drillStanza = "mediationd"

// pgBackRest runs pgbackrest with the drill's configuration file and
// stanza as the account that owns the clusters, as an operator would
// (the repository must stay writable by the archive command, which runs
// as that account).
type pgBackRest struct {
	t      *testing.T
	path   string
	config string
	cred   *syscall.Credential
}

// needPgBackRest returns the pgbackrest program, installing the Debian
// package when it is missing.
func needPgBackRest(t *testing.T) string {
	t.Helper()
	if p, err := exec.LookPath("pgbackrest"); err == nil {
		return p
	}
	out, err := exec.Command("bash", "../../deploy/apt-install.sh", "pgbackrest").CombinedOutput()
	if err != nil {
		t.Fatalf("pgBackRest is missing and could not be installed: %v\n%s", err, out)
	}
	p, err := exec.LookPath("pgbackrest")
	if err != nil {
		t.Fatalf("pgbackrest not on PATH after installing it: %v", err)
	}
	return p
}

// clusterAccount is the account the private cluster runs as: when the
// tests run as root, the one pgembed picks (postgres, else nobody).
func clusterAccount(t *testing.T) *syscall.Credential {
	t.Helper()
	if os.Geteuid() != 0 {
		return nil
	}
	for _, name := range []string{"postgres", "nobody"} {
		u, err := user.Lookup(name)
		if err != nil {
			continue
		}
		uid, _ := strconv.ParseUint(u.Uid, 10, 32)
		gid, _ := strconv.ParseUint(u.Gid, 10, 32)
		return &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}
	}
	t.Fatal("no postgres or nobody account to run PostgreSQL and pgBackRest as")
	return nil
}

// ownedDir makes dir (mode 0700) for the cluster's account.
func ownedDir(t *testing.T, dir string, cred *syscall.Credential) {
	t.Helper()
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	if cred != nil {
		if err := os.Chown(dir, int(cred.Uid), int(cred.Gid)); err != nil {
			t.Fatal(err)
		}
	}
}

// run runs one pgbackrest command and returns its output and how long it took.
func (b *pgBackRest) run(ctx context.Context, args ...string) (string, time.Duration, error) {
	cmd := exec.CommandContext(ctx, b.path, append([]string{"--config=" + b.config, "--stanza=" + drillStanza}, args...)...)
	cmd.Dir = "/"
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true, Credential: b.cred}
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "PG") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	cmd.WaitDelay = 5 * time.Second
	start := time.Now()
	out, err := cmd.CombinedOutput()
	return string(out), time.Since(start), err
}

// must runs one pgbackrest command and fails the test if it fails.
func (b *pgBackRest) must(ctx context.Context, args ...string) (string, time.Duration) {
	b.t.Helper()
	out, took, err := b.run(ctx, args...)
	if err != nil {
		b.t.Fatalf("pgbackrest %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return out, took
}

// drillConfig writes deploy/pgbackrest/pgbackrest.conf into root with
// its repository, log and data paths moved under root, and returns its
// path and the data directory it names.
func drillConfig(t *testing.T, root string, cred *syscall.Credential) (config, dataDir string) {
	t.Helper()
	ref, err := os.ReadFile("../../deploy/pgbackrest/pgbackrest.conf")
	if err != nil {
		t.Fatal(err)
	}
	dataDir = filepath.Join(root, "data")
	conf := string(ref)
	for from, to := range map[string]string{
		"/var/lib/pgbackrest": filepath.Join(root, "repo"),
		"/var/log/pgbackrest": filepath.Join(root, "log"),
		"/var/lib/mediationd": dataDir,
	} {
		if !strings.Contains(conf, from+"\n") && !strings.Contains(conf, from+"/") {
			t.Fatalf("deploy/pgbackrest/pgbackrest.conf no longer names %s", from)
		}
		conf = strings.ReplaceAll(conf, from, to)
		if from != "/var/lib/mediationd" {
			ownedDir(t, to, cred)
		}
	}
	lock := filepath.Join(root, "lock")
	ownedDir(t, lock, cred)
	conf = strings.Replace(conf, "[global]\n", "[global]\nlock-path="+lock+"\n", 1)
	config = filepath.Join(root, "pgbackrest.conf")
	if err := os.WriteFile(config, []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	return config, dataDir
}

// ackedBetween counts the calls of rec acknowledged within [from, to).
func ackedBetween(rec checker.Record, from, to time.Time) int {
	return between(rec, checker.Acked, from, to)
}

// TestBackupRestoreDrill is the restore drill: mediationd on its private
// cluster archiving to a pgBackRest repository (deploy/pgbackrest/
// pgbackrest.conf, paths moved into a temporary directory) under the
// checker's load; a full backup taken under that load; a target time T
// noted while the load goes on, and the WAL after it archived; then a
// point-in-time restore to T into a new data directory, and mediationd
// started on it (it waits for the recovery to promote, migrates, and
// must pass /readyz). Every action and registration acknowledged before
// T must be in the restored history as acknowledged, nothing started
// after T may be, and the checker's invariants must hold there. The same
// check with T moved two seconds later must report missing actions, and
// two seconds earlier, changes after the target: it can fail.
func TestBackupRestoreDrill(t *testing.T) {
	br := &pgBackRest{t: t, path: needPgBackRest(t), cred: clusterAccount(t)}
	ctx := testContext(t, 5*time.Minute)
	root := reachableDir(t)
	var dataDir string
	br.config, dataDir = drillConfig(t, root, br.cred)
	env := crashEnv("MEDIATION_DATA_DIR="+dataDir, "MEDIATION_PGBACKREST_STANZA="+drillStanza, "MEDIATION_PGBACKREST_CONFIG="+br.config)

	stopPostgresAtEnd(t, dataDir)
	s := serve(ctx, t, env)
	s.waitReady(ctx, readyTimeout)
	br.must(ctx, "stanza-create")
	br.must(ctx, "check")
	s.signIn(ctx)
	w := newWorkload(ctx, t, s.token, checker.Options{
		Workers: 8, Cases: 30, HotCases: 3, Actions: 1 << 30, Duration: 5 * time.Minute, Seed: 14, CallTimeout: 2 * time.Second,
	}, s)
	stopLoad := background(ctx, t, w)
	loadStopped := false
	defer func() {
		if !loadStopped {
			stopLoad()
		}
	}()

	time.Sleep(3 * time.Second)
	backupStart := time.Now()
	_, backupTook := br.must(ctx, "backup", "--type=full")
	backupEnd := time.Now()
	time.Sleep(2 * time.Second)
	target := time.Now()
	time.Sleep(3 * time.Second)
	// check switches to a new WAL segment and waits until it is archived,
	// so the archive holds commits after the target.
	br.must(ctx, "check")
	time.Sleep(time.Second)
	stopLoad()
	loadStopped = true
	rec := w.Record()
	s.stop(stopTimeout)
	checkPostgresStopped(t, dataDir)
	info, _ := br.must(ctx, "info")
	t.Logf("pgbackrest info:\n%s", info)
	if n := ackedBetween(rec, backupStart, backupEnd); n == 0 {
		t.Errorf("no call was acknowledged during the backup (%v): it was not taken under load", backupTook)
	}

	restored := filepath.Join(root, "restored")
	if err := os.Mkdir(restored, 0o711); err != nil {
		t.Fatal(err)
	}
	ownedDir(t, filepath.Join(restored, "postgres"), br.cred)
	// The same command mediationd help backup gives, with the drill's directory.
	stamp := target.UTC().Format("2006-01-02 15:04:05.000000+00")
	_, restoreTook := br.must(ctx, "restore", "--pg1-path="+filepath.Join(restored, "postgres"),
		"--type=time", "--target="+stamp, "--target-action=promote")
	// The webhook secrets' key file lives beside the cluster, not in it:
	// an operator restores it from its own copy.
	key, err := os.ReadFile(filepath.Join(dataDir, delivery.KeyFileName))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(restored, delivery.KeyFileName), key, 0o600); err != nil {
		t.Fatal(err)
	}

	stopPostgresAtEnd(t, restored)
	startRestored := time.Now()
	r := serve(ctx, t, crashEnv("MEDIATION_DATA_DIR="+restored, "MEDIATION_PGBACKREST_STANZA="+drillStanza, "MEDIATION_PGBACKREST_CONFIG="+br.config))
	r.waitReady(ctx, readyTimeout)
	recoveryTook := time.Since(startRestored)
	if logs := r.logs(); !logged(logs, "PostgreSQL finished recovery and accepts writes") {
		t.Errorf("mediationd on the restored cluster did not wait for its recovery; stderr:\n%s", logs)
	}

	// Backups go on from the restored cluster, on a new timeline.
	restoredPG := filepath.Join(restored, "postgres")
	br.must(ctx, "--pg1-path="+restoredPG, "--pg1-socket-path="+filepath.Join(restoredPG, "run"), "check")

	const margin = 100 * time.Millisecond
	dsn := privateDSN(t, restored)
	rep, err := checker.VerifyAcknowledgedBefore(ctx, dsn, rec, target, margin, checker.VerifyOptions{AllCases: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("restore to %s:\n%s", stamp, rep)
	if !rep.OK() {
		t.Errorf("the restored database does not hold exactly what was acknowledged before the target:\n%s", rep)
	}
	if rep.BeforeActions < 100 || rep.BeforeCreates == 0 || rep.AfterActions == 0 {
		t.Errorf("%d actions and %d registrations acknowledged before the target, %d actions after it; want a busy run on both sides",
			rep.BeforeActions, rep.BeforeCreates, rep.AfterActions)
	}
	t.Logf("figures: full backup %v under load; restore %v; recovery to the target and start %v; %d actions and %d registrations acknowledged before the target checked",
		backupTook.Round(time.Millisecond), restoreTook.Round(time.Millisecond), recoveryTook.Round(time.Millisecond), rep.BeforeActions, rep.BeforeCreates)

	// The check can fail: against a later target, the actions acknowledged
	// in between are missing; against an earlier one, present.
	late, err := checker.VerifyAcknowledgedBefore(ctx, dsn, rec, target.Add(2*time.Second), margin, checker.VerifyOptions{AllCases: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(late.Missing) == 0 || late.OK() {
		t.Errorf("checked against T+2s, nothing was reported missing:\n%s", late)
	}
	early, err := checker.VerifyAcknowledgedBefore(ctx, dsn, rec, target.Add(-2*time.Second), margin, checker.VerifyOptions{AllCases: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(early.Present) == 0 || early.OK() {
		t.Errorf("checked against T−2s, nothing was reported present after the target:\n%s", early)
	}
	t.Logf("negative checks: against T+2s %d missing; against T−2s %d present after the target", len(late.Missing), len(early.Present))

	r.stop(stopTimeout)
	checkPostgresStopped(t, restored)
}

// TestHelpBackup: `mediationd help backup` gives the commands the drill
// runs, with the installation's data directory and stanza, says what the
// backup leaves out, and says when archiving is off.
func TestHelpBackup(t *testing.T) {
	t.Parallel()
	dataDir := filepath.Join(t.TempDir(), "data")
	code, stdout, stderr := run(t, 10*time.Second, []string{"MEDIATION_DATA_DIR=" + dataDir, "MEDIATION_PGBACKREST_STANZA=city"}, "help", "backup")
	if code != 0 {
		t.Fatalf("mediationd help backup: exit status %d; stderr:\n%s", code, stderr)
	}
	for _, want := range []string{
		"pg1-path=" + dataDir + "/postgres",
		"pgbackrest --stanza=city stanza-create",
		"pgbackrest --stanza=city check",
		"pgbackrest --stanza=city --type=full backup",
		"pgbackrest --stanza=city --type=diff backup",
		"pgbackrest --stanza=city info",
		`pgbackrest --stanza=city --type=time "--target=T" --target-action=promote restore`,
		"--pg1-path=/srv/drill/postgres",
		filepath.Join(dataDir, delivery.KeyFileName),
		"MEDIATION_SECRET_KEY",
	} {
		if !strings.Contains(stdout, want) {
			t.Errorf("mediationd help backup does not say %q:\n%s", want, stdout)
		}
	}
	if strings.Contains(stdout, "Archiving is OFF") {
		t.Errorf("with MEDIATION_PGBACKREST_STANZA set, mediationd help backup says archiving is off:\n%s", stdout)
	}
	if _, err := os.Stat(dataDir); err == nil {
		t.Error("mediationd help backup created the data directory")
	}
	_, off, _ := run(t, 10*time.Second, []string{"MEDIATION_DATA_DIR=" + dataDir}, "help", "backup")
	if !strings.Contains(off, "Archiving is OFF") || !strings.Contains(off, "--stanza=mediationd stanza-create") {
		t.Errorf("without MEDIATION_PGBACKREST_STANZA, mediationd help backup does not say archiving is off and use the stanza mediationd:\n%s", off)
	}
	_, help, _ := run(t, 10*time.Second, nil, "help")
	if !strings.Contains(help, "mediationd help backup") {
		t.Errorf("mediationd help does not point to mediationd help backup:\n%s", help)
	}
}
