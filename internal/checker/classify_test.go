package checker

import (
	"context"
	"errors"
	"testing"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

func withReason(c codes.Code, reason string) error {
	st, err := status.New(c, "msg").WithDetails(&errdetails.ErrorInfo{Reason: reason, Domain: "mediationd.dev"})
	if err != nil {
		panic(err)
	}
	return st.Err()
}

// TestClassify: UNAVAILABLE is a refusal only when the service says nothing
// was written; a lost commit, a bare UNAVAILABLE (a proxy's), a deadline
// or a transport error leave the outcome unknown; none of the UNAVAILABLE
// answers settles a request id.
func TestClassify(t *testing.T) {
	for _, tc := range []struct {
		err     error
		outcome Outcome
		settles bool
	}{
		{nil, Acked, true},
		{withReason(codes.FailedPrecondition, "ACTION_NOT_ALLOWED"), Refused, true},
		{withReason(codes.Unavailable, ReasonNothingWritten), Refused, false},
		{withReason(codes.Unavailable, ReasonOutcomeUnknown), Unknown, false},
		{status.Error(codes.Unavailable, "connection refused"), Unknown, false},
		{status.Error(codes.DeadlineExceeded, "deadline"), Unknown, false},
		{status.Error(codes.Internal, "internal"), Unknown, false},
		{errors.Join(context.Canceled), Unknown, false},
	} {
		o, code, _, reason := classify(tc.err)
		if o != tc.outcome || settles(o, code) != tc.settles {
			t.Errorf("%v (reason %q): %v, settles %v; want %v, settles %v", tc.err, reason, o, settles(o, code), tc.outcome, tc.settles)
		}
	}
}
