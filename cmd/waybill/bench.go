package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"runtime/pprof"
	"strings"

	"github.com/spf13/cobra"

	"github.com/waybill/waybill/internal/bench"
	"github.com/waybill/waybill/internal/clientopt"
)

// benchOptions are the bench command's flags beyond the workload itself.
type benchOptions struct {
	target     string
	compare    bool
	brokers    string
	dataDir    string
	set        []string
	json       bool
	cpuProfile string
	brokerLogs bool
}

func newBenchCmd() *cobra.Command {
	var o benchOptions
	w := bench.DefaultWorkload()
	cmd := &cobra.Command{
		Use:   "bench produce|consume|all",
		Short: "Measure produce and consume throughput and produce latency",
		Long: `Measure a Kafka-compatible cluster with franz-go clients.

Modes:
  produce         produce as fast as acks come back (closed loop): MB/s, records/s and
                  latency percentiles (which here include time queued in the client)
  produce --rate  produce at a fixed rate in MB/s (open loop): latency percentiles
                  measured from each record's intended send time, so a stalled broker
                  cannot hide behind a slowed-down sender (no coordinated omission)
  consume         read the topic from the start until caught up: MB/s, records/s; on an
                  empty or fresh topic it produces first (closed loop)
  all             produce, then produce --rate (default 50 MB/s), then consume

Transactions:
  --transactional       every producer client gets its own transactional id and loops:
                        begin, produce for --txn-interval (closed loop, or on the --rate
                        schedule), flush, commit; only committed records count, and the
                        transactions committed and the commit latency (EndTransaction)
                        are reported too; consume then reads committed records only
  --compare-idempotent  on each target, after an unmeasured 3 s warm-up produce, run the
                        phases twice, back to back on fresh topics: idempotent, then
                        transactional; prints the overhead (1 - txn MB/s / idempotent)

Targets:
  external        the cluster at --brokers (default)
  waybill         an in-process Waybill broker on a temporary data directory, with the
                  broker's defaults: acks are answered after fsync (group commit)
  kfake           franz-go's in-memory fake cluster in-process, the comparison peer
  --compare       the same workload against waybill, then kfake, side by side

Each phase runs for --duration, or until --records records. Unless --topic is given, a
fresh bench-<random> topic with --partitions partitions is created and deleted at the
end (--keep keeps it). MB is 10^6 bytes. A progress line goes to stderr every second;
the results go to stdout as a table, or as JSON with --json. In-process targets share
the machine's CPUs with the benchmark's own clients.`,
		Example: `  # produce throughput against a broker started with 'waybill serve'
  waybill bench produce
  # p99 latency at a fixed 50 MB/s against an in-process broker
  waybill bench produce --target waybill --rate 50 --duration 15s
  # the whole suite against waybill and kfake, side by side
  waybill bench all --compare --duration 15s
  # consume what a previous run left in a kept topic
  waybill bench produce --topic bench-load --keep --records 1000000
  waybill bench consume --topic bench-load
  # acks=1 without idempotence, lz4, JSON for scripts
  waybill bench produce --acks 1 --compression lz4 --json
  # transactions of 100 ms against an in-process broker, and their overhead
  waybill bench produce --target waybill --transactional --txn-interval 100ms
  waybill bench produce --target waybill --compare-idempotent --duration 6s`,
		Args:      cobra.MatchAll(cobra.ExactArgs(1), cobra.OnlyValidArgs),
		ValidArgs: []string{"produce", "consume", "all"},
		RunE: func(cmd *cobra.Command, args []string) error {
			if !cmd.Flags().Changed("idempotent") && w.Acks != "all" && w.Acks != "-1" {
				w.Idempotent = false // idempotence needs acks=all; only an explicit flag insists
			}
			if cmd.Flags().Changed("records") && !cmd.Flags().Changed("duration") {
				w.Duration = 0 // --records alone bounds phases by count only
			}
			return runBench(cmd, args[0], o, w, cmd.Flags().Changed("rate"))
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.target, "target", "external", "waybill, kfake or external")
	f.BoolVar(&o.compare, "compare", false, "run against waybill and kfake in turn and compare them")
	bindBrokersFlag(f, &o.brokers, "of the external target")
	f.StringVar(&o.dataDir, "data-dir", "", "where the waybill target puts its temporary data directory (default: the system temp dir)")
	f.StringArrayVar(&o.set, "set", nil, "broker config name=value for the waybill target (repeatable)")
	f.BoolVar(&o.brokerLogs, "broker-logs", false, "show the waybill target's warnings and errors on stderr")
	f.BoolVar(&o.json, "json", false, "print the results as JSON")
	f.StringVar(&o.cpuProfile, "cpuprofile", "", "write a CPU profile of the whole process (clients and in-process broker) to this file")

	f.StringVar(&w.Topic, "topic", "", "topic to use (default: a fresh bench-<random> topic)")
	f.BoolVar(&w.Keep, "keep", false, "keep the topic the run created")
	f.Int32Var(&w.Partitions, "partitions", w.Partitions, "partitions of a topic the run creates")
	f.IntVar(&w.RecordSize, "record-size", w.RecordSize, "bytes per record value")
	f.IntVar(&w.Producers, "producers", w.Producers, "producing clients")
	f.IntVar(&w.Consumers, "consumers", w.Consumers, "consuming clients, each reading a share of the partitions")
	bindProducerFlags(f, &w.Acks, &w.Idempotent, &w.Compression, &w.Linger)
	f.DurationVar(&w.Duration, "duration", w.Duration, "length of each phase")
	f.Int64Var(&w.Records, "records", 0, "records per phase instead of a duration")
	f.Float64Var(&w.RateMBps, "rate", w.RateMBps, "MB/s of the fixed-rate produce (set it to make produce open-loop)")
	f.BoolVar(&w.Transactional, "transactional", false, "transactional producers, one transactional id per client, committing every --txn-interval")
	f.DurationVar(&w.TxnInterval, "txn-interval", w.TxnInterval, "how long each transaction produces before it flushes and commits")
	f.BoolVar(&w.CompareIdempotent, "compare-idempotent", false, "run idempotent, then transactional, on fresh topics, and print the transactions' overhead")
	f.Int32Var(&w.BatchMaxBytes, "batch-max-bytes", w.BatchMaxBytes, "largest record batch a producer builds")
	return cmd
}

func runBench(cmd *cobra.Command, mode string, o benchOptions, w bench.Workload, fixedRate bool) error {
	phases, err := bench.PhasesFor(mode, fixedRate)
	if err != nil {
		return err
	}
	targets, err := benchTargets(o)
	if err != nil {
		return err
	}
	topts, err := o.targetOptions()
	if err != nil {
		return err
	}
	if o.cpuProfile != "" {
		stop, err := startCPUProfile(o.cpuProfile)
		if err != nil {
			return err
		}
		defer stop()
	}
	ctx, cancel := signal.NotifyContext(cmdContext(cmd), os.Interrupt)
	defer cancel()
	report, runErr := bench.RunTargets(ctx, targets, topts, w, phases, cmd.ErrOrStderr())
	if report != nil && len(report.Results) > 0 {
		if o.json {
			err = report.WriteJSON(cmd.OutOrStdout())
		} else {
			err = report.WriteTable(cmd.OutOrStdout())
		}
	}
	if runErr != nil {
		return runErr
	}
	return err
}

func benchTargets(o benchOptions) ([]bench.Target, error) {
	if o.compare {
		return []bench.Target{bench.TargetWaybill, bench.TargetKfake}, nil
	}
	t, err := bench.ParseTarget(o.target)
	if err != nil {
		return nil, err
	}
	return []bench.Target{t}, nil
}

func (o benchOptions) targetOptions() (bench.TargetOptions, error) {
	topts := bench.TargetOptions{DataDir: o.dataDir, BrokerConfigs: map[string]string{}}
	topts.Brokers = clientopt.List(o.brokers)
	for _, kv := range o.set {
		k, v, ok := strings.Cut(kv, "=")
		if !ok {
			return topts, fmt.Errorf("--set %q: expected name=value", kv)
		}
		topts.BrokerConfigs[k] = v
	}
	if o.brokerLogs {
		topts.Logger = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	}
	return topts, nil
}

func startCPUProfile(path string) (stop func(), err error) {
	f, err := os.Create(path)
	if err != nil {
		return nil, err
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, err
	}
	return func() {
		pprof.StopCPUProfile()
		f.Close()
	}, nil
}

func cmdContext(cmd *cobra.Command) context.Context {
	if ctx := cmd.Context(); ctx != nil {
		return ctx
	}
	return context.Background()
}
