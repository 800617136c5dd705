package server

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"sync"
	"time"

	"google.golang.org/genproto/googleapis/api/annotations"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"

	"github.com/mediationd/mediationd/internal/api"
	"github.com/mediationd/mediationd/internal/auth"
	"github.com/mediationd/mediationd/internal/authn"
	"github.com/mediationd/mediationd/internal/reqinfo"
	"github.com/mediationd/mediationd/internal/store"
	mediationv1 "github.com/mediationd/mediationd/proto/mediation/v1"
)

// Authenticator turns a bearer credential (a session token or an API key
// secret) into the principal it stands for, or auth.ErrUnauthenticated.
type Authenticator interface {
	Authenticate(ctx context.Context, bearer string) (auth.Principal, error)
}

// bearer returns the credential of the Authorization metadata, "" if none.
func bearer(ctx context.Context) string {
	md, _ := metadata.FromIncomingContext(ctx)
	for _, v := range md.Get("authorization") {
		if token, ok := authn.BearerToken(v); ok {
			return token
		}
	}
	return ""
}

var errSignIn = status.Error(codes.Unauthenticated, "sign in first: send Authorization: Bearer <token> with a token from POST /v1/sessions, or an API key")

// principalFor authenticates the caller of a method. Public methods work
// without a credential (and ignore a bad one); others need a good one.
func principalFor(ctx context.Context, a Authenticator, method string) (auth.Principal, error) {
	token := bearer(ctx)
	if token == "" {
		if auth.Public(method) {
			return auth.Anonymous, nil
		}
		return auth.Principal{}, errSignIn
	}
	p, err := a.Authenticate(ctx, token)
	switch {
	case err == nil:
		return p, nil
	case auth.Public(method):
		return auth.Anonymous, nil
	case errors.Is(err, auth.ErrUnauthenticated):
		return auth.Principal{}, status.Error(codes.Unauthenticated, "the bearer credential is not valid: it is unknown, expired or revoked; sign in again with POST /v1/sessions")
	}
	return auth.Principal{}, err
}

// authenticate puts the caller's principal in the context.
func authenticate(a Authenticator) grpc.UnaryServerInterceptor {
	return func(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
		p, err := principalFor(ctx, a, info.FullMethod)
		if err != nil {
			return nil, err
		}
		reqinfo.From(ctx).SetCaller(p.Name)
		return handler(auth.WithPrincipal(ctx, p), req)
	}
}

// authorize refuses a method the caller's role may not call.
func authorize(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
	if err := auth.MayCall(auth.FromContext(ctx), info.FullMethod); err != nil {
		return nil, err
	}
	return handler(ctx, req)
}

// principalStream carries the principal into a stream's context.
type principalStream struct {
	grpc.ServerStream
	ctx context.Context
}

func (s principalStream) Context() context.Context { return s.ctx }

// authenticateStream authenticates and authorizes streaming calls
// (reflection, health watches) as the unary interceptors do.
func authenticateStream(a Authenticator) grpc.StreamServerInterceptor {
	return func(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, handler grpc.StreamHandler) error {
		p, err := principalFor(ss.Context(), a, info.FullMethod)
		if err != nil {
			// A stream has no logAndMapErrors: map here, so that a database
			// error does not reach the client as it is.
			return api.ToStatus(err).Err()
		}
		if err := auth.MayCall(p, info.FullMethod); err != nil {
			return api.ToStatus(err).Err()
		}
		return handler(srv, principalStream{ss, auth.WithPrincipal(ss.Context(), p)})
	}
}

// readMethod reports whether a method only reads: its REST binding is a
// GET (google.api.http). Every other method of the API is a write and is
// audited. The protos say it, so a new method is classified with them.
func readMethod(method string) bool {
	read, ok := readMethods.Load(method)
	if !ok {
		read = httpVerbIsGet(method)
		readMethods.Store(method, read)
	}
	return read.(bool)
}

var readMethods sync.Map // full method name → bool

func httpVerbIsGet(method string) bool {
	name := protoreflect.FullName(strings.ReplaceAll(strings.TrimPrefix(method, "/"), "/", "."))
	d, err := protoregistry.GlobalFiles.FindDescriptorByName(name)
	if err != nil {
		return false
	}
	md, ok := d.(protoreflect.MethodDescriptor)
	if !ok {
		return false
	}
	verb, _, _, _ := HTTPBinding(md)
	return verb == http.MethodGet
}

