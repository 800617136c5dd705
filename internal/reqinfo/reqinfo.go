// Package reqinfo carries facts about the current request (its id, where it
// came from) through the context, for logs and records.
package reqinfo

import (
	"context"
	"crypto/rand"
	"encoding/hex"
)

// Info describes one request.
type Info struct {
	ID     string // the request id: the caller's X-Request-Id if it sent a usable one, else generated
	Method string // the full gRPC method, e.g. /mediation.v1.CaseService/GetCase
	Peer   string // the client's host (IP address), without a port, whichever the transport
	// ClientCert is the subject CN of the client certificate the server
	// verified (mutual TLS), "" without one.
	ClientCert string

	// caller is filled in once the caller is authenticated, deeper in the
	// chain than where the request began, so that what wraps the whole
	// request (its log line) can name them.
	caller *string
}

// WithCallerSlot returns info with a place for the caller's name.
func (i Info) WithCallerSlot() Info {
	i.caller = new(string)
	return i
}

// SetCaller records the authenticated caller's name, if info has a slot.
func (i Info) SetCaller(name string) {
	if i.caller != nil {
		*i.caller = name
	}
}

// Caller returns the name SetCaller recorded, "" if none.
func (i Info) Caller() string {
	if i.caller == nil {
		return ""
	}
	return *i.caller
}

type key struct{}

// With returns a context carrying info.
func With(ctx context.Context, info Info) context.Context {
	return context.WithValue(ctx, key{}, info)
}

// From returns the request's info; the zero Info outside a request.
func From(ctx context.Context) Info {
	info, _ := ctx.Value(key{}).(Info)
	return info
}

// NewID returns a fresh random request id.
func NewID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// ValidID reports whether a caller-supplied request id is safe to adopt:
// 1 to 128 characters of letters, digits and -_.:
func ValidID(id string) bool {
	if id == "" || len(id) > 128 {
		return false
	}
	for _, r := range id {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '-', r == '_', r == '.', r == ':':
		default:
			return false
		}
	}
	return true
}
