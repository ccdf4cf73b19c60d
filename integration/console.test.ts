// The web console in a real browser (issue 8, section 2): the embedded broker and a `sluice node`
// (lossy compression on one measurement, --cdc), some points written over HTTP, then Debian's
// headless Chromium driven by playwright-core loads each page and checks it shows the node's
// data: the node in the member table, rates from /metrics (or "metrics unavailable"), the
// compression report, the written measurements in the browser, a SELECT's rows as a table and as
// a chart path with one point per row, and a change event for a write made while the feed is
// open. A node with --auth makes the console ask for a token. Screenshots of every page go to
// test-artifacts/console/.

import { after, before, test } from 'node:test'
import assert from 'node:assert/strict'
import { existsSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { chromium, type Browser, type Page } from 'playwright-core'
import { startBrokerProcess, type BrokerProcess } from '../lib/process/broker-process.ts'
import { startNodeProcess, type NodeProcess } from '../lib/process/node-process.ts'
import { eventually } from './support/kafka.ts'

const CHROMIUM = process.env.SLUICE_CHROMIUM ?? '/usr/bin/chromium'
const ARTIFACTS = resolve(import.meta.dirname, '..', 'test-artifacts', 'console')
const DB = 'plant'
const CPU_ROWS = 30
const BOILER_POINTS = 600
const T0 = 1_700_000_000_000_000_000n
const SECOND = 1_000_000_000n

let broker: BrokerProcess
let node: NodeProcess
let browser: Browser
const pageErrors: string[] = []

before(async () => {
  if (!existsSync(CHROMIUM)) {
    throw new Error(`no Chromium at ${CHROMIUM}: the console test drives Debian's headless Chromium. Install it with \`apt-get install chromium\` (.ci/run does), or set SLUICE_CHROMIUM to a Chromium binary`)
  }
  mkdirSync(ARTIFACTS, { recursive: true })
  const settings = join(mkdtempSync(join(tmpdir(), 'sluice-console-')), 'lossy.json')
  writeFileSync(settings, JSON.stringify({ databases: { [DB]: { measurements: { boiler: { codec: 'SDT(0.5)' } } } } }))
  broker = await startBrokerProcess()
  node = await startNodeProcess({ kafka: broker.bootstrap, redis: 'memory', args: ['--partitions', '2', '--cdc', '--parse-workers', '0', '--lossy-compression', settings] })
  browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox', '--disable-dev-shm-usage'] })
  await write(node, [
    ...Array.from({ length: CPU_ROWS }, (_, i) => `cpu,host=a usage=${(i * 1.5 + 3).toFixed(1)} ${T0 + BigInt(i) * 10n * SECOND}`),
    ...Array.from({ length: 10 }, (_, i) => `cpu,host=b usage=${i} ${T0 + BigInt(i) * 10n * SECOND}`),
    ...Array.from({ length: BOILER_POINTS }, (_, i) => `boiler,unit=u1 temp=${(60 + 10 * Math.sin(i / 50)).toFixed(3)} ${T0 + BigInt(i) * SECOND}`),
  ])
  // Wait until the replica serves what was written (queries are refused while it catches up).
  assert.ok(await eventually(async () => {
    const answer = await sqlAnswer(node, `SELECT count(usage) AS n FROM cpu WHERE host = 'a'`)
    return answer.status === 200 && (JSON.parse(answer.body) as Array<{ n: number }>)[0]?.n === CPU_ROWS
  }, 30_000, 200), 'the written points became queryable')
})

after(async () => {
  await browser?.close()
  if (node) assert.equal(await node.stop(), 0, 'the node exits 0 on SIGTERM, the console\'s change stream included')
  await broker?.stop()
  assert.deepEqual(pageErrors, [], 'no script error in any page')
})

async function write(target: NodeProcess, lines: string[], headers: Record<string, string> = {}): Promise<void> {
  const answer = await fetch(`${target.url}/write?db=${DB}`, { method: 'POST', body: lines.join('\n'), headers })
  assert.equal(answer.status, 204, await answer.text())
}

async function sqlAnswer(target: NodeProcess, statement: string): Promise<{ status: number; body: string }> {
  const answer = await fetch(`${target.url}/api/v1/sql?db=${DB}`, { method: 'POST', body: statement })
  return { status: answer.status, body: await answer.text() }
}

async function open(target: NodeProcess, hash: string): Promise<Page> {
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } })
  page.on('pageerror', error => pageErrors.push(`${hash}: ${error.message}`))
  await page.goto(`${target.url}/${hash}`)
  return page
}

