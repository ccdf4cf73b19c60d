import { test } from 'node:test'
import assert from 'node:assert/strict'
import { appendFileSync, readFileSync, statSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { temporaryDirectory } from './testing.ts'
import { encodeTxnEntry, loadTxnIndexFile, TXN_ENTRY_BYTES, TxnIndex, type AbortedTxn } from './txn-index.ts'

const txn = (producerId: bigint, firstOffset: bigint, lastOffset: bigint, lastStableOffset: bigint): AbortedTxn => ({ producerId, firstOffset, lastOffset, lastStableOffset })

test('collect: marker at or after the fetch offset, first offset before the end, sorted by first offset', () => {
  const index = new TxnIndex()
  index.add(txn(1n, 10n, 20n, 15n)) // pid 2 still open from 15
  index.add(txn(2n, 15n, 30n, 31n))
  index.add(txn(3n, 40n, 50n, 51n))
  assert.deepEqual(index.collect(0n, 100n).map(t => t.producerId), [1n, 2n, 3n])
  assert.deepEqual(index.collect(21n, 100n).map(t => t.producerId), [2n, 3n])
  assert.deepEqual(index.collect(0n, 15n).map(t => t.producerId), [1n], 'pid 2 starts at the end of the data')
  assert.deepEqual(index.collect(31n, 40n), [])
  index.dropBefore(25n)
  assert.deepEqual(index.collect(0n, 100n).map(t => t.producerId), [2n, 3n])
  assert.throws(() => index.add(txn(4n, 1n, 50n, 51n)), /invariant/)
})

test('collect sorts overlapping transactions aborted out of order', () => {
  const index = new TxnIndex()
  index.add(txn(7n, 11n, 12n, 10n))
  index.add(txn(6n, 10n, 13n, 14n))
  assert.deepEqual(index.collect(10n, 14n), [{ producerId: 6n, firstOffset: 10n }, { producerId: 7n, firstOffset: 11n }])
})

test('.txnindex files use 34-byte Kafka entries; loading keeps entries below a point and cuts the rest', () => {
  const dir = temporaryDirectory()
  try {
    const path = join(dir.path, '00000000000000000000.txnindex')
    writeFileSync(path, Buffer.concat([encodeTxnEntry(txn(1n, 0n, 5n, 6n)), encodeTxnEntry(txn(2n, 6n, 9n, 10n))]))
    assert.equal(statSync(path).size, 2 * TXN_ENTRY_BYTES)
    assert.equal(readFileSync(path).readInt16BE(0), 0, 'entry version 0')
    appendFileSync(path, Buffer.alloc(10, 1)) // torn entry
    assert.deepEqual(loadTxnIndexFile(path, 100n).map(t => t.producerId), [1n, 2n])
    assert.equal(statSync(path).size, 2 * TXN_ENTRY_BYTES)
    assert.deepEqual(loadTxnIndexFile(path, 9n), [txn(1n, 0n, 5n, 6n)])
    assert.equal(statSync(path).size, TXN_ENTRY_BYTES)
    assert.deepEqual(loadTxnIndexFile(join(dir.path, 'none.txnindex'), 0n), [])
  } finally {
    dir.remove()
  }
})
