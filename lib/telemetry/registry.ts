// A small metrics registry: counters, gauges and histograms with fixed buckets, each a family of
// children by label values, exposed as Prometheus text (exposition.ts) and, when an OTLP endpoint is
// configured, as OpenTelemetry metric data (otlp.ts). Hot paths hold a bound child (`labels(...)`
// once, `inc` per event): an increment is one add on a number, with no allocation. Values that
// other components already count (stats() objects) are read at scrape time by collectors.

export const MetricType = { COUNTER: 'counter', GAUGE: 'gauge', HISTOGRAM: 'histogram' } as const
export type MetricType = (typeof MetricType)[keyof typeof MetricType]

/** Most children (label value combinations) one family may hold: a bound on memory when a label is fed from data. */
export const MAX_CHILDREN_PER_FAMILY = 10_000

/** Seconds, for request and transaction durations: 1 ms to 10 s. */
export const DURATION_BUCKETS_SECONDS: readonly number[] = Object.freeze([0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10])
/** Counts (records per transaction): 1 to 100,000. */
export const COUNT_BUCKETS: readonly number[] = Object.freeze([1, 5, 10, 50, 100, 500, 1_000, 5_000, 10_000, 50_000, 100_000])

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/

export class CounterChild {
  value = 0
  constructor(readonly labelValues: readonly string[]) {}
  inc(amount = 1): void {
    if (!(amount >= 0)) throw new RangeError(`a counter only goes up: inc(${amount})`)
    this.value += amount
  }
  /** Sets the total from a count kept elsewhere (a component's stats), read at scrape time. */
  setTotal(total: number): void {
    this.value = total
  }
}

export class GaugeChild {
  value = 0
  constructor(readonly labelValues: readonly string[]) {}
  set(value: number): void { this.value = value }
  inc(amount = 1): void { this.value += amount }
  dec(amount = 1): void { this.value -= amount }
}

export class HistogramChild {
  /** Observations per bucket, not cumulative; the last slot is above the highest bound (+Inf). */
  readonly bucketCounts: Float64Array
  sum = 0
  count = 0
  constructor(readonly labelValues: readonly string[], readonly bounds: readonly number[]) {
    this.bucketCounts = new Float64Array(bounds.length + 1)
  }
  observe(value: number): void {
    const bounds = this.bounds
    let i = 0
    while (i < bounds.length && value > bounds[i]!) i++
    this.bucketCounts[i]!++
    this.sum += value
    this.count++
  }
  /** Observes the seconds since `startMs` (a performance.now() reading). */
  observeSince(startMs: number): void {
    this.observe((performance.now() - startMs) / 1_000)
  }
}

type Child = CounterChild | GaugeChild | HistogramChild

/** Children of a registry that records nothing: the baseline the overhead benchmark compares with. */
class NoopCounterChild extends CounterChild {
  override inc(): void {}
  override setTotal(): void {}
}
class NoopGaugeChild extends GaugeChild {
  override set(): void {}
  override inc(): void {}
  override dec(): void {}
}
class NoopHistogramChild extends HistogramChild {
  override observe(): void {}
  override observeSince(): void {}
}

export abstract class MetricFamily<C extends Child> {
  private readonly children = new Map<string, C>()
  /** Set by a no-op registry: children record nothing. */
  noop = false
  constructor(readonly type: MetricType, readonly name: string, readonly help: string, readonly labelNames: readonly string[]) {
    if (!METRIC_NAME.test(name)) throw new TypeError(`invalid metric name "${name}"`)
    for (const label of labelNames) {
      if (!LABEL_NAME.test(label) || label.startsWith('__') || (type === MetricType.HISTOGRAM && label === 'le')) throw new TypeError(`invalid label name "${label}" of ${name}`)
    }
  }

  protected abstract create(labelValues: readonly string[]): C

