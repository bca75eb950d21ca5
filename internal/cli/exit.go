package cli

import "errors"

// A UsageError is a command line that does not parse (an unknown flag, a
// bad value). [ExitCode] gives 2 for it, as the flag package does.
type UsageError struct{ Err error }

func (e UsageError) Error() string {
	return e.Err.Error() + " (nats-autotls -h lists the options)"
}

func (e UsageError) Unwrap() error { return e.Err }

// ExitCode is the process exit status for err: 0 for nil, 2 for a
// [UsageError], 1 otherwise.
func ExitCode(err error) int {
	var ue UsageError
	switch {
	case err == nil:
		return 0
	case errors.As(err, &ue):
		return 2
	default:
		return 1
	}
}
