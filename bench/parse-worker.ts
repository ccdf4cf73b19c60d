// One parse worker's task, in process: encodeBody (pipeline/http/encode-body.ts) of 5,000-line
// TSBS-like bodies, plain and gzip, as a node's worker runs it for the transactional Kafka sink
// (gunzip, line protocol parse, Avro records, LZ4 record sections, packed for the hand-back). With
// --compare DIR the same task of the checkout in DIR (a git worktree of another commit) runs in the
// same process, the two taking turns body by body, so both see the same load; the table gives
// medians over rounds of CPU-milliseconds per body and of the same-run ratio per round, and the median
// over every body of the ratio of the two encodings of that body one after the other (the steadier one
// on a shared machine).
//
// Run: npm run bench:parse-worker [-- --bodies 40] [-- --rounds 7] [-- --compare DIR] [-- --parse-only]
//      (taskset -c 1 under lib/loader; run node --cpu-prof --import ./lib/loader/register.mjs bench/parse-worker.ts for a profile of both trees)
// It loads TypeScript as a node and its parse workers do (lib/loader), not through tsx: tsx's
// transform (keepNames) made this very task 1.3-1.5x slower, the parser alone 3-4x.

import { parseArgs } from 'node:util'
import { resolve } from 'node:path'
import { pathToFileURL } from 'node:url'
import { gzipSync } from 'node:zlib'
import { setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'
import { generateTsbsCpu, tsbsCpuOneDay } from './support/tsbs-cpu.ts'
import { cpuAffinity, cpuPressureMeter, describeMachine, median } from './support/report.ts'
import { defaultLineProtocolLimits } from '../pipeline/ingest/index.ts'
import { RecordBatchCodec } from '../lib/kafka/record-batch.ts'
import { DEFAULT_MAX_PARTITION_BATCH_BYTES } from '../lib/kafka/split-batches.ts'
import { sluiceRecordHeaders } from '../pipeline/source/index.ts'
import type { EncodeRequest, EncodeResult } from '../pipeline/http/encode-body.ts'

const { values: options } = parseArgs({
  options: { bodies: { type: 'string', default: '40' }, rounds: { type: 'string', default: '7' }, compare: { type: 'string' }, 'parse-only': { type: 'boolean', default: false } },
})
const BODIES = Number(options.bodies)
const ROUNDS = Number(options.rounds)
const RECEIVED_AT_NS = 1_700_000_000_000_000_000n

setFlagsFromString('--expose-gc')
const collectGarbage = runInNewContext('gc') as () => void

type EncodeBody = (request: EncodeRequest) => EncodeResult
interface Contender { name: string; encodeBody: EncodeBody }

type ParseLineProtocol = (body: Buffer, options: { nowNs: bigint }) => { pointCount: number; release(): void }

/** The task of the checkout at `root`; with --parse-only just its line protocol parse of the plain bodies, shaped as an encodeBody for the loop below. */
async function contenderOf(name: string, root: string): Promise<Contender> {
  if (!options['parse-only']) {
    const module = await import(pathToFileURL(resolve(root, 'pipeline/http/encode-body.ts')).href) as { encodeBody: EncodeBody }
    return { name, encodeBody: module.encodeBody }
  }
  const module = await import(pathToFileURL(resolve(root, 'pipeline/ingest/line-protocol.ts')).href) as { parseLineProtocol: ParseLineProtocol }
  const encodeBody = (request: EncodeRequest): EncodeResult => {
    const batch = module.parseLineProtocol(request.body as Buffer, { nowNs: RECEIVED_AT_NS })
    if (batch.pointCount === 0) throw new Error(`${name}: no points parsed`)
    batch.release()
    const parsed = { kind: 'encoded', rejectedLineCount: 0, sections: { payloads: request.body } }
    return parsed as unknown as EncodeResult
  }
  return { name, encodeBody }
}

const contenders = [await contenderOf('this tree', resolve(import.meta.dirname, '..'))]
if (options.compare !== undefined) contenders.push(await contenderOf(`compare (${options.compare})`, options.compare))

/** The request a node's write route posts to its worker for the transactional sink (write.ts, kafka-writer.ts). */
function requestOf(body: Buffer, gzip: boolean): EncodeRequest {
  return {
    body, // a worker gets the body transferred (parse-pool.ts), so no copy here either
    precision: 'ns', receivedAtNs: RECEIVED_AT_NS, limits: defaultLineProtocolLimits, maxErrorsReported: 1000,
    tenant: 'default', database: 'bench', partitions: 8, schemaId: 1, idempotencyKey: null, encodeAroundErrors: false,
    sections: { codec: RecordBatchCodec.LZ4, maxSectionRecordBytes: DEFAULT_MAX_PARTITION_BATCH_BYTES, headers: sluiceRecordHeaders },
    ...(gzip ? { gzip: { maxBodyBytes: 64 * 1024 * 1024 } } : {}),
  }
}

const workload = generateTsbsCpu(tsbsCpuOneDay)
const plainBodies = workload.batches.slice(0, BODIES)
const gzipBodies = plainBodies.map(body => gzipSync(body))
const encodings = [{ name: 'plain', bodies: plainBodies, gzip: false }, ...(options['parse-only'] ? [] : [{ name: 'gzip', bodies: gzipBodies, gzip: true }])]

/** CPU-seconds of encoding one body; checks it wrote every line. */
function encodeOnce(contender: Contender, body: Buffer, gzip: boolean): number {
  const request = requestOf(body, gzip)
  const before = process.cpuUsage()
  const result = contender.encodeBody(request)
  const used = process.cpuUsage(before)
  if (result.kind !== 'encoded' || result.rejectedLineCount !== 0 || result.sections === null || result.sections.payloads.length === 0) {
    throw new Error(`${contender.name}: body not encoded: ${result.kind}`)
  }
  return (used.user + used.system) / 1e6
}

console.log(`# parse worker task, TSBS-like cpu: ${describeMachine()}`)
console.log(`# ${BODIES} bodies of ${tsbsCpuOneDay.linesPerBatch} lines (${(plainBodies[0]!.length / 1e6).toFixed(2)} MB, gzip ${(gzipBodies[0]!.length / 1e3).toFixed(0)} KB), ${ROUNDS} rounds, contenders taking turns body by body; allowed CPUs: ${cpuAffinity()}`)
const pressure = cpuPressureMeter()
pressure.start()
for (const contender of contenders) for (const encoding of encodings) for (const body of encoding.bodies.slice(0, 8)) encodeOnce(contender, body, encoding.gzip) // warm-up
// Per round and encoding, CPU-seconds per body of each contender. The contenders take turns body by
// body (who goes first alternates), so a change in the neighbours' load falls on both alike.
const samples = new Map<string, number[]>()
/** Per encoding, this tree's CPU time over the compared tree's for each body, both encoding it one after the other. */
const pairRatios = new Map<string, number[]>(encodings.map(e => [e.name, []]))
for (let round = 0; round < ROUNDS; round++) {
  for (const encoding of encodings) {
    collectGarbage()
    const totals = contenders.map(() => 0)
    encoding.bodies.forEach((body, b) => {
      const order = (round + b) % 2 === 0 ? contenders.map((_, i) => i) : contenders.map((_, i) => contenders.length - 1 - i)
      const seconds = contenders.map(() => 0)
      for (const i of order) seconds[i] = encodeOnce(contenders[i]!, body, encoding.gzip)
      seconds.forEach((s, i) => { totals[i]! += s })
      if (contenders.length > 1) pairRatios.get(encoding.name)!.push(seconds[0]! / seconds[1]!)
    })
    contenders.forEach((contender, i) => {
      const key = `${contender.name}|${encoding.name}`
      samples.set(key, [...(samples.get(key) ?? []), totals[i]! / BODIES])
    })
  }
}

console.log('| encoding | ' + contenders.map(c => `${c.name} CPU-ms per body`).join(' | ') + (contenders.length > 1 ? ' | this / compare, per round | this / compare, per body |' : ' |'))
console.log('|---|' + contenders.map(() => '---:|').join('') + (contenders.length > 1 ? '---:|---:|' : ''))
for (const encoding of encodings) {
  const series = contenders.map(c => samples.get(`${c.name}|${encoding.name}`)!)
  const cells = series.map(s => `${(median(s) * 1e3).toFixed(2)} (${(Math.min(...s) * 1e3).toFixed(2)}-${(Math.max(...s) * 1e3).toFixed(2)})`)
  const ratio = series.length > 1 ? ` | ${median(series[0]!.map((s, i) => s / series[1]![i]!)).toFixed(3)} | ${median(pairRatios.get(encoding.name)!).toFixed(3)}` : ''
  console.log(`| ${encoding.name} | ${cells.join(' | ')}${ratio} |`)
}
console.log(`CPU pressure over the run (share of time some task waited for a core): ${pressure.percent()}`)
