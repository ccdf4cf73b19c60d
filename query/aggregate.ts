// Executes an aggregating SELECT: per series, per needed field, the store's pre-aggregates for
// blocks wholly inside one bucket (and the range), and tight loops over time-ordered runs of the
// other chunks; states meet in cells keyed by (group tags, bucket). No object per point.

import { type Column, type ColumnValues, FieldType, type FieldTypeCode, lowerBound, type PartitionStore, type SeriesListing } from '../sinks/index.ts'
import { filterMask } from './filter.ts'
import { readColumn, unionTimes } from './raw.ts'
import { FieldAccumulator, foldOf, type Value } from './accumulate.ts'
import { ValueCollector, collectedResult, isCollected } from './collect.ts'
import { bucketStartsInRange, fillGaps } from './gapfill.ts'
import type { BucketSpec } from './parse.ts'
import { QueryError, QueryErrorCode } from './errors.ts'
import { QUERY_LIMITS } from './limits.ts'
import { type Plan, type TableSchema, seriesMatches, tagValue } from './plan.ts'
import type { QueryStats } from './result.ts'
import { bucketStartNs, firstWindowStartNs, forEachTumblingRun } from './time.ts'

/** Key of count(*)'s state in a cell: no field is named "" (line protocol refuses empty keys). */
const ROWS = ''

export interface Cell {
  tags: (string | null)[]
  bucketNs: bigint | null
  /** By the key's slot in its Aggregation (slotOf); made on first use. */
  accumulators: Array<FieldAccumulator | undefined>
  /** Per field, every point, for the aggregates that need them all (collect.ts); made on first use. */
  collectors: Map<string, ValueCollector> | null
  /** A bucket without data added by gap filling: its aggregates are null unless filled. */
  filled?: boolean
}

export interface AggregateOptions {
  usePreAggregates: boolean
}

/**
 * The cells of an aggregating SELECT, filled series by series (run, or beginSeries then readSeries
 * per series, then finish). query/parallel records a worker's reads through the protected methods
 * and replays them in the same order on the main thread.
 */
export class Aggregation {
  /** Every cell, in the order made. */
  readonly cells: Cell[] = []
  readonly stats: QueryStats = { pointsScanned: 0, pointsFromBlockStats: 0 }
  private groupTags: (string | null)[] = []
  /** The cells of the current group by bucket, and of every group by its tags' JSON. */
  private groupCells = new Map<bigint | null, Cell>()
  private readonly cellsByGroup = new Map<string, Map<bigint | null, Cell>>()
  /** Fields some output aggregates. */
  private readonly fields = new Set<string>()
  private readonly countsRows: boolean
  /** Fields some output needs every value of; they are scanned, not answered from block statistics. */
  private readonly collected = new Set<string>()
  /** Each key (field, ROWS) some output aggregates, by its slot in a cell's accumulators. */
  private readonly slots = new Map<string, number>()
  /** Per slot, the Fold bits the key's outputs need (accumulate.ts); count needs none. */
  private readonly folds: number[] = []
  protected seriesOrdinal = 0
  private collectedPoints = 0

  constructor(protected readonly plan: Plan, private readonly options: AggregateOptions) {
    let countRows = false
    for (const output of plan.outputs) {
      if (output.kind !== 'aggregate') continue
      if (output.field === null) countRows = true
      else this.fields.add(output.field)
      if (output.field !== null && isCollected(output.fn)) this.collected.add(output.field)
      const slot = this.slotOf(output.field ?? ROWS)
      this.folds[slot] = (this.folds[slot] ?? 0) | foldOf(output.fn)
    }
    this.countsRows = countRows
  }

  /** The slot of a key in every cell's accumulators (a key no output names gets one too). */
  slotOf(key: string): number {
    let slot = this.slots.get(key)
    if (slot === undefined) this.slots.set(key, slot = this.slots.size)
    return slot
  }

  run(schema: TableSchema): void {
    for (const { store, series } of schema.series) {
      if (!seriesMatches(series, this.plan)) continue
      this.beginSeries(series)
      this.readSeries(store, series, schema.tags)
    }
    this.finish()
  }

