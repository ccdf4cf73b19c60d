// Helpers for replica-set tests: a reference replica built in the test by applying the committed
// changelog to fresh PartitionStores, checksummed the way replicaset/ combines partitions, and
// polling nodes' /api/v1/replicaset/checksum until they reach it.

import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Kafka } from 'kafkajs'
import assert from 'node:assert/strict'
import type { BrokerProcess } from '../../lib/process/broker-process.ts'
import { startNodeProcess, type NodeProcess } from '../../lib/process/node-process.ts'
import { forgetTenants, uniqueName } from '../http-helpers.ts'
import { openPartitionStore, type PartitionStore } from '../../sinks/index.ts'
import { combineChecksums } from '../../replicaset/index.ts'
import { CHANGELOG_TOPIC, readChangelog, type ChangelogRead } from './ingest.ts'

export interface NodeChecksum {
  node: string
  checksum: string
  offsets: Record<string, string>
}

export interface Reference {
  stores: PartitionStore[]
  checksum: string
  offsets: Record<string, string>
  close(): Promise<void>
}

/**
 * Applies `entries` (any order across partitions; in order within one) to fresh stores, which then
 * stand at the changelog's end offsets as a replica does after reading past the last markers.
 */
export async function buildReference(entries: readonly ChangelogRead[], partitions: number, kafka: Kafka): Promise<Reference> {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-reference-'))
  const stores: PartitionStore[] = []
  for (let partition = 0; partition < partitions; partition++) stores.push(await openPartitionStore(join(dir, `changelog-${partition}`), { partition, fsync: false }))
  for (const read of entries) await stores[read.partition]!.apply(read.entry, BigInt(read.offset))
  const admin = kafka.admin()
  await admin.connect()
  try {
    for (const { partition, high } of await admin.fetchTopicOffsets(CHANGELOG_TOPIC)) stores[partition]?.skipTo(BigInt(high))
  } finally {
    await admin.disconnect()
  }
  const offsets: Record<string, string> = {}
  stores.forEach((store, partition) => { offsets[String(partition)] = String(store.appliedOffset) })
  const checksum = combineChecksums(stores.map((store, partition) => ({ partition, appliedOffset: store.appliedOffset, checksum: store.checksum() })))
  return { stores, checksum, offsets, close: async () => { for (const store of stores) await store.close() } }
}

/** Reads the committed changelog until it holds `points` points of `database`. */
export async function readChangelogPoints(kafka: Kafka, database: string, points: number, timeoutMs = 40_000): Promise<ChangelogRead[]> {
  let seen = 0
  return readChangelog(kafka, read => {
    const last = read[read.length - 1]!
    if (last.entry.upsert?.database === database) seen += last.entry.upsert.points.length
    return seen >= points
  }, timeoutMs)
}

export async function nodeChecksum(url: string): Promise<NodeChecksum> {
  const answer = await fetch(`${url}/api/v1/replicaset/checksum`)
  if (answer.status !== 200) throw new Error(`${url} checksum: ${answer.status} ${await answer.text()}`)
  return await answer.json() as NodeChecksum
}

/** Polls a node until its checksum and offsets equal the reference's; returns the last answer. */
export async function waitForChecksum(url: string, reference: Pick<Reference, 'checksum' | 'offsets'>, timeoutMs = 30_000): Promise<NodeChecksum> {
  const deadline = Date.now() + timeoutMs
  let last: NodeChecksum | undefined
  while (Date.now() < deadline) {
    last = await nodeChecksum(url).catch(() => undefined)
    if (last?.checksum === reference.checksum) return last
    await new Promise(resolve => setTimeout(resolve, 250))
  }
  return last ?? await nodeChecksum(url)
}

/** Every point of `field` in the reference, as "seriesKey@timeNs=value", sorted. */
export function referencePoints(reference: Reference, tenant: string, database: string, measurement: string, field: string): string[] {
  const out: string[] = []
  for (const store of reference.stores) {
    for (const series of store.listSeries({ tenant, database, measurement })) {
      for (const chunk of store.scan({ seriesId: series.id, field })) {
        for (let i = 0; i < chunk.times.length; i++) out.push(`${series.seriesKey}@${chunk.times[i]}=${String((chunk.values as ArrayLike<unknown>)[i])}`)
      }
    }
  }
  return out.sort()
}

/** SIGTERM, and kill -9 after `timeoutMs`; returns the exit code (null when it had to be killed). */
export async function stopWithin(node: NodeProcess, timeoutMs: number): Promise<number | null> {
  const timer = setTimeout(() => node.child.kill('SIGKILL'), timeoutMs)
  try {
    return await node.stop()
  } finally {
    clearTimeout(timer)
  }
}

/** Three node processes on one broker: the first creates the topics, the other two join it. */
export async function startThreeNodes(bootstrap: string, idPrefix: string, args: string[]): Promise<NodeProcess[]> {
  const id = uniqueName(idPrefix)
  const first = await startNodeProcess({ kafka: bootstrap, nodeId: `${id}-a`, args })
  const others = await Promise.all(['b', 'c'].map(suffix => startNodeProcess({ kafka: bootstrap, nodeId: `${id}-${suffix}`, args })))
  return [first, ...others]
}

/**
 * Stops every node (SIGKILL after 20 s), the broker and the tenant's Redis keys, and only then
 * asserts that each node exited 0 on SIGTERM, so a failure never leaves a process running.
 */
export async function stopAll(nodes: readonly NodeProcess[], broker: BrokerProcess | undefined, tenant: string): Promise<void> {
  const codes = await Promise.all(nodes.map(node => stopWithin(node, 20_000)))
  await broker?.stop()
  await forgetTenants([tenant])
  nodes.forEach((node, i) => assert.equal(codes[i], 0, `${node.nodeId} exits 0 on SIGTERM within 20 s (signal ${node.child.signalCode}):\n${node.logs().split('\n').slice(-20).join('\n')}`))
}
