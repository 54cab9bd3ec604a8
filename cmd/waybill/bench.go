package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"runtime/pprof"
	"strconv"
	"strings"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/waybill/waybill/internal/bench"
	"github.com/waybill/waybill/internal/clientopt"
	"github.com/waybill/waybill/internal/config"
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

	nodes        int      // > 0: start a cluster of this many serve processes
	brokerBinary string   // what those processes run; default this executable
	durableAcks  bool     // false: waybill.durable.acks=false on the brokers bench starts
	cases        []string // --case specs, parsed over the workload's own settings
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
  --nodes N       a cluster of N 'waybill serve' processes of this binary, started on
                  127.0.0.1 ports chosen at run time with temporary data directories
                  (under --data-dir); the first 1, 3 or 5 nodes are the metadata
                  quorum's voters. The load starts once every broker is registered and
                  unfenced (DescribeCluster); at the end, on an error or on Ctrl-C, the
                  brokers get SIGTERM one at a time, the controller last, and SIGKILL
                  if they are not gone within 15 s. The brokers' CPU time (user +
                  system, /proc/<pid>/stat) is read around each phase and reported as
                  broker CPU seconds per GB acknowledged (per GB read, for consume).

Replication and cases:
  --replication-factor R, --min-insync-replicas M
                  the topic bench creates: R replicas per partition, and its
                  min.insync.replicas (default: the broker's), below which acks=all is
                  refused
  --case rf=R,acks=A,min-isr=M,idempotent=B
                  repeatable: run the phases once per case against the same target,
                  each case on a fresh topic of its own, after one unmeasured 3 s
                  warm-up. Keys a case leaves out come from the flags; idempotence
                  follows the case's acks (on for all) unless --idempotent is given.
                  A table then compares the cases phase by phase: MB/s, p50 and p99
                  latency, broker CPU s/GB (with --nodes), each against the first case.
                  Use --rate to read p99 at a fixed load, such as 20 MB/s.
  --durable-acks=false
                  the brokers bench starts (--nodes or the waybill target) acknowledge
                  before fsync: waybill.durable.acks=false, Kafka's page-cache behaviour

Each phase runs for --duration, or until --records records. Unless --topic is given, a
fresh bench-<random> topic with --partitions partitions is created and deleted at the
end (--keep keeps it). MB is 10^6 bytes. A progress line goes to stderr every second;
the results go to stdout as a table, or as JSON with --json. The brokers bench starts
(in-process, or --nodes) share the machine's CPUs with the benchmark's own clients.`,
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
  waybill bench produce --target waybill --compare-idempotent --duration 6s
  # the cost of replication on one machine: acks=all with RF=3 and min.insync.replicas=2
  # against RF=1, plus acks=1 with RF=3; throughput, then p99 at a fixed 20 MB/s
  waybill bench all --nodes 3 --rate 20MB/s --duration 20s \
    --case rf=1,acks=all --case rf=3,acks=all,min-isr=2 --case rf=3,acks=1
  # the same without fsync before the ack
  waybill bench produce --nodes 3 --durable-acks=false --case rf=1 --case rf=3,min-isr=2`,
		Args:      cobra.MatchAll(cobra.ExactArgs(1), cobra.OnlyValidArgs),
		ValidArgs: []string{"produce", "consume", "all"},
		RunE: func(cmd *cobra.Command, args []string) error {
			if !cmd.Flags().Changed("idempotent") && w.Acks != "all" && w.Acks != "-1" {
				w.Idempotent = false // idempotence needs acks=all; only an explicit flag insists
			}
			if cmd.Flags().Changed("records") && !cmd.Flags().Changed("duration") {
				w.Duration = 0 // --records alone bounds phases by count only
			}
			if err := o.check(cmd.Flags().Changed); err != nil {
				return err
			}
			for _, spec := range o.cases {
				c, err := bench.ParseCase(spec, w.BaseCase(), cmd.Flags().Changed("idempotent"))
				if err != nil {
					return err
				}
				w.Cases = append(w.Cases, c)
			}
			return runBench(cmd, args[0], o, w, cmd.Flags().Changed("rate"))
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.target, "target", "external", "waybill, kfake or external")
	f.BoolVar(&o.compare, "compare", false, "run against waybill and kfake in turn and compare them")
	bindBrokersFlag(f, &o.brokers, "of the external target")
	f.IntVar(&o.nodes, "nodes", 0, "start a cluster of this many 'waybill serve' processes and bench it (default: use --target)")
	f.StringVar(&o.brokerBinary, "broker-binary", "", "the waybill binary the --nodes processes run (default: this executable)")
	f.StringVar(&o.dataDir, "data-dir", "", "where the waybill target and the --nodes cluster put their temporary data directory (default: the system temp dir)")
	f.StringArrayVar(&o.set, "set", nil, "broker config name=value for the brokers bench starts (repeatable)")
	f.BoolVar(&o.durableAcks, "durable-acks", true, "the brokers bench starts acknowledge only after fsync (false sets waybill.durable.acks=false)")
	f.BoolVar(&o.brokerLogs, "broker-logs", false, "show the warnings and errors of the brokers bench starts on stderr")
	f.Int16Var(&w.ReplicationFactor, "replication-factor", w.ReplicationFactor, "replication factor of a topic the run creates")
	f.IntVar(&w.MinInsyncReplicas, "min-insync-replicas", 0, "min.insync.replicas of a topic the run creates (default: the broker's)")
	f.StringArrayVar(&o.cases, "case", nil, "a case to compare, rf=R,acks=A,min-isr=M,idempotent=B; repeatable, each runs on a fresh topic")
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
	f.Var(rateValue{&w.RateMBps}, "rate", "MB/s of the fixed-rate produce, 20 or 20MB/s (set it to make produce open-loop)")
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
	// SIGTERM too, so that a bench stopped by a supervisor stops the brokers it started.
	ctx, cancel := signal.NotifyContext(cmdContext(cmd), os.Interrupt, syscall.SIGTERM)
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

// check rejects flags that contradict each other; changed reports whether a flag was
// given.
func (o benchOptions) check(changed func(string) bool) error {
	switch {
	case o.nodes < 0:
		return fmt.Errorf("--nodes must be at least 1, not %d", o.nodes)
	case o.nodes > 0 && (o.compare || changed("target") || changed("brokers")):
		return errors.New("--nodes starts a cluster of its own to bench: it cannot go with --target, --brokers or --compare")
	case o.nodes > 0 && changed("keep"):
		return errors.New("--keep has no effect with --nodes: the cluster and its data are removed at the end")
	case o.nodes == 0 && changed("broker-binary"):
		return errors.New("--broker-binary is the binary of the --nodes processes; give --nodes too")
	case changed("durable-acks") && o.nodes == 0 && !o.compare && o.target != string(bench.TargetWaybill):
		return errors.New("--durable-acks configures the brokers bench starts (--nodes, or --target waybill); set waybill.durable.acks on an external cluster's brokers or topics instead")
	}
	return nil
}

func benchTargets(o benchOptions) ([]bench.Target, error) {
	if o.nodes > 0 {
		return []bench.Target{bench.TargetCluster}, nil
	}
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
	topts := bench.TargetOptions{DataDir: o.dataDir, BrokerConfigs: map[string]string{}, Nodes: o.nodes}
	topts.Brokers = clientopt.List(o.brokers)
	for _, kv := range o.set {
		k, v, ok := strings.Cut(kv, "=")
		if !ok {
			return topts, fmt.Errorf("--set %q: expected name=value", kv)
		}
		topts.BrokerConfigs[k] = v
	}
	if !o.durableAcks {
		topts.BrokerConfigs[config.DurableAcks] = "false"
	}
	if o.brokerLogs {
		topts.Logger = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
		topts.BrokerOutput = os.Stderr
	}
	if o.nodes > 0 {
		topts.Binary = o.brokerBinary
		if topts.Binary == "" {
			exe, err := os.Executable()
			if err != nil {
				return topts, fmt.Errorf("finding this executable to start the nodes: %w", err)
			}
			topts.Binary = exe
		}
	}
	return topts, nil
}

// rateValue is --rate: MB/s as a number, optionally followed by MB/s (or MB), so that
// the flag reads as the rate it is.
type rateValue struct{ p *float64 }

func (r rateValue) String() string {
	if r.p == nil {
		return ""
	}
	return strconv.FormatFloat(*r.p, 'g', -1, 64)
}

func (r rateValue) Set(s string) error {
	num := strings.TrimSpace(s)
	for _, unit := range []string{"MB/s", "MBps", "MB"} {
		if len(num) > len(unit) && strings.EqualFold(num[len(num)-len(unit):], unit) {
			num = strings.TrimSpace(num[:len(num)-len(unit)])
			break
		}
	}
	v, err := strconv.ParseFloat(num, 64)
	if err != nil || v < 0 {
		return fmt.Errorf("%q is not a rate in MB/s, such as 20 or 20MB/s", s)
	}
	*r.p = v
	return nil
}

func (rateValue) Type() string { return "MB/s" }

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
