package store

import (
	"encoding/json"
	"reflect"
	"testing"

	"github.com/mediationd/mediationd/internal/casework"
)

// partiesSeeds are parties columns as the database returns them (jsonb's
// spacing and key order) and as json.Marshal writes them, with the cases
// decodeParties must leave to json.Unmarshal.
var partiesSeeds = []string{
	`[{"id": "p1", "name": "王秀英", "role": "APPLICANT", "phone": "13909341234", "address": "西峰区肖金镇米王村", "id_type": "RESIDENT_ID_CARD", "id_number": "621002195005010024"}, {"id": "p2", "name": "王建国", "role": "RESPONDENT", "phone": "0934-8621234"}]`,
	`[{"id":"p1","name":"甲公司","role":"APPLICANT","kind":"LEGAL_PERSON","legal_representative":"张三"},{"id":"a1","name":"李律师","role":"AGENT","represented_party_ids":["p1"]}]`,
	`[]`, ` [ ] `, `[{}]`, `null`, `[null]`, `{}`, `[{"id": null}]`, `[{"ID": "p1"}]`, `[{"Id": "p1", "id": "p2"}]`,
	`[{"id": "p1", "id": "p2"}]`, `[{"represented_party_ids": []}]`, `[{"represented_party_ids": null}]`,
	`[{"represented_party_ids": ["a"], "represented_party_ids": ["b", "c"]}]`,
	`[{"name": "a\"b"}]`, `[{"name": "\u5f20"}]`, "[{\"name\": \"a\xffb\"}]", `[{"name": "a` + "\t" + `b"}]`,
	`[{"name": 1}]`, `[{"nope": "x"}]`, `[{"id": "p1"}] x`, `[{"id": "p1"},]`, `[{"id": "p1",}]`, `[{"id" "p1"}]`,
	`[{"id": "p1"}`, `[`, ``, `[{"represented_party_ids": ["a",]}]`, `[{"represented_party_ids": "a"}]`,
}

// TestDecodePartiesAsEncodingJSON checks the shortcut against
// json.Unmarshal on the seeds: where it decodes, the same parties; where
// json.Unmarshal refuses, no decoding.
func TestDecodePartiesAsEncodingJSON(t *testing.T) {
	taken := 0
	for _, s := range partiesSeeds {
		if checkDecodeParties(t, []byte(s)) {
			taken++
		}
	}
	if taken < 5 {
		t.Errorf("the shortcut decoded only %d of the seeds; the database's own shape should be among them", taken)
	}
}

// FuzzDecodeParties is TestDecodePartiesAsEncodingJSON on any input.
func FuzzDecodeParties(f *testing.F) {
	for _, s := range partiesSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) { checkDecodeParties(t, b) })
}

// checkDecodeParties compares decodeParties with json.Unmarshal on b and
// reports whether the shortcut decoded it.
func checkDecodeParties(t *testing.T, b []byte) bool {
	t.Helper()
	got, ok := decodeParties(b)
	var want []casework.Party
	err := json.Unmarshal(b, &want)
	switch {
	case !ok:
		return false
	case err != nil:
		t.Errorf("%q: decoded %+v where json.Unmarshal refuses: %v", b, got, err)
	case !reflect.DeepEqual(got, want):
		t.Errorf("%q: decoded\n%#v\njson.Unmarshal:\n%#v", b, got, want)
	}
	return true
}

// TestUnmarshalJSONParties checks the codec's function: parties through the
// shortcut or, outside its shape, through json.Unmarshal, and every other
// type through json.Unmarshal.
func TestUnmarshalJSONParties(t *testing.T) {
	for _, s := range []string{partiesSeeds[0], `[{"name": "a\"b", "ID": "x"}]`} {
		var got, want []casework.Party
		if err := unmarshalJSON([]byte(s), &got); err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal([]byte(s), &want); err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s: %+v, want %+v", s, got, want)
		}
	}
	var parties []casework.Party
	if err := unmarshalJSON([]byte(`[{"name": 1}]`), &parties); err == nil {
		t.Error("a number for a name was accepted")
	}
	var a casework.Agreement
	if err := unmarshalJSON([]byte(`{"terms": "x"}`), &a); err != nil || a.Terms != "x" {
		t.Errorf("agreement: %+v, %v", a, err)
	}
}

func BenchmarkDecodeParties(b *testing.B) {
	data := []byte(partiesSeeds[0])
	b.Run("shortcut", func(b *testing.B) {
		for b.Loop() {
			var p []casework.Party
			if err := unmarshalJSON(data, &p); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("encoding/json", func(b *testing.B) {
		for b.Loop() {
			var p []casework.Party
			if err := json.Unmarshal(data, &p); err != nil {
				b.Fatal(err)
			}
		}
	})
}
