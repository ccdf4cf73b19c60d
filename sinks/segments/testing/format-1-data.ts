// The changelog entries behind the format-1 segment files in testing/format-1/ (written by the
// build before format 2, commit db2f282, with blockMaxPoints 50, flushed and fully compacted), so a
// test can check that today's reader returns exactly these points from them.

import type { ChangelogEntry, FieldValue } from '../../../schemas/index.ts'

export const FORMAT_1_START_NS = 1_451_606_400_000_000_000n
const MINUTE_NS = 60_000_000_000n

/** Three hours of one point a minute for two hosts, one field of each type, 20 points per entry. */
export function format1Entries(): ChangelogEntry[] {
  const entries: ChangelogEntry[] = []
  for (const host of ['a', 'b']) {
    for (let start = 0; start < 180; start += 20) {
      const points = Array.from({ length: 20 }, (_, k) => {
        const i = start + k
        const fields: { name: string; value: FieldValue }[] = [
          { name: 'f', value: Math.round(1000 * Math.sin(i / 7)) / 100 },
          { name: 'i', value: BigInt(i * i - 90 * i) },
          { name: 'u', value: { unsigned: 2n ** 63n + BigInt(i) } },
          { name: 'b', value: i % 3 === 0 },
          { name: 's', value: `state-${i % 4}` },
        ]
        return { timeNs: FORMAT_1_START_NS + BigInt(i) * MINUTE_NS + (host === 'b' ? BigInt(i % 2) * 1_000_000n : 0n), fields }
      })
      const tags = [{ key: 'host', value: host }]
      entries.push({
        ingestPartition: 0, ingestOffset: BigInt(entries.length), command: null,
        upsert: { tenant: 't', database: 'db', measurement: 'cpu', seriesKey: `cpu,host=${host}`, tags, points, pointsIn: points.length },
      })
    }
  }
  return entries
}
