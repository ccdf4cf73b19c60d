// Geometry for the ST_* functions: values are strings holding WKT or hex WKB (read and written by
// wkx), coordinates are x = longitude, y = latitude for the geodesic forms (WGS84, Karney's
// algorithms from geographiclib-geodesic). Planar predicates are exact on the doubles given (no
// tolerance): they split segments at every crossing and test the midpoints of the pieces.

import wkx from 'wkx'
import geographiclib from 'geographiclib-geodesic'
import { QueryError, QueryErrorCode } from './errors.ts'

// The package is CommonJS without named exports for ESM.
const { Geodesic } = geographiclib
const WGS84 = Geodesic.WGS84

export type Coord = readonly [number, number]

/** A geometry as its parts: points, line strings, polygons (rings, the first exterior, closed). */
export interface Shape {
  points: Coord[]
  lines: Coord[][]
  polygons: Coord[][][]
}

const badValue = (message: string): QueryError => new QueryError(QueryErrorCode.BAD_VALUE, message)

function preview(text: string): string {
  return text.length > 60 ? `${text.slice(0, 60)}...` : text
}

/** WKT, or WKB as hex (optionally with PostgreSQL's \x prefix), or WKB bytes. */
export function parseGeometry(value: string | Uint8Array, fn: string): wkx.Geometry {
  try {
    if (typeof value !== 'string') return wkx.Geometry.parse(Buffer.from(value))
    const text = value.trim()
    const hex = text.startsWith('\\x') ? text.slice(2) : text
    if (hex.length > 0 && hex.length % 2 === 0 && /^[0-9a-fA-F]+$/.test(hex)) return wkx.Geometry.parse(Buffer.from(hex, 'hex'))
    return wkx.Geometry.parse(text)
  } catch (error) {
    const shown = typeof value === 'string' ? `'${preview(value)}'` : `${value.length} bytes`
    throw badValue(`${fn}: ${shown} is not a geometry in WKT or WKB (${(error as Error).message})`)
  }
}

export function shapeOf(geometry: wkx.Geometry): Shape {
  const shape: Shape = { points: [], lines: [], polygons: [] }
  const add = (g: wkx.Geometry): void => {
    if (g instanceof wkx.Point) { if (!Number.isNaN(g.x)) shape.points.push([g.x, g.y]) }
    else if (g instanceof wkx.LineString) { if (g.points.length > 0) shape.lines.push(g.points.map(coord)) }
    else if (g instanceof wkx.Polygon) { if (g.exteriorRing.length > 0) shape.polygons.push([g.exteriorRing, ...g.interiorRings].map(closedRing)) }
    else if (g instanceof wkx.MultiPoint) g.points.forEach(add)
    else if (g instanceof wkx.MultiLineString) g.lineStrings.forEach(add)
    else if (g instanceof wkx.MultiPolygon) g.polygons.forEach(add)
    else if (g instanceof wkx.GeometryCollection) g.geometries.forEach(add)
  }
  add(geometry)
  return shape
}

const coord = (p: wkx.Point): Coord => [p.x, p.y]

function closedRing(points: wkx.Point[]): Coord[] {
  const ring = points.map(coord)
  const first = ring[0]!
  const last = ring[ring.length - 1]!
  if (first[0] !== last[0] || first[1] !== last[1]) ring.push(first)
  return ring
}

export function asText(geometry: wkx.Geometry): string {
  return geometry.toWkt()
}

export function asBinaryHex(geometry: wkx.Geometry): string {
  return geometry.toWkb().toString('hex')
}

// ---- planar measures ----

function ringArea(ring: Coord[]): number {
  let twice = 0
  for (let i = 1; i < ring.length; i++) twice += ring[i - 1]![0] * ring[i]![1] - ring[i]![0] * ring[i - 1]![1]
  return Math.abs(twice) / 2
}

/** Cartesian area: polygons' exteriors less their holes; 0 for points and lines. */
export function planarArea(shape: Shape): number {
  let area = 0
  for (const [exterior, ...holes] of shape.polygons) {
    area += ringArea(exterior!)
    for (const hole of holes) area -= ringArea(hole)
  }
  return area
}

