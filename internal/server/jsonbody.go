package server

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"sync"
	"unicode/utf8"

	"github.com/grpc-ecosystem/grpc-gateway/v2/runtime"
	"google.golang.org/protobuf/proto"
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
		value, err := jsonBodyValue(b)
		if err != nil {
			return err
		}
		if msg, ok := v.(proto.Message); ok && value != nil {
			// What runtime.JSONPb's decoder does with a message, without
			// scanning the body a second time to find its value.
			return m.UnmarshalOptions.Unmarshal(value, msg)
		}
		return m.JSONPb.NewDecoder(bytes.NewReader(b)).Decode(v)
	})
}

// Marshal encodes v as runtime.JSONPb does. A message is encoded into a
// reused buffer and copied out once, where JSONPb lets protojson's buffer
// grow from nothing and then copies it into a second buffer: a page of 50
// cases allocated about three times its size.
func (m strictJSON) Marshal(v any) ([]byte, error) {
	msg, ok := v.(proto.Message)
	if !ok {
		return m.JSONPb.Marshal(v)
	}
	bp := marshalBuffers.Get().(*[]byte)
	out, err := m.MarshalOptions.MarshalAppend((*bp)[:0], msg)
	if err != nil {
		marshalBuffers.Put(bp)
		return nil, err
	}
	res := bytes.Clone(out)
	if cap(out) <= maxPooledBuffer {
		*bp = out[:0]
		marshalBuffers.Put(bp)
	}
	return res, nil
}

// marshalBuffers holds the buffers strictJSON.Marshal encodes into; one
// larger than maxPooledBuffer is left to the garbage collector.
var marshalBuffers = sync.Pool{New: func() any {
	b := make([]byte, 0, 4096)
	return &b
}}

const maxPooledBuffer = 1 << 20

// checkJSONBody reports what protojson would miss or explain badly in a
// JSON body: bytes that are not UTF-8, a lone surrogate escape, data after
// the value. A syntax error it leaves to protojson, which names the line
// and column.
func checkJSONBody(b []byte) error {
	_, err := jsonBodyValue(b)
	return err
}

// jsonBodyValue is checkJSONBody that also returns the body's JSON value
// when it is well formed (nil when it is not: protojson is to name the
// syntax error).
func jsonBodyValue(b []byte) (json.RawMessage, error) {
	if !utf8.Valid(b) {
		at := 0
		for at < len(b) {
			r, size := utf8.DecodeRune(b[at:])
			if r == utf8.RuneError && size <= 1 {
				break
			}
			at += size
		}
		return nil, fmt.Errorf("the request body is not UTF-8: byte %d (0x%02x) starts no UTF-8 character; send the JSON encoded as UTF-8", at, b[at])
	}
	if at, ok := loneSurrogate(b); ok {
		return nil, fmt.Errorf("the request body has a lone surrogate escape %s at byte %d, which is no character: write the character itself, or a character beyond U+FFFF as a pair of escapes (\\ud83d\\ude00)", b[at:at+6], at)
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	var first json.RawMessage
	if dec.Decode(&first) != nil {
		return nil, nil
	}
	end := int(dec.InputOffset())
	if rest := bytes.TrimSpace(b[end:]); len(rest) > 0 {
		if len(rest) > 20 {
			rest = append(rest[:20:20], "…"...)
		}
		return nil, fmt.Errorf("the request body has data after its JSON value, at byte %d: %q; send a single JSON object", end, rest)
	}
	return first, nil
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
