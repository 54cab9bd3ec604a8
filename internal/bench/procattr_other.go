//go:build !linux

package bench

import "syscall"

// childProcAttr puts a broker process in a process group of its own, so that the
// terminal's Ctrl-C reaches only the bench, which then stops the brokers in order. Only
// Linux can also have a broker killed when the bench dies first.
func childProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true}
}
