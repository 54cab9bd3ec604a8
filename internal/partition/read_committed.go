package partition

import (
	"fmt"

	wlog "github.com/waybill/waybill/internal/log"
	"github.com/waybill/waybill/internal/records"
)

// ReadCommitted serves a read_committed fetch: whole batches from offset that lie below
// the last stable offset, the LSO itself, and the aborted transactions that overlap the
// returned batches (as Kafka does: last offset >= offset and first offset below the end
// of the data), sorted by first offset, so that the consumer can drop their records.
// Nothing is returned at or past the LSO. Release the chunks.
func (p *Partition) ReadCommitted(offset int64, maxBytes int) (chunks *wlog.Chunks, lso int64, aborted []AbortedTxn, err error) {
	lso = p.LastStableOffset()
	chunks, err = p.log.Read(offset, maxBytes, lso)
	if err != nil || len(chunks.List) == 0 {
		return chunks, lso, nil, err
	}
	aborted, err = p.aborted.overlapping(offset, lso, func() (int64, error) { return chunksEnd(chunks) })
	if err != nil {
		chunks.Release()
		return nil, lso, nil, err
	}
	return chunks, lso, aborted, nil
}

// chunksEnd is the offset after the last batch in c (which holds at least one): it walks
// the batch headers of the last chunk.
func chunksEnd(c *wlog.Chunks) (int64, error) {
	ch := c.List[len(c.List)-1]
	hdr := make([]byte, records.HeaderSize)
	end := int64(-1)
	for pos, stop := ch.Pos, ch.Pos+int64(ch.Len); pos < stop; {
		if _, err := ch.File.ReadAt(hdr, pos); err != nil {
			return 0, fmt.Errorf("partition: reading batch header at %s:%d: %w", ch.File.Name(), pos, err)
		}
		h, err := records.ParseHeader(hdr)
		if err != nil {
			return 0, fmt.Errorf("partition: batch header at %s:%d: %w", ch.File.Name(), pos, err)
		}
		end = h.LastOffset() + 1
		pos += int64(h.Size())
	}
	return end, nil
}