/** Cartesian length of the line strings; 0 for points and polygons (as PostGIS). */
export function planarLength(shape: Shape): number {
  let length = 0
  for (const line of shape.lines) for (let i = 1; i < line.length; i++) length += Math.hypot(line[i]![0] - line[i - 1]![0], line[i]![1] - line[i - 1]![1])
  return length
}

/** Minimum Cartesian distance between two geometries (0 when they intersect); null when one is empty. */
export function planarDistance(a: Shape, b: Shape): number | null {
  if (isEmpty(a) || isEmpty(b)) return null
  if (intersects(a, b)) return 0
  let best = Infinity
  const aPoints = [...a.points, ...segmentsOf(a).flatMap(([p, q]) => [p, q])]
  const bPoints = [...b.points, ...segmentsOf(b).flatMap(([p, q]) => [p, q])]
  for (const p of aPoints) for (const q of b.points) best = Math.min(best, Math.hypot(p[0] - q[0], p[1] - q[1]))
  for (const p of aPoints) for (const [s, t] of segmentsOf(b)) best = Math.min(best, pointSegmentDistance(p, s, t))
  for (const p of bPoints) for (const [s, t] of segmentsOf(a)) best = Math.min(best, pointSegmentDistance(p, s, t))
  for (const p of a.points) for (const q of bPoints) best = Math.min(best, Math.hypot(p[0] - q[0], p[1] - q[1]))
  return best
}

function pointSegmentDistance(p: Coord, a: Coord, b: Coord): number {
  const dx = b[0] - a[0]
  const dy = b[1] - a[1]
  const length2 = dx * dx + dy * dy
  const t = length2 === 0 ? 0 : Math.max(0, Math.min(1, ((p[0] - a[0]) * dx + (p[1] - a[1]) * dy) / length2))
  return Math.hypot(p[0] - (a[0] + t * dx), p[1] - (a[1] + t * dy))
}

// ---- geodesic measures (WGS84) ----

function checkLonLat(p: Coord, fn: string): void {
  if (!(p[1] >= -90 && p[1] <= 90) || !Number.isFinite(p[0])) throw badValue(`${fn}: POINT(${p[0]} ${p[1]}) is not a longitude and latitude (x = longitude, y = latitude in [-90, 90])`)
}

/** Geodesic distance in metres between two points on the WGS84 ellipsoid. */
export function geodesicDistance(a: Coord, b: Coord, fn = 'ST_DistanceSpheroid'): number {
  checkLonLat(a, fn)
  checkLonLat(b, fn)
  return WGS84.Inverse(a[1], a[0], b[1], b[0], Geodesic.DISTANCE).s12!
}

/** Geodesic distance between two geometries that are points (the only pairs measured on the ellipsoid). */
export function geodesicDistanceOf(a: Shape, b: Shape, fn: string): number | null {
  if (isEmpty(a) || isEmpty(b)) return null
  const p = singlePoint(a, fn)
  const q = singlePoint(b, fn)
  return geodesicDistance(p, q, fn)
}

export function singlePoint(shape: Shape, fn: string): Coord {
  if (shape.points.length !== 1 || shape.lines.length > 0 || shape.polygons.length > 0) {
    throw badValue(`${fn}: takes POINT geometries (longitude latitude), got ${describeShape(shape)}`)
  }
  return shape.points[0]!
}

function describeShape(shape: Shape): string {
  const parts = [[shape.points.length, 'point'], [shape.lines.length, 'line string'], [shape.polygons.length, 'polygon']] as const
  return parts.filter(([n]) => n > 0).map(([n, what]) => `${n} ${what}${n === 1 ? '' : 's'}`).join(', ') || 'an empty geometry'
}

/** Geodesic length in metres of the line strings; 0 for points and polygons. */
export function geodesicLength(shape: Shape, fn = 'ST_LengthSpheroid'): number {
  let length = 0
  for (const line of shape.lines) for (let i = 1; i < line.length; i++) length += geodesicDistance(line[i - 1]!, line[i]!, fn)
  return length
}

