package deploy

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"

	"github.com/mediationd/mediationd/internal/pgtest"
)

// tmpRoot holds what the tests build (the static binary); TestMain removes
// it.
var tmpRoot string

func TestMain(m *testing.M) {
	var err error
	if tmpRoot, err = os.MkdirTemp("", "mediationd-deploy-test-"); err != nil {
		panic(err)
	}
	// The template database stays empty: the tests apply the migrations
	// with the binary, as the migration Job does.
	code := pgtest.Main(m, func(context.Context, string) error { return nil })
	os.RemoveAll(tmpRoot)
	os.Exit(code)
}

var static struct {
	once sync.Once
	path string
	out  []byte
	err  error
}

// staticBinary builds mediationd with build-static.sh, the script the
// Containerfile runs, once per test binary, and returns its path.
func staticBinary(t *testing.T) string {
	t.Helper()
	static.once.Do(func() {
		static.path = filepath.Join(tmpRoot, "mediationd")
		cmd := exec.Command("bash", "build-static.sh", static.path)
		cmd.Env = append(os.Environ(), "VERSION=deploy-test")
		static.out, static.err = cmd.CombinedOutput()
	})
	if static.err != nil {
		t.Fatalf("build-static.sh: %v\n%s", static.err, static.out)
	}
	return static.path
}
