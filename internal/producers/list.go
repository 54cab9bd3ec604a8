package producers

import (
	"cmp"
	"slices"
)

// Producers returns a copy of every tracked producer's state, by producer id.
func (s *State) Producers() []ProducerInfo {
	out := make([]ProducerInfo, 0, len(s.producers))
	for id := range s.producers {
		info, _ := s.Producer(id)
		out = append(out, info)
	}
	slices.SortFunc(out, func(a, b ProducerInfo) int { return cmp.Compare(a.ID, b.ID) })
	return out
}
