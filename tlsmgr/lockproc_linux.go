package tlsmgr

import (
	"errors"
	"os"
	"strings"
	"syscall"
)

// currentProcess identifies this process: the boot from the kernel's
// boot_id, the PID namespace from /proc/self/ns/pid.
func currentProcess() processID {
	boot, _ := os.ReadFile("/proc/sys/kernel/random/boot_id")
	ns, _ := os.Readlink("/proc/self/ns/pid")
	return processID{Host: hostname(), Boot: strings.TrimSpace(string(boot)), PIDNS: ns, PID: os.Getpid()}
}

// processExists reports whether a process with pid runs (or is a zombie
// not yet reaped) in this PID namespace.
func processExists(pid int) bool {
	err := syscall.Kill(pid, 0)
	return err == nil || errors.Is(err, syscall.EPERM)
}
