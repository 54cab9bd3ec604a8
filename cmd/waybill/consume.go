package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/spf13/cobra"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
)

type consumeOptions struct {
	group       string
	partitions  string
	from        string
	isolation   string
	num         int
	idleTimeout time.Duration
	format      string
}

func newConsumeCmd(cfg *clientConfig) *cobra.Command {
	var opts consumeOptions
	cmd := &cobra.Command{
		Use:   "consume TOPIC...",
		Short: "Print records from topics, directly or as a member of a consumer group",
		Long: `Print records to stdout until interrupted, until -n records were printed, or until
nothing arrived for --timeout.

Without --group, all partitions (or those given with -p) are read directly and nothing is
committed. With --group, the command joins the group, and the offsets of the records it
printed are committed periodically and when it stops (Ctrl-C included); --from then only
applies to partitions the group has no committed offset for.

--from takes beginning, end, an exact offset (past the end: wait for it), or -N for the
last N records of each partition.

--format is text (each value on its own line), json (one object per line with topic,
partition, offset, timestamp in ms, key, value and headers), or a format string:
` + formatVerbs,
		Example: `  waybill consume orders
  waybill consume orders --from beginning -n 10
  waybill consume orders -p 0,1 --from -5 --format '%p/%o %k=%v'
  waybill consume orders payments --group audit --timeout 10s
  waybill consume orders --format json --isolation read_committed | jq .value`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runConsume(cmd, cfg, uniqueNames(args), opts)
		},
	}
	f := cmd.Flags()
	f.StringVarP(&opts.group, "group", "g", "", "consume as a member of this consumer group, committing offsets")
	f.StringVarP(&opts.partitions, "partitions", "p", "", "read only these partitions directly, e.g. 0,1 or 0-3 (not with --group)")
	f.StringVarP(&opts.from, "from", "o", "beginning", "where to start: beginning, end, OFFSET, or -N for the last N records")
	f.StringVar(&opts.isolation, "isolation", "read_uncommitted", "read_committed hides aborted and open transactions; read_uncommitted shows everything")
	f.IntVarP(&opts.num, "num", "n", 0, "stop after printing this many records (0: no limit)")
	f.DurationVar(&opts.idleTimeout, "timeout", 0, "stop when no record arrives for this long (0: wait forever)")
	f.StringVarP(&opts.format, "format", "f", "text", "output: text, json, or a format string such as '%t %p %o %k %v'")
	return cmd
}

// consumerOpts validates the flags and turns them into franz-go consumer options.
func (o consumeOptions) consumerOpts(topics []string, partitions []int32) ([]kgo.Opt, error) {
	start, exact, err := parseFrom(o.from)
	if err != nil {
		return nil, err
	}
	var opts []kgo.Opt
	if exact {
		// An exact offset past the log end is answered with OFFSET_OUT_OF_RANGE, and
		// kgo's default reset would rewind towards the start. Someone who asked for
		// offset 1000 wants nothing before it: wait at the end instead. (An offset
		// below the log start still starts at the log start.)
		opts = append(opts, kgo.ConsumeResetOffset(kgo.NewOffset().AtEnd()))
	}
	switch o.isolation {
	case "read_uncommitted":
		opts = append(opts, kgo.FetchIsolationLevel(kgo.ReadUncommitted()))
	case "read_committed":
		opts = append(opts, kgo.FetchIsolationLevel(kgo.ReadCommitted()))
	default:
		return nil, &cliError{msg: fmt.Sprintf("--isolation %q is not read_committed or read_uncommitted", o.isolation)}
	}
	switch {
	case o.group != "":
		// AutoCommitMarks: only records we printed are committed, periodically, on
		// rebalance and on exit; records fetched but not printed (-n) are not.
		opts = append(opts, kgo.ConsumerGroup(o.group), kgo.ConsumeTopics(topics...),
			kgo.ConsumeStartOffset(start), kgo.AutoCommitMarks())
	case len(partitions) > 0:
		assign := make(map[string]map[int32]kgo.Offset, len(topics))
		for _, t := range topics {
			assign[t] = make(map[int32]kgo.Offset, len(partitions))
			for _, p := range partitions {
				assign[t][p] = start
			}
		}
		opts = append(opts, kgo.ConsumePartitions(assign))
	default:
		opts = append(opts, kgo.ConsumeTopics(topics...), kgo.ConsumeStartOffset(start))
	}
	return opts, nil
}

