#!/usr/bin/python3
"""confluent-kafka-python (librdkafka) driven by test/compat's Go tests.

  produce --bootstrap ADDR --topic T             < [{"key": k, "value": v}, ...]
      Idempotent acks=all Producer; prints the delivered records as JSON, in delivery
      order: [{"partition", "offset", "key", "value"}, ...].
  consume --bootstrap ADDR --topic T --group G --count N --timeout S
      Consumer in group G (auto.offset.reset=earliest, no auto commit) reads N records,
      commits them synchronously, closes (leaving the group) and prints them as JSON.

Any client error, any error-level librdkafka log line (protocol violations it recovers
from are only logged), or not reaching N records within S seconds exits non-zero with
the reason on stderr.
"""

import argparse
import json
import logging
import sys
import time

import confluent_kafka


def fail(msg):
    print(msg, file=sys.stderr)
    sys.exit(1)


class ErrorLog(logging.Handler):
    """Collects librdkafka's error-level log lines (syslog 3 and below map to ERROR+)."""

    def __init__(self):
        super().__init__(level=logging.ERROR)
        self.lines = []

    def emit(self, record):
        self.lines.append(self.format(record))

    def check(self):
        if self.lines:
            fail("librdkafka logged errors:\n" + "\n".join(self.lines))


def client_logger():
    log = logging.getLogger("librdkafka")
    log.setLevel(logging.WARNING)
    handler = ErrorLog()
    log.addHandler(handler)
    return log, handler


def produce(args):
    wanted = json.load(sys.stdin)
    log, errlog = client_logger()
    p = confluent_kafka.Producer({
        "bootstrap.servers": args.bootstrap,
        "logger": log,
        # librdkafka 2.x defaults to acks=all but not to idempotence; ask for both.
        "enable.idempotence": True,
        "acks": "all",
    })
    delivered, errors = [], []

    def on_delivery(err, msg):
        if err is not None:
            errors.append(f"{msg.key()!r}: {err}")
            return
        delivered.append({
            "partition": msg.partition(),
            "offset": msg.offset(),
            "key": msg.key().decode(),
            "value": msg.value().decode(),
        })

    for r in wanted:
        p.produce(args.topic, key=r["key"].encode(), value=r["value"].encode(), on_delivery=on_delivery)
    remaining = p.flush(args.timeout)
    if errors:
        fail("delivery failed: " + "; ".join(errors))
    if remaining:
        fail(f"{remaining} records still undelivered after {args.timeout}s")
    errlog.check()
    json.dump(delivered, sys.stdout)


def consume(args):
    errors = []
    log, errlog = client_logger()
    c = confluent_kafka.Consumer({
        "bootstrap.servers": args.bootstrap,
        "logger": log,
        "group.id": args.group,
        "auto.offset.reset": "earliest",
        "enable.auto.commit": False,
        "error_cb": lambda err: errors.append(str(err)),
    })
    c.subscribe([args.topic])
    got = []
    deadline = time.monotonic() + args.timeout
    while len(got) < args.count:
        if errors:
            fail(f"client error after {len(got)} of {args.count} records: " + "; ".join(errors))
        left = deadline - time.monotonic()
        if left <= 0:
            fail(f"read {len(got)} of {args.count} records in {args.timeout}s")
        msg = c.poll(min(left, 0.5))
        if msg is None:
            continue
        if msg.error():
            fail(f"consume error after {len(got)} records: {msg.error()}")
        got.append({
            "partition": msg.partition(),
            "offset": msg.offset(),
            "key": msg.key().decode(),
            "value": msg.value().decode(),
        })
    c.commit(asynchronous=False)
    c.close()
    errlog.check()
    json.dump(got, sys.stdout)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("command", choices=["produce", "consume"])
    ap.add_argument("--bootstrap", required=True)
    ap.add_argument("--topic", required=True)
    ap.add_argument("--group")
    ap.add_argument("--count", type=int)
    ap.add_argument("--timeout", type=float, default=20.0)
    args = ap.parse_args()
    if args.command == "produce":
        produce(args)
    else:
        consume(args)


if __name__ == "__main__":
    main()
