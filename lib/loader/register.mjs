// Registers the TypeScript module hooks (./typescript-hooks.mjs) in this thread: bin/sluice.js does it
// for a process, each worker thread's entry for itself (a worker does not inherit them in Node 20).
// Stack traces name the .ts lines through the inline source maps.
import { register } from 'node:module'

process.setSourceMapsEnabled(true)
register(new URL('./typescript-hooks.mjs', import.meta.url))
