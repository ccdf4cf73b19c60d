// kafkajs's read_committed filter replaced (aborted-filter.ts): for any partition log of concurrent
// transactions and any fetch offset, exactly the records of aborted transactions are dropped, in
// whatever order the broker lists them; kafkajs 2.2.4's own filter lets some through.

import assert from 'node:assert/strict'
import { test } from 'node:test'
import { createRequire } from 'node:module'
import { readdirSync, readFileSync, statSync } from 'node:fs'
import { join, relative, resolve } from 'node:path'
import fc from 'fast-check'
import { filterAbortedMessages, installAbortedFilter, KAFKAJS_ABORTED_FILTER_MODULE, type AbortedTransaction, type FetchedMessage } from './aborted-filter.ts'
import { pristineKafkajsModule } from './kafkajs-module.ts'

const require = createRequire(import.meta.url)
type Filter = (args: { messages: FetchedMessage[]; abortedTransactions: AbortedTransaction[] }) => FetchedMessage[]

interface LoggedMessage extends FetchedMessage { aborted: boolean }
type Event = { producer: number; kind: 'data' | 'commit' | 'abort' | 'plain' }

const controlKey = (type: number): Buffer => Buffer.from([0, 0, 0, type])

/**
 * A partition's log from producer events (a marker with nothing open is skipped, as a coordinator
 * writes none), with each aborted transaction's first offset and marker offset.
 */
function buildLog(events: readonly Event[]): { log: LoggedMessage[]; aborted: Array<AbortedTransaction & { markerOffset: number }> } {
  const log: LoggedMessage[] = []
  const open = new Map<number, { firstOffset: number; records: LoggedMessage[] }>()
  const aborted: Array<AbortedTransaction & { markerOffset: number }> = []
  for (const { producer, kind } of events) {
    const producerId = String(1000 + producer)
    const offset = String(log.length)
    if (kind === 'plain') {
      log.push({ offset, key: Buffer.from('k'), batchContext: { producerId: '-1', inTransaction: false }, aborted: false })
      continue
    }
    const txn = open.get(producer)
    if (kind === 'data') {
      const message: LoggedMessage = { offset, key: Buffer.from('v'), batchContext: { producerId, inTransaction: true }, aborted: false }
      if (txn) txn.records.push(message)
      else open.set(producer, { firstOffset: log.length, records: [message] })
      log.push(message)
      continue
    }
    if (!txn) continue
    open.delete(producer)
    if (kind === 'abort') {
      for (const record of txn.records) record.aborted = true
      aborted.push({ producerId, firstOffset: String(txn.firstOffset), markerOffset: log.length })
    }
    log.push({ offset, key: controlKey(kind === 'abort' ? 0 : 1), isControlRecord: true, batchContext: { producerId, inTransaction: true }, aborted: false })
  }
  return { log, aborted }
}

/** What a broker answers a read_committed fetch from `from`: the aborted transactions whose marker is at or after it. */
const abortedFor = (aborted: ReadonlyArray<AbortedTransaction & { markerOffset: number }>, from: number): AbortedTransaction[] =>
  aborted.filter(txn => txn.markerOffset >= from).map(({ producerId, firstOffset }) => ({ producerId, firstOffset }))

const events = fc.array(fc.record({ producer: fc.integer({ min: 0, max: 3 }), kind: fc.constantFrom('data', 'data', 'data', 'commit', 'abort', 'plain') }), { maxLength: 120 }) as fc.Arbitrary<Event[]>

test('installed before kafkajs loads: its consumer batches filter with filterAbortedMessages', () => {
  assert.equal(installAbortedFilter(), true)
  assert.equal(installAbortedFilter(), true, 'twice is once')
  require('kafkajs/src/consumer/batch.js')
  assert.equal(require(KAFKAJS_ABORTED_FILTER_MODULE), filterAbortedMessages)
})

/** Every .ts and .mjs file of the repository's code, tests and benches. */
function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap(name => {
    if (name === 'node_modules' || name.startsWith('.')) return []
    const path = join(dir, name)
    if (statSync(path).isDirectory()) return sourceFiles(path)
    return /\.(ts|mjs)$/.test(name) ? [path] : []
  })
}

