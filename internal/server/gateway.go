package server

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strings"

	"github.com/grpc-ecosystem/grpc-gateway/v2/runtime"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protojson"

	"github.com/mediationd/mediationd/internal/reqinfo"
	mediationv1 "github.com/mediationd/mediationd/proto/mediation/v1"
)

// httpStatus is the HTTP status of each gRPC code through the gateway. It
// follows grpc-gateway's table except FAILED_PRECONDITION, which is 409
// Conflict rather than 400: the request was well formed, but conflicts
// with the current state of the case (RFC 9110 §15.5.10). Clients tell it
// apart from ABORTED (also 409, a stale etag) by the body's code and its
// google.rpc.ErrorInfo reason.
func httpStatus(c codes.Code) int {
	if c == codes.FailedPrecondition {
		return http.StatusConflict
	}
	return runtime.HTTPStatusFromCode(c)
}

// gatewayError writes a gRPC error as JSON with the status of httpStatus.
// Errors the gateway raises itself while decoding a body say which part of
// the body is wrong (protojson names the line and column, or the field).
func gatewayError(ctx context.Context, mux *runtime.ServeMux, m runtime.Marshaler, w http.ResponseWriter, r *http.Request, err error) {
	var hs *runtime.HTTPStatusError
	if errors.As(err, &hs) {
		runtime.DefaultHTTPErrorHandler(ctx, mux, m, w, r, err)
		return
	}
	st := status.Convert(err)
	if st.Code() == codes.InvalidArgument && strings.HasPrefix(st.Message(), "proto:") {
		st = status.New(codes.InvalidArgument, "the request body does not match the API: "+
			strings.TrimSpace(strings.TrimPrefix(st.Message(), "proto:"))+"; see /openapi.json for the expected JSON")
		err = st.Err()
	}
	if v := queryParameterError.FindStringSubmatch(st.Message()); st.Code() == codes.InvalidArgument && v != nil {
		err = invalidQueryParameter(v[1], v[2])
	}
	runtime.DefaultHTTPErrorHandler(ctx, mux, m, w, r, &runtime.HTTPStatusError{HTTPStatus: httpStatus(st.Code()), Err: err})
}

// queryParameterError is the gateway's message for a query parameter it
// cannot parse, e.g. `parsing field "group_by": "42" is not a valid value`.
var queryParameterError = regexp.MustCompile(`^parsing field "([A-Za-z0-9_.]+)": (.*)$`)

// invalidQueryParameter is the refusal of a query parameter the gateway
// could not parse, with the field violation that protovalidate's refusals
// carry too, so that clients find the field the same way.
func invalidQueryParameter(field, problem string) error {
	st := status.Newf(codes.InvalidArgument, "query parameter %s: %s", field, problem)
	if d, err := st.WithDetails(&errdetails.BadRequest{FieldViolations: []*errdetails.BadRequest_FieldViolation{{
		Field: field, Description: problem,
	}}}); err == nil {
		st = d
	}
	return st.Err()
}

func newGateway(ctx context.Context, conn grpc.ClientConnInterface) (*runtime.ServeMux, error) {
	mux := runtime.NewServeMux(
		runtime.WithMarshalerOption(runtime.MIMEWildcard, strictJSON{&runtime.JSONPb{
			MarshalOptions:   protojson.MarshalOptions{EmitUnpopulated: false},
			UnmarshalOptions: protojson.UnmarshalOptions{DiscardUnknown: false},
		}}),
		runtime.WithErrorHandler(gatewayError),
		runtime.WithRoutingErrorHandler(func(ctx context.Context, mux *runtime.ServeMux, m runtime.Marshaler, w http.ResponseWriter, r *http.Request, code int) {
			var st *status.Status
			switch code {
			case http.StatusMethodNotAllowed:
				st = status.Newf(codes.Unimplemented, "method %s is not allowed on %s; see /openapi.json for the API's methods", r.Method, r.URL.Path)
			case http.StatusNotFound:
				st = status.Newf(codes.NotFound, "no API method at %s; see /openapi.json for the API's paths", r.URL.Path)
			default:
				st = status.New(codes.InvalidArgument, http.StatusText(code))
			}
			runtime.DefaultHTTPErrorHandler(ctx, mux, m, w, r, &runtime.HTTPStatusError{HTTPStatus: code, Err: st.Err()})
		}),
		// The request id the HTTP middleware settled on travels as metadata;
		// an annotator's value replaces anything a client put in headers.
		// So does the verified client certificate's CN, always (empty when
		// none), so that a client's Grpc-Metadata-X-Client-Cert-Cn is replaced.
		runtime.WithMetadata(func(_ context.Context, r *http.Request) metadata.MD {
			return metadata.Pairs(mdRequestID, r.Header.Get("X-Request-Id"), mdClientCertCN, gatewayClientCertCN(r))
		}),
		// The middleware already set X-Request-Id on the response; of the
		// other headers only a refusal's retry-after is the client's business.
		runtime.WithOutgoingHeaderMatcher(func(k string) (string, bool) {
			if k == mdRetryAfter {
				return "Retry-After", true
			}
			return "", false
		}),
	)
	for _, err := range []error{
		mediationv1.RegisterCaseServiceHandlerClient(ctx, mux, mediationv1.NewCaseServiceClient(conn)),
		mediationv1.RegisterDirectoryServiceHandlerClient(ctx, mux, mediationv1.NewDirectoryServiceClient(conn)),
		mediationv1.RegisterAuthServiceHandlerClient(ctx, mux, mediationv1.NewAuthServiceClient(conn)),
		mediationv1.RegisterUserServiceHandlerClient(ctx, mux, mediationv1.NewUserServiceClient(conn)),
		mediationv1.RegisterAuditServiceHandlerClient(ctx, mux, mediationv1.NewAuditServiceClient(conn)),
		mediationv1.RegisterWebhookServiceHandlerClient(ctx, mux, mediationv1.NewWebhookServiceClient(conn)),
		mediationv1.RegisterCaseFeedServiceHandlerClient(ctx, mux, mediationv1.NewCaseFeedServiceClient(conn)),
	} {
		if err != nil {
			return nil, fmt.Errorf("register REST gateway: %w", err)
		}
	}
	return mux, nil
}

