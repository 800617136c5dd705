package server

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"unicode/utf8"

	"github.com/grpc-ecosystem/grpc-gateway/v2/runtime"
)

// strictJSON is the gateway's JSON marshaler. Its decoder refuses what
// runtime.JSONPb lets through, a body with data after its JSON value
// (`{…}xx` was taken as `{…}`), and says what is wrong with a body that is
// not UTF-8 or holds a lone surrogate escape (\ud800), of which protojson
// says little ("unexpected EOF"). The gateway answers its errors with
// INVALID_ARGUMENT, 400.
type strictJSON struct{ *runtime.JSONPb }

// NewDecoder reads the whole body (limitBody bounds it), checks it, and
// decodes it as runtime.JSONPb does; an empty body is io.EOF, which the
// gateway takes for an empty message, as before.
func (m strictJSON) NewDecoder(r io.Reader) runtime.Decoder {
	return runtime.DecoderFunc(func(v any) error {
		b, err := io.ReadAll(r)
		if err != nil {
			if tooBig, ok := errors.AsType[*http.MaxBytesError](err); ok {
				return fmt.Errorf("the request body exceeds the limit of %d bytes", tooBig.Limit)
			}
			return fmt.Errorf("read the request body: %w", err)
		}
		if len(bytes.TrimSpace(b)) == 0 {
			return io.EOF
		}
		if err := checkJSONBody(b); err != nil {
			return err
		}
		return m.JSONPb.NewDecoder(bytes.NewReader(b)).Decode(v)
	})
}

// checkJSONBody reports what protojson would miss or explain badly in a
// JSON body: bytes that are not UTF-8, a lone surrogate escape, data after
// the value. A syntax error it leaves to protojson, which names the line
// and column.
func checkJSONBody(b []byte) error {
	if !utf8.Valid(b) {
		at := 0
		for at < len(b) {
			r, size := utf8.DecodeRune(b[at:])
			if r == utf8.RuneError && size <= 1 {
				break
			}
			at += size
		}
		return fmt.Errorf("the request body is not UTF-8: byte %d (0x%02x) starts no UTF-8 character; send the JSON encoded as UTF-8", at, b[at])
	}
	if at, ok := loneSurrogate(b); ok {
		return fmt.Errorf("the request body has a lone surrogate escape %s at byte %d, which is no character: write the character itself, or a character beyond U+FFFF as a pair of escapes (\\ud83d\\ude00)", b[at:at+6], at)
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	var first json.RawMessage
	if dec.Decode(&first) != nil {
		return nil
	}
	end := int(dec.InputOffset())
	if rest := bytes.TrimSpace(b[end:]); len(rest) > 0 {
		if len(rest) > 20 {
			rest = append(rest[:20:20], "…"...)
		}
		return fmt.Errorf("the request body has data after its JSON value, at byte %d: %q; send a single JSON object", end, rest)
	}
	return nil
}

// loneSurrogate finds, in the strings of UTF-8 JSON b, a \u escape of a
// UTF-16 surrogate that is not half of a pair, and returns its offset.
func loneSurrogate(b []byte) (int, bool) {
	inString := false
	for i := 0; i < len(b); i++ {
		switch {
		case b[i] == '"':
			inString = !inString
		case !inString || b[i] != '\\' || i+1 >= len(b):
		case b[i+1] != 'u':
			i++ // \" \\ \n ...
		default:
			r, ok := hex4(b, i+2)
			switch {
			case !ok:
				i++ // a syntax error, for protojson to name
			case r >= 0xd800 && r < 0xdc00:
				if low, ok := hex4(b, i+8); !ok || b[i+6] != '\\' || b[i+7] != 'u' || low < 0xdc00 || low >= 0xe000 {
					return i, true
				}
				i += 11
			case r >= 0xdc00 && r < 0xe000:
				return i, true
			default:
				i += 5
			}
		}
	}
	return 0, false
}

// hex4 reads four hexadecimal digits at b[at:].
func hex4(b []byte, at int) (rune, bool) {
	if at < 0 || at+4 > len(b) {
		return 0, false
	}
	v, err := strconv.ParseUint(string(b[at:at+4]), 16, 16)
	return rune(v), err == nil
}
