// Compression settings per database, measurement and field: the config file and the resolver.

import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { COMPRESSION_OFF, EMPTY_COMPRESSION_CONFIG, parseCompressionConfig, resolveCompression, withCompression } from './config.ts'

const file = {
  databases: {
    plant: {
      codec: 'SDT(0.5, 1s, 10m)',
      measurements: {
        boiler: {
          codec: { algorithm: 'deadband', band: 2, maxInterval: '1m' },
          fields: { pressure: 'DEADBAND(5%)', status_code: 'DEFAULT', flow: { algorithm: 'sdt', deviation: 0.1, minInterval: 1000 } },
        },
      },
    },
  },
}

describe('compression config', () => {
  const config = parseCompressionConfig(file)

  it('field overrides measurement overrides database; off by default', () => {
    assert.deepEqual(resolveCompression(config, 'plant', 'boiler', 'pressure'), { algorithm: 'deadband', band: 0.05, relative: true })
    assert.deepEqual(resolveCompression(config, 'plant', 'boiler', 'flow'), { algorithm: 'sdt', deviation: 0.1, minIntervalNs: 1000n })
    assert.deepEqual(resolveCompression(config, 'plant', 'boiler', 'status_code'), { algorithm: 'off' })
    assert.deepEqual(resolveCompression(config, 'plant', 'boiler', 'temp'), { algorithm: 'deadband', band: 2, maxIntervalNs: 60_000_000_000n })
    assert.deepEqual(resolveCompression(config, 'plant', 'pump', 'temp'), { algorithm: 'sdt', deviation: 0.5, minIntervalNs: 1_000_000_000n, maxIntervalNs: 600_000_000_000n })
    assert.equal(resolveCompression(config, 'other', 'boiler', 'temp'), COMPRESSION_OFF)
    assert.equal(resolveCompression(parseCompressionConfig(undefined), 'plant', 'boiler', 'temp'), COMPRESSION_OFF)
  })

  it('withCompression sets one level, as an ALTER ... CODEC would, without touching the original', () => {
    const altered = withCompression(config, { algorithm: 'sdt', deviation: 3 }, 'plant', 'boiler', 'temp')
    assert.deepEqual(resolveCompression(altered, 'plant', 'boiler', 'temp'), { algorithm: 'sdt', deviation: 3 })
    assert.deepEqual(resolveCompression(config, 'plant', 'boiler', 'temp').algorithm, 'deadband')
    const removed = withCompression(altered, undefined, 'plant', 'boiler', 'temp')
    assert.deepEqual(resolveCompression(removed, 'plant', 'boiler', 'temp').algorithm, 'deadband')
    const fresh = withCompression(EMPTY_COMPRESSION_CONFIG, { algorithm: 'deadband', band: 1 }, 'db')
    assert.deepEqual(resolveCompression(fresh, 'db', 'm', 'f'), { algorithm: 'deadband', band: 1 })
  })

  it('errors name the path of the offending setting', () => {
    const cases: Array<[unknown, RegExp]> = [
      [{ databases: { plant: { codec: 'SDT(-1)' } } }, /^compression\.databases\.plant\.codec: expected the deviation/],
      [{ databases: { plant: { measurements: { boiler: { fields: { t: { algorithm: 'sdt', deviation: 0 } } } } } } }, /^compression\.databases\.plant\.measurements\.boiler\.fields\.t: deviation must be a finite number > 0/],
      [{ databases: { plant: { codecs: 'SDT(1)' } } }, /^compression\.databases\.plant\.codecs: unknown key/],
      [{ databases: { plant: { codec: { algorithm: 'gorilla' } } } }, /^compression\.databases\.plant\.codec\.algorithm: must be "sdt", "deadband" or "off"/],
      [{ databases: { plant: { codec: { algorithm: 'sdt', deviation: 1, maxInterval: '5' } } } }, /^compression\.databases\.plant\.codec\.maxInterval: duration "5" needs a unit/],
      [{ databases: { plant: { codec: { algorithm: 'deadband', band: 1, relative: 'yes' } } } }, /\.relative: must be true or false/],
      [{ databases: { plant: { codec: 5 } } }, /codec: must be a CODEC string/],
      [[], /^compression: must be an object/],
    ]
    for (const [value, message] of cases) {
      assert.throws(() => parseCompressionConfig(value), (error: Error & { code?: string }) => {
        assert.equal(error.code, 'SLUICE_ERR_COMPRESSION_CONFIG')
        assert.match(error.message, message)
        return true
      })
    }
  })
})