  /** The next series (one seriesMatches accepts): its group and ordinal. */
  beginSeries(series: SeriesListing): void {
    this.seriesOrdinal++
    this.groupTags = this.plan.statement.groupBy.map((key) => tagValue(series, key))
    this.enterGroup(JSON.stringify(this.groupTags))
  }

  private enterGroup(key: string): void {
    let cells = this.cellsByGroup.get(key)
    if (!cells) this.cellsByGroup.set(key, cells = new Map())
    this.groupCells = cells
  }

  /** Folds the series begun last into the cells. `tags`: every tag key of the table. */
  readSeries(store: PartitionStore, series: SeriesListing, tags: readonly string[]): void {
    if (this.plan.rowFilter !== null) {
      this.filtered(store, series, this.fields, this.countsRows, new Set(tags))
      return
    }
    for (const field of series.fields) {
      if (this.fields.has(field.name)) this.accumulate(store, series, field.name, field.type, field.name, this.needsValues(field.name))
    }
    if (this.countsRows) this.countRows(store, series)
  }

  /** Without GROUP BY and buckets, no series still gives one row. */
  finish(): void {
    if (this.plan.statement.groupBy.length === 0 && this.plan.statement.bucket === null && this.cells.length === 0) {
      this.groupTags = []
      this.enterGroup('[]')
      this.cell(null)
    }
  }

  /**
   * A series under a row filter: the fields it reads and the aggregated ones lined up on their
   * times (as a raw SELECT), the filter decided per time into a mask, and only the passing points
   * of each aggregated field accumulated. Block statistics cannot answer a filtered block.
   */
  private filtered(store: PartitionStore, series: SeriesListing, fields: Set<string>, countRows: boolean, tags: Set<string>): void {
    const filter = this.plan.rowFilter!
    const { fromNs, toNs } = this.plan.statement
    const wanted = new Set([...fields, ...filter.compiled.columns])
    const columns = new Map<string, Column>()
    for (const field of series.fields) {
      if (!countRows && !wanted.has(field.name)) continue
      const column = readColumn(store, series, field.name, fromNs, toNs, this.stats)
      if (column) { columns.set(field.name, column); this.stats.pointsScanned += column.times.length }
    }
    if (columns.size === 0) return
    const times = unionTimes([...columns.values()])
    const pass = filterMask(filter, times, columns, (name) => (tags.has(name) ? tagValue(series, name) ?? '' : undefined))
    for (const field of series.fields) {
      const column = columns.get(field.name)
      if (column && fields.has(field.name)) this.addChunk(passingPoints(column, times, pass), field.name, field.type, false)
    }
    if (countRows) {
      const passing = times.filter((_, i) => pass[i] === 1)
      forEachBucketRun(passing, passing.length, this.plan.bucket, (bucketNs, start, end) => {
        this.accumulator(this.cell(bucketNs), ROWS, series.fields[0]!.type).addCount(end - start)
      })
    }
  }

  /** min/max/first/last of a string need its values: strings' block statistics hold only a count. */
  private needsValues(field: string): boolean {
    return this.plan.outputs.some((o) => o.kind === 'aggregate' && o.field === field && o.fn !== 'count')
  }

  protected cell(bucketNs: bigint | null): Cell {
    const known = this.groupCells.get(bucketNs)
    if (known) return known
    if (this.cells.length >= QUERY_LIMITS.maxResultRows) {
      throw new QueryError(QueryErrorCode.LIMIT_EXCEEDED, `more than ${QUERY_LIMITS.maxResultRows} groups; narrow the time range, widen the bucket or group by fewer tags`)
    }
    const cell: Cell = { tags: this.groupTags, bucketNs, accumulators: [], collectors: null }
    this.cells.push(cell)
    this.groupCells.set(bucketNs, cell)
    return cell
  }

  /** The cell's accumulator of `key` (a parallel scan task records partials instead: scan-task.ts). */
  protected accumulator(cell: Cell, key: string, type: FieldTypeCode): FieldAccumulator {
    const slot = this.slotOf(key)
    return cell.accumulators[slot] ??= new FieldAccumulator(type, this.folds[slot] ?? 0)
  }