function geodesicRingArea(ring: Coord[], fn: string): number {
  const polygon = WGS84.Polygon(false)
  for (let i = 0; i < ring.length - 1; i++) {
    checkLonLat(ring[i]!, fn)
    polygon.AddPoint(ring[i]![1], ring[i]![0])
  }
  return Math.abs(polygon.Compute(false, true).area ?? 0)
}

/** Geodesic area in square metres on WGS84 (edges are geodesics); 0 for points and lines. */
export function geodesicArea(shape: Shape, fn = 'ST_AreaSpheroid'): number {
  let area = 0
  for (const [exterior, ...holes] of shape.polygons) {
    area += geodesicRingArea(exterior!, fn)
    for (const hole of holes) area -= geodesicRingArea(hole, fn)
  }
  return area
}

/** The point a fraction (0..1) of the way along the geodesic from a to b. */
export function geodesicInterpolate(a: Coord, b: Coord, fraction: number): Coord {
  const line = WGS84.InverseLine(a[1], a[0], b[1], b[0])
  const at = line.Position(line.s13 * fraction, Geodesic.LATITUDE | Geodesic.LONGITUDE | Geodesic.LONG_UNROLL)
  return [at.lon2!, at.lat2!]
}

export function pointWkt(p: Coord): string {
  return new wkx.Point(p[0], p[1]).toWkt()
}

// ---- planar predicates ----

type Segment = readonly [Coord, Coord]

function isEmpty(shape: Shape): boolean {
  return shape.points.length === 0 && shape.lines.length === 0 && shape.polygons.length === 0
}

function segmentsOf(shape: Shape): Segment[] {
  const segments: Segment[] = []
  const addPath = (path: Coord[]): void => {
    for (let i = 1; i < path.length; i++) segments.push([path[i - 1]!, path[i]!])
    // A one-point line string is a degenerate segment: keep it so it is not lost.
    if (path.length === 1) segments.push([path[0]!, path[0]!])
  }
  shape.lines.forEach(addPath)
  for (const rings of shape.polygons) rings.forEach(addPath)
  return segments
}

function orient(a: Coord, b: Coord, c: Coord): number {
  return (b[0] - a[0]) * (c[1] - a[1]) - (b[1] - a[1]) * (c[0] - a[0])
}

function withinBox(p: Coord, a: Coord, b: Coord): boolean {
  return Math.min(a[0], b[0]) <= p[0] && p[0] <= Math.max(a[0], b[0]) && Math.min(a[1], b[1]) <= p[1] && p[1] <= Math.max(a[1], b[1])
}

function onSegment(p: Coord, a: Coord, b: Coord): boolean {
  return orient(a, b, p) === 0 && withinBox(p, a, b)
}

function segmentsIntersect(a: Coord, b: Coord, c: Coord, d: Coord): boolean {
  const d1 = Math.sign(orient(c, d, a))
  const d2 = Math.sign(orient(c, d, b))
  const d3 = Math.sign(orient(a, b, c))
  const d4 = Math.sign(orient(a, b, d))
  if (d1 * d2 < 0 && d3 * d4 < 0) return true
  return (d1 === 0 && withinBox(a, c, d)) || (d2 === 0 && withinBox(b, c, d)) || (d3 === 0 && withinBox(c, a, b)) || (d4 === 0 && withinBox(d, a, b))
}

type Location = 'interior' | 'boundary' | 'exterior'

/** Ring test by crossings: 1 inside, 0 on the ring, -1 outside. */
function pointInRing(p: Coord, ring: Coord[]): number {
  let inside = false
  for (let i = 1; i < ring.length; i++) {
    const a = ring[i - 1]!
    const b = ring[i]!
    if (onSegment(p, a, b)) return 0
    if ((a[1] > p[1]) !== (b[1] > p[1])) {
      const x = a[0] + ((p[1] - a[1]) * (b[0] - a[0])) / (b[1] - a[1])
      if (p[0] < x) inside = !inside
    }
  }
  return inside ? 1 : -1
}

