package deploy

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// installedBinary is where the units expect mediationd.
const installedBinary = "/usr/local/bin/mediationd"

// unitsWithBinary copies the units into a temporary directory with the
// binary's path replaced by bin, so that systemd-analyze finds a real
// executable.
func unitsWithBinary(t *testing.T, bin string) []string {
	t.Helper()
	units, err := filepath.Glob("systemd/*.service")
	if err != nil || len(units) < 2 {
		t.Fatalf("systemd/*.service: %v %v (want mediationd.service and mediationd-migrate.service)", units, err)
	}
	dir := t.TempDir()
	var out []string
	for _, u := range units {
		b, err := os.ReadFile(u)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Contains(b, []byte("ExecStart="+installedBinary+" ")) {
			t.Errorf("%s: ExecStart does not run %s", u, installedBinary)
		}
		p := filepath.Join(dir, filepath.Base(u))
		if err := os.WriteFile(p, bytes.ReplaceAll(b, []byte(installedBinary), []byte(bin)), 0o644); err != nil {
			t.Fatal(err)
		}
		out = append(out, p)
	}
	return out
}

// TestSystemdUnitsVerify runs `systemd-analyze verify` on the units with a
// real binary and fails on anything it prints: an unknown or misspelt
// directive is only a warning (exit status 0) to systemd.
func TestSystemdUnitsVerify(t *testing.T) {
	if _, err := exec.LookPath("systemd-analyze"); err != nil {
		t.Skip("systemd-analyze is not installed (Debian package systemd): the units cannot be verified here")
	}
	for _, u := range unitsWithBinary(t, staticBinary(t)) {
		out, err := exec.Command("systemd-analyze", "verify", "--man=no", u).CombinedOutput()
		if err != nil || len(bytes.TrimSpace(out)) > 0 {
			t.Errorf("systemd-analyze verify %s: %v\n%s", filepath.Base(u), err, out)
		}
	}
}

// TestSystemdUnitsSandbox checks the units' sandbox with systemd-analyze
// security (exposure at most 2.0 of 10, "OK") and that the directives the
// deployment relies on are there.
func TestSystemdUnitsSandbox(t *testing.T) {
	if _, err := exec.LookPath("systemd-analyze"); err != nil {
		t.Skip("systemd-analyze is not installed (Debian package systemd): the units cannot be checked here")
	}
	required := []string{
		"DynamicUser=yes", "StateDirectory=mediationd", "ProtectSystem=strict", "ProtectHome=yes",
		"PrivateTmp=yes", "NoNewPrivileges=yes", "CapabilityBoundingSet=\n",
		"RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6", "SystemCallFilter=@system-service",
		"EnvironmentFile=-/etc/mediationd/mediationd.env",
	}
	for _, u := range unitsWithBinary(t, "/bin/true") {
		b, err := os.ReadFile(u)
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range required {
			if !strings.Contains(string(b), "\n"+d) {
				t.Errorf("%s lacks %q", filepath.Base(u), strings.TrimSpace(d))
			}
		}
		out, err := exec.Command("systemd-analyze", "security", "--offline=true", "--threshold=20", "--no-pager", u).CombinedOutput()
		if err != nil {
			t.Errorf("systemd-analyze security %s: %v (exposure above 2.0?)\n%s", filepath.Base(u), err, out)
		}
	}
	b, err := os.ReadFile("systemd/mediationd.service")
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range []string{"Restart=on-failure", "LimitNOFILE=", "ExecStart=" + installedBinary + " serve"} {
		if !strings.Contains(string(b), "\n"+d) {
			t.Errorf("mediationd.service lacks %q", d)
		}
	}
}
