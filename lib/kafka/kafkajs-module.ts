// Putting a module of our own in the place of one of kafkajs's, before kafkajs loads it: kafkajs's
// modules keep the functions they required, so a module installed after kafkajs loaded changes
// nothing. Used by native-crc32c.ts, request-framing.ts, message-grouping.ts, idle-request-queue.ts,
// encoded-produce.ts and aborted-filter.ts.

import { createRequire, Module } from 'node:module'

const require = createRequire(import.meta.url)

/** The kafkajs release the replacements in lib/kafka were written against and tested with (package.json pins it). */
export const PATCHED_KAFKAJS_VERSION = '2.2.4'

/** Whether the installed kafkajs (its package.json) is that release: each replacement installs only then. */
export const isPatchedKafkajsRelease = (require('kafkajs/package.json') as { version: string }).version === PATCHED_KAFKAJS_VERSION

/** The path of one of kafkajs's modules, as kafkajs's own require resolves it. */
export const kafkajsModulePath = (relative: string): string => require.resolve(`kafkajs/${relative}`)

/**
 * Makes `exports` the module at `path` in the require cache. True when it is in place; false when
 * kafkajs's own module was loaded already (then nothing changed).
 */
export function replaceKafkajsModule(path: string, exports: unknown): boolean {
  const cache = require.cache
  if (cache[path] !== undefined) return cache[path]!.exports === exports
  const module = new Module(path)
  module.filename = path
  module.loaded = true
  module.exports = exports
  cache[path] = module
  return true
}

/**
 * A second, fresh copy of one of kafkajs's modules as kafkajs ships it, loaded beside whatever the
 * require cache holds for it (a replacement stays in place): what tests and benchmarks compare a
 * replacement against.
 */
export function pristineKafkajsModule<T>(path: string): T {
  const installed = require.cache[path]
  delete require.cache[path]
  try {
    return require(path) as T
  } finally {
    if (installed) require.cache[path] = installed
  }
}
