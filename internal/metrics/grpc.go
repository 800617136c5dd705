package metrics

import (
	"context"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/mediationd/mediationd/internal/casework"
	mediationv1 "github.com/mediationd/mediationd/proto/mediation/v1"
)

// The results of mediationd_case_actions_total and
// mediationd_overdue_job_runs_total.
const (
	resultOK      = "ok"
	resultRefused = "refused" // the service declined: state, input, permission, etag, limits
	resultError   = "error"   // the service failed or the call did not finish
)

// caseActionOf names the action of each CaseService method that registers
// a case or moves it through its lifecycle, in the domain's own words
// (casework.Action). Reads are not actions.
var caseActionOf = map[string]casework.Action{
	mediationv1.CaseService_CreateCase_FullMethodName:                  casework.ActionCreate,
	mediationv1.CaseService_AcceptCase_FullMethodName:                  casework.ActionAccept,
	mediationv1.CaseService_RejectCase_FullMethodName:                  casework.ActionReject,
	mediationv1.CaseService_AssignCase_FullMethodName:                  casework.ActionAssign,
	mediationv1.CaseService_StartMediation_FullMethodName:              casework.ActionStartMediation,
	mediationv1.CaseService_RecordAgreement_FullMethodName:             casework.ActionRecordAgreement,
	mediationv1.CaseService_RecordFailure_FullMethodName:               casework.ActionRecordFailure,
	mediationv1.CaseService_WithdrawCase_FullMethodName:                casework.ActionWithdraw,
	mediationv1.CaseService_CloseCase_FullMethodName:                   casework.ActionClose,
	mediationv1.CaseService_UpdateCase_FullMethodName:                  casework.ActionUpdate,
	mediationv1.CaseService_RecuseCase_FullMethodName:                  casework.ActionRecuse,
	mediationv1.CaseService_ExtendDeadline_FullMethodName:              casework.ActionExtendDeadline,
	mediationv1.CaseService_ScheduleSession_FullMethodName:             casework.ActionScheduleSession,
	mediationv1.CaseService_RecordSession_FullMethodName:               casework.ActionRecordSession,
	mediationv1.CaseService_CancelSession_FullMethodName:               casework.ActionCancelSession,
	mediationv1.CaseService_RequestJudicialConfirmation_FullMethodName: casework.ActionRequestConfirmation,
	mediationv1.CaseService_RecordConfirmationDecision_FullMethodName:  casework.ActionRecordConfirmation,
	mediationv1.CaseService_RecordPerformance_FullMethodName:           casework.ActionRecordPerformance,
	mediationv1.CaseService_RecordFollowUp_FullMethodName:              casework.ActionRecordFollowUp,
}

// caseActions are the action labels, for creating their series up front.
var caseActions = func() []string {
	out := make([]string, 0, len(caseActionOf))
	for _, a := range caseActionOf {
		out = append(out, string(a))
	}
	return out
}()

// resultOf sorts a status code into ok, refused or error. Refused are the
// answers where the service worked as designed and said no: the request,
// the caller, the case's state or its etag did not allow the action.
// Everything else that is not OK (INTERNAL, UNAVAILABLE, DEADLINE_EXCEEDED,
// CANCELED, ...) is an error.
func resultOf(c codes.Code) string {
	switch c {
	case codes.OK:
		return resultOK
	case codes.InvalidArgument, codes.NotFound, codes.AlreadyExists, codes.PermissionDenied,
		codes.ResourceExhausted, codes.FailedPrecondition, codes.Aborted, codes.OutOfRange,
		codes.Unauthenticated:
		return resultRefused
	}
	return resultError
}

// codeCount is the number of gRPC status codes (OK through UNAUTHENTICATED).
const codeCount = int(codes.Unauthenticated) + 1

// codeNames are the code labels, indexed by code.
var codeNames = func() [codeCount]string {
	var out [codeCount]string
	for c := range out {
		out[c] = codes.Code(c).String()
	}
	return out
}()

// methodMetrics are one method's series, looked up once per method rather
// than once per call.
type methodMetrics struct {
	duration prometheus.Observer
	// requests holds the counter of each code, made at the code's first
	// use so that only the codes a method returned are exported.
	requests [codeCount]atomic.Pointer[prometheus.Counter]
	// actions holds the ok, refused and error counters of a case action;
	// nil for other methods.
	actions map[string]prometheus.Counter
}

// methodCache maps a full method name to its methodMetrics. Its keys are
// the methods registered with the gRPC server: grpc-go answers calls to
// any other method itself, before the interceptors run.
type methodCache struct{ m sync.Map }

func (m *Metrics) method(name string) *methodMetrics {
	if v, ok := m.methods.m.Load(name); ok {
		return v.(*methodMetrics)
	}
	mm := &methodMetrics{duration: m.grpcDuration.WithLabelValues(name)}
	if a, ok := caseActionOf[name]; ok {
		mm.actions = map[string]prometheus.Counter{}
		for _, r := range []string{resultOK, resultRefused, resultError} {
			mm.actions[r] = m.caseActions.WithLabelValues(string(a), r)
		}
	}
	v, _ := m.methods.m.LoadOrStore(name, mm)
	return v.(*methodMetrics)
}

// UnaryServerInterceptor counts and times every unary call by method and
// code, and counts case actions by result. It belongs first in the chain,
// so that it times the whole call and sees the status the caller gets
// (after domain errors are mapped to codes). Streaming calls (reflection,
// the health service's Watch) are not counted: the API has none.
func (m *Metrics) UnaryServerInterceptor() grpc.UnaryServerInterceptor {
	if m == nil {
		return func(ctx context.Context, req any, _ *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
			return handler(ctx, req)
		}
	}
	return func(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
		start := time.Now()
		resp, err := handler(ctx, req)
		m.observeRPC(info.FullMethod, status.Code(err), time.Since(start))
		return resp, err
	}
}

func (m *Metrics) observeRPC(method string, code codes.Code, d time.Duration) {
	if int(code) >= codeCount {
		code = codes.Unknown
	}
	mm := m.method(method)
	mm.duration.Observe(d.Seconds())
	c := mm.requests[code].Load()
	if c == nil {
		// Two first calls may both get here; the vector gives both the
		// same counter.
		counter := m.grpcRequests.WithLabelValues(method, codeNames[code])
		c = &counter
		mm.requests[code].Store(c)
	}
	(*c).Inc()
	if mm.actions != nil {
		mm.actions[resultOf(code)].Inc()
	}
}
