// Geometry functions against published geodesic references and hand-computed planar answers.

import { test } from 'node:test'
import assert from 'node:assert/strict'
import {
  asBinaryHex, asText, contains, disjoint, equals, geodesicArea, geodesicDistance, geodesicInterpolate, geodesicLength,
  intersects, parseGeometry, planarArea, planarDistance, planarLength, shapeOf, within,
} from './geo.ts'
import fc from 'fast-check'
import { isQueryError } from './errors.ts'

const shape = (text: string) => shapeOf(parseGeometry(text, 'test'))

test('geodesic distance matches GeographicLib published values within 1 mm', () => {
  // GeographicLib's JavaScript README (geographiclib-geodesic 2.x): Wellington, NZ (41.32S, 174.81E)
  // to Salamanca, Spain (40.96N, 5.50W): "The distance is 19959679.267 m."
  assert.ok(Math.abs(geodesicDistance([174.81, -41.32], [-5.50, 40.96]) - 19959679.267) < 0.001)
  // GeodTest.dat (Karney, "Test set for geodesics", doi:10.5281/zenodo.32156), the first line used in
  // GeographicLib's own test suite: lat1 35.60777 lon1 -139.44815 lat2 -11.17491 lon2 -69.95921, s12 8935244.5604818305 m.
  assert.ok(Math.abs(geodesicDistance([-139.44815, 35.60777], [-69.95921, -11.17491]) - 8935244.5604818305) < 0.001)
  // GeodTest.dat, second line: 55.52454 106.05087 → 77.03196 197.18234, s12 4105086.1713924406 m.
  assert.ok(Math.abs(geodesicDistance([106.05087, 55.52454], [197.18234, 77.03196]) - 4105086.1713924406) < 0.001)
})

test('geodesic area matches GeographicLib Planimeter references; a 1° cell at the equator matches the ellipsoidal zone', () => {
  // GeographicLib test suite, Planimeter0: the diamond (0,-1) (-1,0) (0,1) (1,0) (lat, lon) has area 24619419146 m².
  assert.ok(Math.abs(geodesicArea(shape('POLYGON((-1 0, 0 -1, 1 0, 0 1, -1 0))')) - 24619419146) < 1)
  // Planimeter0: the octant (90,0) (0,0) (0,90): area 63758202715511 m² (an eighth of the ellipsoid).
  assert.ok(Math.abs(geodesicArea(shape('POLYGON((0 90, 0 0, 90 0, 0 90))')) - 63758202715511) < 1)
  // The cell lon 0..1, lat 0..1: its area between parallels is Δλ·(b²/2)·[sinφ/(1−e²sin²φ) + atanh(e·sinφ)/e]
  // (the authalic zone formula). Its northern edge is a geodesic, not the parallel, bulging ~4 m
  // poleward, so the two agree to ~3e-5 relative.
  const a = 6378137
  const f = 1 / 298.257223563
  const e2 = f * (2 - f)
  const e = Math.sqrt(e2)
  const b2 = a * a * (1 - e2)
  const zone = (phi: number): number => (b2 / 2) * (Math.sin(phi) / (1 - e2 * Math.sin(phi) ** 2) + Math.atanh(e * Math.sin(phi)) / e)
  const cell = (Math.PI / 180) * (zone(Math.PI / 180) - zone(0))
  const geodesic = geodesicArea(shape('POLYGON((0 0, 1 0, 1 1, 0 1, 0 0))'))
  assert.ok(Math.abs(geodesic - cell) / cell < 5e-5, `${geodesic} vs ${cell}`)
  assert.equal(planarArea(shape('POLYGON((0 0, 1 0, 1 1, 0 1, 0 0))')), 1)
  // Holes are subtracted; points and lines have no area.
  assert.equal(planarArea(shape('POLYGON((0 0, 4 0, 4 4, 0 4, 0 0), (1 1, 2 1, 2 2, 1 2, 1 1))')), 15)
  assert.equal(planarArea(shape('LINESTRING(0 0, 1 1)')), 0)
})