async function screenshot(page: Page, name: string): Promise<void> {
  await page.screenshot({ path: join(ARTIFACTS, `${name}.png`), fullPage: true })
  await page.close()
}

/** The number of points a chart path draws: one M or L command each. */
function pathPoints(d: string | null): number {
  return (d ?? '').match(/[ML]/g)?.length ?? 0
}

test('the console is served at / with its scripts', async () => {
  const index = await fetch(`${node.url}/`)
  assert.equal(index.status, 200)
  assert.match(index.headers.get('content-type') ?? '', /^text\/html/)
  assert.match(await index.text(), /<script type="module" src="\/console\/app.js">/)
  const script = await fetch(`${node.url}/console/pages/sql.js`)
  assert.equal(script.status, 200)
  assert.match(script.headers.get('content-type') ?? '', /^text\/javascript/)
  assert.equal((await fetch(`${node.url}/console/serve.ts`)).status, 404, 'the server side is not served')
})

/** Runs in the page: the console's own modules on inputs whose answers are known. */
const IN_PAGE_CHECKS = String.raw`(async () => {
  const { parseMetrics, sumBy, rates } = await import('/console/prometheus.js')
  const { parseTime } = await import('/console/format.js')
  const { timeSeries } = await import('/console/results.js')
  const { lineChart } = await import('/console/chart.js')
  const samples = parseMetrics([
    '# HELP sluice_points_accepted_total Points accepted.', '# TYPE sluice_points_accepted_total counter',
    'sluice_points_accepted_total{source="http"} 10', 'sluice_points_accepted_total{source="mqtt"} 5 1700000000000',
    'sluice_x{a="q\\"uote\\\\",b="x,y}"} +Inf', 'sluice_nan NaN', 'not a sample line', '',
  ].join('\n'))
  const before = new Map([['http', 10], ['mqtt', 8]])
  const now = sumBy(samples, 'sluice_points_accepted_total', 'source')
  const chart = lineChart([{ name: 's', points: [[0, 1], [1000, null], [2000, 3], [3000, 4]] }])
  return {
    samples: samples.map(s => [s.name, s.labels, String(s.value)]),
    rates: [...rates(before, new Map([...now, ['kafka', 4]]), 2)],
    time: parseTime('2023-11-14T22:13:20.123456789Z') - Date.UTC(2023, 10, 14, 22, 13, 20),
    notTime: Number.isNaN(parseTime('22:13')),
    series: timeSeries([{ time: '2023-11-14T22:13:20Z', host: 'a', v: 1 }, { time: '2023-11-14T22:13:30Z', host: 'b', v: 2 }]).series.map(s => s.name),
    noTime: timeSeries([{ host: 'a', v: 1 }]).reason,
    path: chart.querySelector('path.series').getAttribute('d').replace(/[\d. ]+/g, ''),
    points: chart.querySelector('path.series').dataset.points,
    replicaSet: await renderedReplicaSet(),
  }

  /** The replica set page for a set of two: one catching up (half way on one partition, not reading the other), a partition with no master. */
  async function renderedReplicaSet() {
    const { render } = await import('/console/pages/replicaset.js')
    const member = (id, health, masters, extra) => ({ id, address: 'http://' + id, startedAt: new Date().toISOString(), heartbeatAt: new Date().toISOString(), masters,
      partitions: [0, 1, 2].map(partition => ({ partition, appliedOffset: '50', endOffset: '100', lag: '50' })), health, ...extra })
    const view = {
      node: 'n1', masters: [{ partition: 0, nodes: ['n1'] }, { partition: 1, nodes: ['n1'] }],
      lastFailover: { partition: 1, node: 'n1', at: new Date().toISOString() },
      members: [member('n1', 'ok', [0, 1]), member('n2', 'catching-up', [], { catchingUp: [{ partition: 0, position: '50', target: '100' }, { partition: 2, position: '0', target: null }] })],
    }
    const root = document.createElement('div')
    root.append(...render(view, null))
    return {
      bars: [...root.querySelectorAll('#catching-up progress')].map(p => p.value),
      rows: [...root.querySelectorAll('#catching-up tbody tr')].map(tr => tr.innerText ?? tr.textContent),
      masters: [...root.querySelectorAll('#masters tbody tr td:nth-child(2)')].map(td => td.textContent),
      failover: root.querySelector('#last-failover b').textContent,
      metrics: root.querySelector('#storage p').textContent,
    }
  }
})()`

