package broker

import (
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/waybill/waybill/internal/cluster"
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

// followLeaderBalance exposes the controller's leader balancing
// (auto.leader.rebalance.enable), read from stats at every scrape.
func (m *metrics) followLeaderBalance(stats func() cluster.LeaderBalanceStats) {
	m.registry.MustRegister(
		prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "waybill_controller_leader_imbalance_checks_total",
			Help: "Leader imbalance checks this node made while it was the controller.",
		}, func() float64 { return float64(stats().Checks) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "waybill_controller_preferred_replica_imbalance",
			Help: "Partitions not led by their preferred replica at the controller's last check (Kafka's PreferredReplicaImbalanceCount); 0 on other nodes.",
		}, func() float64 { return float64(stats().Imbalanced) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "waybill_controller_preferred_leaders_electable",
			Help: "Of those, the partitions the last check found should move back to their preferred replica, which is in sync and alive: elected at once with auto.leader.rebalance.enable, else waiting for ElectLeaders.",
		}, func() float64 { return float64(stats().Electable) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "waybill_controller_preferred_leader_elections_total",
			Help: "Preferred leader elections the controller's leader balancing made.",
		}, func() float64 { return float64(stats().Elections) }),
	)
}
