// kafkajs's request framing and message grouping as kafkajs ships them against Sluice's replacements
// (lib/kafka/request-framing.ts, lib/kafka/message-grouping.ts), in one process, interleaved round
// by round so that the machine's load falls on both alike: CPU milliseconds per round, medians, and
// kafkajs / replacement per round.
//
// - framing: Produce v5 requests of record sections (encoded-produce.ts, as the HTTP writer and the
//   master send them), encoded and framed: kafkajs's request.js copies each body twice into growing
//   Encoders, the replacement frames it in place;
// - grouping: one send of a record section per partition (a section stands for one kafkajs message
//   per record), grouped by partition: kafkajs copies the partition's array per message.
//
// Run: npm run bench:kafka-patches [-- --rounds 15] [-- --records 2000]

import { parseArgs } from 'node:util'
import { createRequire } from 'node:module'
import { frameRequest, KAFKAJS_REQUEST_MODULE, type FrameArgs } from '../lib/kafka/request-framing.ts'
import { groupMessagesPerPartition, KAFKAJS_GROUPING_MODULE, type GroupArgs } from '../lib/kafka/message-grouping.ts'
import { pristineKafkajsModule } from '../lib/kafka/kafkajs-module.ts'
import { sectionMessages } from '../lib/kafka/encoded-produce.ts'
import { encodeRecordSection, RecordBatchCodec } from '../lib/kafka/record-batch.ts'
import { cpuPressureMeter, describeMachine, median } from './support/report.ts'

const { values: options } = parseArgs({ options: { rounds: { type: 'string', default: '15' }, records: { type: 'string', default: '2000' } } })
const ROUNDS = Number(options.rounds)
/** Records of one partition's section in a master's transaction (grouping) and per framed request. */
const RECORDS = Number(options.records)
const PARTITIONS = 6

const require = createRequire(import.meta.url)

type Frame = (args: FrameArgs) => Promise<{ buffer: Buffer }>
type Group = (args: GroupArgs<unknown>) => Record<number, unknown[]>
const kafkajsFrame = pristineKafkajsModule<Frame>(KAFKAJS_REQUEST_MODULE)
const kafkajsGroup = pristineKafkajsModule<Group>(KAFKAJS_GROUPING_MODULE)

const produce = require('kafkajs/src/protocol/requests/produce/v5/request.js') as (args: Record<string, unknown>) => FrameArgs['request']
const headers = [{ key: Buffer.from('sluice-format'), value: Buffer.from('changelog-entry') }]
/** Changelog-like records: a series key and an entry of some hundred bytes (TSBS: 10 fields). */
const records = Array.from({ length: RECORDS }, (_, i) => ({ key: Buffer.from(`cpu,hostname=host_${i % 100},region=eu`), value: Buffer.alloc(180 + (i % 40), i) }))
const sections = Array.from({ length: PARTITIONS }, () => encodeRecordSection(records, headers, RecordBatchCodec.NONE))

function produceArgs(partitions: number[]): Record<string, unknown> {
  return {
    acks: -1, timeout: 30_000, transactionalId: 'sluice-master-0', producerId: '4000000077', producerEpoch: 3,
    topicData: [{ topic: 'sluice.changelog', partitions: partitions.map(partition => ({ partition, firstSequence: 0, messages: sectionMessages(partition, sections[partition]!) })) }],
  }
}

async function frameAll(frame: Frame): Promise<number> {
  let bytes = 0
  for (let request = 0; request < 20; request++) {
    const framed = await frame({ correlationId: request, clientId: 'sluice-n1', request: produce(produceArgs([request % PARTITIONS])) })
    bytes += framed.buffer.length
  }
  return bytes
}

function groupAll(group: Group): number {
  let groups = 0
  for (let partition = 0; partition < PARTITIONS; partition++) {
    const grouped = group({ topic: 'sluice.changelog', partitionMetadata: sections, messages: sectionMessages(partition, sections[partition]!), partitioner: ({ message }) => (message as { partition: number }).partition })
    groups += Object.keys(grouped).length
  }
  return groups
}

async function cpuMs(run: () => Promise<unknown> | unknown): Promise<number> {
  const start = process.cpuUsage()
  await run()
  const used = process.cpuUsage(start)
  return (used.user + used.system) / 1000
}

const contenders = {
  framing: { kafkajs: () => frameAll(kafkajsFrame), sluice: () => frameAll(frameRequest as unknown as Frame) },
  grouping: { kafkajs: () => groupAll(kafkajsGroup), sluice: () => groupAll(groupMessagesPerPartition as Group) },
}

async function main(): Promise<void> {
  console.log(`# kafkajs patches, ${describeMachine()}; ${ROUNDS} rounds, interleaved; sections of ${RECORDS} records (${sections[0]!.payload.length} bytes); framing: 20 Produce requests per round; grouping: one section per partition, ${PARTITIONS} partitions`)
  const pressure = cpuPressureMeter()
  pressure.start()
  for (const [name, pair] of Object.entries(contenders)) {
    await pair.kafkajs()
    await pair.sluice() // warm both up
    const times = { kafkajs: [] as number[], sluice: [] as number[] }
    for (let round = 0; round < ROUNDS; round++) {
      const order = round % 2 === 0 ? (['kafkajs', 'sluice'] as const) : (['sluice', 'kafkajs'] as const)
      for (const which of order) times[which].push(await cpuMs(pair[which]))
    }
    const ratios = times.kafkajs.map((ms, round) => ms / times.sluice[round]!).sort((a, b) => a - b)
    console.log(`${name}: kafkajs ${median(times.kafkajs).toFixed(2)} ms, Sluice ${median(times.sluice).toFixed(2)} ms CPU per round (medians); kafkajs / Sluice per round median ${median(ratios).toFixed(2)}, range ${ratios[0]!.toFixed(2)}-${ratios.at(-1)!.toFixed(2)}`)
  }
  console.log(`CPU pressure over the run: ${pressure.percent()}`)
}

await main()
