package main

import (
	"fmt"
	"io"
	"os"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"text/template"

	"github.com/mediationd/mediationd/internal/config"
	"github.com/mediationd/mediationd/internal/delivery"
)

// backupHelp is what `mediationd help backup` prints: the commands an
// operator runs to back up the private cluster with pgBackRest and to
// restore it to a point in time, filled in with this installation's data
// directory, stanza and the account that must run them.
var backupHelp = template.Must(template.New("backup").Parse(`Backup and restore of the private PostgreSQL cluster with pgBackRest
(with DATABASE_URL the database is backed up where it runs: deploy/pgbackrest/patroni/ has the
settings for a Patroni cluster, README.md "Backup and restore" the procedure).

What is backed up: the cluster {{.PGData}} (every case, its history, the
directory, users, sessions, audit trail, outbox), as full and differential backups plus every
WAL segment, so it can be restored to any moment since the oldest full backup kept.
NOT in the cluster, back it up yourself: {{.KeyFile}} (the webhook
secrets' key; without it registered endpoints cannot sign), unless MEDIATION_SECRET_KEY is set.

pgBackRest must run as the account that owns the cluster ({{.Why}}):
  {{.As}}pgbackrest ...
{{- if not .StanzaSet}}

Archiving is OFF: MEDIATION_PGBACKREST_STANZA is not set. The commands below use the stanza "{{.Stanza}}".{{end}}

Once:
  apt-get install pgbackrest
  install -m 0644 deploy/pgbackrest/pgbackrest.conf /etc/pgbackrest/pgbackrest.conf
  # in it: the stanza section [{{.Stanza}}], pg1-path={{.PGData}}, pg1-socket-path={{.PGData}}/run
  # set MEDIATION_PGBACKREST_STANZA={{.Stanza}} (systemd: deploy/pgbackrest/systemd/mediationd.service.d/), restart mediationd
  {{.As}}pgbackrest --stanza={{.Stanza}} stanza-create
  {{.As}}pgbackrest --stanza={{.Stanza}} check            # a WAL segment reaches the repository

Back up (weekly full, nightly differential: deploy/pgbackrest/systemd/ has the timers):
  {{.As}}pgbackrest --stanza={{.Stanza}} --type=full backup
  {{.As}}pgbackrest --stanza={{.Stanza}} --type=diff backup
  {{.As}}pgbackrest --stanza={{.Stanza}} info             # backups kept, WAL archived

Restore to a point in time T (a time zone in it, e.g. "2026-12-06 17:13:55+08"):
  # stop mediationd: it stops the cluster
  mv {{.PGData}} {{.PGData}}.before-restore     # keep until the restore is checked
  {{.MakeDir}}
  {{.As}}pgbackrest --stanza={{.Stanza}} --type=time "--target=T" --target-action=promote restore
  # start mediationd: it waits while PostgreSQL replays the archived WAL up to T and promotes,
  # then migrates and serves; /readyz answers 200 when it is done. Backups continue on the
  # restored cluster (a new timeline). For the latest state, leave out --type and --target.

A restore drill into another directory, leaving the live cluster alone:
  mkdir -m 0711 /srv/drill
  {{.MakeDrill}}
  {{.DrillAs}}pgbackrest --stanza={{.Stanza}} --pg1-path=/srv/drill/postgres --type=time "--target=T" --target-action=promote restore
  cp -p {{.KeyFile}} /srv/drill/
  {{.ServeAs}}env MEDIATION_DATA_DIR=/srv/drill MEDIATION_PGBACKREST_STANZA= MEDIATION_HTTP_ADDR=127.0.0.1:18080 \
    MEDIATION_GRPC_ADDR=127.0.0.1:19090 mediationd serve
  # archiving stays off there, so the drill never writes into the live stanza's repository
`))

