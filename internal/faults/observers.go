package faults

// observerSet is a copy-on-write list of observers: its owner changes it under its own
// mutex, and readers take the slice under that mutex and call the observers without it.
type observerSet struct {
	list []observer
	next int
}

type observer struct {
	id int
	fn func(Event)
}

func (s *observerSet) add(fn func(Event)) int {
	id := s.next
	s.next++
	s.list = append(s.list[:len(s.list):len(s.list)], observer{id, fn})
	return id
}

func (s *observerSet) remove(id int) {
	kept := make([]observer, 0, len(s.list))
	for _, o := range s.list {
		if o.id != id {
			kept = append(kept, o)
		}
	}
	s.list = kept
}

func call(list []observer, ev Event) {
	for _, o := range list {
		o.fn(ev)
	}
}
