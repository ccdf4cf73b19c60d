// One worker's share of a parallel aggregate: the series it reads, each in a store opened from a
// read view, folded by the serial path's own Aggregation with its cell updates recorded in a
// PartialLogWriter instead of applied. Pure, so tests run it on the main thread as well.

import { type Column, type FieldTypeCode, type PartitionStore, type ReadView, type SeriesListing, openReadView } from '../../sinks/index.ts'
import { FieldAccumulator } from '../accumulate.ts'
import { Aggregation, type AggregateOptions, type Cell } from '../aggregate.ts'
import { ValueCollector } from '../collect.ts'
import { QueryError, QueryErrorCode } from '../errors.ts'
import type { SelectStatement } from '../parse.ts'
import { planSelect } from '../plan.ts'
import { PartialLogWriter, type PartialLogData } from './partial-log.ts'

export interface ScanTask {
  statement: SelectStatement
  table: { name: string; tags: string[]; fields: [string, FieldTypeCode][] }
  options: AggregateOptions
  views: ReadView[]
  /** In the order the serial path reads them; `view` indexes `views`. */
  series: { view: number; listing: SeriesListing }[]
  /** Log entries at most: past it the task stops and the query runs serially. */
  maxEntries: number
}

export type ScanAnswer =
  | { ok: true; log: PartialLogData }
  | { ok: false; fallback: string }
  | { ok: false; queryError: { code: QueryError['code']; message: string } }

/** Thrown inside a task when its log outgrows maxEntries. */
class TooManyEntries extends Error {}

/** Stands for the accumulator of one (cell, key): each change it gets becomes a logged partial state. */
class RecordingAccumulator extends FieldAccumulator {
  constructor(type: FieldTypeCode, private readonly recorder: RecordingAggregation, private readonly bucketNs: bigint | null, private readonly key: string) {
    super(type)
  }

  override addRun(column: Column, start: number, end: number): void {
    if (end <= start) return
    const partial = new FieldAccumulator(this.type)
    partial.addRun(column, start, end)
    this.recorder.log(this.bucketNs, this.key, partial)
  }

  override addStats(stats: Parameters<FieldAccumulator['addStats']>[0]): void {
    const partial = new FieldAccumulator(this.type)
    partial.addStats(stats)
    this.recorder.log(this.bucketNs, this.key, partial)
  }

  override addCount(n: number): void {
    const partial = new FieldAccumulator(this.type)
    partial.addCount(n)
    this.recorder.log(this.bucketNs, this.key, partial)
  }
}

/** Stands for the collector of one (cell, key): its runs' points go to the log. */
class RecordingCollector extends ValueCollector {
  constructor(type: FieldTypeCode, private readonly writer: PartialLogWriter, private readonly bucketNs: bigint | null, private readonly key: string) {
    super(type)
  }

  override addRun(column: Column, start: number, end: number): void {
    if (end > start) this.writer.addPoints(this.bucketNs, this.key, column, start, end)
  }
}

class RecordingAggregation extends Aggregation {
  readonly writer = new PartialLogWriter()
  constructor(plan: ConstructorParameters<typeof Aggregation>[0], options: AggregateOptions, private readonly maxEntries: number) {
    super(plan, options)
  }

  log(bucketNs: bigint | null, key: string, partial: FieldAccumulator): void {
    if (this.writer.entries >= this.maxEntries) throw new TooManyEntries()
    this.writer.addPartial(bucketNs, key, partial)
  }

  override beginSeries(series: SeriesListing): void {
    super.beginSeries(series)
    this.writer.beginSeries()
  }

  protected override accumulator(cell: Cell, key: string, type: FieldTypeCode): FieldAccumulator {
    return new RecordingAccumulator(type, this, cell.bucketNs, key)
  }

  protected override collector(cell: Cell, key: string, type: FieldTypeCode): ValueCollector {
    return new RecordingCollector(type, this.writer, cell.bucketNs, key)
  }

  protected override countCollected(count: number): void {
    super.countCollected(count) // the worker's points are bounded by the same limit as the query's
    this.writer.addCollected(count)
  }
}

/** Runs a task (its views' stores read through this thread's cached segment readers). */
export function runScanTask(task: ScanTask): { answer: ScanAnswer; transfer: ArrayBuffer[] } {
  const schema = { table: task.table.name, series: [], tags: task.table.tags, fields: new Map(task.table.fields) }
  const plan = planSelect(task.statement, schema)
  try {
    const stores: PartitionStore[] = task.views.map(openReadView)
    const aggregation = new RecordingAggregation(plan, task.options, task.maxEntries)
    for (const { view, listing } of task.series) {
      aggregation.beginSeries(listing)
      aggregation.readSeries(stores[view]!, listing, task.table.tags)
    }
    const { data, transfer } = aggregation.writer.finish(aggregation.stats)
    return { answer: { ok: true, log: data }, transfer }
  } catch (error) {
    if (error instanceof TooManyEntries) return { answer: { ok: false, fallback: `more than ${task.maxEntries} partial states in one worker` }, transfer: [] }
    if (error instanceof QueryError) return { answer: { ok: false, queryError: { code: error.code, message: error.message } }, transfer: [] }
    throw error
  }
}

export function queryErrorOf(answer: { code: QueryError['code']; message: string }): QueryError {
  return new QueryError(answer.code ?? QueryErrorCode.UNSUPPORTED, answer.message)
}
