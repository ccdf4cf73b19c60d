// The broker's Fetch responses framed as its connection frames them (broker/server/connection.ts
// frameResponse: a Writer, the size placeholder, the correlation id, the Fetch v11 body, the size
// patched, the chunks handed to the socket), in process, without a socket. The record sets are what
// bench:e2e's consumers fetch: one topic of 6 partitions per response, half of them with a record set
// of 0.5 to 64 KiB (drawn with a fixed seed), the rest empty; a round is 54 MiB (57 MB) of record sets, what a
// bench:e2e day copied into Fetch responses below the Writer's 64 KiB attach size. With --compare DIR
// the same responses go through the broker codec of the checkout in DIR (a git worktree of another
// commit, node_modules linked) in the same process, the two taking turns round by round: CPU
// milliseconds per round (process.cpuUsage, so the garbage collector's threads count), medians, and
// this / compare per round.
//
// Run: npm run bench:fetch-response [-- --compare DIR] [-- --rounds 15]

import { resolve } from 'node:path'
import { pathToFileURL } from 'node:url'
import { parseArgs } from 'node:util'
import { cpuMsInTurns, cpuPressureMeter, describeMachine, median, perRoundRatio } from './support/report.ts'
import { seededRandom } from '../lib/testing/seeded-random.ts'

const { values: options } = parseArgs({ options: { compare: { type: 'string' }, rounds: { type: 'string', default: '15' } } })
const ROUNDS = Number(options.rounds)
const PARTITIONS = 6
const ROUND_BYTES = 54 * 1024 * 1024

interface WriterLike { placeholderInt32(): number; int32(value: number): WriterLike; patchInt32(at: number, value: number): void; offset: number; chunks(): Uint8Array[] }
interface Codec { Writer: new (initialBytes?: number) => WriterLike }
interface Schema { encodeResponse(api: unknown, version: number, writer: WriterLike, value: unknown): void }
interface Contender { name: string; run(): number }

const EMPTY = Buffer.alloc(0)
const draw = seededRandom(42) // every run frames the same responses
const responses: unknown[] = []
for (let bytes = 0; bytes < ROUND_BYTES;) {
  const partitions = Array.from({ length: PARTITIONS }, (_, partition) => {
    const size = draw() < 0.5 ? 512 + Math.floor(draw() * (64 * 1024 - 512)) : 0
    bytes += size
    return {
      partitionIndex: partition, errorCode: 0, highWatermark: 1000n, lastStableOffset: 1000n, logStartOffset: 0n,
      abortedTransactions: [], preferredReadReplica: -1, records: size === 0 ? EMPTY : Buffer.alloc(size, partition + 1),
    }
  })
  responses.push({ throttleTimeMs: 0, errorCode: 0, sessionId: 0, responses: [{ topic: 'sluice.changelog', partitions }] })
}

async function contenderOf(name: string, root: string): Promise<Contender> {
  const codec = await import(pathToFileURL(resolve(root, 'broker/protocol/codec.ts')).href) as Codec
  const schema = await import(pathToFileURL(resolve(root, 'broker/protocol/schema.ts')).href) as Schema
  const { fetchApi } = await import(pathToFileURL(resolve(root, 'broker/protocol/apis/fetch.ts')).href) as { fetchApi: unknown }
  /** Every response framed; returns the bytes handed to the socket (so nothing is optimised away). */
  const run = (): number => {
    let bytes = 0
    for (const [correlationId, response] of responses.entries()) {
      const writer = new codec.Writer(1024)
      const sizeAt = writer.placeholderInt32()
      writer.int32(correlationId)
      schema.encodeResponse(fetchApi, 11, writer, response)
      writer.patchInt32(sizeAt, writer.offset - 4)
      for (const chunk of writer.chunks()) bytes += chunk.length
    }
    return bytes
  }
  return { name, run }
}

async function main(): Promise<void> {
  const contenders = [await contenderOf('this tree', resolve(import.meta.dirname, '..'))]
  if (options.compare !== undefined) contenders.push(await contenderOf(`compare (${options.compare})`, options.compare))
  console.log(`# the broker's Fetch responses framed in process: ${describeMachine()}`)
  console.log(`# ${responses.length} responses of ${PARTITIONS} partitions, ${(ROUND_BYTES / 1e6).toFixed(0)} MB of record sets a round; ${ROUNDS} rounds, the trees alternating`)
  const sizes = contenders.map(contender => contender.run()) // warm up, and the same bytes
  if (sizes.some(size => size !== sizes[0])) throw new Error(`the trees framed different byte counts: ${sizes.join(', ')}`)
  const pressure = cpuPressureMeter()
  pressure.start()
  const times = cpuMsInTurns(contenders.map(contender => contender.run), ROUNDS)
  for (const [i, contender] of contenders.entries()) console.log(`${contender.name}: ${median(times[i]!).toFixed(1)} ms CPU per round (median of ${ROUNDS})`)
  if (contenders.length === 2) console.log(perRoundRatio(times[0]!, times[1]!))
  console.log(`CPU pressure over the run: ${pressure.percent()}`)
}

await main()
