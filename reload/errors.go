package reload

import "fmt"

// A ConfirmError reports that the server at Addr did not serve the exported
// certificate within the confirmation timeout: the reload signal was lost,
// went to the wrong process, or the server refused the new files.
type ConfirmError struct {
	// Addr is the address probed.
	Addr string
	// Want is the serial number (hex) of the exported leaf.
	Want string
	// Got is the serial number (hex) of the leaf served at the last probe,
	// or "" if no probe succeeded.
	Got string
	// Err is why the reload could not be confirmed beyond the mismatch:
	// the signal error or the last probe error, or nil.
	Err error
}

// Error implements error.
func (e *ConfirmError) Error() string {
	msg := fmt.Sprintf("reload: confirm %s: want certificate serial %s, served %q", e.Addr, e.Want, e.Got)
	if e.Err != nil {
		msg += ": " + e.Err.Error()
	}
	return msg
}

// Unwrap returns Err.
func (e *ConfirmError) Unwrap() error { return e.Err }
