// The CODEC clause grammar: accepted forms, canonical text, and errors that name the offending part.

import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { formatCodec, formatDuration, parseCodecClause, parseCodecSpec, parseDuration } from './codec-clause.ts'

describe('CODEC clause', () => {
  it('parses the forms of the issue', () => {
    assert.deepEqual(parseCodecClause('CODEC(SDT(0.5))'), { algorithm: 'sdt', deviation: 0.5 })
    assert.deepEqual(parseCodecClause('CODEC(SDT(0.5, 1s, 10m))'), { algorithm: 'sdt', deviation: 0.5, minIntervalNs: 1_000_000_000n, maxIntervalNs: 600_000_000_000n })
    assert.deepEqual(parseCodecClause('CODEC(DEADBAND(2))'), { algorithm: 'deadband', band: 2 })
    assert.deepEqual(parseCodecClause('CODEC(DEADBAND(5%, 0, 1m))'), { algorithm: 'deadband', band: 0.05, relative: true, minIntervalNs: 0n, maxIntervalNs: 60_000_000_000n })
  })

  it('is case-insensitive and allows spaces; lossless codecs mean lossy compression off', () => {
    assert.deepEqual(parseCodecClause('  codec ( sdt ( 1e-3 , 250ms ) ) '), { algorithm: 'sdt', deviation: 0.001, minIntervalNs: 250_000_000n })
    assert.deepEqual(parseCodecClause('CODEC(GORILLA)'), { algorithm: 'off' })
    assert.deepEqual(parseCodecSpec('default'), { algorithm: 'off' })
    assert.deepEqual(parseCodecSpec('DEADBAND(0.25)'), { algorithm: 'deadband', band: 0.25 })
  })

  it('durations: units ns to d, decimals that are whole nanoseconds, bare 0 only', () => {
    assert.equal(parseDuration('1.5s'), 1_500_000_000n)
    assert.equal(parseDuration('2d'), 172_800_000_000_000n)
    assert.equal(parseDuration('10us'), 10_000n)
    assert.equal(parseDuration('0'), 0n)
    assert.throws(() => parseDuration('10'), /needs a unit/)
    assert.throws(() => parseDuration('1.5ns'), /whole number of nanoseconds/)
    assert.throws(() => parseDuration('3w'), /unknown duration unit "w"/)
    assert.equal(formatDuration(600_000_000_000n), '10m')
    assert.equal(formatDuration(1_500_000_000n), '1500ms')
  })

  it('errors name the offending part and its offset', () => {
    const cases: Array<[string, RegExp]> = [
      ['CODEC(SDT())', /expected the deviation .* at offset 10/],
      ['CODEC(SDT(0))', /deviation must be a finite number > 0, got 0 at offset 10/],
      ['CODEC(SDT(5%))', /relative \(%\) deviation is for DEADBAND only/],
      ['CODEC(SDT(0.5, 1s, 10m, 1h))', /too many arguments/],
      ['CODEC(SDT(0.5, 10m, 1s))', /maxIntervalNs .* must be ≥ minIntervalNs/],
      ['CODEC(SDT(0.5, 10))', /duration "10" needs a unit .* at offset 15/],
      ['CODEC(LZ4)', /unknown codec "LZ4"/],
      ['CODEC(SDT(0.5)', /expected "\)" to close CODEC\(/],
      ['CODEC(SDT(0.5)) extra', /unexpected text after the clause at offset 16/],
      ['SDT(0.5)', /expected CODEC, got "SDT"/],
    ]
    for (const [text, message] of cases) {
      assert.throws(() => parseCodecClause(text), (error: Error & { code?: string }) => {
        assert.equal(error.code, 'SLUICE_ERR_COMPRESSION_CONFIG', text)
        assert.match(error.message, message, text)
        return true
      })
    }
  })

  it('formatCodec gives a clause that parses back to the same settings', () => {
    for (const text of ['CODEC(SDT(0.5))', 'CODEC(SDT(0.5, 1s, 10m))', 'CODEC(DEADBAND(2))', 'CODEC(DEADBAND(5%, 0, 1m))', 'CODEC(DEADBAND(7%))', 'CODEC(SDT(2, 0))', 'CODEC(DEFAULT)']) {
      const settings = parseCodecClause(text)
      assert.deepEqual(parseCodecClause(formatCodec(settings)), settings, text)
    }
    assert.equal(formatCodec(parseCodecClause('codec(sdt(0.5,1000ms,600s))')), 'CODEC(SDT(0.5, 1s, 10m))')
  })
})
