// Aggregates scanned in worker threads, where it pays. The planner estimates from the segment index
// how many points a query must decode (blocks not answered from their statistics, and memtables);
// past a threshold, every store is pinned in one synchronous step (read views: the same instant the
// serial path would read, while applies, flushes and compactions go on), the series are shared out
// by store, each worker folds its series with the serial code recording partial states, and the
// main thread replays the partial states in the serial order: the answer is the serial answer, bit
// for bit (float sums included). The pins are released when every worker is done, also on error.

import { type PartitionStore, type PinnedView, READ_VIEWS_SUPPORTED, estimateRead, pinReadView, storeNumber } from '../../sinks/index.ts'
import { Aggregation, type AggregateOptions, aggregateRows } from '../aggregate.ts'
import type { Value } from '../accumulate.ts'
import { isCollected } from '../collect.ts'
import { type Plan, type TableSchema, seriesMatches } from '../plan.ts'
import type { QueryStats } from '../result.ts'
import { bucketStartNs } from '../time.ts'
import { EntryKind, PartialLogReader } from './partial-log.ts'
import type { ScanPool } from './pool.ts'
import { type ScanTask, queryErrorOf } from './scan-task.ts'

export interface ParallelScans {
  pool: ScanPool
  /** Estimated points to decode from which a query is scanned in the workers. */
  minPointsToDecode: number
  /** Partial states one worker may hand back (about 130 bytes each); past it the query runs serially. Default 1 M. */
  maxEntriesPerTask?: number
}

/** Default threshold: below it the fixed cost of views, messages and replay outweighs the gain (docs/benchmarks.md). */
export const DEFAULT_MIN_POINTS_TO_DECODE = 2_000_000
const DEFAULT_MAX_ENTRIES_PER_TASK = 1_000_000

export interface ExecutionPath {
  parallel: boolean
  /** Why: for EXPLAIN. */
  reason: string
  pointsToDecode: number
}

/** Which path an aggregate takes, and why. */
export function chooseExecution(plan: Plan, schema: TableSchema, options: AggregateOptions, scans: ParallelScans | undefined): ExecutionPath {
  const serial = (reason: string, pointsToDecode = 0): ExecutionPath => ({ parallel: false, reason, pointsToDecode })
  if (!plan.aggregate) return serial('raw rows are read on the main thread')
  if (scans === undefined) return serial('parallel scans are off')
  if (!READ_VIEWS_SUPPORTED) return serial('parallel scans need Linux (/proc/self/fd)')
  if (plan.statement.source !== null) return serial('a subquery\'s table is held in memory')
  if (plan.rowFilter !== null) return serial('a row filter (WHERE on fields) is applied on the main thread')
  const points = estimatePointsToDecode(plan, schema, options)
  if (points < scans.minPointsToDecode) return serial(`about ${points} points to decode, under the threshold of ${scans.minPointsToDecode}`, points)
  return { parallel: true, reason: `about ${points} points to decode, at or over the threshold of ${scans.minPointsToDecode}; ${scans.pool.size} worker${scans.pool.size === 1 ? '' : 's'}`, pointsToDecode: points }
}

/** Points of blocks the query cannot answer from their statistics, plus memtable points, of the matching series. */
function estimatePointsToDecode(plan: Plan, schema: TableSchema, options: AggregateOptions): number {
  const { fields, collected, countsRows } = aggregatedFields(plan)
  const range = { fromNs: plan.statement.fromNs, toNs: plan.statement.toNs }
  const bucket = plan.bucket
  let points = 0
  for (const { store, series } of schema.series) {
    if (!seriesMatches(series, plan)) continue
    for (const field of series.fields) {
      if (!countsRows && !fields.has(field.name)) continue
      const statsMayAnswer = options.usePreAggregates && !collected.has(field.name)
      const estimate = estimateRead(store, series.id, field.name, range)
      points += estimate.memtablePoints
      for (const block of estimate.blocks) {
        const covered = (range.fromNs === null || block.minTimeNs >= range.fromNs) && (range.toNs === null || block.maxTimeNs < range.toNs)
        const oneBucket = bucket === null || (!bucket.slideNs &&
          bucketStartNs(block.minTimeNs, bucket.intervalNs, bucket.originNs) === bucketStartNs(block.maxTimeNs, bucket.intervalNs, bucket.originNs))
        if (!(statsMayAnswer && covered && oneBucket)) points += block.count
      }
    }
  }
  return points
}

function aggregatedFields(plan: Plan): { fields: Set<string>; collected: Set<string>; countsRows: boolean } {
  const fields = new Set<string>()
  const collected = new Set<string>()
  let countsRows = false
  for (const output of plan.outputs) {
    if (output.kind !== 'aggregate') continue
    if (output.field === null) { countsRows = true; continue }
    fields.add(output.field)
    if (isCollected(output.fn)) collected.add(output.field)
  }
  return { fields, collected, countsRows }
}

