package tlsmgr

import "os"

// processID identifies a lock holder's process well enough for a waiter on
// the same host to tell that it has exited: host name, boot, PID namespace
// and PID. Boot and PIDNS are empty where the platform cannot tell them,
// and then no holder is judged by its process, only by its lease.
type processID struct {
	Host  string `json:"host,omitempty"`
	Boot  string `json:"boot,omitempty"`
	PIDNS string `json:"pid_ns,omitempty"`
	PID   int    `json:"pid,omitempty"`
}

// outlived reports whether holder was another process in the same host,
// boot and PID namespace as p, and no longer runs. Any doubt (another
// host, an unknown field, this very process) means false.
func (p processID) outlived(holder processID) bool {
	switch {
	case p.Boot == "" || p.PIDNS == "" || holder.PID <= 0 || holder.PID == p.PID:
		return false
	case holder.Host != p.Host || holder.Boot != p.Boot || holder.PIDNS != p.PIDNS:
		return false
	}
	return !processExists(holder.PID)
}

// hostname returns the host name, "" if unknown.
func hostname() string {
	h, _ := os.Hostname()
	return h
}
