// Growable typed arrays behind a ParsedBatch, and a small bounded pool of them. Fresh memory is
// costly on first touch (a page fault per 4 KiB page, ~80 ms for 22 MB on the CI machine), so a
// consumer that is done with a batch calls ParsedBatch.release() and the next parse reuses the arrays.
//
// One 8-byte value column per field slot, viewed three ways: Float64Array (floats, booleans as 0/1),
// BigInt64Array / BigUint64Array (integers, unsigned), and Uint32Array words (how the parser writes
// 64-bit values without BigInt, and where string slots keep their byte range in the body).

/** At most this many stores wait in the pool; more released stores are left to the GC. */
const MAX_POOLED_STORES = 4
/** And at most this many bytes in all, so one huge body does not pin its arrays forever. */
const MAX_POOLED_BYTES = 256 * 1024 * 1024

export class ColumnStore {
  pointCapacity: number
  fieldCapacity: number
  pointSeries: Uint32Array
  /** pointCapacity + 1 entries: the end of the last point's fields follows it. */
  pointFieldStart: Uint32Array
  pointLine: Uint32Array
  timestamps: BigInt64Array
  timestampWords: Uint32Array
  fieldKey: Uint32Array
  fieldType: Uint8Array
  floatValues: Float64Array
  integerValues: BigInt64Array
  valueWords: Uint32Array

  constructor(points: number, fields: number) {
    this.pointCapacity = points
    this.fieldCapacity = fields
    this.pointSeries = new Uint32Array(points)
    this.pointFieldStart = new Uint32Array(points + 1)
    this.pointLine = new Uint32Array(points)
    this.timestamps = new BigInt64Array(points)
    this.timestampWords = new Uint32Array(this.timestamps.buffer)
    this.fieldKey = new Uint32Array(fields)
    this.fieldType = new Uint8Array(fields)
    const values = new ArrayBuffer(fields * 8)
    this.floatValues = new Float64Array(values)
    this.integerValues = new BigInt64Array(values)
    this.valueWords = new Uint32Array(values)
  }

  get byteSize(): number {
    return this.pointCapacity * 24 + this.fieldCapacity * 13
  }

  growPoints(): void {
    const capacity = this.pointCapacity * 2
    this.pointSeries = grown(this.pointSeries, new Uint32Array(capacity))
    this.pointFieldStart = grown(this.pointFieldStart, new Uint32Array(capacity + 1))
    this.pointLine = grown(this.pointLine, new Uint32Array(capacity))
    this.timestamps = grown(this.timestamps, new BigInt64Array(capacity))
    this.timestampWords = new Uint32Array(this.timestamps.buffer)
    this.pointCapacity = capacity
  }

  growFields(): void {
    const capacity = this.fieldCapacity * 2
    this.fieldKey = grown(this.fieldKey, new Uint32Array(capacity))
    this.fieldType = grown(this.fieldType, new Uint8Array(capacity))
    const values = new ArrayBuffer(capacity * 8)
    new Uint8Array(values).set(new Uint8Array(this.floatValues.buffer))
    this.floatValues = new Float64Array(values)
    this.integerValues = new BigInt64Array(values)
    this.valueWords = new Uint32Array(values)
    this.fieldCapacity = capacity
  }
}

/** `next` holding a copy of `old`, copied as bytes (BigInt64Array.set converts element by element). */
function grown<T extends Uint8Array | Uint32Array | BigInt64Array>(old: T, next: T): T {
  new Uint8Array(next.buffer, next.byteOffset, next.byteLength).set(new Uint8Array(old.buffer, old.byteOffset, old.byteLength))
  return next
}

const pool: ColumnStore[] = []
let pooledBytes = 0

/** A store with at least the given capacities: a pooled one if one fits, else a new one. */
export function acquireColumnStore(points: number, fields: number): ColumnStore {
  for (let i = 0; i < pool.length; i++) {
    const store = pool[i]!
    if (store.pointCapacity >= points && store.fieldCapacity >= fields) {
      pool.splice(i, 1)
      pooledBytes -= store.byteSize
      return store
    }
  }
  return new ColumnStore(points, fields)
}

/** Returns a store to the pool (dropped if the pool is full). The caller must not use it again. */
export function releaseColumnStore(store: ColumnStore): void {
  if (pool.includes(store)) throw new Error('column store released twice')
  if (pool.length >= MAX_POOLED_STORES || pooledBytes + store.byteSize > MAX_POOLED_BYTES) return
  pool.push(store)
  pooledBytes += store.byteSize
}
