// kafkajs computes every record batch's CRC-32C (Produce requests) with a table in JavaScript: 3.5%
// of a node's main thread in bench:e2e. Importing this module first swaps kafkajs's crc32C module for
// lib/checksum's crc32c (the CPU's CRC instruction through @node-rs/crc32, the same table in
// JavaScript where that has no binary). It must run before kafkajs is loaded: kafkajs's record batch
// module keeps the function it required; installed later, it changes nothing and says so.

import { crc32c } from '../checksum/crc32c.ts'
import { kafkajsModulePath, replaceKafkajsModule } from './kafkajs-module.ts'

/** The module kafkajs's recordBatch/v0 requires for the CRC ("../crc32C"). */
export const KAFKAJS_CRC32C_MODULE = kafkajsModulePath('src/protocol/recordBatch/crc32C/index.js')

/** Puts lib/checksum's crc32c in kafkajs's place; false if kafkajs's own was loaded already. */
export function installNativeCrc32cInKafkajs(): boolean {
  return replaceKafkajsModule(KAFKAJS_CRC32C_MODULE, kafkajsCrc32c)
}

/** kafkajs's contract: the CRC of the whole buffer as an unsigned 32-bit number. */
function kafkajsCrc32c(buffer: Buffer): number {
  return crc32c(buffer)
}

installNativeCrc32cInKafkajs()
