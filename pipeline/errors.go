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

// ErrMachine is wrapped by the errors of a fault of the machine a role
// runs on (a full disk, a read-only folder, a clock off the storage's), as
// opposed to its services' or the producer's.
var ErrMachine = errors.New("fault of the machine")

// The kinds of machine faults.
const (
	FaultDiskFull  = "disk-full"
	FaultReadOnly  = "read-only"
	FaultNoFolder  = "missing-folder"
	FaultOpenFiles = "open-files"
	FaultMemory    = "memory"
	FaultClock     = "clock-skew"
	FaultTool      = "tool"
)

// MachineError is a fault of the machine: the task that meets it waits
// (it is retried as long as it takes, as through an outage, and resumes
// by itself), and what it says names the machine, never S3 or the
// producer.
type MachineError struct {
	Kind string // one of the Fault constants
	Path string // the folder, for the faults of a disk
	What string // what the folder is: "the worker's temp folder (TMPDIR)", "the data folder"
	Free int64  // bytes free, for FaultDiskFull; -1 if unknown
	Need int64  // bytes the task needs there; 0 if unknown
	// Problem and Fix say it in plain words, when Kind's own do not fit.
	Problem, Fix string
	Err          error
}

// Error says what waits, what is wrong and what to do.
func (e *MachineError) Error() string {
	return "waiting for " + e.WaitsFor() + ": " + e.Describe()
}

// WaitsFor is what the work waits for, in a few words.
func (e *MachineError) WaitsFor() string {
	switch e.Kind {
	case FaultDiskFull:
		return "room on " + e.Path
	case FaultReadOnly:
		return e.Path + " to be writable"
	case FaultNoFolder:
		return "the folder " + e.Path
	case FaultOpenFiles:
		return "file descriptors"
	case FaultMemory:
		return "memory"
	case FaultClock:
		return "the clock"
	}
	return "the machine"
}

// Describe says what is wrong and how to fix it.
func (e *MachineError) Describe() string {
	if e.Problem != "" {
		return e.Problem + "; " + e.Fix
	}
	what := ""
	if e.What != "" {
		what = " (" + e.What + ")"
	}
	switch e.Kind {
	case FaultDiskFull:
		s := "no space left on " + e.Path + what
		if e.Free >= 0 {
			s += fmt.Sprintf(": %s free", bytesText(e.Free))
		}
		if e.Need > 0 {
			s += fmt.Sprintf(", the task needs %s", bytesText(e.Need))
		}
		return s + "; free space there (or move it to a larger disk); the work resumes by itself"
	case FaultReadOnly:
		return e.Path + what + " is read-only; remount it read-write or point prodcast at a writable folder; the work resumes by itself"
	case FaultNoFolder:
		return e.Path + what + " does not exist; create it (or mount its disk again); the work resumes by itself"
	case FaultOpenFiles:
		return "the process has run out of file descriptors (too many open files); raise its limit (LimitNOFILE= in systemd, ulimit -n); the work resumes by itself"
	case FaultMemory:
		return "the machine is out of memory; give the role more memory or run fewer tasks at once (PRODCAST_CONCURRENCY); the work resumes by itself"
	}
	if e.Err != nil {
		return e.Err.Error()
	}
	return "a fault of the machine"
}

// Unwrap returns the cause, ErrMachine and ErrUnavailable: the work waits.
func (e *MachineError) Unwrap() []error {
	if e.Err == nil {
		return []error{ErrMachine, ErrUnavailable}
	}
	return []error{e.Err, ErrMachine, ErrUnavailable}
}

// IsMachine reports whether err is, or wraps, a fault of the machine.
func IsMachine(err error) bool { return errors.Is(err, ErrMachine) }

func bytesText(n int64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.1f GB", float64(n)/1e9)
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MB", float64(n)/1e6)
	}
	return fmt.Sprintf("%d KB", n/1000)
}
