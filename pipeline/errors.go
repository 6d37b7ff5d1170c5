package pipeline

import (
	"errors"
	"fmt"
)

// ErrNotFound is returned by storage when an object or episode does not exist.
var ErrNotFound = errors.New("not found")

// InputError is a problem with what the producer dropped. Retrying cannot fix
// it: the bundle goes to failed/ with ERROR.txt holding Problem and Fix.
type InputError struct {
	Problem string // what is wrong, e.g. `episode.md has no "title"`
	Fix     string // what the producer should do next
	Err     error  // the underlying cause, if any
}

// Error returns the problem and the fix in one line.
func (e *InputError) Error() string {
	msg := e.Problem
	if e.Err != nil {
		msg += ": " + e.Err.Error()
	}
	if e.Fix != "" {
		msg += " (fix: " + e.Fix + ")"
	}
	return msg
}

// Unwrap returns the underlying cause.
func (e *InputError) Unwrap() error { return e.Err }

// Inputf returns an InputError whose problem is formatted from format and args.
func Inputf(fix, format string, args ...any) *InputError {
	return &InputError{Problem: fmt.Sprintf(format, args...), Fix: fix}
}

// IsInput reports whether err is, or wraps, an InputError.
func IsInput(err error) bool {
	var ie *InputError
	return errors.As(err, &ie)
}

// ErrUnavailable is wrapped by errors from a service that did not answer:
// storage or the queue down, restarting or unreachable. Such errors are
// waited out (retried for as long as it takes), never reported as the
// producer's problem.
var ErrUnavailable = errors.New("service unavailable")

// UnavailableError is an error from a service that did not answer.
type UnavailableError struct {
	Service string // "S3" or "Redis"
	Err     error
}

// Error names the service and the cause.
func (e *UnavailableError) Error() string {
	return "waiting for " + e.Service + ": " + e.Err.Error()
}

// Unwrap returns the cause.
func (e *UnavailableError) Unwrap() []error { return []error{e.Err, ErrUnavailable} }

// Unavailable wraps err as an outage of service; nil stays nil.
func Unavailable(service string, err error) error {
	if err == nil {
		return nil
	}
	return &UnavailableError{Service: service, Err: err}
}

// IsUnavailable reports whether err is, or wraps, an outage.
func IsUnavailable(err error) bool { return errors.Is(err, ErrUnavailable) }
