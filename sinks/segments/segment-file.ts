// Segment files: immutable, written once by a flush or a compaction, read by offset. Layout (all
// integers little-endian; docs/segment-format.md has it byte by byte):
//   header  16 B   "SLUICESG" | u32 format version (2; 1 is still read) | u32 crc32c of the 12 bytes before
//   blocks         stored bytes of each block (LZ4 or plain), back to back
//   index          u8 codec (0 plain, 1 LZ4) | varint raw length | the series table and one entry per block
//   footer  24 B   u64 index offset | u32 index length | u32 index crc32c | "SLSEGEND"
// Format 2 writes the block table compactly (offsets implied, integer statistics as varints) and
// lets block payloads take regular times and an integer first value from their index entry: with
// hour-aligned blocks, per-block overhead is what bytes per value are made of.

import { closeSync, fstatSync, openSync, readSync } from 'node:fs'
import { compressSync, uncompressSync } from 'lz4-napi'
import { open, type FileHandle } from 'node:fs/promises'
import { basename } from 'node:path'
import { crc32c } from '../../lib/checksum/crc32c.ts'
import type { Tag } from '../../schemas/index.ts'
import { ByteReader, ByteWriter } from './encoding/bytes.ts'
import {
  type BlockStats, type Column, type DecodeOptions, type FieldTypeCode, BlockCodec, FieldType, computeStats, decodeBlock, encodeBlock, isFieldTypeCode, sealBlock, unsealBlock,
} from './encoding/block.ts'
import { StorageError, StorageErrorCode, invariant } from './errors.ts'
import { seriesId } from './series.ts'

export const SEGMENT_MAGIC = Buffer.from('SLUICESG', 'latin1')
export const SEGMENT_END_MAGIC = Buffer.from('SLSEGEND', 'latin1')
export const SEGMENT_FORMAT_VERSION = 2
/** Versions this build reads. */
const READABLE_FORMAT_VERSIONS = [1, 2]
/** Sums of integer statistics below this magnitude are written as varints (format 2). */
const SMALL_SUM_LIMIT = 2 ** 47
const HEADER_BYTES = 16
const FOOTER_BYTES = 24
/** Written to the file once this many block bytes are buffered. */
const WRITE_BUFFER_BYTES = 1 << 20

export interface SegmentSeries {
  id: string
  tenant: string
  database: string
  measurement: string
  seriesKey: string
  tags: Tag[]
  fields: { name: string; type: FieldTypeCode }[]
}

export interface BlockEntry extends BlockStats {
  /** Position in the file's index, for error messages. */
  ordinal: number
  series: SegmentSeries
  field: string
  type: FieldTypeCode
  codec: number
  offset: number
  storedLength: number
  rawLength: number
  crc32c: number
}

const utf8 = new TextEncoder()
const utf8Decoder = new TextDecoder('utf-8', { fatal: true })

function writeString(out: ByteWriter, text: string): void {
  const bytes = utf8.encode(text)
  out.varint(bytes.length)
  out.raw(bytes)
}

function readString(input: ByteReader): string {
  return utf8Decoder.decode(input.take(input.size()))
}

const scratch = Buffer.alloc(8)

function readStat(input: ByteReader, type: FieldTypeCode): number | bigint | null {
  const bytes = input.take(8)
  const view = Buffer.from(bytes.buffer, bytes.byteOffset, 8)
  switch (type) {
    case FieldType.FLOAT: return view.readDoubleLE(0)
    case FieldType.INTEGER: return view.readBigInt64LE(0)
    case FieldType.UNSIGNED: return view.readBigUInt64LE(0)
    case FieldType.BOOLEAN: return Number(view.readBigInt64LE(0))
    case FieldType.STRING: return null
  }
}

/** The stored index: u8 codec (0 plain, 1 LZ4 when smaller), varint raw length, the bytes. */
function sealIndex(raw: Uint8Array): Uint8Array {
  const compressed = compressSync(Buffer.from(raw.buffer, raw.byteOffset, raw.length))
  const useLz4 = compressed.length < raw.length
  const out = new ByteWriter(16 + Math.min(raw.length, compressed.length))
  out.byte(useLz4 ? BlockCodec.LZ4 : BlockCodec.NONE)
  out.varint(raw.length)
  out.raw(useLz4 ? compressed : raw)
  return out.result()
}

