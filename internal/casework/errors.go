package casework

import (
	"errors"
	"fmt"
	"strings"
)

// ErrNotFound reports that a resource does not exist (or is not visible to
// the caller).
var ErrNotFound = errors.New("not found")

// FieldError reports a request field that is missing or malformed. The API
// answers it with INVALID_ARGUMENT and a field violation.
type FieldError struct {
	Field   string // the request field, in the API's snake_case path, e.g. "reason"
	Message string // what is wrong and how to fix it
}

func (e *FieldError) Error() string { return e.Field + ": " + e.Message }

// NotAllowedError reports an action the case's current state does not
// allow. The API answers it with FAILED_PRECONDITION.
type NotAllowedError struct {
	Action  Action
	State   State
	Allowed []Action // the actions allowed in State, sorted
}

func (e *NotAllowedError) Error() string {
	allowed := "none: the case is closed"
	if len(e.Allowed) > 0 {
		names := make([]string, len(e.Allowed))
		for i, a := range e.Allowed {
			names[i] = string(a)
		}
		allowed = strings.Join(names, ", ")
	}
	return fmt.Sprintf("action %q is not allowed in state %s; allowed in %s: %s", e.Action, e.State, e.State, allowed)
}

// ConflictError reports a request that cannot be applied because the case
// changed since the caller read it (a stale etag). The API answers it with
// ABORTED: read the case again and decide again.
type ConflictError struct {
	Message string
	// Version is the version the record is at now, 0 if unknown: the API
	// gives it back as the etag to read.
	Version int64
}

func (e *ConflictError) Error() string { return e.Message }

// PreconditionError reports a request that is well formed but does not fit
// the case as it is, other than by its state (for example assigning a case
// to the mediator who already has it). The API answers it with
// FAILED_PRECONDITION.
type PreconditionError struct {
	Reason  string // a stable UPPER_SNAKE_CASE code for machines
	Message string
}

func (e *PreconditionError) Error() string { return e.Message }

// AlreadyExistsError reports a create that collides with an existing
// resource, such as a request_id reused for a different request. The API
// answers it with ALREADY_EXISTS.
type AlreadyExistsError struct {
	Reason  string
	Message string
}

func (e *AlreadyExistsError) Error() string { return e.Message }
