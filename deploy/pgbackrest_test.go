package deploy

import (
	"bufio"
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"
)

// stanza is the pgBackRest stanza every file of pgbackrest/ uses.
const stanza = "mediationd"

// pgbackrestCommands are the commands an option of the reference
// configurations must be valid for at least one of.
var pgbackrestCommands = []string{"archive-push", "archive-get", "backup", "restore", "check", "info", "stanza-create", "expire"}

// iniOption is one option of a pgBackRest configuration file.
type iniOption struct {
	section, key, value string
	line                int
}

// readINI reads a pgBackRest configuration file.
func readINI(t *testing.T, path string) []iniOption {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []iniOption
	section := ""
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		switch {
		case line == "" || strings.HasPrefix(line, "#"):
		case strings.HasPrefix(line, "[") && strings.HasSuffix(line, "]"):
			section = line[1 : len(line)-1]
		default:
			k, v, ok := strings.Cut(line, "=")
			if !ok || section == "" {
				t.Errorf("%s:%d: %q is not an option of a section", path, n, line)
				continue
			}
			out = append(out, iniOption{section, k, v, n})
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// TestPgBackRestConfigs checks the reference pgBackRest configurations
// (the private cluster's and the Patroni cluster's) against pgBackRest
// itself: every option must be one it knows, for the command its section
// names, and every stanza section is the one the rest of the setup uses.
// The private cluster's file is also what the restore drill runs with.
func TestPgBackRestConfigs(t *testing.T) {
	if _, err := exec.LookPath("pgbackrest"); err != nil {
		t.Skip("pgbackrest is not installed (Debian package pgbackrest): the configurations cannot be checked here; the restore drill installs it")
	}
	files, err := filepath.Glob("pgbackrest/*.conf")
	if err != nil {
		t.Fatal(err)
	}
	more, err := filepath.Glob("pgbackrest/patroni/*.conf")
	if err != nil {
		t.Fatal(err)
	}
	files = append(files, more...)
	if len(files) != 3 {
		t.Fatalf("pgbackrest/: %v, want the private cluster's, a Patroni node's and the backup host's configuration", files)
	}
	known := map[string]bool{} // "command option"
	for _, file := range files {
		opts := readINI(t, file)
		stanzas := map[string]bool{}
		for _, o := range opts {
			commands := pgbackrestCommands
			if s, cmd, ok := strings.Cut(o.section, ":"); ok && s == "global" {
				commands = []string{cmd}
			} else if o.section != "global" {
				stanzas[o.section] = true
			}
			valid := false
			for _, cmd := range commands {
				k := cmd + " " + o.key
				if !known[k] {
					known[k] = exec.Command("pgbackrest", "help", cmd, o.key).Run() == nil
				}
				if known[k] {
					valid = true
					break
				}
			}
			if !valid {
				t.Errorf("%s:%d: pgBackRest knows no option %q for %s", file, o.line, o.key, strings.Join(commands, ", "))
			}
		}
		if len(stanzas) != 1 || !stanzas[stanza] {
			t.Errorf("%s: stanza sections %v, want [%s]", file, stanzas, stanza)
		}
	}
}

// TestPatroniPgBackRest checks the Patroni settings that archive to and
// restore from the repository: they parse, name the stanza, and use the
// commands the node configuration serves.
func TestPatroniPgBackRest(t *testing.T) {
	data, err := os.ReadFile("pgbackrest/patroni/patroni-pgbackrest.yml")
	if err != nil {
		t.Fatal(err)
	}
	var p struct {
		Bootstrap struct {
			DCS struct {
				PostgreSQL struct {
					Parameters map[string]any `json:"parameters"`
				} `json:"postgresql"`
			} `json:"dcs"`
		} `json:"bootstrap"`
		PostgreSQL struct {
			CreateReplicaMethods []string `json:"create_replica_methods"`
			PgBackRest           struct {
				Command  string `json:"command"`
				KeepData bool   `json:"keep_data"`
				NoParams bool   `json:"no_params"`
			} `json:"pgbackrest"`
			Basebackup   map[string]any    `json:"basebackup"`
			RecoveryConf map[string]string `json:"recovery_conf"`
		} `json:"postgresql"`
	}
	if err := yaml.UnmarshalStrict(data, &p); err != nil {
		t.Fatalf("patroni-pgbackrest.yml: %v", err)
	}
	params := p.Bootstrap.DCS.PostgreSQL.Parameters
	want := map[string]string{
		"archive_mode":    "on",
		"archive_command": "pgbackrest --stanza=" + stanza + ` archive-push "%p"`,
		"wal_level":       "replica",
	}
	for k, v := range want {
		if got, _ := params[k].(string); got != v {
			t.Errorf("bootstrap.dcs.postgresql.parameters.%s = %v, want %q", k, params[k], v)
		}
	}
	if p.PostgreSQL.RecoveryConf["restore_command"] != "pgbackrest --stanza="+stanza+` archive-get %f "%p"` {
		t.Errorf("postgresql.recovery_conf.restore_command = %q", p.PostgreSQL.RecoveryConf["restore_command"])
	}
	if len(p.PostgreSQL.CreateReplicaMethods) == 0 || p.PostgreSQL.CreateReplicaMethods[0] != "pgbackrest" {
		t.Errorf("postgresql.create_replica_methods = %v, want pgbackrest first", p.PostgreSQL.CreateReplicaMethods)
	}
	c := p.PostgreSQL.PgBackRest
	if !strings.Contains(c.Command, "--stanza="+stanza) || !strings.Contains(c.Command, "--type=standby") || !strings.HasSuffix(c.Command, " restore") || !c.NoParams {
		t.Errorf("postgresql.pgbackrest = %+v, want a standby restore of the stanza without Patroni's parameters", c)
	}
}

// TestPgBackRestUnitsVerify runs systemd-analyze verify on the backup
// service and its timers, and on mediationd.service with the drop-in that
// turns archiving on; it fails on anything printed.
func TestPgBackRestUnitsVerify(t *testing.T) {
	if _, err := exec.LookPath("systemd-analyze"); err != nil {
		t.Skip("systemd-analyze is not installed (Debian package systemd): the units cannot be verified here")
	}
	if _, err := exec.LookPath("pgbackrest"); err != nil {
		t.Skip("pgbackrest is not installed (Debian package pgbackrest): the backup unit's ExecStart cannot be verified here")
	}
	dir := t.TempDir()
	copyTo := func(from, to string, replace ...string) {
		t.Helper()
		b, err := os.ReadFile(from)
		if err != nil {
			t.Fatal(err)
		}
		for i := 0; i+1 < len(replace); i += 2 {
			b = bytes.ReplaceAll(b, []byte(replace[i]), []byte(replace[i+1]))
		}
		if err := os.MkdirAll(filepath.Dir(to), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(to, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	copyTo("systemd/mediationd.service", filepath.Join(dir, "mediationd.service"), installedBinary, "/bin/true")
	copyTo("pgbackrest/systemd/mediationd.service.d/pgbackrest.conf", filepath.Join(dir, "mediationd.service.d", "pgbackrest.conf"))
	for _, typ := range []string{"full", "diff"} {
		copyTo("pgbackrest/systemd/mediationd-backup@.service", filepath.Join(dir, "mediationd-backup@"+typ+".service"))
		copyTo("pgbackrest/systemd/mediationd-backup-"+typ+".timer", filepath.Join(dir, "mediationd-backup-"+typ+".timer"))
	}
	units := []string{"mediationd.service", "mediationd-backup@full.service", "mediationd-backup@diff.service",
		"mediationd-backup-full.timer", "mediationd-backup-diff.timer"}
	for _, u := range units {
		cmd := exec.Command("systemd-analyze", "verify", "--man=no", u)
		cmd.Dir = dir
		out, err := cmd.CombinedOutput()
		if err != nil || len(bytes.TrimSpace(out)) > 0 {
			t.Errorf("systemd-analyze verify %s: %v\n%s", u, err, out)
		}
	}
	out, err := exec.Command("systemd-analyze", "security", "--offline=true", "--threshold=20", "--no-pager",
		filepath.Join(dir, "mediationd-backup@full.service")).CombinedOutput()
	if err != nil {
		t.Errorf("systemd-analyze security mediationd-backup@full.service: %v (exposure above 2.0?)\n%s", err, out)
	}
	dropIn, err := os.ReadFile("pgbackrest/systemd/mediationd.service.d/pgbackrest.conf")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(dropIn, []byte("\nEnvironment=MEDIATION_PGBACKREST_STANZA="+stanza+"\n")) {
		t.Errorf("the drop-in does not set MEDIATION_PGBACKREST_STANZA=%s", stanza)
	}
}
