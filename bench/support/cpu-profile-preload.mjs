// Preloaded into Sluice's processes with NODE_OPTIONS="--import .../cpu-profile-preload.mjs" by
// `npm run bench:broker -- --profile DIR` and `npm run bench:http -- --profile DIR` (node 20 refuses
// --cpu-prof in NODE_OPTIONS): profiles the whole process with the inspector and writes
// DIR/<command>-<pid>.cpuprofile when it exits (<command>: `broker` or `node`, from `sluice <command>`).
// Plain JavaScript because it runs before the broker registers its TypeScript loader.

import { Session } from 'node:inspector'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'

const directory = process.env.SLUICE_BENCH_PROFILE_DIR
if (directory) {
  const session = new Session()
  session.connect()
  session.post('Profiler.enable')
  session.post('Profiler.setSamplingInterval', { interval: 500 })
  session.post('Profiler.start')
  process.once('exit', () => {
    // An in-process session answers synchronously, so this completes inside the exit handler.
    session.post('Profiler.stop', (error, result) => {
      if (!error) writeFileSync(join(directory, `${process.argv[2] ?? 'process'}-${process.pid}.cpuprofile`), JSON.stringify(result.profile))
    })
  })
}