test('the console\'s modules, in the browser: Prometheus text, counter rates, times, query rows as series, chart paths', async () => {
  const page = await open(node, '#replicaset')
  // A string, not a function: tsx's transform would add helpers the page does not have.
  const checks = await page.evaluate(IN_PAGE_CHECKS) as Record<string, any>
  assert.deepEqual(checks.samples, [
    ['sluice_points_accepted_total', { source: 'http' }, '10'], ['sluice_points_accepted_total', { source: 'mqtt' }, '5'],
    ['sluice_x', { a: 'q"uote\\', b: 'x,y}' }, 'Infinity'], ['sluice_nan', {}, 'NaN'],
  ])
  assert.deepEqual(checks.rates, [['http', 0], ['mqtt', 2.5], ['kafka', 2]], 'unchanged, reset (counts from zero), new')
  assert.equal(checks.time, 123)
  assert.equal(checks.notTime, true)
  assert.deepEqual(checks.series, ['v {host=a}', 'v {host=b}'])
  assert.match(checks.noTime, /no time column/)
  assert.equal(checks.path, 'MML', 'a null value breaks the line')
  assert.equal(checks.points, '3')
  assert.deepEqual(checks.replicaSet.bars, [0.5], 'a progress bar where the target is known')
  assert.equal(checks.replicaSet.rows.length, 2)
  assert.match(checks.replicaSet.rows[0], /n2\s*0\s*50 of 100 \(50\.0 %\)/)
  assert.match(checks.replicaSet.rows[1], /n2\s*2\s*not yet reading \(at 0\)/)
  assert.deepEqual(checks.replicaSet.masters, ['n1', 'n1', 'none'])
  assert.equal(checks.replicaSet.failover, 'partition 1 → n1')
  assert.match(checks.replicaSet.metrics, /metrics unavailable/)
  await page.close()
})

test('replica set: the node in the member table, master of every partition, its stores', async () => {
  const page = await open(node, '#replicaset')
  const members = page.locator('#members tbody tr')
  await members.first().waitFor()
  assert.equal(await members.count(), 1)
  assert.match(await members.first().innerText(), new RegExp(`${node.nodeId}[\\s\\S]*ok`))
  const masters = page.locator('#masters tbody tr')
  assert.equal(await masters.count(), 2, 'one row per partition')
  for (const row of await masters.all()) assert.match(await row.innerText(), new RegExp(node.nodeId))
  assert.match(await page.locator('#last-failover').innerText(), new RegExp(`partition \\d → ${node.nodeId}`))
  assert.equal(await page.locator('#storage tbody tr').count(), 2, 'this node\'s store of each partition')
  assert.equal(await page.locator('#node-id').innerText(), `node ${node.nodeId}`)
  // Compact now: every partition merged into at most one segment, reported with its progress.
  await page.locator('#compaction-start').click()
  await page.locator('#compaction-result').waitFor({ timeout: 30_000 })
  assert.match(await page.locator('#compaction-result p').innerText(), /compacted: 2 of 2 partitions/)
  const after = await page.locator('#compaction-result tbody tr td:nth-child(3)').allInnerTexts()
  assert.equal(after.length, 2)
  for (const segments of after) assert.ok(Number(segments) <= 1, `one segment per partition after compaction (${segments})`)
  await screenshot(page, 'replicaset')
})

