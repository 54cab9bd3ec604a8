package partition

// ProducerView is what DescribeProducers (KIP-664) reports of one producer of the
// partition: its epoch, the sequence of its last batch, when it last wrote, the epoch of
// the coordinator that last wrote a marker for it, and where its open transaction began.
type ProducerView struct {
	ProducerID    int64
	ProducerEpoch int16
	// LastSequence is the last sequence number of its latest cached batch, -1 if none
	// (a producer known only through a marker).
	LastSequence int32
	// LastTimestamp is the time of its last append or marker, in ms.
	LastTimestamp int64
	// CoordinatorEpoch is -1 until a marker was written for the producer.
	CoordinatorEpoch int32
	// CurrentTxnStartOffset is the first offset of its ongoing transaction, -1 if none.
	CurrentTxnStartOffset int64
}

// Producers lists the producers the partition tracks, by producer id. It copies the
// state under the append lock and holds it only for that.
func (p *Partition) Producers() []ProducerView {
	p.appendMu.Lock()
	infos := p.producers.Producers()
	p.appendMu.Unlock()
	views := make([]ProducerView, len(infos))
	for i, info := range infos {
		v := ProducerView{
			ProducerID:            info.ID,
			ProducerEpoch:         info.Epoch,
			LastSequence:          -1,
			LastTimestamp:         info.LastTimestamp,
			CoordinatorEpoch:      info.CoordinatorEpoch,
			CurrentTxnStartOffset: info.TxnFirstOffset,
		}
		if n := len(info.Batches); n > 0 {
			v.LastSequence = info.Batches[n-1].LastSeq
		}
		views[i] = v
	}
	return views
}
