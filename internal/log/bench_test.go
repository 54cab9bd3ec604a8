package log

import (
	"fmt"
	"testing"

	"github.com/waybill/waybill/internal/vfs"
)

// BenchmarkAppendSync appends ~16 KiB batches of 1 KiB records to the OS filesystem and
// syncs every N batches, as group commit would with N producers sharing an fsync.
func BenchmarkAppendSync(b *testing.B) {
	for _, every := range []int{1, 8, 64} {
		b.Run(fmt.Sprintf("sync_every=%d", every), func(b *testing.B) {
			cfg := DefaultConfig()
			cfg.Logger = discardLogger
			l, err := Open(vfs.Default, b.TempDir(), cfg, nil)
			if err != nil {
				b.Fatal(err)
			}
			defer l.Close()
			batch := makeBatch(16, 1000, 1_700_000_000_000)
			b.SetBytes(int64(len(batch)))
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if _, err := l.Append(batch, 1); err != nil {
					b.Fatal(err)
				}
				if (i+1)%every == 0 {
					if _, err := l.Sync(); err != nil {
						b.Fatal(err)
					}
				}
			}
			if _, err := l.Sync(); err != nil {
				b.Fatal(err)
			}
		})
	}
}

// BenchmarkReadTail reads the newest batches, as a consumer at the tail does.
func BenchmarkReadTail(b *testing.B) {
	cfg := DefaultConfig()
	cfg.Logger = discardLogger
	l, err := Open(vfs.Default, b.TempDir(), cfg, nil)
	if err != nil {
		b.Fatal(err)
	}
	defer l.Close()
	batch := makeBatch(16, 1000, 1_700_000_000_000)
	for i := 0; i < 2000; i++ {
		if _, err := l.Append(batch, 1); err != nil {
			b.Fatal(err)
		}
	}
	end := l.EndOffset()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		c, err := l.Read(end-int64(16*(1+i%1000)), 1<<20, end)
		if err != nil || c.Size == 0 {
			b.Fatal(err)
		}
		c.Release()
	}
}