test('rates: ingest and query rates charted from /metrics, or "metrics unavailable" without it', async t => {
  const metrics = await fetch(`${node.url}/metrics`)
  const page = await open(node, '#rates')
  if (metrics.status !== 200) {
    t.diagnostic(`GET /metrics answered ${metrics.status}: checking the page says so`)
    await page.locator('#metrics-unavailable').waitFor()
    assert.match(await page.locator('#metrics-unavailable').innerText(), /metrics unavailable/)
    await screenshot(page, 'rates')
    return
  }
  // Keep writing and querying while the page polls, so the rates between polls are above zero.
  let busy = true
  const load = (async () => {
    for (let i = 0; busy; i++) {
      await write(node, Array.from({ length: 50 }, (_, j) => `load,host=x v=${j} ${T0 + BigInt(i * 50 + j)}`))
      await sqlAnswer(node, 'SELECT count(usage) FROM cpu')
      await new Promise(resolve => setTimeout(resolve, 200))
    }
  })()
  try {
    const accepted = page.locator('#chart-ingest path.series[data-name="accepted http"]')
    await accepted.waitFor({ timeout: 20_000 })
    assert.ok(await eventually(async () => pathPoints(await accepted.getAttribute('d')) >= 2, 15_000, 250), 'the ingest chart draws a line of several polls')
    const queries = page.locator('#chart-queries path.series[data-name="sql"]')
    await queries.waitFor({ timeout: 10_000 })
    assert.ok(pathPoints(await queries.getAttribute('d')) >= 1, 'the query chart draws the SQL rate')
  } finally {
    busy = false
    await load
  }
  await screenshot(page, 'rates')
})

test('compression: points in and kept, ratio and max error of the lossy field, with its codec', async () => {
  const page = await open(node, '#compression')
  const row = page.locator('#compression tbody tr', { hasText: 'boiler' })
  await row.waitFor()
  const cells = await row.locator('td').allInnerTexts()
  assert.deepEqual(cells.slice(0, 3), [DB, 'boiler', 'temp'])
  assert.match(cells[3]!, /SDT/i, 'the codec from SHOW COMPRESSION')
  assert.equal(cells[5], '600', 'points in')
  const kept = Number(cells[6]!.replace(/,/g, ''))
  assert.ok(kept >= 2 && kept < BOILER_POINTS, `points kept (${kept}) are fewer than points in`)
  await screenshot(page, 'compression')
})

test('browser: the written database and measurements, a measurement\'s columns and newest rows', async () => {
  const page = await open(node, '#browser')
  await page.locator('#browser-databases a', { hasText: DB }).click()
  const measurements = page.locator('#browser-measurements li')
  await measurements.first().waitFor()
  const names = await measurements.allInnerTexts()
  assert.ok(names.includes('cpu') && names.includes('boiler'), `measurements listed: ${names.join(', ')}`)
  await page.locator('#browser-measurements a', { hasText: 'cpu' }).click()
  await page.locator('#browser-columns').waitFor()
  const columns = await page.locator('#browser-columns tbody tr td:first-child').allInnerTexts()
  assert.deepEqual(columns.sort(), ['host', 'time', 'usage'])
  assert.equal(await page.locator('#browser-rows tbody tr').count(), 20, 'the newest 20 rows')
  await screenshot(page, 'browser')
})