test('lengths: planar Cartesian, geodesic along each segment', () => {
  assert.equal(planarLength(shape('LINESTRING(0 0, 3 4, 3 10)')), 11)
  const both = geodesicLength(shape('LINESTRING(174.81 -41.32, -5.50 40.96, -5.50 40.96)'))
  assert.ok(Math.abs(both - 19959679.267) < 0.001)
  assert.equal(planarLength(shape('POLYGON((0 0, 1 0, 1 1, 0 0))')), 0)
})

test('planar distance between points, lines and polygons', () => {
  assert.equal(planarDistance(shape('POINT(0 0)'), shape('POINT(3 4)')), 5)
  assert.equal(planarDistance(shape('POINT(0 5)'), shape('LINESTRING(-1 0, 1 0)')), 5)
  assert.equal(planarDistance(shape('POINT(1 1)'), shape('POLYGON((0 0, 2 0, 2 2, 0 2, 0 0))')), 0)
  assert.equal(planarDistance(shape('POLYGON((0 0, 1 0, 1 1, 0 1, 0 0))'), shape('POLYGON((3 0, 4 0, 4 1, 3 1, 3 0))')), 2)
  assert.equal(planarDistance(shape('LINESTRING(0 0, 2 2)'), shape('LINESTRING(0 2, 2 0)')), 0)
})

test('predicates on points, line strings and polygons', () => {
  const square = shape('POLYGON((0 0, 4 0, 4 4, 0 4, 0 0))')
  const holed = shape('POLYGON((0 0, 4 0, 4 4, 0 4, 0 0), (1 1, 3 1, 3 3, 1 3, 1 1))')
  assert.equal(contains(square, shape('POINT(2 2)')), true)
  assert.equal(contains(square, shape('POINT(4 2)')), false, 'a boundary point is not contained')
  assert.equal(intersects(square, shape('POINT(4 2)')), true)
  assert.equal(contains(holed, shape('POINT(2 2)')), false, 'a point in the hole is outside')
  assert.equal(contains(square, shape('LINESTRING(1 1, 3 3)')), true)
  assert.equal(contains(square, shape('LINESTRING(0 0, 4 0)')), false, 'a line on the boundary only is not within')
  assert.equal(contains(square, shape('LINESTRING(1 1, 5 1)')), false)
  assert.equal(contains(holed, shape('LINESTRING(0.5 2, 3.5 2)')), false, 'the line crosses the hole')
  assert.equal(contains(square, shape('POLYGON((1 1, 2 1, 2 2, 1 1))')), true)
  assert.equal(contains(holed, shape('POLYGON((0.5 0.5, 3.5 0.5, 3.5 3.5, 0.5 3.5, 0.5 0.5))')), false, 'the hole lies inside it')
  assert.equal(within(shape('POLYGON((1 1, 2 1, 2 2, 1 1))'), square), true)
  assert.equal(equals(square, shape('POLYGON((4 4, 0 4, 0 0, 4 0, 4 4))')), true, 'another start and the same ring')
  assert.equal(equals(shape('LINESTRING(0 0, 2 2)'), shape('LINESTRING(2 2, 1 1, 0 0)')), true)
  assert.equal(equals(shape('POINT(1 2)'), shape('POINT(1 2.5)')), false)
  assert.equal(intersects(shape('LINESTRING(0 0, 2 2)'), shape('LINESTRING(0 2, 2 0)')), true)
  assert.equal(disjoint(shape('LINESTRING(0 0, 1 1)'), shape('LINESTRING(0 1, 0.4 0.6)')), true)
  assert.equal(intersects(shape('POLYGON((1 1, 2 1, 2 2, 1 1))'), square), true, 'one inside the other')
  assert.equal(disjoint(shape('POLYGON((5 5, 6 5, 6 6, 5 5))'), square), true)
})

