// Fuzzed line protocol against a real InfluxDB 1.6 (Debian's influxdb): mutated single lines that
// Sluice's parser accepts are written to influxd, which must accept them too. Sluice may refuse
// more than InfluxDB (control bytes in names, invalid UTF-8, CRLF…: integration/influxdb-compare
// lists those), never less, except for the documented divergence that Sluice accepts unsigned
// integers (`42u`), which 1.6 is built without. Seeded (printed; SLUICE_FUZZ_SEED replays) and
// bounded: SLUICE_FUZZ_MS of writes (default 4 s).
//
// This fuzz found that InfluxDB 1.6 reads backslashes in a field key in pairs when it splits the
// line (`m f\\,g=1`, two backslashes then a comma, is refused: "invalid field format"), which the
// parser now follows.

import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { startInfluxd, type Influxd } from './support/influxd.ts'
import { parseLineProtocol } from '../pipeline/ingest/line-protocol.ts'
import { FieldType } from '../pipeline/ingest/parsed-batch.ts'
import { Random, mutate, seedLines } from '../pipeline/ingest/testing/line-protocol-fuzz.ts'

const RUN_MS = Number(process.env.SLUICE_FUZZ_MS ?? 4_000)
const seed = Number(process.env.SLUICE_FUZZ_SEED ?? Math.floor(Math.random() * 2 ** 31))
const DATABASE = 'fuzz'

let influxd: Influxd

before(async () => {
  influxd = await startInfluxd()
  const created = await influxd.query(DATABASE, `CREATE DATABASE ${DATABASE}`)
  assert.match(created, /results/)
})

after(async () => { await influxd?.stop() })

/** A mutated line of one line: only what comes before the first line break, none of its own. */
function mutatedLine(random: Random): Buffer {
  const line = mutate(Buffer.from(random.pick(seedLines)), random)
  const end = line.findIndex(byte => byte === 0x0a || byte === 0x0d)
  return end === -1 ? line : line.subarray(0, end)
}

test(`Sluice never accepts a fuzzed line that InfluxDB 1.6 rejects (seed ${seed}, ${RUN_MS} ms)`, async () => {
  console.log(`influxd fuzz seed: ${seed} (replay with SLUICE_FUZZ_SEED=${seed})`)
  const random = new Random(seed)
  const deadline = Date.now() + RUN_MS
  const stats = { sent: 0, bothAccept: 0, unsignedSkipped: 0, typeConflicts: 0, influxOnly: 0 }
  const disagreements: string[] = []
  while (Date.now() < deadline) {
    const line = mutatedLine(random)
    const batch = parseLineProtocol(line, { nowNs: BigInt(Date.now()) * 1_000_000n })
    const accepted = batch.pointCount === 1 && batch.rejectedLineCount === 0
    const unsigned = accepted && batch.point(0).fields.some(field => field.type === FieldType.Unsigned)
    batch.release()
    if (unsigned) { stats.unsignedSkipped++; continue }
    const answer = await influxd.write(DATABASE, line)
    stats.sent++
    const error = answer.body.toString('latin1')
    if (answer.status !== 204 && /field type conflict/.test(error)) { stats.typeConflicts++; continue } // state of earlier lines, not syntax
    if (accepted && answer.status === 204) stats.bothAccept++
    if (!accepted && answer.status === 204) stats.influxOnly++
    if (accepted && answer.status !== 204) {
      const described = `${JSON.stringify(line.toString('latin1'))}: InfluxDB ${answer.status} ${error.trim()}`
      disagreements.push(described)
    }
  }
  console.log(`sent ${stats.sent} lines: both accept ${stats.bothAccept}, only InfluxDB accepts ${stats.influxOnly}, type conflicts ${stats.typeConflicts}, unsigned skipped ${stats.unsignedSkipped}`)
  assert.deepEqual(disagreements, [], `seed ${seed}: Sluice accepted lines InfluxDB 1.6 rejects`)
  assert.ok(stats.bothAccept > 10, 'enough accepted lines reached InfluxDB to mean something')
})
