// Entry of a parse worker thread: a worker does not inherit the TypeScript loader
// bin/sluice.js registers (lib/loader), so register it here, then run the TypeScript worker.
import '../../lib/loader/register.mjs'

await import('./parse-worker.ts')
