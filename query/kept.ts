// A value kept per pair of objects, dropped when either is collected: what a query makes of a table
// schema (kept by plan.ts until a store applies an entry) and a frozen cached statement (parse.ts,
// influxql's parser), so a repeated statement on unchanged data is planned once.

export class KeptByPair<A extends object, B extends object, V> {
  private readonly byFirst = new WeakMap<A, WeakMap<B, V>>()

  /** The value kept for (a, b), made by `make` the first time (a throw keeps nothing). */
  get(a: A, b: B, make: () => V): V {
    let bySecond = this.byFirst.get(a)
    if (bySecond === undefined) this.byFirst.set(a, bySecond = new WeakMap())
    let value = bySecond.get(b)
    if (value === undefined) bySecond.set(b, value = make())
    return value
  }
}
