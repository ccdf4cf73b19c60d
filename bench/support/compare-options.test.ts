// bench:e2e's compare-target flags: what the compare nodes get, and the misuses refused by name.

import { test } from 'node:test'
import assert from 'node:assert/strict'
import { compareTargetOptions } from './compare-options.ts'

test('the compare target gets V8 flags, node options and environment variables', () => {
  assert.deepEqual(compareTargetOptions({}), { nodeArgs: [], env: {} })
  assert.deepEqual(compareTargetOptions({
    compare: '.', 'compare-v8-flags': '--max-lazy', 'compare-node-args': ' --producers  2 ', 'compare-env': ['A=1', 'GLIBC_TUNABLES=glibc.malloc.hugetlb=0', 'EMPTY='],
  }), {
    nodeArgs: ['--v8-flags=--max-lazy', '--producers', '2'],
    env: { A: '1', GLIBC_TUNABLES: 'glibc.malloc.hugetlb=0', EMPTY: '' },
  })
})

test('each compare flag without --compare, and an environment entry without NAME=, is refused by name', () => {
  assert.throws(() => compareTargetOptions({ 'compare-v8-flags': '--x' }), /^Error: --compare-v8-flags .*give --compare DIR/)
  assert.throws(() => compareTargetOptions({ 'compare-node-args': '--producers 2' }), /^Error: --compare-node-args .*give --compare DIR/)
  assert.throws(() => compareTargetOptions({ 'compare-env': ['A=1'] }), /^Error: --compare-env .*give --compare DIR/)
  assert.throws(() => compareTargetOptions({ compare: '.', 'compare-env': ['=1'] }), /--compare-env =1: give NAME=value/)
  assert.throws(() => compareTargetOptions({ compare: '.', 'compare-env': ['NOVALUE'] }), /--compare-env NOVALUE: give NAME=value/)
})