func runConsume(cmd *cobra.Command, cfg *clientConfig, topics []string, o consumeOptions) error {
	if o.group != "" && o.partitions != "" {
		return &cliError{msg: "--group and -p/--partitions cannot be combined", hint: "the group decides which partitions each member reads; drop one of them"}
	}
	if o.num < 0 {
		return &cliError{msg: "-n/--num must not be negative"}
	}
	format, err := newRecordFormat(o.format)
	if err != nil {
		return err
	}
	var partitions []int32
	if o.partitions != "" {
		if partitions, err = parsePartitions(o.partitions); err != nil {
			return err
		}
	}
	opts, err := o.consumerOpts(topics, partitions)
	if err != nil {
		return err
	}
	if err := checkConsumable(cmd.Context(), cfg, topics, partitions); err != nil {
		return err
	}
	cl, err := cfg.newClient(opts...)
	if err != nil {
		return err
	}
	defer cl.Close()

	// Ctrl-C and SIGTERM end the loop like -n or --timeout do: output is flushed and
	// offsets of printed records are committed before exiting with status 0.
	ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	loopErr := consumeLoop(ctx, cmd, cl, format, o)
	if o.group == "" {
		return loopErr
	}
	commitCtx, cancel := context.WithTimeout(context.WithoutCancel(cmd.Context()), cfg.requestTimeout)
	defer cancel()
	if err := cl.CommitMarkedOffsets(commitCtx); err != nil {
		return errors.Join(loopErr, &cliError{
			msg:  fmt.Sprintf("committing offsets of group %s: %v", o.group, err),
			hint: cfg.hint(err),
			err:  err,
		})
	}
	return loopErr
}

// checkConsumable fails fast on a misspelt topic or partition; a consumer would
// otherwise wait silently for the topic to appear.
func checkConsumable(ctx context.Context, cfg *clientConfig, topics []string, partitions []int32) error {
	cl, err := cfg.newClient()
	if err != nil {
		return err
	}
	defer cl.Close()
	_, err = checkTopicsExist(ctx, cfg, cl, topics, partitions)
	return err
}

// consumeLoop prints records until ctx ends, -n is reached or --timeout passes without a
// record. Records are marked for commit only after they were written out.
func consumeLoop(ctx context.Context, cmd *cobra.Command, cl *kgo.Client, format recordFormat, o consumeOptions) error {
	out := bufio.NewWriterSize(cmd.OutOrStdout(), 64<<10)
	defer out.Flush()
	var buf []byte
	printed := 0
	for o.num == 0 || printed < o.num {
		pollCtx, cancel := ctx, context.CancelFunc(func() {})
		if o.idleTimeout > 0 {
			pollCtx, cancel = context.WithTimeout(ctx, o.idleTimeout)
		}
		maxRecords := -1
		if o.num > 0 {
			maxRecords = o.num - printed
		}
		fetches := cl.PollRecords(pollCtx, maxRecords)
		cancel()
		if fetches.IsClientClosed() {
			return nil
		}

		records := fetches.Records()
		for _, r := range records {
			buf = format(buf[:0], r)
			if _, err := out.Write(buf); err != nil {
				return err
			}
		}
		if err := out.Flush(); err != nil {
			return err
		}
		if o.group != "" {
			cl.MarkCommitRecords(records...)
		}
		printed += len(records)

		if err := fetchErrors(cmd, fetches); err != nil {
			return err
		}
		if ctx.Err() != nil || (len(records) == 0 && pollCtx.Err() != nil) {
			return nil // interrupted, or idle for --timeout
		}
	}
	return nil
}

// fetchErrors reports per-partition fetch errors on stderr. Most are transient (the
// client retries them), so they are warnings; authorization errors will not go away, so
// they end the command.
func fetchErrors(cmd *cobra.Command, fetches kgo.Fetches) error {
	var fatal error
	fetches.EachError(func(topic string, partition int32, err error) {
		if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
			return
		}
		if errors.Is(err, kerr.TopicAuthorizationFailed) || errors.Is(err, kerr.GroupAuthorizationFailed) {
			fatal = &cliError{msg: fmt.Sprintf("consuming %s: %v", topic, err), hint: kafkaHint(err), err: err}
			return
		}
		where := topic
		if partition >= 0 {
			where = fmt.Sprintf("%s partition %d", topic, partition)
		}
		fmt.Fprintf(cmd.ErrOrStderr(), "warning: %s: %v\n", where, err)
	})
	return fatal
}
