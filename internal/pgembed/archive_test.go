package pgembed

import (
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"
)

// TestArchiveCommand: the archive command names pgBackRest by absolute
// path, the configuration file, the stanza and the cluster, each quoted
// for the shell, with PostgreSQL's percent escapes doubled.
func TestArchiveCommand(t *testing.T) {
	got, err := archiveCommand(Archive{Stanza: "mediationd", Config: "/etc/it's 100%/pgbackrest.conf", Command: "/bin/true"}, "/var/lib/mediationd/postgres")
	if err != nil {
		t.Fatal(err)
	}
	want := `'/bin/true' '--config=/etc/it'\''s 100%%/pgbackrest.conf' '--stanza=mediationd' '--pg1-path=/var/lib/mediationd/postgres' archive-push %p`
	if got != want {
		t.Errorf("archiveCommand =\n%s\nwant\n%s", got, want)
	}
	if _, err := archiveCommand(Archive{Stanza: "mediationd", Command: "/nonexistent/pgbackrest"}, "/p"); err == nil ||
		!strings.Contains(err.Error(), "apt-get install pgbackrest") || !strings.Contains(err.Error(), "MEDIATION_PGBACKREST_STANZA") {
		t.Errorf("archiveCommand without pgBackRest: error %v, want one saying how to install it or turn archiving off", err)
	}
	if _, err := archiveCommand(Archive{Command: "/bin/true"}, "/p"); err == nil {
		t.Error("archiveCommand accepted an empty stanza")
	}
}

// TestArchivingCluster: with Archive set the server archives its WAL
// through the command (a stand-in for pgBackRest that accepts every
// segment), quoting and all; a server already running without archiving
// is reused with a warning saying how to turn it on.
func TestArchivingCluster(t *testing.T) {
	dataDir := testDataDir(t)
	plain, _ := startCluster(t, dataDir, Options{})
	archive := &Archive{Stanza: "test", Config: "/etc/it's 100%/pgbackrest.conf", Command: "/bin/true"}
	_, logs := startCluster(t, dataDir, Options{Archive: archive})
	if !strings.Contains(logs.String(), "does not archive its WAL as configured") {
		t.Errorf("reusing a server without archiving logged no warning:\n%s", logs)
	}
	if err := plain.Stop(t.Context()); err != nil {
		t.Fatal(err)
	}

	c, logs := startCluster(t, dataDir, Options{Archive: archive})
	if strings.Contains(logs.String(), "does not archive") {
		t.Errorf("a server started with archiving logged a warning:\n%s", logs)
	}
	conn := connect(t, c, "postgres")
	var mode, command string
	if err := conn.QueryRow(t.Context(), "SELECT current_setting('archive_mode'), current_setting('archive_command')").Scan(&mode, &command); err != nil {
		t.Fatal(err)
	}
	want, _ := archiveCommand(*archive, c.DataDir())
	if mode != "on" || command != want {
		t.Errorf("archive_mode %q, archive_command %q; want on, %q", mode, command, want)
	}
	if _, err := conn.Exec(t.Context(), "CREATE TABLE t AS SELECT g FROM generate_series(1, 1000) g; SELECT pg_switch_wal()"); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	for {
		var archived, failed int64
		if err := conn.QueryRow(ctx, "SELECT archived_count, failed_count FROM pg_stat_archiver").Scan(&archived, &failed); err != nil {
			t.Fatal(err)
		}
		if failed > 0 {
			t.Fatalf("the archive command failed %d times; server log:\n%s", failed, tailFile(c.logFile, logTailLines))
		}
		if archived > 0 {
			break
		}
		select {
		case <-ctx.Done():
			t.Fatal("no WAL segment archived within 30 s")
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// TestStartRefusesArchivingWithoutPgBackRest: asked to archive without
// pgBackRest installed, Start fails before touching the cluster, saying
// how to install it.
func TestStartRefusesArchivingWithoutPgBackRest(t *testing.T) {
	_, err := Start(t.Context(), Options{
		DataDir: testDataDir(t),
		Logger:  slog.New(slog.DiscardHandler),
		Archive: &Archive{Stanza: "test", Command: "/nonexistent/pgbackrest"},
	})
	if err == nil || !strings.Contains(err.Error(), "apt-get install pgbackrest") {
		t.Fatalf("Start = %v, want an error saying how to install pgBackRest", err)
	}
}