function unsealIndex(stored: Uint8Array): Uint8Array {
  const input = new ByteReader(stored)
  const codec = input.byte()
  const rawLength = input.size()
  const body = stored.subarray(input.offset)
  if (codec === BlockCodec.NONE) return body
  if (codec !== BlockCodec.LZ4) throw new Error(`unknown index codec ${codec}`)
  const raw = uncompressSync(Buffer.from(body.buffer, body.byteOffset, body.length))
  if (raw.length !== rawLength) throw new Error(`decompressed to ${raw.length} bytes, expected ${rawLength}`)
  return raw
}

/** Writes one segment file; blocks may come in any order, each one (series, field) sorted by time. */
export class SegmentWriter {
  private readonly series: SegmentSeries[] = []
  private readonly seriesIndex = new Map<string, number>()
  private readonly entries: Omit<BlockEntry, 'ordinal' | 'series'>[] = []
  private readonly entrySeries: number[] = []
  private pending = new ByteWriter(WRITE_BUFFER_BYTES + 65536)
  /** Each block's payload before sealing, reused (its bytes are copied into `pending` or compressed before the next block). */
  private readonly payload = new ByteWriter(16 * 1024)
  private fileOffset = HEADER_BYTES
  private pendingStart = HEADER_BYTES

  private constructor(private readonly handle: FileHandle, readonly path: string) {}

  static async create(path: string): Promise<SegmentWriter> {
    const handle = await open(path, 'wx')
    const writer = new SegmentWriter(handle, path)
    const header = Buffer.alloc(HEADER_BYTES)
    SEGMENT_MAGIC.copy(header, 0)
    header.writeUInt32LE(SEGMENT_FORMAT_VERSION, 8)
    header.writeUInt32LE(crc32c(header.subarray(0, 12)), 12)
    await handle.write(header, 0, HEADER_BYTES, 0)
    return writer
  }

  private seriesOrdinal(series: Omit<SegmentSeries, 'fields'>, field: string, type: FieldTypeCode): number {
    let index = this.seriesIndex.get(series.id)
    if (index === undefined) {
      index = this.series.length
      this.series.push({ ...series, fields: [] })
      this.seriesIndex.set(series.id, index)
    }
    const fields = this.series[index]!.fields
    if (fieldIndex(fields, field) < 0) fields.push({ name: field, type })
    return index
  }

  /** Declares a series (and its field types) even when it has no block: the catalog keeps it. */
  declareSeries(series: Omit<SegmentSeries, 'fields'>, fieldTypes: Iterable<[string, FieldTypeCode]>): void {
    for (const [field, type] of fieldTypes) this.seriesOrdinal(series, field, type)
  }

  async addBlock(series: Omit<SegmentSeries, 'fields'>, field: string, column: Column): Promise<void> {
    const ordinal = this.seriesOrdinal(series, field, column.type)
    this.payload.length = 0
    const sealed = sealBlock(encodeBlock(column, this.payload, { indexed: true }))
    // Spelled out, not spread: an entry per block of a flush, all of one shape.
    const { count, minTimeNs, maxTimeNs, min, max, first, last, sum } = computeStats(column)
    this.entries.push({
      count, minTimeNs, maxTimeNs, min, max, first, last, sum, field, type: column.type, codec: sealed.codec, offset: this.fileOffset,
      storedLength: sealed.stored.length, rawLength: sealed.rawLength, crc32c: sealed.crc32c,
    })
    this.entrySeries.push(ordinal)
    this.pending.raw(sealed.stored)
    this.fileOffset += sealed.stored.length
    if (this.pending.length >= WRITE_BUFFER_BYTES) await this.writePending()
  }

  /**
   * A block of another segment of this format version, as that segment stores it (readStoredBlock:
   * checksum verified) with its index entry's stats: compaction copies a block that merges with
   * nothing without decoding and encoding it again.
   */
  async addStoredBlock(series: Omit<SegmentSeries, 'fields'>, block: BlockEntry, stored: Uint8Array): Promise<void> {
    invariant(stored.length === block.storedLength, `a stored block of ${stored.length} bytes, its entry says ${block.storedLength}`)
    const ordinal = this.seriesOrdinal(series, block.field, block.type)
    const { count, minTimeNs, maxTimeNs, min, max, first, last, sum, field, type, codec, storedLength, rawLength, crc32c: checksum } = block
    this.entries.push({ count, minTimeNs, maxTimeNs, min, max, first, last, sum, field, type, codec, offset: this.fileOffset, storedLength, rawLength, crc32c: checksum })
    this.entrySeries.push(ordinal)
    this.pending.raw(stored)
    this.fileOffset += stored.length
    if (this.pending.length >= WRITE_BUFFER_BYTES) await this.writePending()
  }

