package hatest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"sigs.k8s.io/yaml"
)

// stanza is the pgBackRest stanza of deploy/pgbackrest/.
const stanza = "mediationd"

// backupRepo is the repository every node archives to and backs up into.
// On one machine it is a directory all nodes share; in a deployment it is
// the backup host of deploy/pgbackrest/patroni/pgbackrest-repo-host.conf.
func (c *cluster) backupRepo() string { return filepath.Join(c.dir, "pgbackrest-repo") }

func (n *node) backupConfig() string { return filepath.Join(n.dir, "pgbackrest.conf") }

// writeBackupConfigs writes each node's pgBackRest configuration: the
// shared repository, and the node's own PostgreSQL as pg1.
func (c *cluster) writeBackupConfigs() {
	c.t.Helper()
	for _, d := range []string{c.backupRepo()} {
		if err := os.MkdirAll(d, 0o750); err != nil {
			c.t.Fatal(err)
		}
		if err := os.Chown(d, c.uid, c.gid); err != nil {
			c.t.Fatal(err)
		}
	}
	for _, n := range c.nodes {
		conf := fmt.Sprintf(`[global]
repo1-path=%s
repo1-retention-full=2
log-path=%s
lock-path=%s
log-level-console=warn
log-level-file=info
start-fast=y
compress-type=zst

[%s]
pg1-path=%s
pg1-port=%d
pg1-socket-path=%s
pg1-user=postgres
`, c.backupRepo(), n.dir, filepath.Join(n.dir, "pgbackrest-lock"), stanza, n.dataDir(), pgPort, n.dir)
		if err := os.WriteFile(n.backupConfig(), []byte(conf), 0o640); err != nil {
			c.t.Fatal(err)
		}
		_ = os.Chown(n.backupConfig(), c.uid, c.gid)
	}
}

// withBackupSettings merges deploy/pgbackrest/patroni/patroni-pgbackrest.yml
// into a node's Patroni configuration, as an operator merges it: maps
// merged key by key, anything else replaced.
func (c *cluster) withBackupSettings(conf string) string {
	c.t.Helper()
	overlay, err := os.ReadFile(filepath.Join(repoRoot(c.t), "deploy", "pgbackrest", "patroni", "patroni-pgbackrest.yml"))
	if err != nil {
		c.t.Fatal(err)
	}
	var base, add map[string]any
	if err := yaml.Unmarshal([]byte(conf), &base); err != nil {
		c.t.Fatalf("the node's patroni.yml: %v", err)
	}
	if err := yaml.Unmarshal(overlay, &add); err != nil {
		c.t.Fatalf("patroni-pgbackrest.yml: %v", err)
	}
	out, err := yaml.Marshal(merge(base, add))
	if err != nil {
		c.t.Fatal(err)
	}
	return string(out)
}

// merge merges add into base: maps key by key, anything else replaced.
func merge(base, add map[string]any) map[string]any {
	for k, v := range add {
		if bm, ok := base[k].(map[string]any); ok {
			if am, ok := v.(map[string]any); ok {
				base[k] = merge(bm, am)
				continue
			}
		}
		base[k] = v
	}
	return base
}

// pgbackrest runs pgBackRest for a node, as the cluster's account, and
// returns its output; it fails the test if the command fails.
func (c *cluster) pgbackrest(ctx context.Context, n *node, args ...string) string {
	c.t.Helper()
	out, err := c.tryPgbackrest(ctx, n, args...)
	if err != nil {
		c.t.Fatalf("pgbackrest %s on %s: %v\n%s", strings.Join(args, " "), n.name, err, out)
	}
	return out
}

