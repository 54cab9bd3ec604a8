package producers

import "testing"

func TestExpire(t *testing.T) {
	s := NewState()
	for id, ts := range map[int64]int64{1: 1000, 2: 5000, 3: 9000} {
		h := batch(id, 0, 0, 1)
		s.Update(h, ts)
	}
	s.producers[2].txnFirstOffset = 40 // an open transaction keeps producer 2
	if n := s.Expire(10500, 2000); n != 1 {
		t.Fatalf("expired %d, want 1", n)
	}
	for id, want := range map[int64]bool{1: false, 2: true, 3: true} {
		if _, ok := s.Producer(id); ok != want {
			t.Errorf("producer %d present %v, want %v", id, ok, want)
		}
	}
	// Exactly expirationMs old is expired, as in Kafka.
	if n := s.Expire(9000+DefaultExpirationMs, DefaultExpirationMs); n != 1 || s.Len() != 1 {
		t.Fatalf("expired %d, %d left", n, s.Len())
	}
	// An expired producer is unknown again: any sequence is accepted.
	if dup, err := s.Check(batch(3, 0, 500, 1)); dup != nil || err != nil {
		t.Fatalf("after expiry: %v, %v", dup, err)
	}
}