test('SQL editor: a SELECT\'s rows in the table and as a chart path with one point per row', async () => {
  const page = await open(node, `#sql?db=${DB}`)
  await page.locator('#sql-editor').fill(`SELECT time, usage FROM cpu WHERE host = 'a'`)
  await page.locator('#sql-run').click()
  await page.locator('#sql-table').waitFor()
  assert.equal(await page.locator('#sql-table tbody tr').count(), CPU_ROWS)
  assert.match(await page.locator('#sql-status').innerText(), new RegExp(`^${CPU_ROWS} rows in \\d+ ms$`))
  const firstRow = await page.locator('#sql-table tbody tr').first().locator('td').allInnerTexts()
  assert.deepEqual(firstRow, ['2023-11-14T22:13:20Z', '3'])
  const paths = page.locator('#sql-chart path.series')
  assert.equal(await paths.count(), 1)
  assert.equal(await paths.getAttribute('data-points'), String(CPU_ROWS))
  assert.equal(pathPoints(await paths.getAttribute('d')), CPU_ROWS, 'the path has as many points as rows')
  await screenshot(page, 'sql')

  // Rows of several series (a tag column) make one line each; a refusal is shown, not thrown.
  const grouped = await open(node, `#sql?db=${DB}&q=${encodeURIComponent('SELECT time, host, usage FROM cpu')}&run=1`)
  await grouped.locator('#sql-table').waitFor()
  assert.equal(await grouped.locator('#sql-chart path.series').count(), 2)
  await grouped.locator('#sql-editor').fill('SELECT nope FROM cpu')
  await grouped.locator('#sql-run').click()
  await grouped.locator('#sql-status .error').waitFor()
  assert.match(await grouped.locator('#sql-status').innerText(), /HTTP 4\d\d: column "nope"/)
  await grouped.close()
})

test('change feed: an event for a write made while the feed is open appears live', async () => {
  const page = await open(node, `#cdc?db=${DB}&m=cpu`)
  await page.locator('#cdc-start').click()
  await page.locator('#cdc-state', { hasText: 'streaming' }).waitFor()
  const marker = `console-${Date.now().toString(36)}`
  await write(node, [`cpu,host=${marker} usage=42.5 ${BigInt(Date.now()) * 1_000_000n}`])
  const event = page.locator('#cdc-events tr.cdc-event', { hasText: marker })
  await event.waitFor({ timeout: 20_000 })
  const cells = await event.locator('td').allInnerTexts()
  assert.equal(cells[1], 'upsert')
  assert.equal(cells[2], 'cpu')
  assert.match(cells[4]!, new RegExp(`host=${marker} usage=42.5`))
  assert.match(await page.locator('#cdc-position').innerText(), /^\d+:\d+:\d+,\d+:\d+:\d+$/)
  await screenshot(page, 'cdc')
})

test('with --auth, the console asks for a token, then sends it', async () => {
  // A second node on the same changelog, so it serves the points written above once caught up.
  const secured = await startNodeProcess({ kafka: broker.bootstrap, redis: 'memory', args: ['--partitions', '2', '--auth', '--parse-workers', '0'] })
  try {
    const secret = secured.createToken({ tenant: 'default', databases: [DB], permissions: ['read'] })
    const statement = `SELECT time, usage FROM cpu WHERE host = 'a'`
    assert.ok(await eventually(async () => {
      const answer = await fetch(`${secured.url}/api/v1/sql?db=${DB}`, { method: 'POST', body: statement, headers: { authorization: `Token ${secret}` } })
      return answer.status === 200 && (JSON.parse(await answer.text()) as unknown[]).length === CPU_ROWS
    }, 30_000, 250), 'the second node caught up and takes the token')
    const page = await open(secured, `#sql?db=${DB}&q=${encodeURIComponent(statement)}`)
    // The page's first request (its database list) is refused 401: the console's dialog asks, not the browser's.
    await page.locator('#token-dialog').waitFor()
    assert.match(await page.locator('#token-reason').innerText(), /HTTP 401/)
    await page.locator('#token-input').fill(secret)
    await page.locator('#token-save').click()
    await page.locator('#sql-run').click()
    await page.locator('#sql-table').waitFor()
    assert.equal(await page.locator('#sql-table tbody tr').count(), CPU_ROWS)
    assert.equal(await page.evaluate(() => localStorage.getItem('sluice.console.token')), secret, 'the token is kept for the next visit')
    await screenshot(page, 'auth-sql')
  } finally {
    assert.equal(await secured.stop(), 0)
  }
})
