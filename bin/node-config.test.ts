import assert from 'node:assert/strict'
import { test } from 'node:test'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { DEFAULT_V8_FLAGS, loadNodeConfig } from './node-config.ts'

test('v8Flags: the default, then the environment, then the flag; "" sets none', () => {
  assert.equal(loadNodeConfig([], {}).v8Flags, DEFAULT_V8_FLAGS)
  // The default skips the check at start: checked here against what V8 knows, spelt with underscores (another text).
  const spelt = DEFAULT_V8_FLAGS.replaceAll('-', '_').replaceAll('__', '--')
  assert.notEqual(spelt, DEFAULT_V8_FLAGS)
  assert.equal(loadNodeConfig([`--v8-flags=${spelt}`], {}).v8Flags, spelt)
  assert.equal(loadNodeConfig([], { SLUICE_V8_FLAGS: '--interrupt-budget=8192' }).v8Flags, '--interrupt-budget=8192')
  assert.equal(loadNodeConfig(['--v8-flags=--max-lazy --interrupt-budget=4096'], { SLUICE_V8_FLAGS: '--interrupt-budget=8192' }).v8Flags, '--max-lazy --interrupt-budget=4096')
  assert.equal(loadNodeConfig(['--v8-flags', ''], {}).v8Flags, '')
})

test('v8Flags: a word that is not a flag is refused, naming the setting and the word', () => {
  assert.throws(() => loadNodeConfig(['--v8-flags=--interrupt-budget=8192 8192'], {}), /v8Flags \(--v8-flags\).*not "8192"/)
})

test('v8Flags: a flag V8 does not know is refused (V8 itself would only print it and start without), named; negated and underscored forms of known ones pass', () => {
  assert.throws(() => loadNodeConfig(['--v8-flags=--max-lazy --interupt-budget=8192'], {}), /V8 has no flag "--interupt-budget=8192"/)
  assert.throws(() => loadNodeConfig([], { SLUICE_V8_FLAGS: '--no-such-thing' }), /V8 has no flag "--no-such-thing"/)
  assert.equal(loadNodeConfig(['--v8-flags=--no-max-lazy --interrupt_budget=4096'], {}).v8Flags, '--no-max-lazy --interrupt_budget=4096')
})

test('yes/no settings: --no-local-feed and a config file\'s true/false are taken; any other value in the file is refused, named', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-config-'))
  const file = (settings: object): string => {
    const path = join(dir, `${Math.random().toString(36).slice(2)}.json`)
    writeFileSync(path, JSON.stringify(settings))
    return path
  }
  assert.equal(loadNodeConfig([], {}).localFeed, true)
  assert.equal(loadNodeConfig(['--no-local-feed'], {}).localFeed, false)
  assert.equal(loadNodeConfig(['--config-file', file({ localFeed: false })], {}).localFeed, false)
  assert.equal(loadNodeConfig(['--config-file', file({ cdc: true })], {}).cdc, true)
  assert.throws(() => loadNodeConfig(['--config-file', file({ localFeed: 'false' })], {}), /localFeed must be true or false, not "false"/)
  assert.throws(() => loadNodeConfig(['--config-file', file({ replica: 0 })], {}), /replica must be true or false, not 0/)
})
