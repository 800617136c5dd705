package api

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/protoadapt"

	"github.com/mediationd/mediationd/internal/auth"
	"github.com/mediationd/mediationd/internal/casework"
	"github.com/mediationd/mediationd/internal/store"
)

// ErrorDomain is the domain of the google.rpc.ErrorInfo details the service
// attaches to refusals.
const ErrorDomain = "mediationd.dev"

// ToStatus turns an error from the domain or the store into the gRPC status
// the caller gets: the one place where errors meet codes. It returns nil for
// nil. Errors it does not recognise become INTERNAL with a message that
// reveals nothing; the caller logs the original.
func ToStatus(err error) *status.Status {
	if err == nil {
		return nil
	}
	if s, ok := status.FromError(err); ok {
		return s
	}
	var (
		fieldErr   *casework.FieldError
		notAllowed *casework.NotAllowedError
		conflict   *casework.ConflictError
		precond    *casework.PreconditionError
		exists     *casework.AlreadyExistsError
		permission *auth.PermissionError
	)
	switch {
	case errors.As(err, &fieldErr):
		return withDetails(codes.InvalidArgument, fieldErr.Error(), &errdetails.BadRequest{
			FieldViolations: []*errdetails.BadRequest_FieldViolation{{Field: fieldErr.Field, Description: fieldErr.Message}},
		})
	case errors.As(err, &notAllowed):
		allowed := make([]string, len(notAllowed.Allowed))
		for i, a := range notAllowed.Allowed {
			allowed[i] = string(a)
		}
		return withDetails(codes.FailedPrecondition, notAllowed.Error(),
			&errdetails.ErrorInfo{Reason: "ACTION_NOT_ALLOWED", Domain: ErrorDomain, Metadata: map[string]string{
				"action":          string(notAllowed.Action),
				"state":           string(notAllowed.State),
				"allowed_actions": strings.Join(allowed, ","),
			}},
			&errdetails.PreconditionFailure{Violations: []*errdetails.PreconditionFailure_Violation{{
				Type: "STATE", Subject: string(notAllowed.State), Description: notAllowed.Error(),
			}}})
	case errors.As(err, &conflict):
		info := &errdetails.ErrorInfo{Reason: "CONCURRENT_CHANGE", Domain: ErrorDomain}
		if conflict.Version > 0 {
			info.Metadata = map[string]string{"current_etag": Etag(conflict.Version)}
		}
		return withDetails(codes.Aborted, conflict.Error(), info)
	case errors.As(err, &precond):
		return withDetails(codes.FailedPrecondition, precond.Error(), &errdetails.ErrorInfo{Reason: precond.Reason, Domain: ErrorDomain})
	case errors.As(err, &exists):
		return withDetails(codes.AlreadyExists, exists.Error(), &errdetails.ErrorInfo{Reason: exists.Reason, Domain: ErrorDomain})
	case errors.As(err, &permission):
		return withDetails(codes.PermissionDenied, permission.Error(), &errdetails.ErrorInfo{Reason: "PERMISSION_DENIED", Domain: ErrorDomain})
	case errors.Is(err, auth.ErrUnauthenticated):
		return status.New(codes.Unauthenticated, "sign in first: send Authorization: Bearer <token> with a token from POST /v1/sessions, or an API key")
	case errors.Is(err, casework.ErrNotFound):
		return status.New(codes.NotFound, err.Error())
	case errors.Is(err, store.ErrStatisticsTooSlow):
		return withDetails(codes.ResourceExhausted, fmt.Sprintf("these figures are counted case by case and took longer than %v: "+
			"narrow the filter, or use only region_code, organization, mediator, dispute_type, source and create_time ranges "+
			"from the first instant of a month (>= and <), which are answered from the statistics' summaries at once", store.StatementTimeout),
			&errdetails.ErrorInfo{Reason: "QUERY_TOO_COSTLY", Domain: ErrorDomain})
	case errors.Is(err, store.ErrListTooSlow):
		return withDetails(codes.ResourceExhausted, fmt.Sprintf("this page took longer than %v to find: "+
			"narrow the filter with a field the README's list of fast filters names (state, region_code, organization, mediator, "+
			"dispute_type, source, outcome, create_time, overdue, the flags …)", store.StatementTimeout),
			&errdetails.ErrorInfo{Reason: "QUERY_TOO_COSTLY", Domain: ErrorDomain})
	case errors.Is(err, store.ErrCommitOutcomeUnknown):
		return withDetails(codes.Unavailable, "the connection to the database was lost while the change was being committed "+
			"(a database failover, most likely), so it may or may not have been made. Retrying with the same requestId is safe: "+
			"it makes the change at most once and returns the first result if it was made. Without a requestId, read the resource "+
			"before deciding to send it again",
			&errdetails.ErrorInfo{Reason: "COMMIT_OUTCOME_UNKNOWN", Domain: ErrorDomain})
	case errors.Is(err, context.Canceled):
		return status.New(codes.Canceled, "the request was canceled")
	case errors.Is(err, context.DeadlineExceeded):
		return status.New(codes.DeadlineExceeded, "the request took longer than its deadline")
	}
	if constraint, ok := store.ViolatedConstraint(err); ok {
		// A check constraint caught input the code above it let through.
		return withDetails(codes.InvalidArgument, "the request breaks a rule of the stored data ("+constraint+"); check the values given",
			&errdetails.ErrorInfo{Reason: "CONSTRAINT_VIOLATED", Domain: ErrorDomain, Metadata: map[string]string{"constraint": constraint}})
	}
	if store.Unavailable(err) {
		msg := "the database is unavailable (no writable primary answers: it is down or a failover is under way); nothing was written; retry with backoff"
		if store.ReadOnly(err) {
			msg = "the database answered as a read-only standby (a failover or switchover is under way); nothing was written; retry with backoff"
		}
		return withDetails(codes.Unavailable, msg,
			&errdetails.ErrorInfo{Reason: "DATABASE_UNAVAILABLE", Domain: ErrorDomain})
	}
	return status.New(codes.Internal, "internal error; the request id in the response headers identifies it in the service's logs")
}

func withDetails(c codes.Code, msg string, details ...protoadapt.MessageV1) *status.Status {
	s := status.New(c, msg)
	if d, err := s.WithDetails(details...); err == nil {
		return d
	}
	return s
}
