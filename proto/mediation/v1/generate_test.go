package mediationv1_test

import (
	"bytes"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// repoRoot is the directory holding buf.yaml.
func repoRoot(t *testing.T) string {
	t.Helper()
	root, err := filepath.Abs(filepath.Join("..", "..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(root, "buf.yaml")); err != nil {
		t.Fatalf("no buf.yaml at %s: %v", root, err)
	}
	return root
}

func goTool(t *testing.T, dir string, args ...string) {
	t.Helper()
	cmd := exec.Command("go", append([]string{"tool"}, args...)...)
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("go tool %s: %v\n%s", strings.Join(args, " "), err, out)
	}
}

// TestBufLint runs `buf lint` (STANDARD rules, see buf.yaml).
func TestBufLint(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs buf; skipped with -short")
	}
	goTool(t, repoRoot(t), "buf", "lint")
}

// TestGeneratedCodeIsCurrent regenerates the code from the protos into a
// scratch directory and fails if any committed file differs or is missing.
func TestGeneratedCodeIsCurrent(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs buf and the protoc plugins; skipped with -short")
	}
	root := repoRoot(t)
	out := t.TempDir()
	goTool(t, root, "buf", "generate", "--output", out)
	generated := 0
	err := filepath.WalkDir(out, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, err := filepath.Rel(out, path)
		if err != nil {
			return err
		}
		generated++
		want, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		got, err := os.ReadFile(filepath.Join(root, rel))
		if err != nil {
			t.Errorf("%s is generated but not committed: run `go tool buf generate`", rel)
			return nil
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s differs from what the protos generate: run `go tool buf generate` and commit", rel)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if generated == 0 {
		t.Fatal("buf generate produced no files")
	}
}