/** Replays workers' partial logs into cells, series by series in the serial order. */
class ReplayAggregation extends Aggregation {
  replay(reader: PartialLogReader, series: number): void {
    const [start, end] = reader.seriesEntries(series)
    const { kind, type, count } = reader.data
    for (let at = start; at < end; at++) {
      switch (kind[at]) {
        case EntryKind.PARTIAL:
          reader.mergeInto(this.accumulator(this.cell(reader.bucketNs(at)), reader.key(at), type[at] as never), at)
          break
        case EntryKind.POINTS: {
          const points = reader.points(at)
          this.collector(this.cell(reader.bucketNs(at)), reader.key(at), type[at] as never).addRun(points.column, points.start, points.end, this.seriesOrdinal)
          break
        }
        case EntryKind.COLLECTED:
          this.countCollected(count[at]!)
          break
      }
    }
  }

  addStats(stats: QueryStats): void {
    this.stats.pointsScanned += stats.pointsScanned
    this.stats.pointsFromBlockStats += stats.pointsFromBlockStats
    if (stats.blocksFromBlockStats !== undefined) this.stats.blocksFromBlockStats = (this.stats.blocksFromBlockStats ?? 0) + stats.blocksFromBlockStats
    if (stats.chunksScanned !== undefined) this.stats.chunksScanned = (this.stats.chunksScanned ?? 0) + stats.chunksScanned
  }
}

interface Share {
  stores: PartitionStore[]
  /** In the serial order; `view` indexes `stores`. */
  series: ScanTask['series']
}

/**
 * Runs an aggregate in the workers. Everything up to posting the tasks is synchronous with the
 * caller's listing of series, so the views are the instant the listing saw.
 */
export async function executeAggregateParallel(plan: Plan, schema: TableSchema, options: AggregateOptions, scans: ParallelScans): Promise<{ rows: Value[][]; stats: QueryStats } | null> {
  const matched = schema.series.filter(({ series }) => seriesMatches(series, plan))
  const { fields, countsRows } = aggregatedFields(plan)
  const range = { fromNs: plan.statement.fromNs, toNs: plan.statement.toNs }
  const shares = shareOut(matched, scans.pool.size)
  // Every store pinned first, then every task posted: a pin that fails releases the others before any
  // worker could read through them (a released descriptor number may soon name another file).
  const pins: PinnedView[] = []
  let tasks: { task: ScanTask; transfer: ArrayBuffer[]; slot: number }[]
  try {
    tasks = shares.map((share) => {
      const transfer: ArrayBuffer[] = []
      const views = share.stores.map((store) => {
        const wanted = share.series.filter((s) => share.stores[s.view] === store).map(({ listing }) => ({ id: listing.id, fields: countsRows ? null : listing.fields.map((f) => f.name).filter((f) => fields.has(f)) }))
        const pin = pinReadView(store, { series: wanted, range })
        pins.push(pin)
        transfer.push(...pin.transfer)
        return pin.view
      })
      const task: ScanTask = {
        statement: plan.statement,
        table: { name: schema.table, tags: schema.tags, fields: [...schema.fields] },
        options,
        views,
        series: share.series,
        maxEntries: scans.maxEntriesPerTask ?? DEFAULT_MAX_ENTRIES_PER_TASK,
      }
      return { task, transfer, slot: share.slot }
    })
  } catch (error) {
    for (const pin of pins) pin.release()
    throw error
  }
  const answers = tasks.map(({ task, transfer, slot }) => scans.pool.run(task, transfer, slot))
  const settled = await Promise.allSettled(answers)
  for (const pin of pins) pin.release()
  const readers: PartialLogReader[] = []
  for (const result of settled) {
    if (result.status === 'rejected') throw result.reason
    const answer = result.value
    if (answer.ok) { readers.push(new PartialLogReader(answer.log)); continue }
    if ('queryError' in answer) throw queryErrorOf(answer.queryError)
    return null // a worker gave up (too many partial states): the caller runs the serial path
  }
  const aggregation = new ReplayAggregation(plan, options)
  const position = new Map<string, [number, number]>()
  shares.forEach((share, s) => share.series.forEach(({ listing, view }, i) => position.set(storeKey(share.stores[view]!, listing.id), [s, i])))
  for (const { store, series } of matched) {
    const [s, i] = position.get(storeKey(store, series.id))!
    aggregation.beginSeries(series)
    aggregation.replay(readers[s]!, i)
  }
  for (const reader of readers) aggregation.addStats(reader.data.stats)
  aggregation.finish()
  return aggregateRows(plan, aggregation)
}

function storeKey(store: PartitionStore, seriesId: string): string {
  return `${storeNumber(store)}\u0000${seriesId}`
}

/**
 * Whole stores to workers, each store always to the same worker (its number modulo the workers):
 * a worker's cached readers of a store's replaced files are then dropped at the store's next read.
 */
function shareOut(matched: TableSchema['series'], workers: number): (Share & { slot: number })[] {
  const shares = Array.from({ length: workers }, (_, slot) => ({ slot, stores: [] as PartitionStore[], series: [] as ScanTask['series'] }))
  for (const { store, series } of matched) {
    const share = shares[storeNumber(store) % workers]!
    let view = share.stores.indexOf(store)
    if (view < 0) view = share.stores.push(store) - 1
    share.series.push({ view, listing: series })
  }
  return shares.filter((share) => share.series.length > 0)
}
