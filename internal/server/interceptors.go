package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"runtime/debug"
	"strings"
	"time"

	"buf.build/go/protovalidate"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/peer"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	"github.com/mediationd/mediationd/internal/api"
	"github.com/mediationd/mediationd/internal/auth"
	"github.com/mediationd/mediationd/internal/reqinfo"
)

// The metadata keys the service reads and writes.
const (
	mdRequestID = "x-request-id"
	mdForwarded = "x-forwarded-for"
)

// requestInfo adopts or assigns the request id, notes the caller's
// address and client certificate, and echoes the id in the response
// headers.
func requestInfo(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
	md, _ := metadata.FromIncomingContext(ctx)
	ri := reqinfo.Info{Method: info.FullMethod}.WithCallerSlot()
	if ids := md.Get(mdRequestID); len(ids) > 0 && reqinfo.ValidID(ids[0]) {
		ri.ID = ids[0]
	} else {
		ri.ID = reqinfo.NewID()
	}
	if p, ok := peer.FromContext(ctx); ok && p.Addr != nil {
		ri.Peer = hostOnly(p.Addr.String())
		if p.Addr.Network() == gatewayNetwork {
			// Through the gateway: the client is the address the gateway
			// saw, which it appends last to X-Forwarded-For.
			if xff := md.Get(mdForwarded); len(xff) > 0 {
				hops := strings.Split(xff[len(xff)-1], ",")
				ri.Peer = hostOnly(strings.TrimSpace(hops[len(hops)-1]))
			}
		}
	}
	ri.ClientCert = ClientCertCN(ctx)
	_ = grpc.SetHeader(ctx, metadata.Pairs(mdRequestID, ri.ID))
	return handler(reqinfo.With(ctx, ri), req)
}

// hostOnly is the host of a client address without its port: the audit
// trail and the logs name a REST client by the address the gateway puts
// in X-Forwarded-For, which has none, and a gRPC client the same way,
// whatever port each of its connections comes from.
func hostOnly(addr string) string {
	if host, _, err := net.SplitHostPort(addr); err == nil {
		return host
	}
	return addr
}

// logAndMapErrors turns domain errors into statuses (the one place where
// that happens, through api.ToStatus) and logs every call at a level that
// fits its outcome.
func logAndMapErrors(log *slog.Logger) grpc.UnaryServerInterceptor {
	return func(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
		start := time.Now()
		resp, err := handler(ctx, req)
		st := api.ToStatus(err)
		code := codes.OK
		if st != nil {
			code = st.Code()
		}
		level := logLevel(code)
		if log.Enabled(ctx, level) {
			principal := reqinfo.From(ctx).Caller()
			if principal == "" {
				principal = auth.Anonymous.Name
			}
			attrs := []slog.Attr{
				slog.String("method", info.FullMethod),
				slog.String("code", code.String()),
				slog.Duration("duration", time.Since(start)),
				slog.String("principal", principal),
			}
			switch {
			case level == slog.LevelError:
				// The service's own failure: the message and cause are ours.
				attrs = append(attrs, slog.String("message", st.Message()))
				if err != nil && st.Message() != err.Error() {
					attrs = append(attrs, slog.String("error", err.Error()))
				}
			case st != nil:
				// A refusal: its message may quote what the client sent
				// (personal data among it), so only its shape is logged.
				attrs = append(attrs, refusalAttrs(st)...)
			}
			log.LogAttrs(ctx, level, "rpc", attrs...)
		}
		if st != nil {
			return nil, st.Err()
		}
		return resp, nil
	}
}

// refusalAttrs describes a refusal without its message: the stable reason
// of its ErrorInfo and the paths of the fields its BadRequest names.
func refusalAttrs(st *status.Status) []slog.Attr {
	var attrs []slog.Attr
	var fields []string
	for _, d := range st.Details() {
		switch d := d.(type) {
		case *errdetails.ErrorInfo:
			attrs = append(attrs, slog.String("reason", d.GetReason()))
		case *errdetails.BadRequest:
			for _, v := range d.GetFieldViolations() {
				fields = append(fields, v.GetField())
			}
		}
	}
	if len(fields) > 0 {
		attrs = append(attrs, slog.String("fields", strings.Join(fields, ",")))
	}
	return attrs
}

func logLevel(c codes.Code) slog.Level {
	switch c {
	case codes.OK:
		return slog.LevelDebug
	case codes.Internal, codes.Unknown, codes.DataLoss, codes.Unimplemented:
		return slog.LevelError
	case codes.Unavailable, codes.DeadlineExceeded, codes.ResourceExhausted:
		return slog.LevelWarn
	}
	return slog.LevelInfo
}

// recoverPanics turns a panic in a handler into INTERNAL, keeping the
// stack in the log, so that one bad request cannot take the process down.
func recoverPanics(log *slog.Logger) grpc.UnaryServerInterceptor {
	return func(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (resp any, err error) {
		defer func() {
			if r := recover(); r != nil {
				log.ErrorContext(ctx, "panic in handler", "method", info.FullMethod, "panic", fmt.Sprint(r), "stack", string(debug.Stack()))
				resp, err = nil, errors.New("panic in handler")
			}
		}()
		return handler(ctx, req)
	}
}

// validate checks every request against the rules declared in the protos
// (protovalidate) before any handler sees it.
func validate(v protovalidate.Validator) grpc.UnaryServerInterceptor {
	return func(ctx context.Context, req any, _ *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
		msg, ok := req.(proto.Message)
		if !ok {
			return handler(ctx, req)
		}
		if err := v.Validate(msg); err != nil {
			return nil, validationStatus(err)
		}
		return handler(ctx, req)
	}
}

// validationStatus renders protovalidate's violations as INVALID_ARGUMENT
// with one google.rpc.BadRequest field violation per problem.
func validationStatus(err error) error {
	var verr *protovalidate.ValidationError
	if !errors.As(err, &verr) {
		return fmt.Errorf("validate request: %w", err)
	}
	br := &errdetails.BadRequest{}
	msgs := make([]string, 0, len(verr.Violations))
	for _, v := range verr.Violations {
		field := protovalidate.FieldPathString(v.Proto.GetField())
		desc := v.Proto.GetMessage()
		if desc == "" {
			desc = v.Proto.GetRuleId()
		}
		br.FieldViolations = append(br.FieldViolations, &errdetails.BadRequest_FieldViolation{
			Field: field, Description: desc, Reason: v.Proto.GetRuleId(),
		})
		msgs = append(msgs, field+": "+desc)
	}
	st := status.New(codes.InvalidArgument, "invalid request: "+strings.Join(msgs, "; "))
	if d, err := st.WithDetails(br); err == nil {
		st = d
	}
	return st.Err()
}

// gatewayNetwork is the network name of the peer address of calls that
// come through the REST gateway's loopback (see loopback.go).
const gatewayNetwork = "gateway-loopback"