test('every module that loads kafkajs imports aborted-filter.ts before it, so no import order can load kafkajs first', () => {
  const root = resolve(import.meta.dirname, '..', '..')
  const roots = ['bin', 'lib', 'broker', 'pipeline', 'replicaset', 'sinks', 'query', 'schemas', 'integration', 'bench', 'console']
  // A static import of kafkajs that is not type-only: `import kafkajs ...`, `import { Kafka } ...`.
  const valueImport = /^import (?!type )(?!\{(?:\s*type \w+\s*,?)+\s*\})[^']*from 'kafkajs'/m
  const loaders = roots.flatMap(dir => sourceFiles(join(root, dir))).filter(path => valueImport.test(readFileSync(path, 'utf8')))
  assert.ok(loaders.length >= 10, `found ${loaders.length} modules importing kafkajs`)
  for (const path of loaders) {
    const source = readFileSync(path, 'utf8')
    const filter = source.search(/^import [^;\n]*aborted-filter\.ts'/m)
    assert.ok(filter >= 0 && filter < source.search(valueImport), `${relative(root, path)} imports kafkajs without importing lib/kafka/aborted-filter.ts first`)
  }
})

test('any log, any fetch offset and fetch size, any list order: every aborted record dropped, every other one kept', () => {
  fc.assert(fc.property(events, fc.nat(), fc.integer({ min: 1, max: 130 }), fc.boolean(), (sequence, start, size, reversed) => {
    const { log, aborted } = buildLog(sequence)
    const from = log.length === 0 ? 0 : start % log.length
    const fetched = log.slice(from, from + size)
    const listed = abortedFor(aborted, from)
    if (reversed) listed.reverse()
    const kept = filterAbortedMessages({ messages: fetched, abortedTransactions: listed })
    assert.deepEqual(kept.map(m => m.offset), fetched.filter(m => !m.aborted).map(m => m.offset))
  }), { numRuns: 2000 })
})

test('without aborted transactions the messages come back as they are', () => {
  const { log } = buildLog([{ producer: 0, kind: 'data' }, { producer: 0, kind: 'commit' }])
  assert.equal(filterAbortedMessages({ messages: log, abortedTransactions: [] }), log)
  assert.equal(filterAbortedMessages({ messages: log, abortedTransactions: null }), log)
})

test('a record whose key looks like an ABORT marker is not one unless it is a control record', () => {
  const { log, aborted } = buildLog([{ producer: 0, kind: 'data' }, { producer: 0, kind: 'data' }, { producer: 0, kind: 'abort' }])
  log[0]!.key = controlKey(0) // a data record keyed 00 00 00 00 must not end its producer's aborted transaction
  assert.deepEqual(filterAbortedMessages({ messages: log, abortedTransactions: abortedFor(aborted, 0) }).map(m => m.offset), ['2'])
})

test("kafkajs 2.2.4's own filter delivers an aborted record when a fetch starts inside two aborted transactions", () => {
  const pristine = pristineKafkajsModule<Filter>(KAFKAJS_ABORTED_FILTER_MODULE)
  assert.notEqual(pristine, filterAbortedMessages)
  // Producers 0 and 1 interleave, both abort; the fetch starts at producer 1's second record.
  const { log, aborted } = buildLog([
    { producer: 0, kind: 'data' }, { producer: 1, kind: 'data' }, { producer: 0, kind: 'data' }, { producer: 1, kind: 'data' },
    { producer: 0, kind: 'abort' }, { producer: 1, kind: 'abort' },
  ])
  const fetched = log.slice(3)
  const listed = abortedFor(aborted, 3)
  assert.deepEqual(pristine({ messages: fetched, abortedTransactions: listed }).filter(m => !m.isControlRecord).map(m => m.offset), ['3'], 'kafkajs delivers offset 3, aborted')
  assert.deepEqual(filterAbortedMessages({ messages: fetched, abortedTransactions: listed }).filter(m => !m.isControlRecord).map(m => m.offset), [])
})
