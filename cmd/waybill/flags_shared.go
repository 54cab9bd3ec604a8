package main

import (
	"os"
	"time"

	"github.com/spf13/pflag"
)

// The flags several commands share are registered here, once, so their names, defaults,
// environment variables and help read the same in every command's --help.

// defaultBrokers matches a broker started with `waybill serve` and no flags, so the tools
// work out of the box on one machine.
const defaultBrokers = "127.0.0.1:9092"

// bindBrokersFlag registers --brokers, defaulting to $WAYBILL_BROKERS, on every command
// that talks to a cluster. Kafka's tools say --bootstrap-server and `lab verify` once said
// --bootstrap: both still work, hidden, so --help lists one way to name the brokers.
func bindBrokersFlag(fs *pflag.FlagSet, p *string, scope string) {
	usage := "comma-separated seed brokers, host:port"
	if scope != "" {
		usage += ", " + scope
	}
	def := envOrDefault("WAYBILL_BROKERS", defaultBrokers)
	fs.StringVar(p, "brokers", def, usage+" (env WAYBILL_BROKERS)")
	for _, alias := range []string{"bootstrap", "bootstrap-server"} {
		fs.StringVar(p, alias, def, "alias of --brokers")
		_ = fs.MarkHidden(alias) // cannot fail: the flag was just registered
	}
}

// bindProducerFlags registers the producer settings `produce` and `bench` share. Each
// pointer's current value is its command's default.
func bindProducerFlags(fs *pflag.FlagSet, acks *string, idempotent *bool, compression *string, linger *time.Duration) {
	fs.StringVar(acks, "acks", *acks, "acknowledgement to wait for: 0, 1 or all")
	fs.BoolVar(idempotent, "idempotent", *idempotent, "idempotent producer, so retries never duplicate (needs --acks all)")
	fs.StringVarP(compression, "compression", "z", *compression, "batch compression: none, gzip, snappy, lz4 or zstd")
	fs.DurationVar(linger, "linger", *linger, "how long a producer waits for a batch to fill before sending it")
}

func envOrDefault(name, fallback string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return fallback
}
