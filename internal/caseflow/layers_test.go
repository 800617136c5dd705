package caseflow_test

import (
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
)

// TestLayers holds the packages to the layering the action pipeline
// relies on: imports run server → api → caseflow → (auth, store,
// casework); the store persists without knowing the policy or the wire
// format, the API converts without knowing the database, and the domain
// stands alone.
func TestLayers(t *testing.T) {
	const mod = "github.com/mediationd/mediationd/"
	forbidden := map[string][]string{
		"internal/store":    {mod + "internal/auth", mod + "internal/api", mod + "internal/caseflow", mod + "internal/server", mod + "proto/", "google.golang.org/grpc"},
		"internal/api":      {"github.com/jackc/pgx"},
		"internal/caseflow": {mod + "internal/api", mod + "internal/server", mod + "proto/", "google.golang.org/grpc", "github.com/jackc/pgx"},
		"internal/casework": {mod + "internal/", mod + "proto/", "google.golang.org/grpc", "github.com/jackc/pgx"},
		"internal/auth":     {mod + "internal/store", mod + "internal/api", mod + "proto/", "github.com/jackc/pgx"},
		"internal/identity": {mod + "internal/auth", mod + "internal/store", mod + "proto/"},
	}
	_, here, _, _ := runtime.Caller(0)
	root := filepath.Join(filepath.Dir(here), "..", "..")
	for dir, bad := range forbidden {
		files, err := filepath.Glob(filepath.Join(root, dir, "*.go"))
		if err != nil || len(files) == 0 {
			t.Fatalf("%s: no Go files found (%v)", dir, err)
		}
		for _, f := range files {
			if strings.HasSuffix(f, "_test.go") {
				continue
			}
			src, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			parsed, err := parser.ParseFile(token.NewFileSet(), f, src, parser.ImportsOnly)
			if err != nil {
				t.Fatal(err)
			}
			for _, imp := range parsed.Imports {
				path, _ := strconv.Unquote(imp.Path.Value)
				for _, b := range bad {
					// A package's own sub-packages are its own.
					if strings.HasPrefix(path, b) && !strings.HasPrefix(path, mod+dir) {
						t.Errorf("%s imports %s: %s must not depend on %s", filepath.Join(dir, filepath.Base(f)), path, dir, b)
					}
				}
			}
		}
	}
}
