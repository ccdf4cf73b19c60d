// kafkajs computes every record batch's CRC-32C (Produce requests) with a table in JavaScript: 3.5%
// of a node's main thread in bench:e2e. Importing this module first swaps kafkajs's crc32C module for
// lib/checksum's crc32c (the CPU's CRC instruction through @node-rs/crc32, the same table in
// JavaScript where that has no binary). It must run before kafkajs is loaded: kafkajs's record batch
// module keeps the function it required; installed later, it changes nothing and says so.

import { createRequire, Module } from 'node:module'
import { crc32c } from '../checksum/crc32c.ts'

const require = createRequire(import.meta.url)

/** The module kafkajs's recordBatch/v0 requires for the CRC ("../crc32C"). */
export const KAFKAJS_CRC32C_MODULE = require.resolve('kafkajs/src/protocol/recordBatch/crc32C/index.js')

/** Puts lib/checksum's crc32c in kafkajs's place; false if kafkajs's own was loaded already. */
export function installNativeCrc32cInKafkajs(): boolean {
  const cache = require.cache
  if (cache[KAFKAJS_CRC32C_MODULE] !== undefined) return cache[KAFKAJS_CRC32C_MODULE]!.exports === kafkajsCrc32c
  const module = new Module(KAFKAJS_CRC32C_MODULE)
  module.filename = KAFKAJS_CRC32C_MODULE
  module.loaded = true
  module.exports = kafkajsCrc32c
  cache[KAFKAJS_CRC32C_MODULE] = module
  return true
}

/** kafkajs's contract: the CRC of the whole buffer as an unsigned 32-bit number. */
function kafkajsCrc32c(buffer: Buffer): number {
  return crc32c(buffer)
}

installNativeCrc32cInKafkajs()