  private accumulate(store: PartitionStore, series: SeriesListing, field: string, type: FieldTypeCode, key: string, needsValues: boolean): void {
    const { fromNs, toNs } = this.plan.statement
    const request = { seriesId: series.id, field, fromNs, toNs }
    if (!this.options.usePreAggregates || this.collected.has(key)) {
      for (const chunk of store.scan(request)) this.addChunk(chunk, key, type)
      return
    }
    const plan = store.aggregate(request)
    const bucket = this.plan.bucket
    const folds = this.folds[this.slotOf(key)] ?? 0
    for (const block of plan.blocks) {
      const inOneBucket = bucket === null
        || (!bucket.slideNs && bucketStartNs(block.minTimeNs, bucket.intervalNs, bucket.originNs) === bucketStartNs(block.maxTimeNs, bucket.intervalNs, bucket.originNs))
      if (inOneBucket && FieldAccumulator.statsSuffice(type, block, needsValues, folds)) {
        const bucketNs = bucket === null ? null : bucketStartNs(block.minTimeNs, bucket.intervalNs, bucket.originNs)
        this.accumulator(this.cell(bucketNs), key, type).addStats(block)
        this.stats.pointsFromBlockStats += block.count
        this.stats.blocksFromBlockStats = (this.stats.blocksFromBlockStats ?? 0) + 1
        continue
      }
      // A clean block is the only data of its series and field in its time span: scanning the span reads exactly it.
      for (const chunk of store.scan({ seriesId: series.id, field, fromNs: block.minTimeNs, toNs: block.maxTimeNs + 1n })) this.addChunk(chunk, key, type)
    }
    for (const chunk of plan.rest) this.addChunk(chunk, key, type)
  }

  private addChunk(chunk: Column, key: string, type: FieldTypeCode, scanned = true): void {
    const count = chunk.times.length
    if (scanned) {
      this.stats.pointsScanned += count
      this.stats.chunksScanned = (this.stats.chunksScanned ?? 0) + 1
    }
    const collect = this.collected.has(key)
    if (collect) this.countCollected(count)
    forEachBucketRun(chunk.times, count, this.plan.bucket, (bucketNs, start, end) => {
      const cell = this.cell(bucketNs)
      this.accumulator(cell, key, type).addRun(chunk, start, end)
      if (collect) this.collector(cell, key, type).addRun(chunk, start, end, this.seriesOrdinal)
    })
  }

  protected countCollected(count: number): void {
    // Hopping windows may hold a point several times; counted once here, bounded by the cell limit there.
    this.collectedPoints += count
    if (this.collectedPoints > QUERY_LIMITS.maxCollectedPoints) {
      throw new QueryError(QueryErrorCode.LIMIT_EXCEEDED, `more than ${QUERY_LIMITS.maxCollectedPoints} points for median, percentile, mode, stddev, increase, irate, gauge or track aggregates; narrow the time range or the series`)
    }
  }

  protected collector(cell: Cell, key: string, type: FieldTypeCode): ValueCollector {
    cell.collectors ??= new Map()
    let collector = cell.collectors.get(key)
    if (!collector) {
      collector = new ValueCollector(type)
      cell.collectors.set(key, collector)
    }
    return collector
  }

  /** count(*): rows are the times at which the series has any field; one field's count when it has one. */
  private countRows(store: PartitionStore, series: SeriesListing): void {
    if (series.fields.length === 1) {
      const field = series.fields[0]!
      this.accumulate(store, series, field.name, field.type, ROWS, false)
      return
    }
    const { fromNs, toNs } = this.plan.statement
    const parts: BigInt64Array[] = []
    let total = 0
    for (const field of series.fields) {
      for (const chunk of store.scan({ seriesId: series.id, field: field.name, fromNs, toNs })) { parts.push(chunk.times); total += chunk.times.length }
    }
    this.stats.chunksScanned = (this.stats.chunksScanned ?? 0) + parts.length
    this.stats.pointsScanned += total
    const times = new BigInt64Array(total)
    let at = 0
    for (const part of parts) { times.set(part, at); at += part.length }
    times.sort()
    forEachBucketRun(times, total, this.plan.bucket, (bucketNs, start, end) => {
      let distinct = 1
      for (let i = start + 1; i < end; i++) if (times[i] !== times[i - 1]) distinct++
      this.accumulator(this.cell(bucketNs), ROWS, series.fields[0]!.type).addCount(distinct)
    })
  }
}

