// Reading LZ4 record sections, in process: the sluice.ingest sections a node's parse worker writes
// for TSBS-like cpu bodies (encodeBody, pipeline/http/encode-body.ts, LZ4 as the transactional sink
// asks), decompressed by lz4-napi's frame decoder (decompressFrameSync, what kafkajs's LZ4 codec
// called before) and by the frame reader of lib/kafka/lz4-frame.ts (the codec now), the two taking
// turns round by round in the same process. Every section is checked to decode to the same bytes
// both ways before the clock starts. The table gives medians over rounds of MB/s of decompressed
// output and CPU-ms per round, and the median per-round ratio.
//
// Run: npm run bench:lz4 [-- --bodies 40] [-- --rounds 9]

import { parseArgs } from 'node:util'
import { decompressFrameSync } from 'lz4-napi'
import { generateTsbsCpu, tsbsCpuOneDay } from './support/tsbs-cpu.ts'
import { cpuSecondsOfSelf } from './support/cpu.ts'
import { cpuPressureMeter, describeMachine, median } from './support/report.ts'
import { encodeBody, unpackSections } from '../pipeline/http/encode-body.ts'
import { defaultLineProtocolLimits } from '../pipeline/ingest/index.ts'
import { RecordBatchCodec } from '../lib/kafka/record-batch.ts'
import { DEFAULT_MAX_PARTITION_BATCH_BYTES } from '../lib/kafka/split-batches.ts'
import { sluiceRecordHeaders } from '../pipeline/source/index.ts'
import { decompressLz4Frame } from '../lib/kafka/lz4-frame.ts'

const { values: options } = parseArgs({ options: { bodies: { type: 'string', default: '40' }, rounds: { type: 'string', default: '9' } } })
const BODIES = Number(options.bodies)
const ROUNDS = Number(options.rounds)

const frames: Buffer[] = []
for (const body of generateTsbsCpu(tsbsCpuOneDay).batches.slice(0, BODIES)) {
  const result = encodeBody({
    body, precision: 'ns', receivedAtNs: 1_700_000_000_000_000_000n, limits: defaultLineProtocolLimits, maxErrorsReported: 1000,
    tenant: 'default', database: 'bench', partitions: 6, schemaId: 1, idempotencyKey: null, encodeAroundErrors: false,
    sections: { codec: RecordBatchCodec.LZ4, maxSectionRecordBytes: DEFAULT_MAX_PARTITION_BATCH_BYTES, headers: sluiceRecordHeaders },
  })
  if (result.kind !== 'encoded' || result.sections === null) throw new Error(`body not encoded: ${result.kind}`)
  for (const { section } of unpackSections(result.sections)) frames.push(Buffer.from(section.payload))
}
let outputBytes = 0
for (const frame of frames) {
  const reference = decompressFrameSync(frame)
  if (!decompressLz4Frame(frame).equals(reference)) throw new Error('the two decoders disagree')
  outputBytes += reference.length
}
const inputBytes = frames.reduce((sum, frame) => sum + frame.length, 0)

const decoders = [
  { name: 'lz4-napi decompressFrameSync', decode: (frame: Buffer) => decompressFrameSync(frame) },
  { name: 'lz4-frame.ts decompressLz4Frame', decode: (frame: Buffer) => decompressLz4Frame(frame) },
]
const cpuMs: number[][] = decoders.map(() => [])
const pressure = cpuPressureMeter()
pressure.start()
for (let round = 0; round < ROUNDS; round++) {
  for (let k = 0; k < decoders.length; k++) {
    const decoder = decoders[(round + k) % decoders.length]!
    const before = cpuSecondsOfSelf()
    for (const frame of frames) decoder.decode(frame)
    cpuMs[decoders.indexOf(decoder)]!.push((cpuSecondsOfSelf() - before) * 1000)
  }
}

console.log(`# LZ4 record sections: ${describeMachine()}`)
console.log(`# ${frames.length} sections of ${BODIES} TSBS bodies: ${(inputBytes / 1e6).toFixed(1)} MB compressed, ${(outputBytes / 1e6).toFixed(1)} MB decompressed; ${ROUNDS} rounds, alternating; CPU pressure ${pressure.percent()}`)
console.log('| decoder | CPU-ms per round (median) | MB/s decompressed |\n|---|---:|---:|')
for (let k = 0; k < decoders.length; k++) {
  const ms = median(cpuMs[k]!)
  console.log(`| ${decoders[k]!.name} | ${ms.toFixed(1)} | ${(outputBytes / 1e3 / ms).toFixed(0)} |`)
}
const ratios = cpuMs[0]!.map((ms, round) => ms / cpuMs[1]![round]!)
console.log(`\nframe decoder / block reader, per round: median ${median(ratios).toFixed(2)} (${Math.min(...ratios).toFixed(2)}-${Math.max(...ratios).toFixed(2)})`)
