// A JSON reader for test data that keeps every number as its source text, so 64-bit integers
// (timestamps, int64 and uint64 field values) survive exactly. Test support only.

export class JsonNumber {
  constructor(readonly text: string) {}
  toBigInt(): bigint { return BigInt(this.text) }
  toNumber(): number { return Number(this.text) }
}

export type JsonValue = null | boolean | string | JsonNumber | JsonValue[] | { [key: string]: JsonValue }

export function parseJsonLossless(text: string): JsonValue {
  let i = 0
  const fail = (what: string): never => { throw new SyntaxError(`JSON: ${what} at offset ${i}`) }
  const skip = (): void => { while (i < text.length && ' \t\n\r'.includes(text[i]!)) i++ }
  const value = (): JsonValue => {
    skip()
    const c = text[i]
    if (c === '{') {
      i++
      const object: { [key: string]: JsonValue } = {}
      skip()
      if (text[i] === '}') { i++; return object }
      for (;;) {
        skip()
        const key = string()
        skip()
        if (text[i++] !== ':') fail('expected :')
        object[key] = value()
        skip()
        if (text[i] === ',') { i++; continue }
        if (text[i++] === '}') return object
        fail('expected , or }')
      }
    }
    if (c === '[') {
      i++
      const array: JsonValue[] = []
      skip()
      if (text[i] === ']') { i++; return array }
      for (;;) {
        array.push(value())
        skip()
        if (text[i] === ',') { i++; continue }
        if (text[i++] === ']') return array
        fail('expected , or ]')
      }
    }
    if (c === '"') return string()
    if (text.startsWith('true', i)) { i += 4; return true }
    if (text.startsWith('false', i)) { i += 5; return false }
    if (text.startsWith('null', i)) { i += 4; return null }
    const start = i
    while (i < text.length && '+-0123456789.eE'.includes(text[i]!)) i++
    if (i === start) fail('unexpected character')
    return new JsonNumber(text.slice(start, i))
  }
  const string = (): string => {
    if (text[i] !== '"') fail('expected string')
    const start = i
    i++
    while (text[i] !== '"') { if (text[i] === '\\') i++; i++; if (i >= text.length) fail('unterminated string') }
    i++
    return JSON.parse(text.slice(start, i)) as string
  }
  const result = value()
  skip()
  if (i !== text.length) fail('trailing text')
  return result
}
