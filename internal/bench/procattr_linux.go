package bench

import "syscall"

// childProcAttr puts a broker process in a process group of its own, so that the
// terminal's Ctrl-C reaches only the bench, which then stops the brokers in order; and
// has the kernel kill it should the bench die first (even by SIGKILL), so that no
// broker outlives the run. (Pdeathsig fires when the thread that started the child
// exits; Go keeps its threads for the life of the process unless a goroutine locked to
// one exits, which nothing in the bench does.)
func childProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}
