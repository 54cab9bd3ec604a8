package lab

// job is one unit of work for schedule: run under a broker (key) shared with other
// jobs, or with that broker to itself.
type job struct {
	key       any  // the broker the work disturbs or depends on; nil for none
	exclusive bool // nothing else may run on key meanwhile
}

// schedule calls run(i) for every job, at most parallel at once, and returns when all
// have returned. An exclusive job starts only once nothing runs on its key, and nothing
// starts on the key until it is done.
//
// Exclusive jobs are offered first, then shared ones, each in index order; a job starts
// as soon as it can. The exclusive jobs of a key run one after another, often the
// longest chain of a run, so starting them early shortens it; and as a shared job starts
// on a key only once no exclusive job is left for it, shared work never starves them.
//
// One goroutine (the caller's) owns the bookkeeping; runs report back over a channel.
func schedule(jobs []job, parallel int, run func(i int)) {
	parallel = max(parallel, 1)
	done := make(chan int)
	var pending []int
	for _, exclusive := range []bool{true, false} {
		for i, j := range jobs {
			if j.exclusive == exclusive {
				pending = append(pending, i)
			}
		}
	}
	running := 0
	shared := map[any]int{}     // key → shared jobs running on it
	exclusive := map[any]bool{} // key → an exclusive job runs on it
	for len(pending) > 0 || running > 0 {
		var later []int
		for _, i := range pending {
			s := jobs[i]
			if running >= parallel || exclusive[s.key] || s.exclusive && shared[s.key] > 0 {
				later = append(later, i)
				continue
			}
			running++
			if s.exclusive {
				exclusive[s.key] = true
			} else {
				shared[s.key]++
			}
			go func() {
				run(i)
				done <- i
			}()
		}
		pending = later
		i := <-done
		running--
		if s := jobs[i]; s.exclusive {
			delete(exclusive, s.key)
		} else {
			shared[s.key]--
		}
	}
}
