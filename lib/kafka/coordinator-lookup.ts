// kafkajs 2.2.4 asks the cluster for a coordinator (a FindCoordinator round trip) before every
// transactional request: a transaction of a Sluice master makes four of them (AddPartitionsToTxn,
// AddOffsetsToTxn, TxnOffsetCommit, EndTxn), the write path's two. When the cluster's metadata lists
// a single broker, every coordinator is that broker: importing this module makes Cluster's
// findGroupCoordinator answer it without a round trip once kafkajs's own lookup has found it for the
// same (group or transactional id, coordinator type) in that client. With more brokers, before the
// first lookup, or when the metadata changes to another broker, kafkajs's lookup runs as before. A
// coordinator that is not ready (loading, moved) answers the request itself with a retriable error,
// as it would have answered the lookup; the embedded broker recovers before its port accepts anyone.

import { createRequire } from 'node:module'
import { isPatchedKafkajsRelease } from './kafkajs-module.ts'

const require = createRequire(import.meta.url)

export const KAFKAJS_CLUSTER_MODULE = require.resolve('kafkajs/src/cluster/index.js')

export interface LookupArgs { groupId: string; coordinatorType?: number }

/** The fields of kafkajs's Cluster the replacement reads. */
export interface ClusterState {
  brokerPool: { metadata: { brokers: Array<{ nodeId: number }> } | null }
  findBroker(args: { nodeId: number }): Promise<unknown>
}

export type FindGroupCoordinator = (this: ClusterState, args: LookupArgs) => Promise<{ nodeId: number }>

/** The replacement installed, and kafkajs's own lookup it falls back to. */
let installed: { replacement: FindGroupCoordinator; kafkajs: FindGroupCoordinator } | null = null

/**
 * Installs the replacement on kafkajs's Cluster (every client, existing or future, in this thread);
 * true once installed. Another kafkajs release is left alone (false).
 */
export function installCoordinatorLookup(): boolean {
  if (!isPatchedKafkajsRelease) return false
  const Cluster = require(KAFKAJS_CLUSTER_MODULE) as { prototype: { findGroupCoordinator: FindGroupCoordinator } }
  if (installed === null) {
    installed = { replacement: coordinatorLookup(Cluster.prototype.findGroupCoordinator), kafkajs: Cluster.prototype.findGroupCoordinator }
    Cluster.prototype.findGroupCoordinator = installed.replacement
  }
  return Cluster.prototype.findGroupCoordinator === installed.replacement
}

/**
 * A findGroupCoordinator that answers the metadata's single broker when `lookup` (kafkajs's) found
 * that broker before for the same key in the same client, and otherwise asks `lookup`.
 */
export function coordinatorLookup(lookup: FindGroupCoordinator): FindGroupCoordinator {
  /** Per client (Cluster): the node id `lookup` found, by coordinator type and id. */
  const found = new WeakMap<ClusterState, Map<string, number>>()
  return async function findGroupCoordinator(this: ClusterState, args: LookupArgs): Promise<{ nodeId: number }> {
    const key = `${args.coordinatorType ?? 0}:${args.groupId}`
    const brokers = this.brokerPool.metadata?.brokers
    const single = brokers?.length === 1 ? brokers[0]!.nodeId : null
    let known = found.get(this)
    if (single !== null && known?.get(key) === single) return (await this.findBroker({ nodeId: single })) as { nodeId: number }
    const broker = await lookup.call(this, args)
    if (known === undefined) found.set(this, known = new Map())
    known.set(key, broker.nodeId)
    return broker
  }
}

installCoordinatorLookup()
