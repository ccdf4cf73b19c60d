// Strings dictionary-coded: the distinct values in order of first appearance (varint byte length +
// UTF-8 each), then one varint dictionary index per value.

import { ByteWriter, ByteReader } from './bytes.ts'

const utf8 = new TextEncoder()
const utf8Decoder = new TextDecoder('utf-8', { fatal: true })

export function encodeStrings(column: readonly string[], count: number, out: ByteWriter): void {
  const indexOf = new Map<string, number>()
  const indexes = new Uint32Array(count)
  const dictionary: string[] = []
  for (let i = 0; i < count; i++) {
    const value = column[i]!
    let index = indexOf.get(value)
    if (index === undefined) {
      index = dictionary.length
      indexOf.set(value, index)
      dictionary.push(value)
    }
    indexes[i] = index
  }
  out.varint(dictionary.length)
  for (const value of dictionary) {
    const bytes = utf8.encode(value)
    out.varint(bytes.length)
    out.raw(bytes)
  }
  for (let i = 0; i < count; i++) out.varint(indexes[i]!)
}

/** Decodes the first `count` values of a block of `blockCount`. */
export function decodeStrings(input: ByteReader, count: number, column: string[], blockCount = count): void {
  const dictionarySize = input.size()
  if (dictionarySize > blockCount) input.fail('string dictionary larger than the block')
  const dictionary: string[] = new Array(dictionarySize)
  for (let d = 0; d < dictionarySize; d++) dictionary[d] = utf8Decoder.decode(input.take(input.size()))
  for (let i = 0; i < count; i++) {
    const index = input.size()
    if (index >= dictionarySize) input.fail('string dictionary index out of range')
    column[i] = dictionary[index]!
  }
}
