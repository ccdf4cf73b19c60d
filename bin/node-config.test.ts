import assert from 'node:assert/strict'
import { test } from 'node:test'
import { DEFAULT_V8_FLAGS, loadNodeConfig } from './node-config.ts'

test('v8Flags: the default, then the environment, then the flag; "" sets none', () => {
  assert.equal(loadNodeConfig([], {}).v8Flags, DEFAULT_V8_FLAGS)
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
