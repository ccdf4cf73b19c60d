import { test } from 'node:test'
import assert from 'node:assert/strict'
import { crc32c } from './crc32c.ts'

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
