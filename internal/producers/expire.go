package producers

// DefaultExpirationMs is Kafka's default producer.id.expiration.ms (one day).
const DefaultExpirationMs = 86400000

// Expire forgets producers whose last append is expirationMs or more before nowMs, so
// that the state of producers that went away does not grow forever. A producer with an
// ongoing transaction is kept: its transaction must end (commit, abort or coordinator
// timeout) first. It returns how many producers were forgotten.
func (s *State) Expire(nowMs, expirationMs int64) int {
	n := 0
	for id, p := range s.producers {
		if p.txnFirstOffset < 0 && nowMs-p.lastTimestamp >= expirationMs {
			delete(s.producers, id)
			n++
		}
	}
	return n
}
