package bench

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"slices"

	"github.com/twmb/franz-go/pkg/kgo"
)

// transactionalIDs hands each producer client of a phase its own transactional id,
// waybill-bench-<random>-<client>, so that no two clients, phases or runs fence each
// other. The zero value hands out none.
type transactionalIDs struct{ prefix string }

func newTransactionalIDs() transactionalIDs {
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	return transactionalIDs{prefix: "waybill-bench-" + hex.EncodeToString(b)}
}

// withID returns opts plus client i's transactional id, leaving opts itself unchanged.
func (ids transactionalIDs) withID(opts []kgo.Opt, client int) []kgo.Opt {
	if ids.prefix == "" {
		return opts
	}
	return append(slices.Clip(opts), kgo.TransactionalID(fmt.Sprintf("%s-%d", ids.prefix, client)))
}