function locateInPolygon(p: Coord, rings: Coord[][]): Location {
  const outer = pointInRing(p, rings[0]!)
  if (outer < 0) return 'exterior'
  if (outer === 0) return 'boundary'
  for (let i = 1; i < rings.length; i++) {
    const inHole = pointInRing(p, rings[i]!)
    if (inHole === 0) return 'boundary'
    if (inHole > 0) return 'exterior'
  }
  return 'interior'
}

/** Where p lies relative to a geometry: the interior of any part wins over a boundary. */
function locate(p: Coord, shape: Shape): Location {
  let boundary = false
  for (const q of shape.points) if (q[0] === p[0] && q[1] === p[1]) return 'interior'
  for (const line of shape.lines) {
    const closed = line.length > 1 && line[0]![0] === line[line.length - 1]![0] && line[0]![1] === line[line.length - 1]![1]
    for (let i = 1; i < line.length; i++) {
      if (!onSegment(p, line[i - 1]!, line[i]!)) continue
      const end = (q: Coord): boolean => q[0] === p[0] && q[1] === p[1]
      if (!closed && (end(line[0]!) || end(line[line.length - 1]!))) boundary = true
      else return 'interior'
    }
    if (line.length === 1 && line[0]![0] === p[0] && line[0]![1] === p[1]) return 'interior'
  }
  for (const rings of shape.polygons) {
    const where = locateInPolygon(p, rings)
    if (where === 'interior') return 'interior'
    if (where === 'boundary') boundary = true
  }
  return boundary ? 'boundary' : 'exterior'
}

/** Parameters t in (0, 1) where segment pq meets the segments and points of `by`, with 0 and 1, sorted. */
function splitParameters(p: Coord, q: Coord, by: Shape): number[] {
  const ts = [0, 1]
  const dx = q[0] - p[0]
  const dy = q[1] - p[1]
  const length2 = dx * dx + dy * dy
  if (length2 === 0) return ts
  const along = (r: Coord): number => ((r[0] - p[0]) * dx + (r[1] - p[1]) * dy) / length2
  const addPoint = (r: Coord): void => { if (onSegment(r, p, q)) ts.push(along(r)) }
  by.points.forEach(addPoint)
  for (const [a, b] of segmentsOf(by)) {
    addPoint(a)
    addPoint(b)
    const denominator = dx * (b[1] - a[1]) - dy * (b[0] - a[0])
    if (denominator === 0) continue
    const t = ((a[0] - p[0]) * (b[1] - a[1]) - (a[1] - p[1]) * (b[0] - a[0])) / denominator
    const u = ((a[0] - p[0]) * dy - (a[1] - p[1]) * dx) / denominator
    if (t > 0 && t < 1 && u >= 0 && u <= 1) ts.push(t)
  }
  return [...new Set(ts)].filter((t) => t >= 0 && t <= 1).sort((x, y) => x - y)
}

/** Parameter intervals of pq that segments lying on pq's line (tested on the given coordinates) cover. */
function collinearIntervals(p: Coord, q: Coord, segments: Segment[]): [number, number][] {
  const dx = q[0] - p[0]
  const dy = q[1] - p[1]
  const length2 = dx * dx + dy * dy
  const along = (r: Coord): number => ((r[0] - p[0]) * dx + (r[1] - p[1]) * dy) / length2
  const intervals: [number, number][] = []
  for (const [a, b] of segments) {
    if (orient(p, q, a) !== 0 || orient(p, q, b) !== 0) continue
    const ta = along(a)
    const tb = along(b)
    intervals.push(ta <= tb ? [ta, tb] : [tb, ta])
  }
  return intervals
}

/**
 * Where each piece of segment pq lies relative to `by`, pq being cut at every point where it meets
 * by's segments and points. A piece on a segment of by is classified by that collinearity, tested on
 * the original coordinates (a piece on a polygon's ring is its boundary, even where another part of
 * a MULTIPOLYGON lies beyond); any other piece meets by's boundary in no more than its ends, so its
 * midpoint decides, and a rounded midpoint cannot land on the wrong side of a boundary it is far from.
 */
