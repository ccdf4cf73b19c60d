// kafkajs 2.2.4 hands read_committed consumers records of aborted transactions. Its
// consumer/filterAbortedMessages.js starts ignoring an aborted producer only when a message reaches
// the first offset of the next aborted transaction in the fetch response's list, and takes one entry
// of that list per message. A fetch that starts inside two or more aborted transactions (the list
// names every aborted transaction whose marker is at or after the fetch offset, however early it
// began) activates only the first of them at its first message; the first message of the other
// producer goes through. A fetch of one batch at a time, or a fetch resumed at the last stable offset
// after one of two concurrent transactions aborted, delivers an aborted batch this way; the HTTP
// write path's two transactional producers on one partition do exactly that when Kafka dies.
//
// Importing this module before kafkajs loads puts Kafka's own rule (the Java consumer's) in its
// place: before each message, every aborted transaction whose first offset is at or below the
// message's offset is active for its producer, in the order of first offsets whatever order the
// broker listed them in; an ABORT marker ends its producer's; a transactional message of an active
// producer is dropped. Control records pass, as in kafkajs (Batch drops them after this).

import { createRequire } from 'node:module'
import { isPatchedKafkajsRelease, kafkajsModulePath, replaceKafkajsModule } from './kafkajs-module.ts'

const require = createRequire(import.meta.url)

export const KAFKAJS_ABORTED_FILTER_MODULE = kafkajsModulePath('src/consumer/filterAbortedMessages.js')

/** The fields of kafkajs's decoded message that the filter reads (offset and ids are decimal strings). */
export interface FetchedMessage {
  offset: string
  key: Buffer | null
  isControlRecord?: boolean
  batchContext: { producerId: string; inTransaction: boolean }
}

export interface AbortedTransaction { producerId: string; firstOffset: string }

/** A control record's key is version i16 then type i16; 0/0 is an ABORT marker. */
const isAbortMarker = (message: FetchedMessage): boolean => {
  const key = message.key
  return message.isControlRecord === true && key !== null && key.length >= 4 && key.readInt16BE(2) === 0
}

/** kafkajs's contract: the messages not part of an aborted transaction, in order. */
export function filterAbortedMessages<M extends FetchedMessage>({ messages, abortedTransactions }: { messages: M[]; abortedTransactions?: readonly AbortedTransaction[] | null }): M[] {
  if (!abortedTransactions || abortedTransactions.length === 0) return messages
  const pending = abortedTransactions
    .map(txn => ({ producerId: txn.producerId, firstOffset: BigInt(txn.firstOffset) }))
    .sort((a, b) => (a.firstOffset < b.firstOffset ? -1 : a.firstOffset > b.firstOffset ? 1 : 0))
  let next = 0
  const active = new Set<string>()
  return messages.filter(message => {
    const offset = BigInt(message.offset)
    while (next < pending.length && pending[next]!.firstOffset <= offset) active.add(pending[next++]!.producerId)
    const { producerId, inTransaction } = message.batchContext
    if (isAbortMarker(message)) {
      active.delete(producerId)
      return true
    }
    return !(inTransaction && active.has(producerId))
  })
}

/** Puts filterAbortedMessages in kafkajs's place; false (nothing changed) for another release or when kafkajs's own was loaded already. */
export function installAbortedFilter(): boolean {
  if (!isPatchedKafkajsRelease) return false
  return replaceKafkajsModule(KAFKAJS_ABORTED_FILTER_MODULE, filterAbortedMessages)
}

installAbortedFilter()

/**
 * Throws unless kafkajs's consumers filter with filterAbortedMessages: called where Sluice makes a
 * read_committed consumer, so a process that loaded kafkajs first fails at start instead of
 * applying aborted writes.
 */
export function requireAbortedFilter(): void {
  if (require.cache[KAFKAJS_ABORTED_FILTER_MODULE]?.exports === filterAbortedMessages) return
  throw new Error('kafkajs read_committed filter not replaced: import lib/kafka/aborted-filter.ts before kafkajs loads (kafkajs 2.2.4 delivers records of aborted transactions)')
}
