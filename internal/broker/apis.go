package broker

import (
	"sort"

	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/waybill/waybill/internal/server"
)

// api is one implemented Kafka API: its version range and handler. Each handler lives in
// its own file, named by key, and registers itself from init.
type api struct {
	min, max int16
	handle   func(b *Broker, r *server.Request) server.Pending
}

var apis = map[int16]api{}

func register(key kmsg.Key, min, max int16, handle func(b *Broker, r *server.Request) server.Pending) {
	if _, dup := apis[int16(key)]; dup {
		panic("broker: api registered twice: " + key.Name())
	}
	apis[int16(key)] = api{min: min, max: max, handle: handle}
}

// Supported implements server.Handler.
func (b *Broker) Supported(key, version int16) bool {
	a, ok := apis[key]
	return ok && version >= a.min && version <= a.max
}

// ApiVersions implements server.Handler: exactly what is registered.
func (b *Broker) ApiVersions() []kmsg.ApiVersionsResponseApiKey {
	keys := make([]kmsg.ApiVersionsResponseApiKey, 0, len(apis))
	for key, a := range apis {
		k := kmsg.NewApiVersionsResponseApiKey()
		k.ApiKey, k.MinVersion, k.MaxVersion = key, a.min, a.max
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool { return keys[i].ApiKey < keys[j].ApiKey })
	return keys
}

// Handle implements server.Handler.
func (b *Broker) Handle(r *server.Request) server.Pending {
	b.metrics.requests.WithLabelValues(kmsg.NameForKey(r.Key)).Inc()
	return apis[r.Key].handle(b, r)
}
