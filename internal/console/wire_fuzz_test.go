package console

import (
	"testing"

	"github.com/waybill/waybill/internal/records"
)

// FuzzBatchValues feeds arbitrary bytes as the record batches of an observed Produce
// request: the simulator reads what it can and never panics.
func FuzzBatchValues(f *testing.F) {
	batch := records.Build(records.BuildOptions{}, []records.Record{{Value: []byte("s1-0")}, {Value: []byte("s1-1")}})
	f.Add(batch)
	f.Add(append(append([]byte(nil), batch...), batch...))
	f.Add(batch[:len(batch)-3])
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		_ = batchValues(b)
	})
}
