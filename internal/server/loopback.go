package server

import (
	"context"
	"fmt"
	"net"
	"sync"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/peer"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
)

// loopback is the REST gateway's connection to the gRPC services: a
// grpc.ClientConnInterface that calls the registered handlers in this
// process, through the same chain of interceptors as a call from the
// network, but without encoding the messages and framing them in HTTP/2
// twice. A REST call thus passes authentication, authorization, auditing,
// validation, rate limiting, logging and metrics exactly as a gRPC call
// does; the handler sees the gateway as its peer (gatewayAddr), whose
// X-Forwarded-For and client-certificate metadata the interceptors trust.
type loopback struct {
	chain  grpc.UnaryServerInterceptor
	client grpc.UnaryClientInterceptor // nil = none

	mu      sync.RWMutex
	methods map[string]loopbackMethod
}

type loopbackMethod struct {
	impl    any
	handler grpc.MethodHandler
}

// newLoopback returns a loopback running the server interceptors in order
// (as grpc.ChainUnaryInterceptor does) and, around each call, the client
// interceptor if any.
func newLoopback(client grpc.UnaryClientInterceptor, interceptors ...grpc.UnaryServerInterceptor) *loopback {
	return &loopback{chain: chainUnary(interceptors), client: client, methods: map[string]loopbackMethod{}}
}

// RegisterService makes the unary methods of a service callable through
// the loopback; it has grpc.ServiceRegistrar's signature so that the
// generated Register...Server functions accept it.
func (l *loopback) RegisterService(desc *grpc.ServiceDesc, impl any) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, m := range desc.Methods {
		l.methods["/"+desc.ServiceName+"/"+m.MethodName] = loopbackMethod{impl: impl, handler: m.Handler}
	}
}

// Invoke calls the method's handler with a copy of args and copies its
// answer into reply. Headers and trailers the handler sets reach the
// grpc.Header and grpc.Trailer call options, as over the network.
func (l *loopback) Invoke(ctx context.Context, method string, args, reply any, opts ...grpc.CallOption) error {
	invoke := func(ctx context.Context, method string, args, reply any, _ *grpc.ClientConn, opts ...grpc.CallOption) error {
		return l.call(ctx, method, args, reply, opts)
	}
	if l.client != nil {
		return l.client(ctx, method, args, reply, nil, invoke, opts...)
	}
	return invoke(ctx, method, args, reply, nil, opts...)
}

func (l *loopback) call(ctx context.Context, method string, args, reply any, opts []grpc.CallOption) error {
	l.mu.RLock()
	m, ok := l.methods[method]
	l.mu.RUnlock()
	if !ok {
		return status.Errorf(codes.Unimplemented, "unknown method %s", method)
	}
	in, ok := args.(proto.Message)
	out, ok2 := reply.(proto.Message)
	if !ok || !ok2 {
		return status.Errorf(codes.Internal, "loopback: %s: messages are not protobuf", method)
	}
	md, _ := metadata.FromOutgoingContext(ctx)
	// The handler's context carries the caller's metadata as incoming, and
	// none as outgoing: it is a server context, as over the network.
	sctx := metadata.NewIncomingContext(metadata.NewOutgoingContext(ctx, nil), md.Copy())
	sctx = peer.NewContext(sctx, &peer.Peer{Addr: gatewayAddr{}, LocalAddr: gatewayAddr{}})
	stream := &loopbackStream{method: method}
	sctx = grpc.NewContextWithServerTransportStream(sctx, stream)

	dec := func(m any) error {
		msg, ok := m.(proto.Message)
		if !ok {
			return fmt.Errorf("loopback: %s: request is not protobuf", method)
		}
		proto.Merge(msg, in)
		return nil
	}
	resp, err := m.handler(m.impl, sctx, dec, l.chain)
	for _, o := range opts {
		switch o := o.(type) {
		case grpc.HeaderCallOption:
			*o.HeaderAddr = stream.header()
		case grpc.TrailerCallOption:
			*o.TrailerAddr = stream.trailer()
		}
	}
	if err != nil {
		return status.Convert(err).Err()
	}
	r, ok := resp.(proto.Message)
	if !ok {
		return status.Errorf(codes.Internal, "loopback: %s: response is not protobuf", method)
	}
	proto.Reset(out)
	proto.Merge(out, r)
	return nil
}

// NewStream refuses streams: the gateway maps no streaming method.
func (l *loopback) NewStream(context.Context, *grpc.StreamDesc, string, ...grpc.CallOption) (grpc.ClientStream, error) {
	return nil, status.Error(codes.Unimplemented, "loopback: streaming calls are not served")
}

// chainUnary combines interceptors into one that runs them in order, the
// first outermost, as grpc.ChainUnaryInterceptor does for the server.
func chainUnary(interceptors []grpc.UnaryServerInterceptor) grpc.UnaryServerInterceptor {
	return func(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
		var next func(i int) grpc.UnaryHandler
		next = func(i int) grpc.UnaryHandler {
			if i == len(interceptors) {
				return handler
			}
			return func(ctx context.Context, req any) (any, error) {
				return interceptors[i](ctx, req, info, next(i+1))
			}
		}
		return next(0)(ctx, req)
	}
}

// gatewayAddr is the peer address of calls through the loopback.
type gatewayAddr struct{}

func (gatewayAddr) Network() string { return gatewayNetwork }
func (gatewayAddr) String() string  { return "gateway" }

var _ net.Addr = gatewayAddr{}

// loopbackStream collects the headers and trailers a handler sets
// (grpc.SetHeader, grpc.SetTrailer), standing in for the transport
// stream a network call has.
type loopbackStream struct {
	method string

	mu       sync.Mutex
	hdr, trl metadata.MD
}

func (s *loopbackStream) Method() string { return s.method }

func (s *loopbackStream) SetHeader(md metadata.MD) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.hdr = metadata.Join(s.hdr, md)
	return nil
}

func (s *loopbackStream) SendHeader(md metadata.MD) error { return s.SetHeader(md) }

func (s *loopbackStream) SetTrailer(md metadata.MD) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.trl = metadata.Join(s.trl, md)
	return nil
}

func (s *loopbackStream) header() metadata.MD {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.hdr.Copy()
}

func (s *loopbackStream) trailer() metadata.MD {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.trl.Copy()
}