  private async writePending(): Promise<void> {
    if (this.pending.length === 0) return
    await this.handle.write(this.pending.bytes, 0, this.pending.length, this.pendingStart)
    this.pendingStart += this.pending.length
    this.pending.length = 0
  }

  get blockCount(): number {
    return this.entries.length
  }

  /** Writes the index and footer, fsyncs (when asked) and closes; returns the file's size. */
  async finish(fsync: boolean): Promise<number> {
    await this.writePending()
    const index = sealIndex(this.encodeIndex())
    const footer = Buffer.alloc(FOOTER_BYTES)
    footer.writeBigUInt64LE(BigInt(this.fileOffset), 0)
    footer.writeUInt32LE(index.length, 8)
    footer.writeUInt32LE(crc32c(index), 12)
    SEGMENT_END_MAGIC.copy(footer, 16)
    await this.handle.write(index, 0, index.length, this.fileOffset)
    await this.handle.write(footer, 0, FOOTER_BYTES, this.fileOffset + index.length)
    if (fsync) await this.handle.sync()
    await this.handle.close()
    return this.fileOffset + index.length + FOOTER_BYTES
  }

  async abort(): Promise<void> {
    await this.handle.close().catch(() => {})
  }

  /**
   * The series table and block table a reader of the finished file decodes from its index, built
   * from what this writer wrote (SegmentReader.openWritten): the same values, without reading and
   * decoding the index a flush or compaction has just encoded.
   */
  writtenIndex(): WrittenIndex {
    const series: SegmentSeries[] = this.series.map(({ tenant, database, measurement, seriesKey, tags, fields }) => ({
      id: seriesId(tenant, database, seriesKey), tenant, database, measurement, seriesKey,
      tags: tags.map(({ key, value }) => ({ key, value })), fields: fields.map(({ name, type }) => ({ name, type })),
    }))
    const blocks: BlockEntry[] = []
    for (let ordinal = 0; ordinal < this.entries.length; ordinal++) {
      const { count, minTimeNs, maxTimeNs, min, max, first, last, sum, field, type, codec, offset, storedLength, rawLength, crc32c: checksum } = this.entries[ordinal]!
      blocks.push({
        ordinal, series: series[this.entrySeries[ordinal]!]!, field, type, codec, count, minTimeNs, maxTimeNs, offset,
        storedLength, rawLength, crc32c: checksum, min, max, first, last, sum,
      })
    }
    return { series, blocks, indexOffset: this.fileOffset }
  }

  private encodeIndex(): Uint8Array {
    const out = new ByteWriter(256 + this.entries.length * 96)
    out.varint(this.series.length)
    for (const series of this.series) {
      writeString(out, series.tenant)
      writeString(out, series.database)
      writeString(out, series.measurement)
      writeString(out, series.seriesKey)
      out.varint(series.tags.length)
      for (const tag of series.tags) { writeString(out, tag.key); writeString(out, tag.value) }
      out.varint(series.fields.length)
      for (const field of series.fields) { writeString(out, field.name); out.byte(field.type) }
    }
    out.varint(this.entries.length)
    for (let i = 0; i < this.entries.length; i++) {
      const entry = this.entries[i]!
      const series = this.series[this.entrySeries[i]!]!
      out.varint(this.entrySeries[i]!)
      out.varint(fieldIndex(series.fields, entry.field))
      out.byte(entry.codec)
      out.varint(entry.count)
      out.zigzagBig(entry.minTimeNs)
      out.varintBig(BigInt.asUintN(64, entry.maxTimeNs - entry.minTimeNs))
      out.varint(entry.storedLength)
      out.varint(entry.rawLength)
      scratch.writeUInt32LE(entry.crc32c, 0)
      out.raw(scratch.subarray(0, 4))
      writeStats(out, entry)
    }
    return out.result()
  }
}

