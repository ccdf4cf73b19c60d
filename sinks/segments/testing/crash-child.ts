// Child process of crash.test.ts: opens the store in argv[2], replays the seeded random log
// (argv[3] seed, argv[4] entries) from the store's durableOffset, as the replica apply loop does
// after a restart, with a small memtable so flushes and compactions happen all the time. The
// parent kills it with SIGKILL at random moments.

import { openPartitionStore } from '../store.ts'
import { randomLog } from './random-log.ts'

const [dir, seedText, entriesText] = process.argv.slice(2)
const entries = randomLog({ entries: Number(entriesText), seed: Number(seedText), maxPoints: 40, timeSlots: 400 })
const store = await openPartitionStore(dir!, { memtableMaxBytes: 64 * 1024, blockMaxPoints: 64, compactionFanIn: 2 })
process.stdout.write(`start ${store.durableOffset}\n`)
for (let offset = Number(store.durableOffset); offset < entries.length; offset++) {
  await store.apply(entries[offset]!, BigInt(offset))
  if (offset % 50 === 0) await new Promise((resolve) => setImmediate(resolve))
}
await store.flush()
await store.close()
process.stdout.write('done\n')