function pieceLocations(p: Coord, q: Coord, by: Shape): Location[] {
  if (p[0] === q[0] && p[1] === q[1]) return [locate(p, by)]
  const ts = splitParameters(p, q, by)
  const onLines = collinearIntervals(p, q, segmentsOf({ points: [], lines: by.lines, polygons: [] }))
  const onRings = collinearIntervals(p, q, segmentsOf({ points: [], lines: [], polygons: by.polygons }))
  const polygons: Shape = { points: [], lines: [], polygons: by.polygons }
  const covered = (intervals: [number, number][], t0: number, t1: number): boolean => intervals.some(([a, b]) => a <= t0 && t1 <= b)
  const locations: Location[] = []
  for (let i = 1; i < ts.length; i++) {
    const t0 = ts[i - 1]!
    const t1 = ts[i]!
    if (covered(onLines, t0, t1)) { locations.push('interior'); continue }
    if (covered(onRings, t0, t1)) { locations.push('boundary'); continue }
    const t = (t0 + t1) / 2
    locations.push(locate([p[0] + t * (q[0] - p[0]), p[1] + t * (q[1] - p[1])], polygons))
  }
  return locations
}

export function intersects(a: Shape, b: Shape): boolean {
  if (isEmpty(a) || isEmpty(b)) return false
  for (const p of a.points) if (locate(p, b) !== 'exterior') return true
  for (const p of b.points) if (locate(p, a) !== 'exterior') return true
  const aSegments = segmentsOf(a)
  const bSegments = segmentsOf(b)
  for (const [p, q] of aSegments) for (const [r, s] of bSegments) if (segmentsIntersect(p, q, r, s)) return true
  // One wholly inside a polygon of the other: a vertex of it is inside.
  for (const [p] of aSegments) if (b.polygons.length > 0 && locate(p, b) !== 'exterior') return true
  for (const [p] of bSegments) if (a.polygons.length > 0 && locate(p, a) !== 'exterior') return true
  return false
}

/** No point of a lies outside b (b closed). */
function coveredBy(a: Shape, b: Shape): boolean {
  if (isEmpty(a)) return false
  for (const p of a.points) if (locate(p, b) === 'exterior') return false
  for (const [p, q] of segmentsOf(a)) {
    if (locate(p, b) === 'exterior' || locate(q, b) === 'exterior') return false
    if (pieceLocations(p, q, b).includes('exterior')) return false
  }
  if (a.polygons.length > 0) {
    if (b.polygons.length === 0) return false
    // b's boundary (a hole) running through a's interior leaves part of a outside b.
    const aPolygons: Shape = { points: [], lines: [], polygons: a.polygons }
    for (const [p, q] of segmentsOf({ points: [], lines: [], polygons: b.polygons })) {
      if (locate(p, aPolygons) === 'interior') return false
      if (pieceLocations(p, q, aPolygons).includes('interior')) return false
    }
  }
  return true
}

/** Some point of a's interior lies in b's interior (given a is covered by b). */
function interiorsMeet(a: Shape, b: Shape): boolean {
  for (const p of a.points) if (locate(p, b) === 'interior') return true
  for (const line of a.lines) {
    for (let i = 1; i < line.length; i++) if (pieceLocations(line[i - 1]!, line[i]!, b).includes('interior')) return true
    if (line.length === 1 && locate(line[0]!, b) === 'interior') return true
  }
  return a.polygons.some((rings) => ringArea(rings[0]!) > 0) && b.polygons.length > 0
}

/** ST_Within(a, b): a lies in b and their interiors meet (DE-9IM T*F**F***). */
export function within(a: Shape, b: Shape): boolean {
  return coveredBy(a, b) && interiorsMeet(a, b)
}

export function contains(a: Shape, b: Shape): boolean {
  return within(b, a)
}

/** Topological equality: the same point sets (vertex order and repeated points do not matter). */
export function equals(a: Shape, b: Shape): boolean {
  if (isEmpty(a) && isEmpty(b)) return true
  return coveredBy(a, b) && coveredBy(b, a)
}

export function disjoint(a: Shape, b: Shape): boolean {
  return !intersects(a, b)
}