// HTTPBinding is a method's REST binding (google.api.http): its HTTP verb,
// path template and body field ("*" for the whole request, "" for none);
// ok is false for a method without one.
func HTTPBinding(md protoreflect.MethodDescriptor) (verb, path, body string, ok bool) {
	rule, _ := proto.GetExtension(md.Options(), annotations.E_Http).(*annotations.HttpRule)
	switch p := rule.GetPattern().(type) {
	case *annotations.HttpRule_Get:
		verb, path = http.MethodGet, p.Get
	case *annotations.HttpRule_Post:
		verb, path = http.MethodPost, p.Post
	case *annotations.HttpRule_Patch:
		verb, path = http.MethodPatch, p.Patch
	case *annotations.HttpRule_Delete:
		verb, path = http.MethodDelete, p.Delete
	case *annotations.HttpRule_Put:
		verb, path = http.MethodPut, p.Put
	default:
		return "", "", "", false
	}
	return verb, path, rule.GetBody(), true
}

// audit records in the audit trail every write, sign-in and sign-out, and
// refusal for lack of permission. A write's row is written by the store in
// the statement of the change when it can be (case changes: the request's
// audit context says so once it is); otherwise here, after the handler. A
// write is only acknowledged once it is on record; a refusal is recorded
// on a best-effort basis.
func audit(st *store.Store, now func() time.Time) grpc.UnaryServerInterceptor {
	return func(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
		method := info.FullMethod
		if !strings.HasPrefix(method, "/mediation.v1.") {
			return handler(ctx, req) // health checks and reflection
		}
		ri := reqinfo.From(ctx)
		write := !readMethod(method)
		var ac *store.AuditContext
		if write {
			ac = &store.AuditContext{ClientAddress: ri.Peer, ClientCert: ri.ClientCert, Method: method, RequestID: ri.ID}
			ctx = api.WithAudit(ctx, ac)
		}
		resp, err := handler(ctx, req)
		if write && err != nil && !strings.HasPrefix(method, "/mediation.v1.CaseService/") {
			// The store tells exactly whether a case's change was made; of
			// other writes, a connection lost after a statement was sent
			// leaves the outcome unknown.
			err = store.MaybeChanged(err)
		}
		p := auth.FromContext(ctx)
		actor := p.Name
		var kind store.AuditKind
		var permission *auth.PermissionError
		switch {
		case errors.As(err, &permission):
			kind = store.AuditPermissionDenied
		case method == "/mediation.v1.AuthService/CreateSession":
			login, _ := req.(*mediationv1.CreateSessionRequest)
			kind, actor = store.AuditLogin, "users/"+login.GetUsername()
			if err != nil {
				kind = store.AuditLoginFailed
			}
		case method == "/mediation.v1.AuthService/DeleteSession" && err == nil:
			kind = store.AuditLogout
		case err == nil && write && !ac.Recorded:
			kind = store.AuditWrite
		default:
			// Reads, and writes the store recorded in the statement that
			// made them.
			return resp, err
		}
		code := codes.OK
		if err != nil {
			code = api.ToStatus(err).Code()
		}
		rec := store.AuditRecord{
			Time: now().UTC(), Kind: kind, Actor: actor, ActorRole: p.Role, ClientAddress: ri.Peer, ClientCert: ri.ClientCert,
			Method: method, RequestID: ri.ID, Resource: resourceOf(req), Code: code.String(),
		}
		if aerr := st.RecordAudit(context.WithoutCancel(ctx), rec); aerr != nil && kind == store.AuditWrite {
			// The change is made, but not on record: the caller cannot be
			// told it was refused.
			return nil, store.AfterChange(aerr)
		}
		return resp, err
	}
}

// resourceOf names the resource a request concerns: its name or parent
// field, or the name of the resource it carries (an update), or the
// username of a sign-in.
func resourceOf(req any) string {
	m, ok := req.(proto.Message)
	if !ok {
		return ""
	}
	r := m.ProtoReflect()
	fields := r.Descriptor().Fields()
	for _, n := range []protoreflect.Name{"name", "parent"} {
		if f := fields.ByName(n); f != nil && f.Kind() == protoreflect.StringKind && r.Get(f).String() != "" {
			return r.Get(f).String()
		}
	}
	for i := range fields.Len() {
		f := fields.Get(i)
		if f.Kind() != protoreflect.MessageKind || f.IsList() || f.IsMap() || !r.Has(f) {
			continue
		}
		inner := r.Get(f).Message()
		if nf := inner.Descriptor().Fields().ByName("name"); nf != nil && nf.Kind() == protoreflect.StringKind && inner.Get(nf).String() != "" {
			return inner.Get(nf).String()
		}
	}
	if login, ok := req.(*mediationv1.CreateSessionRequest); ok {
		return "users/" + login.GetUsername()
	}
	return ""
}