test('WKT and hex WKB read and write; a malformed value is a BAD_VALUE naming the function', () => {
  const point = parseGeometry('POINT(1 2)', 'ST_GeomFromText')
  assert.equal(asBinaryHex(point), '0101000000000000000000f03f0000000000000040')
  assert.equal(asText(parseGeometry('0101000000000000000000f03f0000000000000040', 'ST_GeomFromWKB')), 'POINT(1 2)')
  assert.equal(asText(parseGeometry('\\x0101000000000000000000f03f0000000000000040', 'ST_GeomFromWKB')), 'POINT(1 2)')
  assert.throws(() => parseGeometry('POINT(1', 'ST_Area'), (e) => isQueryError(e) && e.code === 'SLUICE_ERR_QUERY_BAD_VALUE' && /ST_Area/.test(e.message))
})

test('geodesic interpolation lies on the geodesic at the fraction of its length', () => {
  const a = [0, 0] as const
  const b = [10, 10] as const
  const m = geodesicInterpolate(a, b, 0.25)
  const total = geodesicDistance(a, b)
  assert.ok(Math.abs(geodesicDistance(a, m) - total / 4) < 1e-6)
  assert.ok(Math.abs(geodesicDistance(m, b) - (3 * total) / 4) < 1e-6)
})

test('predicates hold their laws on random triangles and points with inexact coordinates', () => {
  const coordinate = fc.double({ min: -100, max: 100, noNaN: true, noDefaultInfinity: true })
  const point = fc.tuple(coordinate, coordinate)
  const triangle = fc.tuple(point, point, point).filter(([a, b, c]) => Math.abs((b[0] - a[0]) * (c[1] - a[1]) - (b[1] - a[1]) * (c[0] - a[0])) > 1e-3)
  const wkt = (ring: (readonly [number, number])[]): string => `POLYGON((${[...ring, ring[0]!].map(([x, y]) => `${x} ${y}`).join(', ')}))`
  fc.assert(fc.property(triangle, fc.tuple(fc.double({ min: 0.05, max: 0.9, noNaN: true }), fc.double({ min: 0.05, max: 0.9, noNaN: true })), point, ([a, b, c], [u, v], far) => {
    const t = shape(wkt([a, b, c]))
    // Another start and the other orientation: the same point set.
    assert.equal(equals(t, shape(wkt([b, c, a]))), true, 'rotated')
    assert.equal(equals(t, shape(wkt([c, b, a]))), true, 'reversed')
    assert.equal(within(t, t), true, 'a polygon is within itself')
    const line = shape(`LINESTRING(${a[0]} ${a[1]}, ${b[0]} ${b[1]}, ${c[0]} ${c[1]})`)
    assert.equal(equals(line, shape(`LINESTRING(${c[0]} ${c[1]}, ${b[0]} ${b[1]}, ${a[0]} ${a[1]})`)), true, 'a reversed line')
    assert.equal(contains(t, line), false, 'a line along the boundary only is not within')
    assert.equal(intersects(t, line), true)
    // A point well inside: a convex combination with every weight at least ~0.05 of the whole.
    const w = Math.min(u, 1 - u) * Math.min(v, 1 - v) > 0.01 ? [u * (1 - v), (1 - u) * (1 - v), v] : [1 / 3, 1 / 3, 1 / 3]
    const inside = shape(`POINT(${w[0]! * a[0] + w[1]! * b[0] + w[2]! * c[0]} ${w[0]! * a[1] + w[1]! * b[1] + w[2]! * c[1]})`)
    assert.equal(contains(t, inside), true, 'a point inside')
    assert.equal(within(inside, t), true)
    const outside = shape(`POINT(${Math.max(a[0], b[0], c[0]) + 1 + Math.abs(far[0])} ${far[1]})`)
    assert.equal(contains(t, outside), false, 'a point right of every vertex')
    assert.equal(disjoint(t, outside), true)
    assert.equal(intersects(outside, t), intersects(t, outside), 'symmetric')
  }), { numRuns: 300 })
})
