// kafkajs's Encoder grows by allocating a zero-filled buffer (Buffer.alloc) of the next power of two
// and copying into it; every byte up to its offset is then written, and nothing past the offset is
// ever read (`buffer` is a slice up to it). A Produce request passes through three of them (the
// request body, then kafkajs's request framing twice), so a request of S bytes had up to 6S bytes
// zeroed, each page of a fresh allocation faulted in by the zeroing (in a perf profile of a node in
// bench:e2e, memset and the page faults under it were about a tenth of the main thread, kafkajs's
// encoders among other zeroed allocations). Installed here, growth takes an uninitialised buffer
// (Buffer.allocUnsafe): the same bytes go out.

import { createRequire } from 'node:module'

const require = createRequire(import.meta.url)

export const KAFKAJS_ENCODER_MODULE = require.resolve('kafkajs/src/protocol/encoder.js')

interface KafkajsEncoder {
  buf: Buffer
  offset: number
  ensureAvailable(length: number): void
}
interface KafkajsEncoderClass {
  new (initialSize?: number): KafkajsEncoder
  nextPowerOfTwo(value: number): number
  prototype: KafkajsEncoder & { [UNZEROED]?: true }
}

const UNZEROED = Symbol('sluice.unzeroedEncoder')

function ensureAvailable(this: KafkajsEncoder, length: number): void {
  if (this.offset + length <= this.buf.length) return
  const Encoder = this.constructor as KafkajsEncoderClass
  const grown = Buffer.allocUnsafe(Encoder.nextPowerOfTwo(this.offset + length))
  this.buf.copy(grown, 0, 0, this.offset)
  this.buf = grown
}

/** Puts the growth above in kafkajs's Encoder (process-wide per thread; kafkajs calls it through the prototype, so any time works). */
export function installUnzeroedEncoder(): void {
  const Encoder = require(KAFKAJS_ENCODER_MODULE) as KafkajsEncoderClass
  if (Encoder.prototype[UNZEROED]) return
  Encoder.prototype.ensureAvailable = ensureAvailable
  Encoder.prototype[UNZEROED] = true
}