function allocateValues(type: FieldTypeCode, count: number): ColumnValues {
  switch (type) {
    case FieldType.INTEGER: return new BigInt64Array(count)
    case FieldType.UNSIGNED: return new BigUint64Array(count)
    case FieldType.BOOLEAN: return new Uint8Array(count)
    case FieldType.STRING: return new Array<string>(count)
    default: return new Float64Array(count)
  }
}

/** The points of `column` whose time passed the filter (`pass` is over `times`, a superset of the column's times). */
function passingPoints(column: Column, times: BigInt64Array, pass: Uint8Array): Column {
  const keep: number[] = []
  let at = 0
  for (let i = 0; i < column.times.length; i++) {
    const t = column.times[i]!
    while (times[at]! < t) at++
    if (pass[at] === 1) keep.push(i)
  }
  if (keep.length === column.times.length) return column
  const out = allocateValues(column.type, keep.length)
  const outTimes = new BigInt64Array(keep.length)
  const source = column.values as ArrayLike<unknown>
  keep.forEach((index, k) => { outTimes[k] = column.times[index]!; (out as unknown as unknown[])[k] = source[index] })
  return { type: column.type, times: outTimes, values: out }
}

/**
 * Calls `run` with each bucket's run [start, end) of ascending times, in bucket order. Tumbling
 * buckets cut the times; hopping windows overlap, so a time is in every window that covers it.
 */
function forEachBucketRun(times: BigInt64Array, count: number, bucket: BucketSpec | null, run: (bucketNs: bigint | null, start: number, end: number) => void): void {
  if (count === 0) return
  if (bucket === null) { run(null, 0, count); return }
  const { intervalNs, originNs } = bucket
  const slideNs = bucket.slideNs
  if (slideNs) {
    let windowNs = firstWindowStartNs(times[0]!, intervalNs, slideNs, originNs)
    let start = 0
    while (start < count) {
      start = lowerBound(times, windowNs, start, count)
      if (start === count) break
      const end = lowerBound(times, windowNs + intervalNs, start, count)
      if (end > start) {
        run(windowNs, start, end)
        windowNs += slideNs
      } else {
        // An empty window (a slide longer than the window, or a gap in the data): skip to the first window of the next point.
        const next = firstWindowStartNs(times[start]!, intervalNs, slideNs, originNs)
        windowNs = next > windowNs ? next : windowNs + slideNs
      }
    }
    return
  }
  forEachTumblingRun(times, count, intervalNs, originNs, run)
}

/** Rows of an aggregating SELECT, in the order of its outputs, ordered by group tags then bucket. */
export function executeAggregate(plan: Plan, schema: TableSchema, options: AggregateOptions): { rows: Value[][]; stats: QueryStats } {
  const aggregation = new Aggregation(plan, options)
  aggregation.run(schema)
  return aggregateRows(plan, aggregation)
}

