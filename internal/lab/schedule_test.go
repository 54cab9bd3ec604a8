package lab

import (
	"slices"
	"sync"
	"testing"
	"time"
)

// gatedJobs runs schedule in the background with jobs that announce their start and
// block until the test releases them, so the test decides the order in which they end.
type gatedJobs struct {
	t       *testing.T
	jobs    []job
	started chan int
	release []chan struct{}
	done    chan struct{}

	mu      sync.Mutex
	running map[int]bool
	most    int
}

func startGated(t *testing.T, jobs []job, parallel int) *gatedJobs {
	g := &gatedJobs{t: t, jobs: jobs, started: make(chan int, len(jobs)), done: make(chan struct{}), running: map[int]bool{}}
	for range jobs {
		g.release = append(g.release, make(chan struct{}))
	}
	go func() {
		defer close(g.done)
		schedule(jobs, parallel, g.run)
	}()
	t.Cleanup(func() {
		for _, r := range g.release {
			select {
			case <-r:
			default:
				close(r)
			}
		}
		<-g.done
	})
	return g
}

// run checks, as each job starts, that nothing shares a key with an exclusive job.
func (g *gatedJobs) run(i int) {
	g.mu.Lock()
	for j := range g.running {
		if g.jobs[j].key == g.jobs[i].key && (g.jobs[j].exclusive || g.jobs[i].exclusive) {
			g.t.Errorf("job %d started while job %d ran on key %v, one of them exclusive", i, j, g.jobs[i].key)
		}
	}
	g.running[i] = true
	g.most = max(g.most, len(g.running))
	g.mu.Unlock()
	g.started <- i
	<-g.release[i]
	g.mu.Lock()
	delete(g.running, i)
	g.mu.Unlock()
}

// next is the next job to start.
func (g *gatedJobs) next() int {
	g.t.Helper()
	select {
	case i := <-g.started:
		return i
	case <-time.After(10 * time.Second):
		g.t.Fatal("no job started within 10 s")
		return -1
	}
}

// starts collects the next n jobs to start, sorted.
func (g *gatedJobs) starts(n int) []int {
	g.t.Helper()
	var got []int
	for range n {
		got = append(got, g.next())
	}
	slices.Sort(got)
	return got
}

func (g *gatedJobs) end(i int) { close(g.release[i]) }

func (g *gatedJobs) wait() {
	g.t.Helper()
	select {
	case <-g.done:
	case <-time.After(10 * time.Second):
		g.t.Fatal("schedule did not return within 10 s of its last job")
	}
}

// Shared jobs run up to the bound at once, and each later one starts as soon as an
// earlier one ends.
func TestScheduleRunsUpToParallelAtOnce(t *testing.T) {
	g := startGated(t, make([]job, 7), 3)
	if got := g.starts(3); !slices.Equal(got, []int{0, 1, 2}) {
		t.Fatalf("first started %v, want 0, 1, 2", got)
	}
	for i := range 4 {
		g.end(i)
		if got := g.next(); got != 3+i {
			t.Fatalf("after job %d ended, job %d started; want %d", i, got, 3+i)
		}
	}
	for i := 4; i < 7; i++ {
		g.end(i)
	}
	g.wait()
	if g.most != 3 {
		t.Errorf("at most %d jobs ran at once, want 3", g.most)
	}
}

// Exclusive jobs start first and keep their key to themselves, one after another; jobs
// on other keys go on meanwhile, and shared jobs on the key start once its exclusive
// jobs are done.
func TestScheduleRunsExclusiveJobsAlone(t *testing.T) {
	const a, b = "broker a", "broker b"
	jobs := []job{
		{key: a},                  // 0
		{key: a, exclusive: true}, // 1
		{key: a},                  // 2
		{key: b},                  // 3
		{key: b, exclusive: true}, // 4
		{key: a, exclusive: true}, // 5
		{key: nil},                // 6: a skipped cell
	}
	g := startGated(t, jobs, 3)
	if got := g.starts(3); !slices.Equal(got, []int{1, 4, 6}) {
		t.Fatalf("first started %v, want the exclusive 1 and 4, and 6", got)
	}
	g.end(6) // a slot frees, but a and b are taken
	g.end(4)
	if got := g.next(); got != 3 {
		t.Fatalf("job %d started, want 3 once b was free", got)
	}
	g.end(1)
	if got := g.next(); got != 5 {
		t.Fatalf("job %d started, want the exclusive 5 before the shared jobs on a", got)
	}
	g.end(5)
	if got := g.starts(2); !slices.Equal(got, []int{0, 2}) {
		t.Fatalf("started %v, want the shared 0 and 2 once a was free", got)
	}
	for _, i := range []int{0, 2, 3} {
		g.end(i)
	}
	g.wait()
	if g.most > 3 {
		t.Errorf("%d jobs ran at once, want at most 3", g.most)
	}
}
