// Entry of a scan worker thread: a worker does not inherit a loader registered with tsx's register()
// (bin/sluice.js does that), so register it here, then run the TypeScript worker.
import { register } from 'tsx/esm/api'

register()
await import('./worker.ts')
