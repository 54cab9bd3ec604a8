package log

import (
	"sync"
	"testing"

	"github.com/waybill/waybill/internal/vfs"
)

// TestAppendProceedsDuringSync blocks an fsync and appends meanwhile: group commit
// depends on it.
func TestAppendProceedsDuringSync(t *testing.T) {
	inSync, release := make(chan struct{}), make(chan struct{})
	var once sync.Once
	block := vfs.NewSwitch(vfs.InjectorFunc(func(op vfs.Op) error {
		if op.Kind == vfs.OpSync {
			once.Do(func() { close(inSync); <-release })
		}
		return nil
	}))
	l := mustOpen(t, vfs.WithErrors(vfs.NewMem(), block), testConfig(t), nil)
	defer l.Close()
	appendN(t, l, 5, 5, 100, 1000)
	block.On()
	done := make(chan int64)
	go func() {
		d, err := l.Sync()
		if err != nil {
			t.Error(err)
		}
		done <- d
	}()
	<-inSync
	appendN(t, l, 50, 5, 100, 1000) // rolls too, while the fsync is stuck
	readHeaders(t, l, 0, 1<<30, 1<<40)
	if l.DurableEnd() >= 25 {
		t.Fatalf("durable %d before the fsync returned", l.DurableEnd())
	}
	close(release)
	if d := <-done; d != 25 {
		t.Fatalf("sync covered %d, want the 25 offsets appended before it", d)
	}
	if d, err := l.Sync(); err != nil || d != 275 {
		t.Fatalf("second sync: %d %v", d, err)
	}
}

// TestConcurrentAppendReadSyncRetention is for the race detector.
func TestConcurrentAppendReadSyncRetention(t *testing.T) {
	cfg := testConfig(t)
	cfg.RetentionBytes = 64 << 10
	l := mustOpen(t, vfs.NewMem(), cfg, nil)
	const batches = 400
	var wg sync.WaitGroup
	stop := make(chan struct{})
	wg.Add(1)
	go func() { // the one appender, with retention on the same goroutine
		defer wg.Done()
		defer close(stop)
		for i := 0; i < batches; i++ {
			if _, err := l.Append(makeBatch(4, 100, int64(i)), 0); err != nil {
				t.Error(err)
				return
			}
			if i%50 == 0 {
				if _, err := l.ApplyRetention(); err != nil {
					t.Error(err)
				}
			}
		}
	}()
	for r := 0; r < 2; r++ {
		wg.Add(1)
		go func() { // readers follow the tail and re-read from the start
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				start := l.StartOffset()
				c, err := l.Read(start, 8<<10, l.EndOffset())
				if err != nil { // retention may move the start under us
					continue
				}
				if _, err := c.ReadInto(nil); err != nil {
					t.Error(err)
				}
				c.Release()
			}
		}()
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			select {
			case <-stop:
				return
			default:
			}
			if _, err := l.Sync(); err != nil {
				t.Error(err)
				return
			}
		}
	}()
	wg.Wait()
	if d, err := l.Sync(); err != nil || d != batches*4 {
		t.Fatalf("final sync %d %v", d, err)
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
}

// TestChunksOutliveDeletion reads a segment that retention then deletes.
func TestChunksOutliveDeletion(t *testing.T) {
	cfg := testConfig(t)
	l := mustOpen(t, vfs.NewMem(), cfg, nil)
	defer l.Close()
	appendN(t, l, 100, 5, 100, 1000)
	c, err := l.Read(0, 1<<30, 1<<40)
	if err != nil {
		t.Fatal(err)
	}
	if err := l.DeleteBefore(400); err != nil {
		t.Fatal(err)
	}
	b, err := c.ReadInto(nil)
	if err != nil || len(b) != c.Size {
		t.Fatalf("read of deleted segments: %d of %d bytes, %v", len(b), c.Size, err)
	}
	c.Release()
	c.Release() // idempotent
}
