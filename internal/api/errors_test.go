package api

import (
	"testing"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"

	"github.com/mediationd/mediationd/internal/store"
)

// TestTooSlowIsResourceExhausted: a list page or statistics the statement
// timeout ended is RESOURCE_EXHAUSTED, reason QUERY_TOO_COSTLY, with a
// message that says what to do.
func TestTooSlowIsResourceExhausted(t *testing.T) {
	for _, err := range []error{store.ErrListTooSlow, store.ErrStatisticsTooSlow} {
		st := ToStatus(err)
		if st.Code() != codes.ResourceExhausted {
			t.Errorf("%v: code %v, want RESOURCE_EXHAUSTED", err, st.Code())
		}
		var reason string
		for _, d := range st.Details() {
			if info, ok := d.(*errdetails.ErrorInfo); ok {
				reason = info.GetReason()
			}
		}
		if reason != "QUERY_TOO_COSTLY" {
			t.Errorf("%v: reason %q, want QUERY_TOO_COSTLY", err, reason)
		}
		if msg := st.Message(); len(msg) < 60 {
			t.Errorf("%v: message %q does not say what to do", err, msg)
		}
	}
}
