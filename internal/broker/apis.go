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

// apiTable is the APIs one listener serves. Clients reach clientAPIs on the Kafka
// listener; other brokers reach controllerAPIs on the controller listener, which is the
// only place a broker may register or heartbeat, as in Kafka.
type apiTable map[int16]api

var (
	clientAPIs     = apiTable{}
	controllerAPIs = apiTable{}
)

// register adds a client API.
func register(key kmsg.Key, min, max int16, handle func(b *Broker, r *server.Request) server.Pending) {
	clientAPIs.add(key, min, max, handle)
}

// registerController adds a controller API.
func registerController(key kmsg.Key, min, max int16, handle func(b *Broker, r *server.Request) server.Pending) {
	controllerAPIs.add(key, min, max, handle)
}

func (t apiTable) add(key kmsg.Key, min, max int16, handle func(b *Broker, r *server.Request) server.Pending) {
	if _, dup := t[int16(key)]; dup {
		panic("broker: api registered twice: " + key.Name())
	}
	t[int16(key)] = api{min: min, max: max, handle: handle}
}

// versions is the table as ApiVersions lists it: exactly what is registered.
func (t apiTable) versions() []kmsg.ApiVersionsResponseApiKey {
	keys := make([]kmsg.ApiVersionsResponseApiKey, 0, len(t))
	for key, a := range t {
		k := kmsg.NewApiVersionsResponseApiKey()
		k.ApiKey, k.MinVersion, k.MaxVersion = key, a.min, a.max
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool { return keys[i].ApiKey < keys[j].ApiKey })
	return keys
}

// listener is the server.Handler of one listener: the broker with that listener's APIs.
type listener struct {
	b    *Broker
	apis apiTable
}

// Supported implements server.Handler.
func (l listener) Supported(key, version int16) bool {
	a, ok := l.apis[key]
	return ok && version >= a.min && version <= a.max
}

// ApiVersions implements server.Handler.
func (l listener) ApiVersions() []kmsg.ApiVersionsResponseApiKey { return l.apis.versions() }

// Handle implements server.Handler.
func (l listener) Handle(r *server.Request) server.Pending {
	l.b.metrics.requests.WithLabelValues(kmsg.NameForKey(r.Key)).Inc()
	if r.Key == int16(kmsg.ApiVersions) {
		return l.handleApiVersions(r)
	}
	return l.apis[r.Key].handle(l.b, r)
}
