#!/usr/bin/env node
// kafkajs transactions, driven by test/compat's Go tests (the same commands as
// ../confluent_kafka_txn.py):
//
//   transactions --bootstrap ADDR --topic T --transactional-id ID
//       < [{"values": [v, ...], "commit": true|false}, ...]
//     One transactional producer runs the transactions in order: each sends its values
//     (keyed by themselves) and waits for the acks, then commits or aborts.
//   transform --bootstrap ADDR --input IN --output OUT --group G --transactional-id ID
//             --count N --tag TAG --end commit|abort
//     A read_committed consumer in group G reads N records of IN; in one transaction the
//     producer sends "TAG:<value>" to OUT for each and sendOffsets the offsets after the
//     records read for group G, then commits or aborts. Prints the input records read
//     as JSON: [{"partition", "offset", "key", "value"}, ...].
//
// Any client error, error-level kafkajs log line or missed deadline exits non-zero.
'use strict'

const { parseArgs } = require('node:util')
const { Kafka, Partitioners, logLevel } = require('kafkajs')

const { values: args, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    bootstrap: { type: 'string' },
    topic: { type: 'string' },
    input: { type: 'string' },
    output: { type: 'string' },
    group: { type: 'string' },
    'transactional-id': { type: 'string' },
    count: { type: 'string' },
    tag: { type: 'string' },
    end: { type: 'string' },
    timeout: { type: 'string', default: '8' },
  },
})
const timeoutMs = Number(args.timeout) * 1000

// kafkajs reports the protocol errors it retries only in its log: keep every line on
// stderr and fail at the end if any was at error level, except for the errors Kafka
// answers in normal operation.
const expectedErrors = [
  // CONCURRENT_TRANSACTIONS: a transaction's first AddPartitionsToTxn can arrive while
  // the coordinator still writes the previous transaction's markers (EndTxn is answered
  // before they are written); the producer retries.
  'another concurrent operation on the same transaction was ongoing',
]
const errorLines = []
const logCreator = () => ({ namespace, level, label, log }) => {
  const line = `${label} [${namespace}] ${log.message} ${JSON.stringify(log)}`
  if (level === logLevel.ERROR && !expectedErrors.some(e => String(log.error).includes(e) || log.message.includes(e))) {
    errorLines.push(line)
  }
  process.stderr.write(line + '\n')
}

const kafka = new Kafka({
  clientId: 'waybill-compat-kafkajs',
  brokers: [args.bootstrap],
  logLevel: logLevel.WARN,
  logCreator,
})

function txnProducer () {
  return kafka.producer({
    transactionalId: args['transactional-id'],
    idempotent: true,
    maxInFlightRequests: 1,
    createPartitioner: Partitioners.DefaultPartitioner,
  })
}

async function endTransaction (txn, end) {
  if (end === 'commit') await txn.commit()
  else if (end === 'abort') await txn.abort()
  else throw new Error(`--end must be commit or abort, not ${end}`)
}

async function readStdin () {
  const chunks = []
  for await (const chunk of process.stdin) chunks.push(chunk)
  return JSON.parse(Buffer.concat(chunks).toString())
}

async function transactions () {
  const wanted = await readStdin()
  const producer = txnProducer()
  await producer.connect()
  for (const { values, commit } of wanted) {
    const txn = await producer.transaction()
    await txn.send({ topic: args.topic, acks: -1, messages: values.map(v => ({ key: v, value: v })) })
    await endTransaction(txn, commit ? 'commit' : 'abort')
  }
  await producer.disconnect()
}

// readRecords reads count records of the input with a read_committed group consumer
// that never commits, and returns them with the still-connected consumer.
async function readRecords (count) {
  const consumer = kafka.consumer({ groupId: args.group, readUncommitted: false, maxWaitTimeInMs: 100 })
  await consumer.connect()
  await consumer.subscribe({ topics: [args.input], fromBeginning: true })
  const got = []
  let enough
  const done = new Promise((resolve, reject) => {
    enough = resolve
    consumer.on(consumer.events.CRASH, ({ payload }) => reject(new Error(`consumer crashed: ${payload.error}`)))
  })
  await consumer.run({
    autoCommit: false,
    eachMessage: async ({ partition, message, pause }) => {
      if (got.length >= count) {
        pause()
        return
      }
      got.push({
        partition,
        offset: Number(message.offset),
        key: message.key ? message.key.toString() : '',
        value: message.value.toString(),
      })
      if (got.length === count) {
        pause()
        enough()
      }
    },
  })
  await Promise.race([done, deadline(`read ${count} records`)])
  await consumer.stop()
  return { consumer, got: got.slice(0, count) }
}

async function transform () {
  const count = Number(args.count)
  const { consumer, got } = await readRecords(count)
  const producer = txnProducer()
  await producer.connect()
  const txn = await producer.transaction()
  await txn.send({ topic: args.output, acks: -1, messages: got.map(r => ({ key: r.value, value: `${args.tag}:${r.value}` })) })
  const next = new Map()
  for (const r of got) next.set(r.partition, r.offset + 1)
  const partitions = [...next].map(([partition, offset]) => ({ partition, offset: String(offset) }))
  await txn.sendOffsets({ consumerGroupId: args.group, topics: [{ topic: args.input, partitions }] })
  await endTransaction(txn, args.end)
  await producer.disconnect()
  await consumer.disconnect()
  return JSON.stringify(got)
}

function deadline (what) {
  return new Promise((resolve, reject) => {
    // Not unref'd: a client that stops making progress must fail, not let node exit 0.
    setTimeout(() => reject(new Error(`did not ${what} within ${args.timeout}s`)), timeoutMs)
  })
}

async function main () {
  const commands = { transactions, transform }
  const command = commands[positionals[0]]
  if (!command) throw new Error(`unknown command ${positionals[0]}; want one of ${Object.keys(commands)}`)
  const out = await Promise.race([command(), deadline(`finish ${positionals[0]}`)])
  if (errorLines.length > 0) {
    throw new Error(`kafkajs logged ${errorLines.length} errors (see above)`)
  }
  return out || ''
}

// stdout on a pipe is written asynchronously: exit only once it is flushed.
main().then(
  out => process.stdout.write(out, () => process.exit(0)),
  err => {
    process.stderr.write(`${err.stack || err}\n`)
    process.exit(1)
  })
