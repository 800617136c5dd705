package checker

import (
	"errors"
	"fmt"
	"time"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/mediationd/mediationd/internal/casework"
)

// Outcome is what a client learned from one call.
type Outcome int

const (
	// Acked is an OK response: the service says the request took effect.
	Acked Outcome = iota + 1
	// Refused is a definitive refusal: the service says nothing was written.
	Refused
	// Unknown is a call that ended without a definitive answer (deadline,
	// lost connection, internal error): the request may or may not have
	// been applied, and only the history can tell.
	Unknown
)

// String names the outcome for reports.
func (o Outcome) String() string {
	switch o {
	case Acked:
		return "acked"
	case Refused:
		return "refused"
	case Unknown:
		return "unknown"
	}
	return fmt.Sprintf("Outcome(%d)", int(o))
}

// Call is one lifecycle action request as the client saw it. The
// verifier compares these against the database.
type Call struct {
	// Seq orders calls by the time they were started.
	Seq int64
	// Worker is the worker that made the call (-1 for Resolve); Replica
	// the index of the connection it went to.
	Worker  int
	Replica int
	// Case is the case the request named, cases/{uuid}.
	Case   string
	Action casework.Action
	// Method is the full gRPC method called.
	Method    string
	RequestID string
	Etag      string
	// Retry marks a call that repeated an earlier one with an unknown
	// outcome (same request id, same body) during the run; Resolve marks
	// one made by Workload.Resolve after the run.
	Retry   bool
	Resolve bool
	Start   time.Time
	End     time.Time
	Outcome Outcome
	Code    codes.Code
	Message string
	// Reason is the ErrorInfo reason of a refusal or failure, if any.
	Reason string
	// EventVersion and EventAction are the history event the response
	// returned, for acknowledged calls.
	EventVersion int64
	EventAction  casework.Action
}

// Latency is how long the call took.
func (c Call) Latency() time.Duration { return c.End.Sub(c.Start) }

// CreateCall is one CreateCase request as the client saw it.
type CreateCall struct {
	// Seq, Worker and Replica are as in Call.
	Seq       int64
	Worker    int
	Replica   int
	RequestID string
	// Duplicate marks a request sent again with the same request id and
	// body on purpose; Concurrent marks one sent alongside its twin.
	Duplicate  bool
	Concurrent bool
	// Altered marks a different registration sent on purpose under the
	// request id of an acknowledged one: the service must refuse it.
	Altered bool
	// Resolve marks a request re-sent by Workload.Resolve.
	Resolve bool
	Start   time.Time
	End     time.Time
	Outcome Outcome
	Code    codes.Code
	Message string
	// Reason is as in Call.
	Reason string
	// Case is the case the response named, for acknowledged calls.
	Case string
}

// Latency is how long the call took.
func (c CreateCall) Latency() time.Duration { return c.End.Sub(c.Start) }

// Record is everything a workload did, as the client saw it.
type Record struct {
	// RunID marks the cases of the run: their summaries start with
	// Marker(RunID).
	RunID   string
	Calls   []Call
	Creates []CreateCall
}

// Marker is the prefix of the summary of every case a run registers, so
// that the verifier can find the run's cases in a shared database.
func Marker(runID string) string { return "mediation-check " + runID + " " }

// classify turns a call's error into its outcome and the reason of its
// ErrorInfo. Codes that mean the request was examined and turned down are
// refusals, and so is UNAVAILABLE with the reason DATABASE_UNAVAILABLE: the
// service says that nothing was written (no writable primary answered).
// Everything else (deadline, transport, cancellation, internal errors,
// UNAVAILABLE with COMMIT_OUTCOME_UNKNOWN or without a reason, which may
// come after a commit) leaves the outcome unknown. Taking the service at
// its word on DATABASE_UNAVAILABLE is what lets the verifier catch a
// service that says so of a change it did make.
func classify(err error) (Outcome, codes.Code, string, string) {
	if err == nil {
		return Acked, codes.OK, "", ""
	}
	st, ok := status.FromError(err)
	if !ok {
		return Unknown, codes.Unknown, err.Error(), ""
	}
	msg := st.Message()
	if len(msg) > 300 {
		msg = msg[:300] + "..."
	}
	reason := ""
	for _, d := range st.Details() {
		if info, ok := d.(*errdetails.ErrorInfo); ok {
			reason = info.GetReason()
		}
	}
	switch st.Code() {
	case codes.InvalidArgument, codes.NotFound, codes.AlreadyExists, codes.PermissionDenied,
		codes.FailedPrecondition, codes.Aborted, codes.OutOfRange, codes.Unimplemented,
		codes.Unauthenticated, codes.ResourceExhausted:
		return Refused, st.Code(), msg, reason
	case codes.Unavailable:
		if reason == ReasonNothingWritten {
			return Refused, st.Code(), msg, reason
		}
	}
	return Unknown, st.Code(), msg, reason
}

// The ErrorInfo reasons of UNAVAILABLE: the database answered that nothing
// was written, or the outcome of a change is unknown.
const (
	ReasonNothingWritten = "DATABASE_UNAVAILABLE"
	ReasonOutcomeUnknown = "COMMIT_OUTCOME_UNKNOWN"
)

// settles reports whether a call's answer says for good what became of
// its request: not an unknown outcome, and not UNAVAILABLE either, which
// (even when it says nothing was written by this call) is no answer about
// an earlier call with the same request id.
func settles(o Outcome, code codes.Code) bool {
	return o != Unknown && code != codes.Unavailable
}

// errNoEvent is returned for an OK response that names no event, which
// the service never sends for an action.
var errNoEvent = errors.New("the response holds no event")
