package server

import (
	"context"
	"errors"
	"testing"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/peer"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	mediationv1 "github.com/mediationd/mediationd/proto/mediation/v1"
)

// echoCases answers GetCase with the case named in the request, after
// changing the request it was given, and sets a header and a trailer; it
// fails with the status in the "fail" metadata if there is one.
type echoCases struct {
	fakeCases
	seen chan<- context.Context
}

func (e echoCases) GetCase(ctx context.Context, req *mediationv1.GetCaseRequest) (*mediationv1.GetCaseResponse, error) {
	e.seen <- ctx
	name := req.GetName()
	req.Name = "changed by the handler"
	_ = grpc.SetHeader(ctx, metadata.Pairs("h", "1"))
	_ = grpc.SetHeader(ctx, metadata.Pairs("h", "2"))
	_ = grpc.SetTrailer(ctx, metadata.Pairs("t", "x"))
	md, _ := metadata.FromIncomingContext(ctx)
	if v := md.Get("fail"); len(v) > 0 {
		return nil, status.Error(codes.FailedPrecondition, v[0])
	}
	if v := md.Get("fail-plain"); len(v) > 0 {
		return nil, errors.New(v[0])
	}
	return &mediationv1.GetCaseResponse{Case: &mediationv1.Case{Name: name}}, nil
}

func TestLoopbackCallsLikeTheNetwork(t *testing.T) {
	seen := make(chan context.Context, 1)
	var order []string
	mark := func(name string) grpc.UnaryServerInterceptor {
		return func(ctx context.Context, req any, info *grpc.UnaryServerInfo, h grpc.UnaryHandler) (any, error) {
			order = append(order, name+" "+info.FullMethod)
			return h(ctx, req)
		}
	}
	var clientSaw string
	client := func(ctx context.Context, method string, req, reply any, cc *grpc.ClientConn, invoker grpc.UnaryInvoker, opts ...grpc.CallOption) error {
		clientSaw = method
		return invoker(ctx, method, req, reply, cc, opts...)
	}
	lb := newLoopback(client, mark("first"), mark("second"))
	mediationv1.RegisterCaseServiceServer(lb, echoCases{seen: seen})
	cases := mediationv1.NewCaseServiceClient(lb)

	t.Run("interceptors in order, messages copied, headers and trailers delivered", func(t *testing.T) {
		req := &mediationv1.GetCaseRequest{Name: "cases/1"}
		var hdr, trl metadata.MD
		ctx := metadata.AppendToOutgoingContext(t.Context(), "authorization", "Bearer x")
		got, err := cases.GetCase(ctx, req, grpc.Header(&hdr), grpc.Trailer(&trl))
		if err != nil {
			t.Fatal(err)
		}
		if got.GetCase().GetName() != "cases/1" {
			t.Errorf("reply name %q, want cases/1", got.GetCase().GetName())
		}
		if req.GetName() != "cases/1" {
			t.Errorf("the handler changed the caller's request: %q", req.GetName())
		}
		const method = "/mediation.v1.CaseService/GetCase"
		if want := []string{"first " + method, "second " + method}; len(order) != 2 || order[0] != want[0] || order[1] != want[1] {
			t.Errorf("interceptors ran %q, want %q", order, want)
		}
		if clientSaw != method {
			t.Errorf("client interceptor saw %q", clientSaw)
		}
		if v := hdr.Get("h"); len(v) != 2 || v[0] != "1" || v[1] != "2" {
			t.Errorf("header h = %q, want [1 2]", v)
		}
		if v := trl.Get("t"); len(v) != 1 || v[0] != "x" {
			t.Errorf("trailer t = %q, want [x]", v)
		}
		hctx := <-seen
		if md, _ := metadata.FromIncomingContext(hctx); len(md.Get("authorization")) != 1 {
			t.Errorf("handler's incoming metadata %v lacks the caller's", md)
		}
		if md, ok := metadata.FromOutgoingContext(hctx); ok && md.Len() > 0 {
			t.Errorf("handler's context has outgoing metadata %v", md)
		}
		if p, ok := peer.FromContext(hctx); !ok || p.Addr.Network() != gatewayNetwork {
			t.Errorf("handler's peer %v, want the gateway", p)
		}
		if m, ok := grpc.Method(hctx); !ok || m != method {
			t.Errorf("grpc.Method = %q", m)
		}
	})
	t.Run("errors are statuses, headers still delivered", func(t *testing.T) {
		var hdr metadata.MD
		ctx := metadata.AppendToOutgoingContext(t.Context(), "fail", "not now")
		_, err := cases.GetCase(ctx, &mediationv1.GetCaseRequest{Name: "cases/1"}, grpc.Header(&hdr))
		<-seen
		if st := status.Convert(err); st.Code() != codes.FailedPrecondition || st.Message() != "not now" {
			t.Errorf("error %v, want FAILED_PRECONDITION: not now", err)
		}
		if len(hdr.Get("h")) != 2 {
			t.Errorf("header of a failed call: %v", hdr)
		}
		ctx = metadata.AppendToOutgoingContext(t.Context(), "fail-plain", "boom")
		_, err = cases.GetCase(ctx, &mediationv1.GetCaseRequest{Name: "cases/1"})
		<-seen
		if status.Code(err) != codes.Unknown {
			t.Errorf("plain error became %v, want UNKNOWN as over the network", err)
		}
	})
	t.Run("unknown method and streams", func(t *testing.T) {
		err := lb.Invoke(t.Context(), "/mediation.v1.CaseService/NoSuch", &mediationv1.GetCaseRequest{}, &mediationv1.GetCaseResponse{})
		if status.Code(err) != codes.Unimplemented {
			t.Errorf("unknown method: %v, want UNIMPLEMENTED", err)
		}
		if _, err := lb.NewStream(t.Context(), &grpc.StreamDesc{}, "/x/y"); status.Code(err) != codes.Unimplemented {
			t.Errorf("stream: %v, want UNIMPLEMENTED", err)
		}
	})
	t.Run("reply is replaced, not merged", func(t *testing.T) {
		reply := &mediationv1.GetCaseResponse{Case: &mediationv1.Case{Name: "old", Etag: "stale"}}
		if err := lb.Invoke(t.Context(), "/mediation.v1.CaseService/GetCase", &mediationv1.GetCaseRequest{Name: "cases/2"}, reply); err != nil {
			t.Fatal(err)
		}
		<-seen
		if !proto.Equal(reply, &mediationv1.GetCaseResponse{Case: &mediationv1.Case{Name: "cases/2"}}) {
			t.Errorf("reply %v, want only the handler's answer", reply)
		}
	})
}