  /** The child of these label values (in labelNames order), made on first use. Bind it once on hot paths. */
  labels(...labelValues: string[]): C {
    if (labelValues.length !== this.labelNames.length) throw new TypeError(`${this.name} takes labels (${this.labelNames.join(', ')}), got ${labelValues.length} values`)
    const key = labelValues.length === 1 ? labelValues[0]! : labelValues.join('\u0000')
    const existing = this.children.get(key)
    if (existing !== undefined) return existing
    if (this.children.size >= MAX_CHILDREN_PER_FAMILY) throw new RangeError(`${this.name} holds ${MAX_CHILDREN_PER_FAMILY} label sets (MAX_CHILDREN_PER_FAMILY); a label is fed from unbounded data`)
    const child = this.create(Object.freeze([...labelValues]))
    this.children.set(key, child)
    return child
  }

  /** Forgets every child (a gauge whose label sets are recomputed at each scrape). */
  clear(): void {
    this.children.clear()
  }

  all(): IterableIterator<C> {
    return this.children.values()
  }
}

export class Counter extends MetricFamily<CounterChild> {
  constructor(name: string, help: string, labelNames: readonly string[] = []) {
    super(MetricType.COUNTER, name, help, labelNames)
  }
  protected create(labelValues: readonly string[]): CounterChild { return this.noop ? new NoopCounterChild(labelValues) : new CounterChild(labelValues) }
}

export class Gauge extends MetricFamily<GaugeChild> {
  constructor(name: string, help: string, labelNames: readonly string[] = []) {
    super(MetricType.GAUGE, name, help, labelNames)
  }
  protected create(labelValues: readonly string[]): GaugeChild { return this.noop ? new NoopGaugeChild(labelValues) : new GaugeChild(labelValues) }
}

export class Histogram extends MetricFamily<HistogramChild> {
  readonly bounds: readonly number[]
  constructor(name: string, help: string, labelNames: readonly string[] = [], bounds: readonly number[] = DURATION_BUCKETS_SECONDS) {
    super(MetricType.HISTOGRAM, name, help, labelNames)
    if (bounds.length === 0 || bounds.some((bound, i) => !Number.isFinite(bound) || (i > 0 && bound <= bounds[i - 1]!))) {
      throw new TypeError(`${name}: bucket bounds must be finite and strictly increasing`)
    }
    this.bounds = Object.freeze([...bounds])
  }
  protected create(labelValues: readonly string[]): HistogramChild { return this.noop ? new NoopHistogramChild(labelValues, this.bounds) : new HistogramChild(labelValues, this.bounds) }
}

export type AnyFamily = Counter | Gauge | Histogram
/** Brings values kept elsewhere into the registry just before it is read. */
export type Collector = () => void | Promise<void>

export class MetricsRegistry {
  private readonly families = new Map<string, AnyFamily>()
  private readonly collectors = new Set<Collector>()

  /** `noop`: a registry whose metrics record nothing (the baseline of bench/telemetry-overhead.ts). */
  constructor(private readonly options: { noop?: boolean } = {}) {}

  counter(name: string, help: string, labelNames: readonly string[] = []): Counter {
    return this.add(new Counter(name, help, labelNames))
  }

  gauge(name: string, help: string, labelNames: readonly string[] = []): Gauge {
    return this.add(new Gauge(name, help, labelNames))
  }

  histogram(name: string, help: string, labelNames: readonly string[] = [], bounds?: readonly number[]): Histogram {
    return this.add(new Histogram(name, help, labelNames, bounds))
  }

  private add<F extends AnyFamily>(family: F): F {
    if (this.families.has(family.name)) throw new TypeError(`metric ${family.name} is registered twice`)
    family.noop = this.options.noop === true
    this.families.set(family.name, family)
    return family
  }

  /** Runs `collector` before every read; returns a function that removes it. */
  onCollect(collector: Collector): () => void {
    this.collectors.add(collector)
    return () => { this.collectors.delete(collector) }
  }

  /** Runs the collectors (a failing one is skipped: the rest of the metrics still answer), then lists the families. */
  async collect(): Promise<AnyFamily[]> {
    await Promise.all([...this.collectors].map(async collector => {
      try {
        await collector()
      } catch {
        // A collector that cannot read its component (Kafka down for lag) leaves its last values.
      }
    }))
    return [...this.families.values()]
  }
}