/** The index of the field named `name` in `fields`, or -1 (a loop, not a closure per block). */
function fieldIndex(fields: SegmentSeries['fields'], name: string): number {
  for (let i = 0; i < fields.length; i++) if (fields[i]!.name === name) return i
  return -1
}

function writeDouble(out: ByteWriter, value: number): void {
  scratch.writeDoubleLE(value)
  out.raw(scratch)
}

/** Format-2 statistics: floats as f64s, integers as zigzag varints relative to the first value, booleans as bits. */
function writeStats(out: ByteWriter, entry: BlockStats & { type: FieldTypeCode }): void {
  switch (entry.type) {
    case FieldType.FLOAT:
      writeDouble(out, entry.min as number)
      writeDouble(out, entry.max as number)
      writeDouble(out, entry.first as number)
      writeDouble(out, entry.last as number)
      writeDouble(out, entry.sum)
      return
    case FieldType.INTEGER: case FieldType.UNSIGNED: {
      const first = entry.first as bigint
      out.zigzagBig(BigInt.asIntN(64, first))
      out.zigzagBig(BigInt.asIntN(64, (entry.min as bigint) - first))
      out.zigzagBig(BigInt.asIntN(64, (entry.max as bigint) - first))
      out.zigzagBig(BigInt.asIntN(64, (entry.last as bigint) - first))
      if (Number.isInteger(entry.sum) && Math.abs(entry.sum) < SMALL_SUM_LIMIT) {
        out.varint((entry.sum >= 0 ? entry.sum * 2 : -entry.sum * 2 - 1) + 1)
      } else {
        out.varint(0)
        scratch.writeDoubleLE(entry.sum)
        out.raw(scratch)
      }
      return
    }
    case FieldType.BOOLEAN:
      out.byte((entry.min as number) | ((entry.max as number) << 1) | ((entry.first as number) << 2) | ((entry.last as number) << 3))
      out.varint(entry.sum)
      return
    case FieldType.STRING:
      return
  }
}

/** varint storedLength, varint rawLength, u32 crc32c: the same in both formats. */
function readStoredBlock(input: ByteReader): Pick<BlockEntry, 'storedLength' | 'rawLength' | 'crc32c'> {
  const storedLength = input.size()
  const rawLength = input.size()
  const crcBytes = input.take(4)
  return { storedLength, rawLength, crc32c: (crcBytes[0]! | (crcBytes[1]! << 8) | (crcBytes[2]! << 16) | (crcBytes[3]! << 24)) >>> 0 }
}

function readStats(input: ByteReader, type: FieldTypeCode): Pick<BlockStats, 'min' | 'max' | 'first' | 'last' | 'sum'> {
  switch (type) {
    case FieldType.FLOAT: {
      const [min, max, first, last, sum] = [0, 1, 2, 3, 4].map(() => readStat(input, FieldType.FLOAT) as number) as [number, number, number, number, number]
      return { min, max, first, last, sum }
    }
    case FieldType.INTEGER: case FieldType.UNSIGNED: {
      const wrap = (value: bigint): bigint => (type === FieldType.UNSIGNED ? BigInt.asUintN(64, value) : BigInt.asIntN(64, value))
      const first = wrap(input.zigzagBig())
      const [min, max, last] = [0, 1, 2].map(() => wrap(first + input.zigzagBig())) as [bigint, bigint, bigint]
      const tagged = input.size()
      let sum: number
      if (tagged === 0) {
        const bytes = input.take(8)
        sum = Buffer.from(bytes.buffer, bytes.byteOffset, 8).readDoubleLE(0)
      } else {
        const z = tagged - 1
        sum = z % 2 === 0 ? z / 2 : -(z + 1) / 2
      }
      return { min, max, first, last, sum }
    }
    case FieldType.BOOLEAN: {
      const bits = input.byte()
      if (bits > 15) input.fail(`boolean statistics byte ${bits}`)
      return { min: bits & 1, max: (bits >> 1) & 1, first: (bits >> 2) & 1, last: (bits >> 3) & 1, sum: input.size() }
    }
    case FieldType.STRING:
      return { min: null, max: null, first: null, last: null, sum: 0 }
  }
}

