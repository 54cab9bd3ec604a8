#!/usr/bin/python3
"""confluent-kafka-python (librdkafka) against topics that do not exist or are deleted,
driven by test/compat's Go tests.

  commit --bootstrap ADDR --group G  < [{"topic", "partition", "offset"}, ...]
      A Consumer of group G, subscribed to nothing, commits the offsets synchronously.
      Prints {"error": the KafkaError name commit() raised, or null}.
  delete-while-assigned --bootstrap ADDR --group G --strategy S --keep K --gone D
                        --count N --timeout T --close-timeout C
      A Consumer of group G (partition.assignment.strategy S) subscribed to K and D reads
      N records, deletes D with the AdminClient while its partition is assigned, polls
      until the group has rebalanced D's partition away, commits an offset of D's
      partition, and closes, waiting C seconds at most for close() to return. Prints
      {"records", "assignment", "commit_error", "closed", "libversion"}. librdkafka's
      debug output (cgrp, protocol, topic, fetch, broker) goes to stderr.

Any other client error, or a deadline missed before close, exits non-zero with the
reason on stderr.
"""

import argparse
import json
import os
import sys
import threading
import time

import confluent_kafka
from confluent_kafka import TopicPartition
from confluent_kafka.admin import AdminClient

from confluent_kafka_client import fail


def commit_error(consumer, offsets):
    """The name of the error commit() raises for offsets, or None."""
    try:
        consumer.commit(offsets=offsets, asynchronous=False)
    except confluent_kafka.KafkaException as e:
        return e.args[0].name()
    return None


def commit(args):
    offsets = [TopicPartition(o["topic"], o["partition"], o["offset"]) for o in json.load(sys.stdin)]
    c = confluent_kafka.Consumer({"bootstrap.servers": args.bootstrap, "group.id": args.group})
    err = commit_error(c, offsets)
    c.close()
    json.dump({"error": err}, sys.stdout)


def delete_while_assigned(args):
    c = confluent_kafka.Consumer({
        "bootstrap.servers": args.bootstrap,
        "group.id": args.group,
        "auto.offset.reset": "earliest",
        "enable.auto.commit": False,
        "partition.assignment.strategy": args.strategy,
        # The group leader learns of the deletion at its next metadata refresh and
        # rebalances the topic away, as in librdkafka's test 0113 (h_delete_topic).
        "topic.metadata.refresh.interval.ms": 1000,
        # Straight to stderr, not through a Python logger: logs reach one only while
        # the application polls, and close() is what may hang.
        "debug": "cgrp,protocol,topic,fetch,broker",
    })
    c.subscribe([args.keep, args.gone])
    deadline = time.monotonic() + args.timeout
    read = 0
    while read < args.count:
        if time.monotonic() > deadline:
            fail(f"read {read} of {args.count} records in {args.timeout}s")
        msg = c.poll(0.2)
        if msg is None:
            continue
        if msg.error():
            fail(f"consume error after {read} records: {msg.error()}")
        read += 1

    admin = AdminClient({"bootstrap.servers": args.bootstrap})
    for topic, f in admin.delete_topics([args.gone], operation_timeout=10).items():
        try:
            f.result()
        except confluent_kafka.KafkaException as e:
            fail(f"deleting {topic}: {e}")

    # Until then the client may report the deleted topic as an error; it is expected.
    while {tp.topic for tp in c.assignment()} != {args.keep}:
        if time.monotonic() > deadline:
            fail(f"assignment still {c.assignment()} after {args.timeout}s")
        c.poll(0.2)
    assignment = [[tp.topic, tp.partition] for tp in c.assignment()]
    err = commit_error(c, [TopicPartition(args.gone, 0, read)])

    # A close() that never returns cannot be interrupted: wait for it on another thread,
    # report, and end the process without waiting for that thread.
    closer = threading.Thread(target=c.close, daemon=True)
    closer.start()
    closer.join(args.close_timeout)
    json.dump({
        "records": read,
        "assignment": assignment,
        "commit_error": err,
        "closed": not closer.is_alive(),
        "libversion": confluent_kafka.libversion()[1],
    }, sys.stdout)
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("command", choices=["commit", "delete-while-assigned"])
    ap.add_argument("--bootstrap", required=True)
    ap.add_argument("--group", required=True)
    ap.add_argument("--strategy")
    ap.add_argument("--keep")
    ap.add_argument("--gone")
    ap.add_argument("--count", type=int)
    ap.add_argument("--timeout", type=float, default=20.0)
    ap.add_argument("--close-timeout", type=float, default=10.0)
    args = ap.parse_args()
    if args.command == "commit":
        commit(args)
    else:
        delete_while_assigned(args)


if __name__ == "__main__":
    main()
