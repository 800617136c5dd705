package hatest

import (
	"slices"
	"testing"
)

func TestParseVersion(t *testing.T) {
	for _, c := range []struct {
		in   string
		want [3]int
		ok   bool
	}{
		{"patroni 4.0.7\n", [3]int{4, 0, 7}, true},
		{"patroni 3.0.2", [3]int{3, 0, 2}, true},
		{"patroni 3.0.3rc1", [3]int{3, 0, 3}, true},
		{"patroni 10.12.0", [3]int{10, 12, 0}, true},
		{"patroni 3.0", [3]int{}, false},
		{"patroni x.0.3", [3]int{}, false},
		{"patroni 3a.0.3", [3]int{}, false},
		{"etcd 3.4.23", [3]int{}, false},
		{"", [3]int{}, false},
	} {
		got, ok := parseVersion(c.in)
		if ok != c.ok || (ok && got != c.want) {
			t.Errorf("parseVersion(%q) = %v, %v; want %v, %v", c.in, got, ok, c.want, c.ok)
		}
	}
	// The floor itself: 3.0.2 is refused, 3.0.3 accepted.
	if slices.Compare([]int{3, 0, 2}, minPatroni[:]) >= 0 || slices.Compare([]int{3, 0, 3}, minPatroni[:]) < 0 {
		t.Errorf("minPatroni = %v: want 3.0.2 refused and 3.0.3 accepted", minPatroni)
	}
}