/** A segment's decoded index as its writer knows it (SegmentWriter.writtenIndex). */
export interface WrittenIndex {
  series: SegmentSeries[]
  blocks: BlockEntry[]
  /** Where the blocks end and the index starts. */
  indexOffset: number
}

/** An open segment file: its index in memory, blocks read (and verified) on demand. */
export class SegmentReader {
  readonly file: string
  readonly series: SegmentSeries[]
  readonly blocks: BlockEntry[]
  /** Blocks of each series id, then field, sorted by time (blocksOf). */
  private readonly blocksBySeries = new Map<string, Map<string, BlockEntry[]>>()
  readonly byteLength: number
  /** Where the blocks end (the index starts). */
  private readonly blocksEndOffset: number
  /** The bytes from the header to blocksEndOffset while held (holdBlocks), else null. */
  private heldBlocks: Buffer | null = null
  private holds = 0

  /** `index`: the index's bytes to decode, or what the writer of the file wrote (openWritten). */
  private constructor(private fd: number, readonly path: string, byteLength: number, index: Uint8Array | WrittenIndex, readonly formatVersion: number, indexOffset: number) {
    this.file = basename(path)
    this.byteLength = byteLength
    this.blocksEndOffset = indexOffset
    if (index instanceof Uint8Array) {
      const input = new ByteReader(index)
      try {
        this.series = this.readSeriesTable(input)
        this.blocks = formatVersion === 1 ? this.readBlockTableV1(input) : this.readBlockTable(input, indexOffset)
      } catch (error) {
        throw this.corrupt(`index does not decode: ${(error as Error).message}`, undefined, error)
      }
    } else {
      this.series = index.series
      this.blocks = index.blocks
    }
    for (const block of this.blocks) {
      let fields = this.blocksBySeries.get(block.series.id)
      if (!fields) this.blocksBySeries.set(block.series.id, fields = new Map())
      let list = fields.get(block.field)
      if (!list) fields.set(block.field, list = [])
      list.push(block)
    }
    for (const list of this.blockLists()) list.sort((a, b) => (a.minTimeNs < b.minTimeNs ? -1 : 1))
  }

  /** Every (series, field)'s block list, each sorted by time. */
  *blockLists(): Generator<BlockEntry[]> {
    for (const fields of this.blocksBySeries.values()) yield* fields.values()
  }

  /** The blocks of one series' field, sorted by time. */
  blocksOf(seriesId: string, field: string): BlockEntry[] | undefined {
    return this.blocksBySeries.get(seriesId)?.get(field)
  }

  /**
   * Opens the file `writer` has just finished (`byteLength` bytes, what finish returned) with the
   * index the writer wrote, instead of reading and decoding it back (SegmentReader.open gives the
   * same series and blocks: segment-file.test.ts): a flush opens every segment it writes.
   */
  static openWritten(writer: SegmentWriter, byteLength: number): SegmentReader {
    const index = writer.writtenIndex()
    const fd = openSync(writer.path, 'r')
    try {
      const size = fstatSync(fd).size
      invariant(size === byteLength, `segment ${basename(writer.path)}: ${size} bytes on disk, its writer wrote ${byteLength}`)
      return new SegmentReader(fd, writer.path, size, index, SEGMENT_FORMAT_VERSION, index.indexOffset)
    } catch (error) {
      closeSync(fd)
      throw error
    }
  }

  static open(path: string): SegmentReader {
    const fd = openSync(path, 'r')
    try {
      const size = fstatSync(fd).size
      const fail = (message: string): never => {
        throw new StorageError(StorageErrorCode.CORRUPT, `segment ${basename(path)}: ${message}`, { file: basename(path) })
      }
      if (size < HEADER_BYTES + FOOTER_BYTES) fail(`${size} bytes, too short for a segment`)
      const header = Buffer.alloc(HEADER_BYTES)
      readSync(fd, header, 0, HEADER_BYTES, 0)
      if (!header.subarray(0, 8).equals(SEGMENT_MAGIC)) fail('bad magic (not a segment file)')
      if (header.readUInt32LE(12) !== crc32c(header.subarray(0, 12))) fail('header checksum mismatch')
      const version = header.readUInt32LE(8)
      if (!READABLE_FORMAT_VERSIONS.includes(version)) fail(`format version ${version} not supported (this build reads ${READABLE_FORMAT_VERSIONS.join(' and ')})`)
      const footer = Buffer.alloc(FOOTER_BYTES)
      readSync(fd, footer, 0, FOOTER_BYTES, size - FOOTER_BYTES)
      if (!footer.subarray(16).equals(SEGMENT_END_MAGIC)) fail('bad footer magic (truncated file?)')
      const indexOffset = Number(footer.readBigUInt64LE(0))
      const indexLength = footer.readUInt32LE(8)
      if (indexOffset + indexLength + FOOTER_BYTES !== size) fail('footer does not match the file size')
      const index = Buffer.alloc(indexLength)
      readSync(fd, index, 0, indexLength, indexOffset)
      if (crc32c(index) !== footer.readUInt32LE(12)) fail('index checksum mismatch')
      let payload: Uint8Array
      try {
        payload = unsealIndex(index)
      } catch (error) {
        return fail(`index does not decompress: ${(error as Error).message}`)
      }
      return new SegmentReader(fd, path, size, payload, version, indexOffset)
    } catch (error) {
      closeSync(fd)
      throw error
    }
  }