func (c *cluster) tryPgbackrest(ctx context.Context, n *node, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, "pgbackrest", append([]string{"--stanza=" + stanza}, args...)...)
	cmd.Env = c.nodeEnv(n)
	cmd.Dir = n.dir
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: c.cred}
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// TestPatroniBackup runs the pgBackRest settings of deploy/pgbackrest/patroni/
// on the failover test's Patroni cluster: the stanza and a full backup
// taken on the primary, the archive going on from the new primary after a
// switchover, and a standby rebuilt from the repository
// (create_replica_methods: pgbackrest) that rejoins the cluster.
func TestPatroniBackup(t *testing.T) {
	if os.Getenv("MEDIATION_FAILOVER") == "" {
		t.Skip("starts a Patroni cluster on 127.0.0.2-4 and needs root: run it with make failover (MEDIATION_FAILOVER=1)")
	}
	ctx := t.Context()
	c := startClusterWith(ctx, t, true)
	leader := c.leader(ctx)

	c.pgbackrest(ctx, leader, "stanza-create")
	c.pgbackrest(ctx, leader, "check")
	begin := time.Now()
	c.pgbackrest(ctx, leader, "--type=full", "backup")
	t.Logf("full backup of the primary %s in %v", leader.name, time.Since(begin).Round(100*time.Millisecond))

	// A planned switchover: the new primary, on a new timeline, archives
	// into the same stanza.
	_, sync := c.roles(ctx)
	body := fmt.Sprintf(`{"leader": %q, "candidate": %q}`, leader.name, sync.name)
	if err := postPatroni(ctx, leader.restURL("/switchover"), body); err != nil {
		t.Fatalf("switchover: %v", err)
	}
	deadline := time.Now().Add(time.Minute)
	for c.leader(ctx) == leader {
		if time.Now().After(deadline) {
			t.Fatalf("%s still leads a minute after the switchover", leader.name)
		}
		time.Sleep(200 * time.Millisecond)
	}
	c.waitHealthy(ctx, 2*time.Minute)
	next := c.leader(ctx)
	c.pgbackrest(ctx, next, "check")
	t.Logf("after the switchover to %s, its WAL reaches the repository (pgbackrest check)", next.name)

	// A standby rebuilt: Patroni takes it from the repository first.
	var standby *node
	for _, n := range c.nodes {
		if n != next {
			standby = n
			break
		}
	}
	logBefore, _ := os.ReadFile(standby.patroni.log)
	if err := postPatroni(ctx, standby.restURL("/reinitialize"), `{"force": true}`); err != nil {
		t.Fatalf("reinitialize %s: %v", standby.name, err)
	}
	deadline = time.Now().Add(3 * time.Minute)
	for {
		logNow, _ := os.ReadFile(standby.patroni.log)
		added := string(logNow[min(len(logBefore), len(logNow)):])
		if strings.Contains(added, "replica has been created using pgbackrest") {
			break
		}
		if strings.Contains(added, "replica has been created using basebackup") {
			t.Fatalf("%s was rebuilt with pg_basebackup, not from the repository:\n%s", standby.name, standby.patroni.tail())
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s not rebuilt from the repository in 3 minutes:\n%s", standby.name, standby.patroni.tail())
		}
		time.Sleep(500 * time.Millisecond)
	}
	c.waitHealthy(ctx, 2*time.Minute)
	t.Logf("%s rebuilt from the repository and streaming again", standby.name)

	var info []struct {
		Backup []struct {
			Type string `json:"type"`
		} `json:"backup"`
		Status struct {
			Code int `json:"code"`
		} `json:"status"`
	}
	if err := json.Unmarshal([]byte(c.pgbackrest(ctx, next, "--output=json", "info")), &info); err != nil || len(info) != 1 {
		t.Fatalf("pgbackrest info: %v (%d stanzas)", err, len(info))
	}
	if info[0].Status.Code != 0 || len(info[0].Backup) != 1 || info[0].Backup[0].Type != "full" {
		t.Errorf("pgbackrest info: status %d, backups %+v; want status 0 and the one full backup", info[0].Status.Code, info[0].Backup)
	}
}

// postPatroni posts body to a Patroni REST endpoint and wants a 2xx.
func postPatroni(ctx context.Context, url, body string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, strings.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	var msg bytes.Buffer
	_, _ = msg.ReadFrom(resp.Body)
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("%s: %s", resp.Status, msg.String())
	}
	return nil
}
