// Package auth says who is calling. Every request carries a Principal in
// its context; handlers record it as the actor of what they change.
package auth

import "context"

// Principal is the caller of a request.
type Principal struct {
	// Name identifies the caller in history and logs, e.g. users/li-hong.
	Name string
}

// Anonymous is the principal of a request that did not say who it is.
var Anonymous = Principal{Name: "anonymous"}

type principalKey struct{}

// WithPrincipal returns a context carrying p.
func WithPrincipal(ctx context.Context, p Principal) context.Context {
	return context.WithValue(ctx, principalKey{}, p)
}

// FromContext returns the principal of the request, Anonymous if none.
func FromContext(ctx context.Context) Principal {
	if p, ok := ctx.Value(principalKey{}).(Principal); ok {
		return p
	}
	return Anonymous
}