  private readSeriesTable(input: ByteReader): SegmentSeries[] {
    const count = input.size()
    const series: SegmentSeries[] = []
    for (let s = 0; s < count; s++) {
      const tenant = readString(input)
      const database = readString(input)
      const measurement = readString(input)
      const seriesKey = readString(input)
      const tags: Tag[] = []
      for (let t = input.size(); t > 0; t--) tags.push({ key: readString(input), value: readString(input) })
      const fields: SegmentSeries['fields'] = []
      for (let f = input.size(); f > 0; f--) {
        const name = readString(input)
        const type = input.byte()
        if (!isFieldTypeCode(type)) return input.fail(`unknown field type ${type}`)
        fields.push({ name, type })
      }
      series.push({ id: seriesId(tenant, database, seriesKey), tenant, database, measurement, seriesKey, tags, fields })
    }
    return series
  }

  /** Format 1: every entry spells out its offset and all statistics in 8 bytes each. */
  private readBlockTableV1(input: ByteReader): BlockEntry[] {
    const count = input.size()
    const blocks: BlockEntry[] = []
    for (let ordinal = 0; ordinal < count; ordinal++) {
      const start = this.readEntryStart(input)
      const minTimeNs = input.zigzagBig()
      const maxTimeNs = input.zigzagBig()
      const offset = input.size()
      const stored = readStoredBlock(input)
      const [min, max, first, last] = [0, 1, 2, 3].map(() => readStat(input, start.type))
      const sumBytes = input.take(8)
      const sum = Buffer.from(sumBytes.buffer, sumBytes.byteOffset, 8).readDoubleLE(0)
      blocks.push({ ordinal, ...start, minTimeNs, maxTimeNs, offset, ...stored, min: min ?? null, max: max ?? null, first: first ?? null, last: last ?? null, sum })
    }
    if (input.offset !== input.end) input.fail('trailing bytes after the block table')
    return blocks
  }

  /** Format 2: offsets follow from the stored lengths (blocks lie back to back up to the index). */
  private readBlockTable(input: ByteReader, indexOffset: number): BlockEntry[] {
    const count = input.size()
    const blocks: BlockEntry[] = []
    let offset = HEADER_BYTES
    for (let ordinal = 0; ordinal < count; ordinal++) {
      const start = this.readEntryStart(input)
      const minTimeNs = input.zigzagBig()
      const maxTimeNs = BigInt.asIntN(64, minTimeNs + input.varintBig())
      if (maxTimeNs < minTimeNs) input.fail('block time range ends before it starts')
      const { storedLength, rawLength, crc32c: checksum } = readStoredBlock(input)
      const { min, max, first, last, sum } = readStats(input, start.type)
      // Spelled out, not spread: every entry of one shape (a new segment's reader reads one per block).
      blocks.push({
        ordinal, series: start.series, field: start.field, type: start.type, codec: start.codec, count: start.count, minTimeNs, maxTimeNs, offset,
        storedLength, rawLength, crc32c: checksum, min, max, first, last, sum,
      })
      offset += storedLength
    }
    if (input.offset !== input.end) input.fail('trailing bytes after the block table')
    if (offset !== indexOffset) input.fail(`blocks end at byte ${offset}, the index starts at ${indexOffset}`)
    return blocks
  }

