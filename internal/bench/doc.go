// Package bench generates load against a Kafka-compatible cluster and measures it:
// closed-loop produce throughput, fixed-rate (open-loop) produce latency and consume
// throughput, with franz-go's kgo as the client. Latencies go into a log-bucket
// histogram (Histogram) that is safe for concurrent use.
//
// A run is a Workload (what to send) against a Target (where: an in-process Waybill
// broker, franz-go's in-memory kfake, or an external cluster), split into phases
// (Phase) whose results (Result) render as a terminal table or as JSON.
//
// Throughput is in MB/s with MB = 10^6 bytes, counting record values and keys.
package bench
