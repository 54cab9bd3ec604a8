package broker

import (
	"slices"

	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/waybill/waybill/internal/cluster"
)

// leaderHints gathers, for one Produce or Fetch answer, the leaders named in
// NOT_LEADER_OR_FOLLOWER answers, so that the answer can carry their endpoints (KIP-951:
// a client moves to the new leader without a Metadata round trip).
type leaderHints []int32

func (h *leaderHints) add(leader int32) {
	if leader >= 0 && !slices.Contains(*h, leader) {
		*h = append(*h, leader)
	}
}

// endpoints lists the hinted leaders that the image knows, made by mk (the Produce and
// Fetch answers have each their own broker type).
func endpoints[B any](h leaderHints, img *cluster.Image, mk func(id int32, host string, port int32, rack *string) B) []B {
	var out []B
	for _, id := range h {
		br, ok := img.Brokers[id]
		if !ok || br.Fenced {
			continue
		}
		var rack *string
		if br.Rack != "" {
			rack = kmsg.StringPtr(br.Rack)
		}
		out = append(out, mk(br.ID, br.Host, br.Port, rack))
	}
	return out
}