  /** What an entry starts with in both formats: its series, field (and type), codec and count. */
  private readEntryStart(input: ByteReader): Pick<BlockEntry, 'series' | 'field' | 'type' | 'codec' | 'count'> {
    const series = this.series[input.size()] ?? input.fail('block names a missing series')
    const field = series.fields[input.size()] ?? input.fail('block names a missing field')
    return { series, field: field.name, type: field.type, codec: input.byte(), count: input.size() }
  }

  corrupt(message: string, block?: BlockEntry, cause?: unknown): StorageError {
    const where = block
      ? ` block ${block.ordinal} (series ${JSON.stringify(block.series.seriesKey)}, field ${JSON.stringify(block.field)}, bytes ${block.offset}..${block.offset + block.storedLength})`
      : ''
    return new StorageError(StorageErrorCode.CORRUPT, `segment ${this.file}${where}: ${message}`, {
      file: this.file, block: block?.ordinal, seriesId: block?.series.id, field: block?.field,
    }, false, { cause })
  }

  /** The bytes of every block of the file, read at once: compaction reads each block once. */
  get blockBytes(): number {
    return this.blocksEndOffset - HEADER_BYTES
  }

  /**
   * Reads every block's bytes in one read and serves readBlock and readStoredBlock from memory until
   * as many releaseBlocks calls: compaction reads every block of its inputs once, and one system
   * call per block (a flushed integer block is about 70 bytes) cost more than the bytes.
   */
  holdBlocks(): void {
    if (this.fd < 0) throw new StorageError(StorageErrorCode.CLOSED, `segment ${this.file} is closed`, { file: this.file })
    if (this.holds > 0) { this.holds++; return }
    const bytes = Buffer.allocUnsafe(this.blockBytes)
    const read = readSync(this.fd, bytes, 0, bytes.length, HEADER_BYTES)
    if (read !== bytes.length) throw this.corrupt(`short read of the blocks (${read} of ${bytes.length} bytes)`)
    this.heldBlocks = bytes
    this.holds = 1
  }

  releaseBlocks(): void {
    invariant(this.holds > 0, `segment ${this.file}: releaseBlocks without holdBlocks`)
    if (--this.holds === 0) this.heldBlocks = null
  }

  /** A block's stored bytes (not verified): a view of the held bytes, else read from the file. */
  private storedBytes(block: BlockEntry): Uint8Array {
    if (this.fd < 0) throw new StorageError(StorageErrorCode.CLOSED, `segment ${this.file} is closed`, { file: this.file })
    if (this.heldBlocks !== null) {
      if (block.offset < HEADER_BYTES || block.offset + block.storedLength > this.blocksEndOffset) throw this.corrupt('block lies outside the blocks', block)
      return this.heldBlocks.subarray(block.offset - HEADER_BYTES, block.offset - HEADER_BYTES + block.storedLength)
    }
    const stored = Buffer.allocUnsafe(block.storedLength)
    const read = readSync(this.fd, stored, 0, block.storedLength, block.offset)
    if (read !== block.storedLength) throw this.corrupt(`short read (${read} of ${block.storedLength} bytes)`, block)
    return stored
  }

  /**
   * Reads, verifies and decodes a block (with a time range, only its points in range, values decoded
   * only up to the range's end); a bad checksum is a CORRUPT error naming file and block.
   */
  readBlock(block: BlockEntry, options: Omit<DecodeOptions, 'entry'> = {}): Column {
    const stored = this.storedBytes(block)
    try {
      return decodeBlock(unsealBlock(stored, block.codec, block.rawLength, block.crc32c), { ...options, entry: block })
    } catch (error) {
      throw this.corrupt((error as Error).message, block, error)
    }
  }

  /** A block's bytes as stored (compressed), its checksum verified: what SegmentWriter.addStoredBlock copies. */
  readStoredBlock(block: BlockEntry): Uint8Array {
    const stored = this.storedBytes(block)
    const actual = crc32c(stored)
    if (actual !== block.crc32c) throw this.corrupt(`checksum mismatch: crc32c ${actual.toString(16)} ≠ ${block.crc32c.toString(16)} in the index`, block)
    return stored
  }

  close(): void {
    if (this.fd >= 0) closeSync(this.fd)
    this.fd = -1
    this.heldBlocks = null
  }
}
