package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/spf13/cobra"
	"github.com/twmb/franz-go/pkg/kgo"
)

type produceOptions struct {
	key             string
	keyDelimiter    string
	headers         []string
	acks            string
	idempotent      bool
	partition       int32
	compression     string
	linger          time.Duration
	deliveryTimeout time.Duration
	printOffsets    bool
}

func newProduceCmd(cfg *clientConfig) *cobra.Command {
	var opts produceOptions
	cmd := &cobra.Command{
		Use:   "produce TOPIC",
		Short: "Write each line of stdin to a topic as one record",
		Long: `Read stdin line by line and produce one record per line (the newline, and a
carriage return before it, are not part of the record; an empty line is an empty record).
Records are batched; at end of input (or Ctrl-C) everything read so far is flushed and a
summary goes to stderr. The command fails if any record was not acknowledged.

Without --key or --key-delimiter records have no key and the partitioner spreads them.
With --key-delimiter, a line without the delimiter is produced with no key.
Idempotence needs --acks all; with --acks 0 or 1 it is turned off.`,
		Example: `  echo hello | waybill produce orders
  waybill produce orders < records.txt
  printf 'k1:v1\nk2:v2\n' | waybill produce orders --key-delimiter :
  waybill produce orders --key customer-42 -H source=cli -H trace=abc < events.txt
  waybill produce orders --acks 1 --compression zstd --linger 50ms < big.txt
  waybill produce orders --partition 3 --print-offsets < one.txt`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runProduce(cmd, cfg, args[0], opts)
		},
	}
	f := cmd.Flags()
	f.StringVarP(&opts.key, "key", "k", "", "key for every record")
	f.StringVarP(&opts.keyDelimiter, "key-delimiter", "K", "", `split each line at the first DELIM into key and value ("\t" means a tab)`)
	f.StringArrayVarP(&opts.headers, "header", "H", nil, "header key=value for every record, repeatable")
	f.Int32VarP(&opts.partition, "partition", "p", -1, "produce every record to this partition (-1: let the partitioner choose)")
	opts.acks, opts.idempotent, opts.compression = "all", true, "none"
	bindProducerFlags(f, &opts.acks, &opts.idempotent, &opts.compression, &opts.linger)
	f.DurationVar(&opts.deliveryTimeout, "delivery-timeout", 30*time.Second, "give up on a record not acknowledged within this time")
	f.BoolVar(&opts.printOffsets, "print-offsets", false, "print the partition and offset of each acknowledged record to stdout")
	return cmd
}

// producerOpts turns the flags into franz-go producer options, rejecting contradictions
// before anything is sent.
func (o produceOptions) producerOpts(cmd *cobra.Command, topic string) ([]kgo.Opt, error) {
	if o.key != "" && o.keyDelimiter != "" {
		return nil, &cliError{msg: "--key and --key-delimiter cannot be combined", hint: "use --key for one key for all records, --key-delimiter to read a key from each line"}
	}
	acks, err := parseAcks(o.acks)
	if err != nil {
		return nil, err
	}
	codec, err := parseCompression(o.compression)
	if err != nil {
		return nil, err
	}
	opts := []kgo.Opt{
		kgo.DefaultProduceTopic(topic),
		kgo.RequiredAcks(acks),
		kgo.ProducerBatchCompression(codec),
		kgo.ProducerLinger(o.linger),
		kgo.RecordDeliveryTimeout(o.deliveryTimeout),
	}
	// Kafka only allows idempotence with acks=all; anything else would make the broker
	// reject every produce, so turn it off and say so if the user asked for it.
	idempotent := o.idempotent
	if idempotent && acks != kgo.AllISRAcks() {
		idempotent = false
		if cmd.Flags().Changed("idempotent") {
			fmt.Fprintf(cmd.ErrOrStderr(), "note: --idempotent needs --acks all; producing with --acks %s without idempotence\n", o.acks)
		}
	}
	if !idempotent {
		opts = append(opts, kgo.DisableIdempotentWrite())
	}
	if o.partition >= 0 {
		opts = append(opts, kgo.RecordPartitioner(kgo.ManualPartitioner()))
	}
	return opts, nil
}

func runProduce(cmd *cobra.Command, cfg *clientConfig, topic string, o produceOptions) error {
	headerPairs, err := parseKeyValues("-H/--header", o.headers)
	if err != nil {
		return err
	}
	opts, err := o.producerOpts(cmd, topic)
	if err != nil {
		return err
	}
	cl, err := cfg.newClient(opts...)
	if err != nil {
		return err
	}
	defer cl.Close()

	// kgo would retry an unknown topic for a while and then fail every record; checking
	// first gives one clear error instead.
	if err := checkPartitionsExist(cmd.Context(), cfg, cl, topic, o.partition); err != nil {
		return err
	}

	var headers []kgo.RecordHeader
	for _, h := range headerPairs {
		headers = append(headers, kgo.RecordHeader{Key: h[0], Value: []byte(h[1])})
	}
	delim := o.keyDelimiter
	if delim == `\t` {
		delim = "\t"
	}
	tally := newProduceTally(cmd.OutOrStdout(), o.printOffsets)

	// Ctrl-C stops reading but still flushes what was read: records already handed to
	// the producer are delivered rather than silently dropped.
	stopReading, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	lines, readErr := readLines(stopReading, cmd.InOrStdin())
	interrupted := false
read:
	for {
		select {
		case <-stopReading.Done():
			interrupted = true
			break read
		case line, ok := <-lines:
			if !ok {
				break read
			}
			r := &kgo.Record{Value: line, Headers: headers, Partition: o.partition}
			switch {
			case o.key != "":
				r.Key = []byte(o.key)
			case delim != "":
				if k, v, found := bytes.Cut(line, []byte(delim)); found {
					r.Key, r.Value = k, v
				}
			}
			lineNo := tally.sent()
			cl.Produce(cmd.Context(), r, func(r *kgo.Record, err error) { tally.done(lineNo, r, err) })
		}
	}

	flushCtx, cancel := context.WithTimeout(context.WithoutCancel(cmd.Context()), o.deliveryTimeout+5*time.Second)
	defer cancel()
	flushErr := cl.Flush(flushCtx)
	tally.summarize(cmd.ErrOrStderr(), topic, interrupted)

	switch {
	case flushErr != nil:
		return cfg.explain(fmt.Errorf("waiting for acknowledgements: %w", flushErr))
	case tally.failedCount() > 0:
		return tally.asError(cfg)
	}
	select {
	case err := <-readErr:
		return &cliError{msg: fmt.Sprintf("reading stdin: %v", err), err: err}
	default:
		return nil
	}
}

// readLines feeds stdin's lines to a channel so the produce loop can also watch for
// Ctrl-C while a read blocks. Each line is a fresh slice without its line ending, because
// the producer keeps it until the record is acknowledged.
func readLines(ctx context.Context, in io.Reader) (<-chan []byte, <-chan error) {
	lines := make(chan []byte, 256)
	errc := make(chan error, 1)
	go func() {
		defer close(lines)
		br := bufio.NewReaderSize(in, 64<<10)
		for {
			line, err := br.ReadBytes('\n')
			if len(line) > 0 {
				line = bytes.TrimSuffix(line, []byte("\n"))
				line = bytes.TrimSuffix(line, []byte("\r"))
				select {
				case lines <- line:
				case <-ctx.Done():
					return
				}
			}
			if err != nil {
				if !errors.Is(err, io.EOF) {
					errc <- err
				}
				return
			}
		}
	}()
	return lines, errc
}