// httpHandler routes the HTTP listener: probes, the OpenAPI document, the
// REST API and the metrics, behind the request-id and body-size middleware,
// all counted by the HTTP metrics.
func (s *Server) httpHandler(gw http.Handler) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, http.StatusOK, map[string]string{"status": "alive"})
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		if err := s.Ready(r.Context()); err != nil {
			writeJSON(w, http.StatusServiceUnavailable, map[string]string{"status": "not ready", "reason": err.Error()})
			return
		}
		writeJSON(w, http.StatusOK, map[string]string{"status": "ready"})
	})
	mux.HandleFunc("GET /openapi.json", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(mediationv1.OpenAPI)
	})
	mux.HandleFunc("GET /v1/cases/{case}/agreement.html", s.agreementPage)
	mux.HandleFunc("GET /v1/caseStatistics.csv", s.statisticsCSV)
	mux.HandleFunc(routeStatisticsXLSX, s.statisticsXLSX)
	mux.HandleFunc(routeCasesXLSX, s.casesXLSX)
	mux.HandleFunc(routeOfficialXLSX, s.officialXLSX)
	mux.Handle("/v1/", gw)
	s.handleMetrics(mux)
	s.handleWebUI(mux)
	return s.metrics.InstrumentHTTP(s.withHTTPSecurity(s.withRequestID(s.limitBody(mux))))
}

// withRequestID adopts the client's X-Request-Id when usable, assigns one
// otherwise, and returns it in the response.
func (s *Server) withRequestID(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := r.Header.Get("X-Request-Id")
		if !reqinfo.ValidID(id) {
			id = reqinfo.NewID()
			r.Header.Set("X-Request-Id", id)
		}
		w.Header().Set("X-Request-Id", id)
		next.ServeHTTP(w, r)
	})
}

// limitBody refuses bodies above the configured size with 413. A body of
// unknown length (chunked) is read here, up to one byte over the limit, so
// that one too large gets the same 413 as a body whose Content-Length says
// so, rather than a decoding error deeper down; the handlers get what was
// read, of known length. (The gateway's decoder reads a body whole anyway.)
func (s *Server) limitBody(next http.Handler) http.Handler {
	limit := int64(s.cfg.MaxRequestBytes)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.ContentLength > limit {
			writeStatus(w, http.StatusRequestEntityTooLarge, status.New(codes.InvalidArgument,
				fmt.Sprintf("request body of %d bytes exceeds the limit of %d bytes", r.ContentLength, limit)))
			return
		}
		if r.ContentLength < 0 {
			b, err := io.ReadAll(io.LimitReader(r.Body, limit+1))
			switch {
			case err != nil:
				writeStatus(w, http.StatusBadRequest, status.Newf(codes.InvalidArgument, "read the request body: %v", err))
				return
			case int64(len(b)) > limit:
				writeStatus(w, http.StatusRequestEntityTooLarge, status.New(codes.InvalidArgument,
					fmt.Sprintf("request body of more than %d bytes exceeds the limit of %d bytes", limit, limit)))
				return
			}
			r.Body, r.ContentLength = io.NopCloser(bytes.NewReader(b)), int64(len(b))
		}
		r.Body = http.MaxBytesReader(w, r.Body, limit)
		next.ServeHTTP(w, r)
	})
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
}

// writeStatus writes a gRPC status as the gateway would.
func writeStatus(w http.ResponseWriter, code int, st *status.Status) {
	b, err := protojson.Marshal(st.Proto())
	if err != nil {
		b = []byte(`{"code":13,"message":"internal error"}`)
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_, _ = w.Write(b)
}
