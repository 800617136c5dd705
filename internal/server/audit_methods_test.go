package server

import (
	"strings"
	"testing"

	"github.com/mediationd/mediationd/internal/auth"
)

// TestReadMethodsAreTheGETs: which methods are audited as writes comes
// from the protos' REST bindings. Every Get, List and Suggest method is a
// GET, every other method of the API is not, and a method the protos do
// not have counts as a write (audited rather than forgotten).
func TestReadMethodsAreTheGETs(t *testing.T) {
	reads := 0
	for _, m := range auth.AllMethods() {
		if !strings.HasPrefix(m, "/mediation.v1.") {
			continue
		}
		name := m[strings.LastIndex(m, "/")+1:]
		want := strings.HasPrefix(name, "Get") || strings.HasPrefix(name, "List") || strings.HasPrefix(name, "Suggest")
		if got := readMethod(m); got != want {
			t.Errorf("%s: read = %v, want %v", m, got, want)
		}
		if want {
			reads++
		}
	}
	if reads < 10 {
		t.Errorf("only %d read methods found: the REST bindings were not read", reads)
	}
	if readMethod("/mediation.v1.CaseService/NoSuchMethod") {
		t.Error("an unknown method counts as a read")
	}
}
