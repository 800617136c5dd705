package pgembed

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// ErrBinariesMissing reports that the PostgreSQL server binaries (initdb,
// pg_ctl and postgres) could not be found. FindBinaries and Start wrap it, so
// callers can tell a missing installation apart from other start failures.
var ErrBinariesMissing = errors.New("PostgreSQL server binaries (initdb, pg_ctl, postgres) not found")

// installHint tells the operator how to get the binaries or avoid needing them.
const installHint = "install PostgreSQL: on Debian/Ubuntu `sudo apt-get install postgresql`, " +
	"on Fedora/RHEL `sudo dnf install postgresql-server`, on macOS `brew install postgresql`; " +
	"or set MEDIATION_PG_BIN to the directory holding initdb, pg_ctl and postgres; " +
	"or set DATABASE_URL to use an existing PostgreSQL server instead"

// serverBinaries are the programs a private cluster needs, all from one installation.
var serverBinaries = []string{"initdb", "pg_ctl", "postgres"}

// debianBinGlob matches the versioned binary directories of Debian and Ubuntu packages.
const debianBinGlob = "/usr/lib/postgresql/*/bin"

// FindBinaries returns the directory holding initdb, pg_ctl and postgres.
//
// If binDir is not empty it must hold all three. Otherwise FindBinaries looks
// the programs up on PATH, resolving symbolic links (Debian links some of them
// into /usr/local/bin or /usr/bin while postgres itself stays in a versioned
// directory) and accepts the first resolved directory that holds all three;
// failing that it picks the highest version under /usr/lib/postgresql/*/bin.
// Mixing programs from different installations is never allowed, because
// initdb and postgres must agree on the on-disk format.
//
// The error wraps ErrBinariesMissing and says what to install.
func FindBinaries(binDir string) (string, error) {
	if binDir != "" {
		abs, err := filepath.Abs(binDir)
		if err != nil {
			return "", fmt.Errorf("%w: resolve %q: %v; %s", ErrBinariesMissing, binDir, err, installHint)
		}
		if missing := missingBinaries(abs); len(missing) > 0 {
			return "", fmt.Errorf("%w: %s lacks %s; %s", ErrBinariesMissing, abs, strings.Join(missing, ", "), installHint)
		}
		return abs, nil
	}

	var candidates []string
	for _, name := range serverBinaries {
		p, err := exec.LookPath(name)
		if err != nil {
			continue
		}
		if resolved, err := filepath.EvalSymlinks(p); err == nil {
			p = resolved
		}
		if abs, err := filepath.Abs(filepath.Dir(p)); err == nil && !slices.Contains(candidates, abs) {
			candidates = append(candidates, abs)
		}
	}
	for _, dir := range candidates {
		if len(missingBinaries(dir)) == 0 {
			return dir, nil
		}
	}

	if dir := highestVersionDir(debianBinGlob); dir != "" {
		return dir, nil
	}
	return "", fmt.Errorf("%w on PATH or in %s; %s", ErrBinariesMissing, debianBinGlob, installHint)
}

// missingBinaries lists the server programs that dir lacks or cannot execute.
func missingBinaries(dir string) []string {
	var missing []string
	for _, name := range serverBinaries {
		fi, err := os.Stat(filepath.Join(dir, name))
		if err != nil || !fi.Mode().IsRegular() || fi.Mode().Perm()&0o111 == 0 {
			missing = append(missing, name)
		}
	}
	return missing
}

// highestVersionDir returns the complete binary directory matched by pattern
// whose version (the path element before "bin") is numerically highest, or "".
func highestVersionDir(pattern string) string {
	dirs, _ := filepath.Glob(pattern)
	best, bestVersion := "", []int(nil)
	for _, dir := range dirs {
		v, ok := parseVersion(filepath.Base(filepath.Dir(dir)))
		if !ok || len(missingBinaries(dir)) > 0 {
			continue
		}
		if best == "" || slices.Compare(v, bestVersion) > 0 {
			best, bestVersion = dir, v
		}
	}
	return best
}

// parseVersion parses a dotted version such as "9.6" or "15" into its numbers,
// so that versions compare numerically (9.6 < 10 < 15).
func parseVersion(s string) ([]int, bool) {
	var v []int
	for part := range strings.SplitSeq(s, ".") {
		n, err := strconv.Atoi(part)
		if err != nil || n < 0 {
			return nil, false
		}
		v = append(v, n)
	}
	return v, len(v) > 0
}

// versionRE extracts the version from "postgres (PostgreSQL) 15.18 (Debian ...)".
var versionRE = regexp.MustCompile(`\(PostgreSQL\) (\d+)(?:\.(\d+))?`)

// majorVersion returns the major version in the form PG_VERSION uses:
// "9.6" before PostgreSQL 10, the first number ("15") from then on.
func majorVersion(versionOutput string) (string, error) {
	m := versionRE.FindStringSubmatch(versionOutput)
	if m == nil {
		return "", fmt.Errorf("unrecognised version output %q", strings.TrimSpace(versionOutput))
	}
	first, _ := strconv.Atoi(m[1])
	if first < 10 && m[2] != "" {
		return m[1] + "." + m[2], nil
	}
	return m[1], nil
}
