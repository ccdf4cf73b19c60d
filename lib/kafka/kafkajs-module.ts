// Putting a module of our own in the place of one of kafkajs's, before kafkajs loads it: kafkajs's
// modules keep the functions they required, so a module installed after kafkajs loaded changes
// nothing. Used by native-crc32c.ts, request-framing.ts and message-grouping.ts.

import { createRequire, Module } from 'node:module'

const require = createRequire(import.meta.url)

/** The installed kafkajs release (its package.json). */
export const installedKafkajsVersion = (require('kafkajs/package.json') as { version: string }).version

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
