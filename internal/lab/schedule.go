package lab

// job is one unit of work for schedule: run under a broker (key) shared with other
// jobs, or with that broker to itself.
type job struct {
	key       any  // the broker the work disturbs or depends on; nil for none
	exclusive bool // nothing else may run on key meanwhile
}

// schedule calls run(i) for every job, at most parallel at once, and returns when all
// have returned. An exclusive job starts only once nothing runs on its key, and nothing
// starts on the key until it is done. Jobs start in index order whenever they can; an
// exclusive job that has to wait also holds back the later jobs on its key, so that a
// stream of shared work never starves it.
//
// One goroutine (the caller's) owns the bookkeeping; runs report back over a channel.
func schedule(jobs []job, parallel int, run func(i int)) {
	parallel = max(parallel, 1)
	done := make(chan int)
	pending := make([]int, len(jobs))
	for i := range pending {
		pending[i] = i
	}
	running := 0
	shared := map[any]int{}     // key → shared jobs running on it
	exclusive := map[any]bool{} // key → an exclusive job runs on it
	for len(pending) > 0 || running > 0 {
		waiting := map[any]bool{} // keys an earlier exclusive job is waiting for
		var later []int
		for _, i := range pending {
			s := jobs[i]
			free := !exclusive[s.key] && !waiting[s.key] && (!s.exclusive || shared[s.key] == 0)
			if running >= parallel || !free {
				if s.exclusive {
					waiting[s.key] = true
				}
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
