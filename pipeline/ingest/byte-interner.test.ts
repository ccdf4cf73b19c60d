// The byte range interner: a range seen before is found by its bytes, short and long ranges alike,
// even when every hash collides; matchesAt (the parser's field key prediction) agrees with find.

import { test } from 'node:test'
import assert from 'node:assert/strict'
import { ByteInterner, hashBytes } from './byte-interner.ts'

test('finds ranges by their bytes, short and long, and tells apart ranges that differ in one byte', () => {
  const texts = ['a', 'ab', 'b'.repeat(127), 'b'.repeat(128), 'x'.repeat(199) + 'y', 'x'.repeat(199) + 'z', 'y' + 'x'.repeat(199)]
  const body = Buffer.from(texts.join('|') + '|' + texts.join('|'))
  const ranges: Array<[number, number]> = []
  let start = 0
  for (let i = 0; i <= body.length; i++) {
    if (i === body.length || body[i] === 0x7c) { ranges.push([start, i]); start = i + 1 }
  }
  for (const constantHash of [false, true]) {
    const interner = new ByteInterner(body)
    const hash = (s: number, e: number): number => (constantHash ? 7 : hashBytes(body, s, e))
    const ids = ranges.slice(0, texts.length).map(([s, e]) => {
      assert.equal(interner.find(s, e, hash(s, e)), -1)
      return interner.add(s, e, hash(s, e))
    })
    assert.deepEqual(ids, texts.map((_, i) => i))
    // The second copy of each text finds the first's id; matchesAt agrees.
    ranges.slice(texts.length).forEach(([s, e], i) => {
      assert.equal(interner.find(s, e, hash(s, e)), i, `${texts[i]!.slice(0, 8)}… (${e - s} bytes), constant hash ${constantHash}`)
      assert.equal(interner.matchesAt(i, s), true)
      assert.equal(interner.lengthOf(i), texts[i]!.length)
    })
    assert.equal(interner.matchesAt(4, ranges[texts.length + 5]![0]), false) // …y against …z, 200 bytes
    assert.equal(interner.matchesAt(2, ranges[texts.length + 3]![0]), true) // 127 b's are a prefix of 128
  }
})
