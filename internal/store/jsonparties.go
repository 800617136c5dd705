package store

import (
	"encoding/json"
	"unicode/utf8"

	"github.com/jackc/pgx/v5/pgtype"

	"github.com/mediationd/mediationd/internal/casework"
)

// registerJSONB installs pgx's jsonb codec with unmarshalJSON in a
// connection's type map; values are encoded as before, with json.Marshal.
func registerJSONB(m *pgtype.Map) {
	m.RegisterType(&pgtype.Type{Name: "jsonb", OID: pgtype.JSONBOID, Codec: &pgtype.JSONBCodec{Marshal: json.Marshal, Unmarshal: unmarshalJSON}})
}

// unmarshalJSON is json.Unmarshal, with a shortcut for the parties of a
// case: every case read (one per action and GetCase, fifty per page of
// ListCases) decoded them through encoding/json's reflection, about 5 µs
// each, the largest part of the service's JSON decoding. decodeParties
// takes the shape the database hands back and leaves anything else to
// json.Unmarshal, so that the result is always json.Unmarshal's.
func unmarshalJSON(data []byte, v any) error {
	if p, ok := v.(*[]casework.Party); ok {
		if parties, ok := decodeParties(data); ok {
			*p = parties
			return nil
		}
	}
	return json.Unmarshal(data, v)
}

// decodeParties decodes a JSON array of parties as json.Unmarshal would
// into a nil []casework.Party, and reports false, deciding nothing, for
// JSON outside the shape it takes: objects whose keys are exactly the
// fields' JSON names and whose values are strings (represented_party_ids
// an array of strings) without escapes, in valid UTF-8. Everything else
// (escapes, null, other keys or spellings, numbers, syntax errors) is
// json.Unmarshal's to decode or refuse.
func decodeParties(data []byte) ([]casework.Party, bool) {
	d := jsonScanner{b: data, s: string(data)}
	d.space()
	if !d.take('[') {
		return nil, false
	}
	out := make([]casework.Party, 0, 2)
	d.space()
	if !d.take(']') {
		for {
			p, ok := d.party()
			if !ok {
				return nil, false
			}
			out = append(out, p)
			d.space()
			if d.take(',') {
				d.space()
				continue
			}
			if d.take(']') {
				break
			}
			return nil, false
		}
	}
	d.space()
	return out, d.i == len(d.b)
}

// jsonScanner reads the JSON decodeParties takes. s is b as one string,
// which the strings read are cut from: one allocation for all of them.
type jsonScanner struct {
	b []byte
	s string
	i int
}

func (d *jsonScanner) space() {
	for d.i < len(d.b) {
		switch d.b[d.i] {
		case ' ', '\t', '\n', '\r':
			d.i++
		default:
			return
		}
	}
}

func (d *jsonScanner) take(c byte) bool {
	if d.i < len(d.b) && d.b[d.i] == c {
		d.i++
		return true
	}
	return false
}

// str reads a string without escapes or control characters, in valid
// UTF-8.
func (d *jsonScanner) str() (string, bool) {
	if !d.take('"') {
		return "", false
	}
	start := d.i
	ascii := true
	for ; d.i < len(d.b); d.i++ {
		c := d.b[d.i]
		switch {
		case c == '"':
			s := d.s[start:d.i]
			d.i++
			if !ascii && !utf8.ValidString(s) {
				return "", false
			}
			return s, true
		case c == '\\' || c < 0x20:
			return "", false
		case c >= utf8.RuneSelf:
			ascii = false
		}
	}
	return "", false
}

// strs reads an array of strings; [] is an empty slice, as json.Unmarshal
// makes it.
func (d *jsonScanner) strs() ([]string, bool) {
	if !d.take('[') {
		return nil, false
	}
	out := []string{}
	d.space()
	if d.take(']') {
		return out, true
	}
	for {
		s, ok := d.str()
		if !ok {
			return nil, false
		}
		out = append(out, s)
		d.space()
		if d.take(',') {
			d.space()
			continue
		}
		return out, d.take(']')
	}
}

// party reads one party object.
func (d *jsonScanner) party() (casework.Party, bool) {
	var p casework.Party
	if !d.take('{') {
		return p, false
	}
	d.space()
	if d.take('}') {
		return p, true
	}
	for {
		key, ok := d.str()
		if !ok {
			return p, false
		}
		d.space()
		if !d.take(':') {
			return p, false
		}
		d.space()
		if key == "represented_party_ids" {
			ids, ok := d.strs()
			if !ok {
				return p, false
			}
			p.RepresentedPartyIDs = ids
		} else {
			field := partyField(&p, key)
			if field == nil {
				return p, false
			}
			s, ok := d.str()
			if !ok {
				return p, false
			}
			*field = s
		}
		d.space()
		if d.take(',') {
			d.space()
			continue
		}
		return p, d.take('}')
	}
}

// partyField is the string field of p whose JSON name is key, or nil.
func partyField(p *casework.Party, key string) *string {
	switch key {
	case "id":
		return &p.ID
	case "name":
		return &p.Name
	case "role":
		return (*string)(&p.Role)
	case "kind":
		return (*string)(&p.Kind)
	case "id_type":
		return (*string)(&p.IDType)
	case "id_number":
		return &p.IDNumber
	case "phone":
		return &p.Phone
	case "address":
		return &p.Address
	case "gender":
		return (*string)(&p.Gender)
	case "ethnicity":
		return &p.Ethnicity
	case "birth_date":
		return &p.BirthDate
	case "occupation":
		return &p.Occupation
	case "legal_representative":
		return &p.LegalRepresentative
	}
	return nil
}