// backupHelpData fills backupHelp in.
type backupHelpData struct {
	PGData, KeyFile, Stanza string
	StanzaSet               bool
	// As is the prefix that runs a command as the cluster's account, Why
	// says how it was chosen; Owner and Group name that account, when
	// it has a name.
	As, Why, Owner, Group string
	// DrillAs runs pgBackRest for the drill and ServeAs the drill's
	// service: for the dynamic user, with /srv/drill writable.
	DrillAs, ServeAs string
	// MakeDir and MakeDrill make the empty cluster directory a restore
	// goes into, in place and for a drill.
	MakeDir, MakeDrill string
}

// drillPGData is the cluster directory of the drill backupHelp shows.
const drillPGData = "/srv/drill/postgres"

// printBackupHelp prints the backup and restore commands for the data
// directory and stanza the settings give.
func printBackupHelp(w io.Writer, getenv func(string) string) error {
	cfg, err := config.Parse("mediationd help backup", nil, func(k string) string {
		if k == "DATABASE_URL" {
			return "" // the private cluster's commands, whatever the environment
		}
		return getenv(k)
	}, io.Discard)
	if err != nil {
		return fmt.Errorf("mediationd help backup: %w", err)
	}
	dataDir, err := filepath.Abs(cfg.DataDir)
	if err != nil {
		return err
	}
	d := backupHelpData{
		PGData:    filepath.Join(dataDir, "postgres"),
		KeyFile:   filepath.Join(dataDir, delivery.KeyFileName),
		Stanza:    cfg.PgBackRestStanza,
		StanzaSet: cfg.PgBackRestStanza != "",
	}
	if !d.StanzaSet {
		d.Stanza = "mediationd"
	}
	d.runAs(dataDir)
	return backupHelp.Execute(w, d)
}

// runAs works out which account runs pgBackRest: the systemd unit's
// dynamic user (its state lives under /var/lib/private, reachable only
// inside a unit), the cluster's owner when run as root, or the caller.
func (d *backupHelpData) runAs(dataDir string) {
	resolved, err := filepath.EvalSymlinks(dataDir)
	if err == nil && strings.HasPrefix(resolved, "/var/lib/private/") {
		d.Why = "the systemd unit's dynamic user, whose state only a unit reaches"
		d.As = "systemd-run --wait --pipe --quiet -p DynamicUser=yes -p User=mediationd -p StateDirectory=mediationd " +
			"-p StateDirectory=pgbackrest -p LogsDirectory=pgbackrest -- "
		d.MakeDir = d.As + "mkdir -m 0700 " + d.PGData
		d.DrillAs = strings.TrimSuffix(d.As, "-- ") + "-p ReadWritePaths=/srv/drill -- "
		d.ServeAs = d.DrillAs
		d.MakeDrill = d.DrillAs + "mkdir -m 0700 " + drillPGData
		return
	}
	var st syscall.Stat_t
	owner := -1
	if err := syscall.Stat(d.PGData, &st); err == nil {
		owner = int(st.Uid)
	}
	switch {
	case os.Geteuid() != 0 && (owner == -1 || owner == os.Geteuid()):
		d.Why = "mediationd runs as you, and so does PostgreSQL"
		d.MakeDir = "mkdir -m 0700 " + d.PGData
		d.MakeDrill = "mkdir -m 0700 " + drillPGData
		return
	case owner > 0:
		if u, err := user.LookupId(strconv.Itoa(owner)); err == nil {
			d.Owner = u.Username
		}
	default:
		for _, name := range []string{"postgres", "nobody"} {
			if _, err := user.Lookup(name); err == nil {
				d.Owner = name
				break
			}
		}
	}
	if d.Owner == "" {
		d.Owner = strconv.Itoa(owner)
	}
	d.Group = d.Owner
	if u, err := user.Lookup(d.Owner); err == nil {
		if g, err := user.LookupGroupId(u.Gid); err == nil {
			d.Group = g.Name
		}
	}
	d.Why = "PostgreSQL refuses to run as root, so a root mediationd runs it as " + d.Owner
	d.As = "runuser -u " + d.Owner + " -- "
	d.DrillAs = d.As
	d.MakeDir = "install -d -m 0700 -o " + d.Owner + " -g " + d.Group + " " + d.PGData
	d.MakeDrill = "install -d -m 0700 -o " + d.Owner + " -g " + d.Group + " " + drillPGData
}
