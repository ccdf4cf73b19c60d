// The manifest: which segment files are live, the tombstones not yet purged from all of them, and
// the changelog offset applied, and the time to live of databases set through the log
// (SET_DATABASE_TTL). One file, MANIFEST, replaced atomically (write MANIFEST.tmp, fsync,
// rename, fsync the directory) after the segment files it names are fsynced, so a crash leaves
// either the old or the new state. Layout: a first line "SLUICE-MANIFEST <version> <crc32c hex of
// the body> <body bytes>", then the body: JSON with 64-bit numbers as decimal strings.

import { closeSync, fsyncSync, openSync, readFileSync, writeSync, renameSync, existsSync } from 'node:fs'
import { join } from 'node:path'
import { crc32c } from '../../lib/checksum/crc32c.ts'
import type { TagMatch } from '../../schemas/index.ts'
import { StorageError, StorageErrorCode } from './errors.ts'

export const MANIFEST_FILE = 'MANIFEST'
const MANIFEST_TMP = 'MANIFEST.tmp'
/** Version 2 added field-scoped tombstones (fields, forgetsTypes), measurement null and databaseTtls; version 1 is still read. */
const MANIFEST_VERSION = 2
const READABLE_VERSIONS = new Set([1, 2])

export interface ManifestSegment {
  file: string
  /** Sequence numbers of the flushes whose data the segment holds: segments never overlap in seq. */
  minSeq: number
  maxSeq: number
  /** 0 for a flush; a compaction of level-L segments writes level L + 1. */
  level: number
  /** Every tombstone with offset below this was applied to the data when the segment was written. */
  purgedOffset: bigint
  bytes: number
}

/**
 * A DELETE (or the source side of an UPDATE_TAGS) at changelog offset `offset`: it hides matching
 * points of every segment with maxSeq < beforeSeq (data applied before it) and was applied to the
 * memtable directly. A segment written later holds only data applied after it.
 */
export interface Tombstone {
  offset: bigint
  beforeSeq: number
  tenant: string
  database: string
  /** null: every measurement of the database (DROP_DATABASE). */
  measurement: string | null
  /** One exact series (UPDATE_TAGS), or null: every series matching `tags`. */
  seriesId: string | null
  tags: TagMatch[]
  fromNs: bigint | null
  toNs: bigint | null
  /** Only these fields (DROP_FIELDS); null or absent: every field. */
  fields?: string[] | null
  /** A DROP: the hidden fields' types are forgotten, so a segment older than it does not declare them. */
  forgetsTypes?: boolean
}

/** A database's time to live as the log set it (SET_DATABASE_TTL); ttlNs null = keep forever. */
export interface DatabaseTtl {
  tenant: string
  database: string
  ttlNs: bigint | null
}

export interface Manifest {
  partition: number
  /** The next changelog offset to apply: every entry below it is in the segments listed. */
  appliedOffset: bigint
  nextSeq: number
  nextFileId: number
  segments: ManifestSegment[]
  tombstones: Tombstone[]
  /** Sorted by tenant, then database. */
  databaseTtls: DatabaseTtl[]
}

const bigintOrNull = (v: bigint | null): string | null => (v === null ? null : v.toString())

function toJson(manifest: Manifest): string {
  return JSON.stringify({
    ...manifest,
    appliedOffset: manifest.appliedOffset.toString(),
    segments: manifest.segments.map((s) => ({ ...s, purgedOffset: s.purgedOffset.toString() })),
    tombstones: manifest.tombstones.map((t) => ({ ...t, offset: t.offset.toString(), fromNs: bigintOrNull(t.fromNs), toNs: bigintOrNull(t.toNs) })),
    databaseTtls: manifest.databaseTtls.map((d) => ({ ...d, ttlNs: bigintOrNull(d.ttlNs) })),
  })
}

type Json = Record<string, unknown>

function fromJson(text: string): Manifest {
  const body = JSON.parse(text) as Json
  const big = (v: unknown): bigint => BigInt(v as string)
  const bigOrNull = (v: unknown): bigint | null => (v === null ? null : BigInt(v as string))
  return {
    partition: body.partition as number,
    appliedOffset: big(body.appliedOffset),
    nextSeq: body.nextSeq as number,
    nextFileId: body.nextFileId as number,
    segments: (body.segments as Json[]).map((s) => ({
      file: s.file as string, minSeq: s.minSeq as number, maxSeq: s.maxSeq as number, level: s.level as number,
      purgedOffset: big(s.purgedOffset), bytes: s.bytes as number,
    })),
    tombstones: (body.tombstones as Json[]).map((t) => ({
      offset: big(t.offset), beforeSeq: t.beforeSeq as number, tenant: t.tenant as string, database: t.database as string,
      measurement: t.measurement as string | null, seriesId: t.seriesId as string | null, tags: t.tags as TagMatch[],
      fromNs: bigOrNull(t.fromNs), toNs: bigOrNull(t.toNs),
      ...(t.fields !== undefined && { fields: t.fields as string[] | null }),
      ...(t.forgetsTypes === true && { forgetsTypes: true }),
    })),
    databaseTtls: ((body.databaseTtls ?? []) as Json[]).map((d) => ({ tenant: d.tenant as string, database: d.database as string, ttlNs: bigOrNull(d.ttlNs) })),
  }
}

/** Reads the manifest; null when the directory has none (a new store). */
export function readManifest(dir: string): Manifest | null {
  const path = join(dir, MANIFEST_FILE)
  if (!existsSync(path)) return null
  const bytes = readFileSync(path)
  const newline = bytes.indexOf(0x0a)
  const corrupt = (why: string): never => {
    throw new StorageError(StorageErrorCode.CORRUPT, `manifest ${path}: ${why}`, { file: MANIFEST_FILE })
  }
  if (newline < 0) corrupt('no header line')
  const [magic, version, crcHex, length] = bytes.subarray(0, newline).toString('latin1').split(' ')
  if (magic !== 'SLUICE-MANIFEST') corrupt('bad magic')
  if (!READABLE_VERSIONS.has(Number(version))) corrupt(`version ${version} not supported`)
  const body = bytes.subarray(newline + 1)
  if (body.length !== Number(length)) corrupt(`body is ${body.length} bytes, the header says ${length}`)
  if (crc32c(body).toString(16) !== crcHex) corrupt('checksum mismatch')
  try {
    return fromJson(body.toString('utf8'))
  } catch (error) {
    return corrupt(`body does not parse: ${(error as Error).message}`)
  }
}

export function fsyncDirectory(dir: string): void {
  const fd = openSync(dir, 'r')
  try { fsyncSync(fd) } finally { closeSync(fd) }
}

/** Replaces the manifest atomically: tmp, fsync, rename, fsync the directory. */
export function writeManifest(dir: string, manifest: Manifest, fsync: boolean): void {
  const body = Buffer.from(toJson(manifest), 'utf8')
  const header = Buffer.from(`SLUICE-MANIFEST ${MANIFEST_VERSION} ${crc32c(body).toString(16)} ${body.length}\n`, 'latin1')
  const tmp = join(dir, MANIFEST_TMP)
  const fd = openSync(tmp, 'w')
  try {
    writeSync(fd, header)
    writeSync(fd, body)
    if (fsync) fsyncSync(fd)
  } finally {
    closeSync(fd)
  }
  renameSync(tmp, join(dir, MANIFEST_FILE))
  if (fsync) fsyncDirectory(dir)
}
