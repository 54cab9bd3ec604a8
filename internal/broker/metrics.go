package broker

import (
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
)

// metrics are the broker's Prometheus series, in a registry of its own so that several
// brokers can live in one process (tests, the lab).
type metrics struct {
	registry      *prometheus.Registry
	requests      *prometheus.CounterVec
	producedBytes prometheus.Counter
	fetchedBytes  prometheus.Counter
}

func newMetrics() *metrics {
	m := &metrics{
		registry: prometheus.NewRegistry(),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "waybill_requests_total", Help: "Kafka requests received, by API.",
		}, []string{"api"}),
		producedBytes: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "waybill_produced_bytes_total", Help: "Record batch bytes appended by producers.",
		}),
		fetchedBytes: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "waybill_fetched_bytes_total", Help: "Record batch bytes served to fetchers.",
		}),
	}
	m.registry.MustRegister(m.requests, m.producedBytes, m.fetchedBytes,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// Registry is the broker's Prometheus registry, served on /metrics by the admin listener.
func (b *Broker) Registry() *prometheus.Registry { return b.metrics.registry }
