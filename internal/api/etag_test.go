package api

import "testing"

func TestParseEtag(t *testing.T) {
	for in, want := range map[string]int64{"v1": 1, "v42": 42, "v0": 0, "v-1": 0, "v+5": 0, "v05": 0, "5": 0, "": 0, "W/\"v5\"": 0, "v5x": 0} {
		v, ok := ParseEtag(in)
		if v != want || ok != (want > 0) {
			t.Errorf("ParseEtag(%q) = %d, %v; want %d", in, v, ok, want)
		}
		if ok && Etag(v) != in {
			t.Errorf("Etag(ParseEtag(%q)) = %q", in, Etag(v))
		}
	}
}