/** The rows of a finished Aggregation (gap filling, expressions and HAVING applied). */
export function aggregateRows(plan: Plan, aggregation: Aggregation): { rows: Value[][]; stats: QueryStats } {
  const groupIndex = new Map(plan.statement.groupBy.map((key, i) => [key, i]))
  const gapfill = plan.bucket?.gapfill === true
  const cells = [...aggregation.cells]
  if (gapfill) addEmptyBuckets(cells, plan)
  cells.sort(compareCells)
  const tagOf = (cell: Cell, key: string): string | null => {
    const index = groupIndex.get(key)
    return index === undefined ? null : cell.tags[index] ?? null
  }
  // Each output's reader, worked out once: its cells are read per row.
  const readers = plan.outputs.map((output): ((cell: Cell) => Value) => {
    switch (output.kind) {
      case 'bucket': return (cell) => cell.bucketNs
      case 'tag': {
        const index = groupIndex.get(output.key)
        return index === undefined ? () => null : (cell) => cell.tags[index] ?? null
      }
      case 'aggregate': {
        const key = output.field ?? ROWS
        const fn = output.fn
        if (isCollected(fn)) return (cell) => (cell.filled ? null : collectedResult(fn, cell.collectors?.get(key), output.parameter ?? null))
        const slot = aggregation.slotOf(key)
        const missing = fn === 'count' ? 0n : null
        return (cell) => {
          if (cell.filled) return null
          const accumulator = cell.accumulators[slot]
          return accumulator === undefined ? missing : accumulator.result(fn)
        }
      }
      case 'expression': return () => null
      default: throw new Error(`unreachable: ${output.kind} in an aggregate`)
    }
  })
  const rows = cells.map((cell) => readers.map((read) => read(cell)))
  if (gapfill) fillColumns(rows, cells, plan)
  // Expressions and HAVING read the aggregated row (filled gaps included): aggregates by name, GROUP BY tags.
  const byName = new Map<string, number>()
  plan.outputs.forEach((output, index) => { if (!byName.has(output.name)) byName.set(output.name, index) })
  const expressions = plan.outputs.flatMap((output, index) => (output.kind === 'expression' ? [{ index, compiled: output.compiled }] : []))
  if (expressions.length === 0 && plan.having === null) return { rows, stats: aggregation.stats }
  const kept: Value[][] = []
  rows.forEach((row, r) => {
    const context = { timeNs: null, column: (name: string): Value => {
      const index = byName.get(name)
      return index !== undefined ? row[index]! : tagOf(cells[r]!, name)
    } }
    for (const { index, compiled } of expressions) row[index] = compiled.evaluate(context)
    if (plan.having === null || plan.having.evaluate(context) === true) kept.push(row)
  })
  return { rows: kept, stats: aggregation.stats }
}

/** Gap filling: every group gets a cell for each bucket of the WHERE's time range (plan.ts checked it has both ends). */
function addEmptyBuckets(cells: Cell[], plan: Plan): void {
  const { fromNs, toNs } = plan.statement
  const starts = bucketStartsInRange(plan.bucket!, fromNs!, toNs!)
  const groups = new Map<string, { tags: (string | null)[]; buckets: Set<bigint> }>()
  for (const cell of cells) {
    const key = JSON.stringify(cell.tags)
    let group = groups.get(key)
    if (!group) { group = { tags: cell.tags, buckets: new Set() }; groups.set(key, group) }
    group.buckets.add(cell.bucketNs!)
  }
  if (groups.size === 0 && plan.statement.groupBy.length === 0) groups.set('[]', { tags: [], buckets: new Set() })
  for (const { tags, buckets } of groups.values()) {
    for (const bucketNs of starts) {
      if (buckets.has(bucketNs)) continue
      if (cells.length >= QUERY_LIMITS.maxResultRows) {
        throw new QueryError(QueryErrorCode.LIMIT_EXCEEDED, `gap filling gives more than ${QUERY_LIMITS.maxResultRows} rows; narrow the time range or widen the bucket`)
      }
      cells.push({ tags, bucketNs, accumulators: [], collectors: null, filled: true })
    }
  }
}

/** interpolate(...) and locf(...) columns, filled group by group (cells are sorted by tags, then bucket). */
function fillColumns(rows: Value[][], cells: Cell[], plan: Plan): void {
  const filledOutputs = plan.outputs.flatMap((o, index) => (o.kind === 'aggregate' && o.fill ? [{ index, mode: o.fill }] : []))
  if (filledOutputs.length === 0) return
  let start = 0
  while (start < cells.length) {
    let end = start + 1
    while (end < cells.length && compareTags(cells[start]!, cells[end]!) === 0) end++
    const buckets = cells.slice(start, end).map((c) => c.bucketNs!)
    for (const { index, mode } of filledOutputs) {
      const values = rows.slice(start, end).map((row) => row[index]!)
      fillGaps(values, buckets, mode)
      for (let i = start; i < end; i++) rows[i]![index] = values[i - start]!
    }
    start = end
  }
}

function compareTags(a: Cell, b: Cell): number {
  for (let i = 0; i < a.tags.length; i++) {
    const x = a.tags[i] ?? ''
    const y = b.tags[i] ?? ''
    if (x !== y) return x < y ? -1 : 1
  }
  return 0
}

function compareCells(a: Cell, b: Cell): number {
  const byTags = compareTags(a, b)
  if (byTags !== 0) return byTags
  if (a.bucketNs === null || b.bucketNs === null || a.bucketNs === b.bucketNs) return 0
  return a.bucketNs < b.bucketNs ? -1 : 1
}
