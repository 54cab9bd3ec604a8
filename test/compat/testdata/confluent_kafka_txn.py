#!/usr/bin/python3
"""confluent-kafka-python (librdkafka) transactions, driven by test/compat's Go tests.

  transactions --bootstrap ADDR --topic T --transactional-id ID
        < [{"values": [v, ...], "commit": true|false}, ...]
      One transactional Producer runs the transactions in order: each produces its
      values (keyed by themselves), waits until all are delivered, then commits or aborts.
  transform --bootstrap ADDR --input IN --output OUT --group G --transactional-id ID
            --count N --tag TAG --end commit|abort
      A read_committed Consumer in group G reads N records of IN; in one transaction a
      Producer writes "TAG:<value>" to OUT for each and sends the offsets after the
      records read to the transaction, which then commits or aborts. Prints the input
      records read as JSON: [{"partition", "offset", "key", "value"}, ...].
  read --bootstrap ADDR --topic T --isolation read_committed|read_uncommitted
      A Consumer assigned every partition of T from the start reads to the end of each
      (the last stable offset under read_committed) and prints the records as JSON.

Any client error, error-level librdkafka log line, or deadline missed exits non-zero.
"""

import argparse
import json
import sys
import time

import confluent_kafka

from confluent_kafka_client import client_logger, fail


def as_record(msg):
    key, value = msg.key(), msg.value()
    return {
        "partition": msg.partition(),
        "offset": msg.offset(),
        "key": key.decode() if key is not None else "",
        "value": value.decode() if value is not None else "",
    }


def txn_producer(args, log):
    p = confluent_kafka.Producer({
        "bootstrap.servers": args.bootstrap,
        "logger": log,
        "transactional.id": args.transactional_id,
        "acks": "all",
    })
    p.init_transactions(args.timeout)
    return p


def produce_delivered(p, topic, values, timeout):
    """Produces values and waits until every one is delivered."""
    errors = []

    def on_delivery(err, msg):
        if err is not None:
            errors.append(f"{msg.value()!r}: {err}")

    for v in values:
        p.produce(topic, key=v.encode(), value=v.encode(), on_delivery=on_delivery)
    remaining = p.flush(timeout)
    if errors:
        fail("delivery in a transaction failed: " + "; ".join(errors))
    if remaining:
        fail(f"{remaining} records still undelivered after {timeout}s")


def end_transaction(p, end, timeout):
    if end == "commit":
        p.commit_transaction(timeout)
    else:
        p.abort_transaction(timeout)


def transactions(args):
    wanted = json.load(sys.stdin)
    log, errlog = client_logger()
    p = txn_producer(args, log)
    for txn in wanted:
        p.begin_transaction()
        produce_delivered(p, args.topic, txn["values"], args.timeout)
        end_transaction(p, "commit" if txn["commit"] else "abort", args.timeout)
    errlog.check()


def read_records(c, count, timeout):
    got = []
    deadline = time.monotonic() + timeout
    while len(got) < count:
        left = deadline - time.monotonic()
        if left <= 0:
            fail(f"read {len(got)} of {count} records in {timeout}s")
        msg = c.poll(min(left, 0.2))
        if msg is None:
            continue
        if msg.error():
            fail(f"consume error after {len(got)} records: {msg.error()}")
        got.append(msg)
    return got


def transform(args):
    log, errlog = client_logger()
    errors = []
    c = confluent_kafka.Consumer({
        "bootstrap.servers": args.bootstrap,
        "logger": log,
        "group.id": args.group,
        "auto.offset.reset": "earliest",
        "enable.auto.commit": False,
        "isolation.level": "read_committed",
        "error_cb": lambda err: errors.append(str(err)),
    })
    p = txn_producer(args, log)
    c.subscribe([args.input])
    msgs = read_records(c, args.count, args.timeout)
    if errors:
        fail("consumer error: " + "; ".join(errors))

    p.begin_transaction()
    produce_delivered(p, args.output, [f"{args.tag}:{m.value().decode()}" for m in msgs], args.timeout)
    next_offsets = {}
    for m in msgs:
        next_offsets[m.partition()] = m.offset() + 1
    offsets = [confluent_kafka.TopicPartition(args.input, part, off) for part, off in sorted(next_offsets.items())]
    p.send_offsets_to_transaction(offsets, c.consumer_group_metadata(), args.timeout)
    end_transaction(p, args.end, args.timeout)
    c.close()
    errlog.check()
    json.dump([as_record(m) for m in msgs], sys.stdout)


def read(args):
    log, errlog = client_logger()
    c = confluent_kafka.Consumer({
        "bootstrap.servers": args.bootstrap,
        "logger": log,
        "group.id": "confluent-kafka-txn-reader",  # required by the client; never joined
        "enable.auto.commit": False,
        "enable.partition.eof": True,
        "isolation.level": args.isolation,
    })
    partitions = c.list_topics(args.topic, timeout=args.timeout).topics[args.topic].partitions
    c.assign([confluent_kafka.TopicPartition(args.topic, p, confluent_kafka.OFFSET_BEGINNING) for p in partitions])
    at_end, got = set(), []
    deadline = time.monotonic() + args.timeout
    while len(at_end) < len(partitions):
        left = deadline - time.monotonic()
        if left <= 0:
            fail(f"reached the end of {len(at_end)} of {len(partitions)} partitions in {args.timeout}s")
        msg = c.poll(min(left, 0.2))
        if msg is None:
            continue
        if msg.error():
            if msg.error().code() == confluent_kafka.KafkaError._PARTITION_EOF:
                at_end.add(msg.partition())
                continue
            fail(f"consume error after {len(got)} records: {msg.error()}")
        got.append(as_record(msg))
    c.close()
    errlog.check()
    json.dump(got, sys.stdout)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("command", choices=["transactions", "transform", "read"])
    ap.add_argument("--bootstrap", required=True)
    ap.add_argument("--topic")
    ap.add_argument("--input")
    ap.add_argument("--output")
    ap.add_argument("--group")
    ap.add_argument("--transactional-id")
    ap.add_argument("--count", type=int)
    ap.add_argument("--tag")
    ap.add_argument("--end", choices=["commit", "abort"])
    ap.add_argument("--isolation", choices=["read_committed", "read_uncommitted"])
    ap.add_argument("--timeout", type=float, default=8.0)
    args = ap.parse_args()
    {"transactions": transactions, "transform": transform, "read": read}[args.command](args)


if __name__ == "__main__":
    main()
