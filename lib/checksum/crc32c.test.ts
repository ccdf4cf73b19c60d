import { test } from 'node:test'
import assert from 'node:assert/strict'
import { crc32c, crc32cJs } from './crc32c.ts'

test('crc32c matches the RFC 3720 check value and known vectors', () => {
  assert.equal(crc32c(Buffer.from('123456789')), 0xe3069283)
  assert.equal(crc32c(new Uint8Array(32)), 0x8a9136aa)
  assert.equal(crc32c(new Uint8Array(32).fill(0xff)), 0x62a8ab43)
  assert.equal(crc32c(new Uint8Array(0)), 0)
})

test('crc32c continues across pieces', () => {
  const bytes = Buffer.from('The quick brown fox jumps over the lazy dog, twice over.')
  for (let cut = 0; cut <= bytes.length; cut++) {
    assert.equal(crc32c(bytes.subarray(cut), crc32c(bytes.subarray(0, cut))), crc32c(bytes))
  }
})

test('the native and the JavaScript implementations agree, whole and in pieces', () => {
  let seed = 7
  const bytes = Uint8Array.from({ length: 10_000 }, () => (seed = (seed * 1_103_515_245 + 12_345) % 2_147_483_648) & 0xff)
  for (const length of [0, 1, 63, 64, 65, 1_000, 10_000]) {
    const part = bytes.subarray(0, length)
    assert.equal(crc32c(part), crc32cJs(part), `${length} bytes`)
    assert.equal(crc32c(bytes.subarray(length), crc32c(part)), crc32cJs(bytes), `continued after ${length}`)
  }
})
