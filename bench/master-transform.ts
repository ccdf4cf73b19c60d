// The master's work on a chunk without Kafka, in process: processIngestRecord of every ingest record
// of the chunk (the byte path, no lossy compression) and changelogSections of its changelog entries
// (LZ4 record sections, as pipeline/processor/processor.ts builds them before it sends), over the
// TSBS-like cpu day's ingest records in chunks. With --compare DIR the same work of the checkout in
// DIR (a git worktree of another commit, node_modules linked) runs in the same process, the two
// taking turns round by round (first one, then the other, alternating), so both see the same load:
// CPU milliseconds per round (process.cpuUsage), medians, and the same-run ratio per round.
//
// Run: npm run bench:master-transform [-- --compare DIR] [-- --rounds 9] [-- --hours 24] [-- --chunk 1000]

import { resolve } from 'node:path'
import { pathToFileURL } from 'node:url'
import { parseArgs } from 'node:util'
import { generateTsbsCpu } from './support/tsbs-cpu.ts'
import { cpuMsInTurns, cpuPressureMeter, describeMachine, median, perRoundRatio } from './support/report.ts'
import { parseLineProtocol, toIngestRecords } from '../pipeline/ingest/index.ts'
import { sluiceRecordHeaders } from '../pipeline/source/index.ts'

const { values: options } = parseArgs({ options: { compare: { type: 'string' }, rounds: { type: 'string', default: '9' }, hours: { type: 'string', default: '24' }, chunk: { type: 'string', default: '1000' } } })
const ROUNDS = Number(options.rounds)
const CHUNK = Number(options.chunk)
const PARTITIONS = 6

interface Output { key: Buffer | string | null; value: Buffer | null; headers: Record<string, string> }
interface Processor {
  processIngestRecord(input: { partition: number; offset: string; key: Buffer | null; value: Buffer | null; headers: Readonly<Record<string, string>> }, settings: { changelogSchemaId: number; compression: unknown }): { kind: string; record?: Output }
  noCompression: unknown
}
interface Sections {
  changelogSections(records: readonly Output[], headers: ReadonlyArray<{ key: Buffer; value: Buffer }>): Array<{ payload: Uint8Array }>
  recordHeaders(headers: Readonly<Record<string, string>>): Array<{ key: Buffer; value: Buffer }>
}
interface Contender { name: string; run(): number }

const workload = generateTsbsCpu({ hosts: 100, intervalSeconds: 10, durationSeconds: Number(options.hours) * 3_600, linesPerBatch: 5_000 })
/** The ingest records per partition, as the master of each fetches them. */
const byPartition: Array<Array<{ key: Buffer; value: Buffer }>> = Array.from({ length: PARTITIONS }, () => [])
for (const body of workload.batches) {
  const batch = parseLineProtocol(body, { nowNs: 0n })
  for (const record of toIngestRecords(batch, { tenant: 'default', database: 'bench', partitions: PARTITIONS, source: 'bench', receivedAtNs: 0n })) {
    byPartition[record.partition]!.push({ key: Buffer.from(record.key), value: Buffer.from(record.value) })
  }
  batch.release()
}

async function contenderOf(name: string, root: string): Promise<Contender> {
  const processor = await import(pathToFileURL(resolve(root, 'pipeline/processor/index.ts')).href) as Processor
  const sections = await import(pathToFileURL(resolve(root, 'pipeline/processor/changelog-sections.ts')).href) as Sections
  const headers = sections.recordHeaders({ 'sluice-format': 'changelog-entry' })
  const settings = { changelogSchemaId: 3, compression: processor.noCompression }
  /** One pass over the day, chunk by chunk per partition; returns the section bytes (so nothing is optimised away). */
  const run = (): number => {
    let bytes = 0
    for (const [partition, records] of byPartition.entries()) {
      for (let start = 0; start < records.length; start += CHUNK) {
        const changelog: Output[] = []
        for (let i = start; i < Math.min(records.length, start + CHUNK); i++) {
          const outcome = processor.processIngestRecord({ partition, offset: String(i), key: records[i]!.key, value: records[i]!.value, headers: sluiceRecordHeaders }, settings)
          if (outcome.kind !== 'changelog') throw new Error(`${name}: record ${i} of partition ${partition} is ${outcome.kind}`)
          changelog.push(outcome.record!)
        }
        for (const section of sections.changelogSections(changelog, headers)) bytes += section.payload.length
      }
    }
    return bytes
  }
  return { name, run }
}

async function main(): Promise<void> {
  const contenders = [await contenderOf('this tree', resolve(import.meta.dirname, '..'))]
  if (options.compare !== undefined) contenders.push(await contenderOf(`compare (${options.compare})`, options.compare))
  const records = byPartition.reduce((sum, records) => sum + records.length, 0)
  console.log(`# the master's transform and sections without Kafka: ${describeMachine()}`)
  console.log(`# ${records} ingest records (${workload.lines} points), ${PARTITIONS} partitions, chunks of ${CHUNK}; ${ROUNDS} rounds, the trees alternating`)
  const sizes = contenders.map(contender => contender.run()) // warm up, and the same bytes
  if (sizes.some(size => size !== sizes[0])) throw new Error(`the trees wrote different section bytes: ${sizes.join(', ')}`)
  const pressure = cpuPressureMeter()
  pressure.start()
  const times = cpuMsInTurns(contenders.map(contender => contender.run), ROUNDS)
  for (const [i, contender] of contenders.entries()) console.log(`${contender.name}: ${median(times[i]!).toFixed(1)} ms CPU per day (median of ${ROUNDS})`)
  if (contenders.length === 2) console.log(perRoundRatio(times[0]!, times[1]!))
  console.log(`CPU pressure over the run: ${pressure.percent()}`)
}

await main()
