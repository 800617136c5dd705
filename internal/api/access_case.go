package api

import (
	"context"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"

	"github.com/mediationd/mediationd/internal/auth"
	"github.com/mediationd/mediationd/internal/caseflow"
	"github.com/mediationd/mediationd/internal/casework"
	"github.com/mediationd/mediationd/internal/reqinfo"
	"github.com/mediationd/mediationd/internal/store"
	mediationv1 "github.com/mediationd/mediationd/proto/mediation/v1"
)

// access is how the store should treat the caller of ctx: their scope,
// their principal and the request's audit context.
func access(ctx context.Context) store.Access {
	p := auth.FromContext(ctx)
	return store.Access{Scope: auth.ScopeOf(p), Principal: p, Audit: auditContext(ctx)}
}

// caller is on whose behalf the pipeline acts for the request of ctx.
func caller(ctx context.Context) caseflow.Caller {
	return caseflow.Caller{Principal: auth.FromContext(ctx), Audit: auditContext(ctx)}
}

type auditKey struct{}

// WithAudit returns a context whose request's writes are recorded with a:
// the audit interceptor makes one per write, and afterwards records the
// write itself unless a.Recorded says the store already did, in the
// statement of the change.
func WithAudit(ctx context.Context, a *store.AuditContext) context.Context {
	return context.WithValue(ctx, auditKey{}, a)
}

// auditContext is the request's audit context: the one the interceptor
// gave it, else a new one from the request's info.
func auditContext(ctx context.Context) *store.AuditContext {
	if a, ok := ctx.Value(auditKey{}).(*store.AuditContext); ok && a != nil {
		return a
	}
	ri := reqinfo.From(ctx)
	return &store.AuditContext{ClientAddress: ri.Peer, ClientCert: ri.ClientCert, Method: ri.Method, RequestID: ri.ID}
}

// maskedAddress keeps the first characters of an address (the county or
// township) and hides the rest.
func maskedAddress(a string) string {
	const keep = 3
	// The byte offset of the rune after the first keep, when those are
	// valid UTF-8 (an invalid byte would become U+FFFD below).
	end := 0
	for n := 0; n < keep && end < len(a); n++ {
		r, size := utf8.DecodeRuneInString(a[end:])
		if r == utf8.RuneError && size <= 1 {
			end = -1
			break
		}
		end += size
	}
	if end >= 0 && end < len(a) {
		return a[:end] + "****"
	}
	if utf8.RuneCountInString(a) <= keep {
		return strings.Repeat("*", utf8.RuneCountInString(a))
	}
	r := []rune(a)
	return string(r[:keep]) + "****"
}

// hasPersonalData reports whether a case holds numbers or addresses that
// masking would hide.
func hasPersonalData(c casework.Case) bool {
	for _, p := range c.Parties {
		if p.IDNumber != "" || p.Phone != "" || p.Address != "" {
			return true
		}
	}
	return false
}

// masked returns c with the personal data the caller may not read hidden,
// and whether it shows any unmasked personal data (which the audit trail
// then records).
func masked(p auth.Principal, c casework.Case) (casework.Case, bool) {
	see := auth.Unmasked(p, c)
	if !hasPersonalData(c) {
		return c, false
	}
	c.Parties = append([]casework.Party(nil), c.Parties...)
	shown := false
	for i := range c.Parties {
		party := &c.Parties[i]
		if see.Numbers {
			shown = shown || party.IDNumber != "" || party.Phone != ""
		} else {
			party.IDNumber = casework.MaskIDNumber(party.IDNumber)
			party.Phone = casework.MaskPhone(party.Phone)
		}
		if see.Addresses {
			shown = shown || party.Address != ""
		} else if party.Address != "" {
			party.Address = maskedAddress(party.Address)
		}
	}
	return c, shown
}

// view renders cases for the caller of ctx, masking what they may not
// read, and records in the audit trail each case whose personal data they
// read unmasked.
func (s *CaseService) view(ctx context.Context, cases ...casework.Case) ([]*mediationv1.Case, error) {
	p := auth.FromContext(ctx)
	out := make([]*mediationv1.Case, len(cases))
	var read []uuid.UUID
	for i, c := range cases {
		m, shown := masked(p, c)
		out[i] = s.caseToProto(m)
		if shown {
			read = append(read, c.ID)
		}
	}
	if err := s.recordUnmaskedReads(ctx, read...); err != nil {
		return nil, err
	}
	return out, nil
}

// recordUnmaskedReads puts on record that the caller of ctx reads the
// personal data of the cases unmasked. Unmasked data is only handed out
// once its reading is on record, so an error here must stop the answer.
func (s *CaseService) recordUnmaskedReads(ctx context.Context, cases ...uuid.UUID) error {
	names := make([]string, len(cases))
	for i, id := range cases {
		names[i] = caseName(id)
	}
	return recordPersonalDataReads(ctx, s.store, s.clock(), names...)
}

// recordPersonalDataReads puts on record that the caller of ctx reads the
// personal data of the resources named unmasked, at now.
func recordPersonalDataReads(ctx context.Context, st *store.Store, now time.Time, resources ...string) error {
	p := auth.FromContext(ctx)
	ri := reqinfo.From(ctx)
	reads := make([]store.AuditRecord, len(resources))
	for i, name := range resources {
		reads[i] = store.AuditRecord{
			Time: now, Kind: store.AuditReadPersonalData, Actor: p.Name, ActorRole: p.Role,
			ClientAddress: ri.Peer, ClientCert: ri.ClientCert, Method: ri.Method, Resource: name, RequestID: ri.ID, Code: "OK",
		}
	}
	return st.RecordAudit(ctx, reads...)
}

// view1 is view of one case.
func (s *CaseService) view1(ctx context.Context, c casework.Case) (*mediationv1.Case, error) {
	out, err := s.view(ctx, c)
	if err != nil {
		return nil, err
	}
	return out[0], nil
}
