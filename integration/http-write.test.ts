// The HTTP write API end to end: a broker process, two `sluice node` processes, the real Redis, the
// influx CLI (Debian's influxdb-client 1.6) and fetch as clients, and a kafkajs reader that checks what
// landed in sluice.ingest: every accepted point exactly once, nothing of what was refused.

import '../lib/kafka/aborted-filter.ts' // first: kafkajs's read_committed filter replaced before kafkajs loads
import { after, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { gzipSync } from 'node:zlib'
import { startBrokerProcess, type BrokerProcess } from '../lib/process/broker-process.ts'
import { startNodeProcess, type NodeProcess } from '../lib/process/node-process.ts'
import { partitionForSeriesKey } from '../pipeline/ingest/index.ts'
import kafkajs from 'kafkajs'
import { countByPoint, forgetTenants, pointId, readIngest, uniqueName, type IngestedPoint } from './http-helpers.ts'
import { kafkaClient } from './support/kafka.ts'
import { run } from './support/run.ts'

let broker: BrokerProcess
let node: NodeProcess
/** Databases must exist before writes; small body limit. */
let strictNode: NodeProcess
/** The nodes' default tenant (auth is off): unique, so the shared Redis holds nothing of other runs. */
const tenant = uniqueName('it_tenant')
/** Raw line protocol written straight to sluice.ingest lands here (the node runs the Kafka source). */
const sourceDb = uniqueName('it_source')

before(async () => {
  broker = await startBrokerProcess()
  node = await startNodeProcess({ kafka: broker.bootstrap, args: ['--partitions', '6', '--default-tenant', tenant, '--kafka-source', '--kafka-source-database', sourceDb] })
  // No Kafka source here: raw records are the other node's (a source without a default database dead-letters them).
  strictNode = await startNodeProcess({ kafka: broker.bootstrap, args: ['--no-kafka-source', '--no-auto-create-databases', '--limit', 'maxBodyBytes=100000', '--default-tenant', tenant] })
})

after(async () => {
  assert.equal(await strictNode?.stop(), 0, 'the strict node exits 0 on SIGTERM')
  assert.equal(await node?.stop(), 0, 'the node exits 0 on SIGTERM')
  await broker?.stop()
  await forgetTenants([tenant])
})

const post = (url: string, body: string | Buffer, headers: Record<string, string> = {}): Promise<Response> =>
  fetch(url, { method: 'POST', body: typeof body === 'string' ? body : new Uint8Array(body), headers: { 'content-type': 'text/plain; charset=utf-8', ...headers } })

describe('writes land in sluice.ingest exactly once', () => {
  it('from influx -import and from fetch on every endpoint, plain and gzip', async () => {
    const db = uniqueName('it_write')
    const importFile = join(node.dataDir, 'import.txt')
    const importLines = Array.from({ length: 500 }, (_, i) => `cpu,host=h${i % 25},region=r${i % 3} usage=${i}.5,idle=${i}i ${1_700_000_000 + i}`)
    writeFileSync(importFile, ['# DDL', `CREATE DATABASE ${db}`, '# DML', `# CONTEXT-DATABASE: ${db}`, '# CONTEXT-RETENTION-POLICY: autogen', ...importLines, ''].join('\n'))
    const imported = await run('influx', ['-host', '127.0.0.1', '-port', String(node.port), '-import', `-path=${importFile}`, '-precision=s'], { timeoutMs: 60_000 })
    assert.equal(imported.code, 0, imported.stderr)
    assert.match(imported.stderr + imported.stdout, /Processed 500 inserts/)
    assert.match(imported.stderr + imported.stdout, /Failed 0 inserts/)

    const v1Lines = Array.from({ length: 200 }, (_, i) => `mem,host=h${i % 10} free=${i}i,ok=true ${2_000_000_000_000_000_000n + BigInt(i)}`)
    const traceparent = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01'
    assert.equal((await post(`${node.url}/write?db=${db}`, v1Lines.join('\n'), { traceparent })).status, 204)
    const v2Lines = Array.from({ length: 200 }, (_, i) => `disk,host=h${i % 7},path=/p\\ ${i % 4} used=${i * 10}u,label="d ${i}" ${1_700_000_000_000 + i}`)
    const v2 = await post(`${node.url}/api/v2/write?org=${tenant}&bucket=${db}&precision=ms`, gzipSync(v2Lines.join('\n')), { 'content-encoding': 'gzip', authorization: 'Token ignored-with-auth-off' })
    assert.equal(v2.status, 204)
    const cnosLines = Array.from({ length: 200 }, (_, i) => `net,iface=eth${i % 2} rx=${i} ${1_700_000_000_000_000 + i}`)
    assert.equal((await post(`${node.url}/api/v1/write?db=${db}&precision=us`, cnosLines.join('\n'))).status, 204)

    const points = await readIngest(broker.bootstrap)
    const counts = countByPoint(points, db)
    assert.equal(counts.size, 1100, 'every point written is in sluice.ingest')
    assert.deepEqual([...new Set(counts.values())], [1], 'and exactly once')
    const mine = points.filter(p => p.database === db)
    for (const point of mine) {
      assert.equal(point.tenant, tenant)
      assert.equal(point.key, point.seriesKey)
      assert.equal(point.partition, partitionForSeriesKey(point.seriesKey, 6), `${point.seriesKey} in the partition its key hashes to`)
      assert.equal(point.format, 'ingest-record', 'marked as Sluice\'s own for the Kafka source')
      assert.equal(point.traceparent, point.seriesKey.startsWith('mem,') ? traceparent : undefined)
    }
    const imported7 = mine.find(p => p.seriesKey === 'cpu,host=h7,region=r1' && p.timeNs === 1_700_000_007_000_000_000n)!
    assert.deepEqual(imported7.fields, { usage: 7.5, idle: 7n })
    const disk = mine.find(p => p.seriesKey === 'disk,host=h3,path=/p\\ 3' && p.timeNs === 1_700_000_000_003_000_000n)!
    assert.deepEqual(disk.fields, { used: { unsigned: 30n }, label: 'd 3' })
    assert.ok(mine.some(p => p.seriesKey === 'net,iface=eth1' && p.timeNs === 1_700_000_000_000_001_000n))
  })
})

describe('refusals', () => {
  it('400 names the bad lines; /write keeps the good ones, /api/v2/write and /api/v1/write write none', async () => {
    const db = uniqueName('it_bad')
    const body = `m,k=a v=1 100\nm,k=b v= 200\nm,k=c v=3 300\nm,k=d v=4i,v=5 400\n`
    const v1 = await post(`${node.url}/write?db=${db}`, body)
    assert.equal(v1.status, 400)
    const v1Body = await v1.json() as { error: string; lines: Array<{ line: number }> }
    assert.match(v1Body.error, /^partial write: unable to parse 'm,k=b v= 200': .*\(line 2, column \d+\)/)
    assert.deepEqual(v1Body.lines.map(l => l.line), [2, 4])
    assert.ok(v1.headers.get('x-influxdb-error')?.startsWith('partial write:'))
    const v2 = await post(`${node.url}/api/v2/write?bucket=${db}`, 'm,k=e v=5 500\nm,k=f v=x 600')
    assert.equal(v2.status, 400)
    assert.equal(((await v2.json()) as { code: string }).code, 'invalid')
    const cnos = await post(`${node.url}/api/v1/write?db=${db}`, 'm,k=g v=7 700\nnot line protocol')
    assert.equal(cnos.status, 400)
    assert.equal(((await cnos.json()) as { lines: Array<{ line: number }> }).lines[0]!.line, 2)

    const counts = countByPoint(await readIngest(broker.bootstrap), db)
    assert.deepEqual([...counts.keys()].sort(), [`${db}|m,k=a|100`, `${db}|m,k=c|300`])
  })

  it('field type conflicts across requests and across nodes (types live in Redis)', async () => {
    const db = uniqueName('it_types')
    assert.equal((await post(`${node.url}/write?db=${db}`, 'weather temp=21.5 1')).status, 204)
    await post(`${strictNode.url}/query?q=CREATE+DATABASE+${db}`, '')
    const conflict = await post(`${strictNode.url}/write?db=${db}`, 'weather temp="warm" 2\nweather hum=40i 3')
    assert.equal(conflict.status, 400)
    assert.match(((await conflict.json()) as { error: string }).error, /^partial write: field type conflict: input field "temp" on measurement "weather" is type string, already exists as type float \(line 1\) dropped=1$/)
    const v2 = await post(`${node.url}/api/v2/write?bucket=${db}`, 'weather hum=41 4')
    assert.equal(v2.status, 422)
    const counts = countByPoint(await readIngest(broker.bootstrap), db)
    assert.deepEqual([...counts.keys()].sort(), [`${db}|weather|1`, `${db}|weather|3`])
  })

  it('413 for a body over maxBodyBytes, plain or once gunzipped; nothing written', async () => {
    const db = uniqueName('it_large')
    await post(`${strictNode.url}/query?q=CREATE+DATABASE+${db}`, '')
    const big = Array.from({ length: 5000 }, (_, i) => `big,k=v value=${i} ${i}`).join('\n')
    assert.ok(big.length > 100_000)
    const plain = await post(`${strictNode.url}/write?db=${db}`, big)
    assert.equal(plain.status, 413)
    const zipped = gzipSync(big)
    assert.ok(zipped.length < 100_000)
    const gz = await post(`${strictNode.url}/api/v2/write?bucket=${db}`, zipped, { 'content-encoding': 'gzip' })
    assert.equal(gz.status, 413)
    assert.equal(gz.headers.get('x-platform-error-code'), 'request too large')
    assert.equal((await post(`${strictNode.url}/write?db=${db}`, 'small v=1 1')).status, 204, 'the connection and the node still serve')
    const counts = countByPoint(await readIngest(broker.bootstrap), db)
    assert.deepEqual([...counts.keys()], [`${db}|small|1`])
  })

  it('404 for an unknown database until CREATE DATABASE through /query, as Telegraf\'s v1 output does it', async () => {
    const db = uniqueName('telegraf')
    const missing = await post(`${strictNode.url}/write?db=${db}`, 'm v=1 1')
    assert.equal(missing.status, 404)
    assert.deepEqual(await missing.json(), { error: `database not found: "${db}"` })
    const create = await fetch(`${strictNode.url}/query`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: `q=${encodeURIComponent(`CREATE DATABASE "${db}"`)}` })
    assert.equal(create.status, 200)
    assert.deepEqual(await create.json(), { results: [{ statement_id: 0 }] })
    assert.equal((await post(`${strictNode.url}/write?db=${db}`, 'm v=1 1')).status, 204)
    const show = await fetch(`${node.url}/query?q=SHOW+DATABASES`)
    const names = ((await show.json()) as { results: Array<{ series: Array<{ values: string[][] }> }> }).results[0]!.series[0]!.values.flat()
    assert.ok(names.includes(db), 'databases are shared by all nodes (Redis)')
  })
})

describe('Idempotency-Key', () => {
  it('a replay is answered from Redis and not written again; of two concurrent requests one writes', async () => {
    const db = uniqueName('it_idem')
    const key = uniqueName('key')
    const body = Array.from({ length: 50 }, (_, i) => `idem,s=s${i} v=${i} ${i}`).join('\n')
    const first = await post(`${node.url}/write?db=${db}`, body, { 'idempotency-key': key })
    assert.equal(first.status, 204)
    const replay = await post(`${strictNode.url}/write?db=${db}`, body, { 'idempotency-key': key })
    assert.equal(replay.status, 204, 'another node replays it: the answer lives in Redis')
    assert.equal(replay.headers.get('idempotent-replayed'), 'true')
    const misuse = await post(`${node.url}/write?db=${db}`, 'idem,s=other v=1 1', { 'idempotency-key': key })
    assert.equal(misuse.status, 422)

    const concurrentKey = uniqueName('key')
    const concurrentBody = Array.from({ length: 50 }, (_, i) => `idem2,s=s${i} v=${i} ${i}`).join('\n')
    const answers = await Promise.all(Array.from({ length: 6 }, (_, i) =>
      post(`${(i % 2 === 0 ? node : strictNode).url}/api/v2/write?bucket=${db}`, concurrentBody, { 'idempotency-key': concurrentKey })))
    assert.deepEqual(answers.map(a => a.status), [204, 204, 204, 204, 204, 204])
    assert.equal(answers.filter(a => a.headers.get('idempotent-replayed') === 'true').length, 5)

    const points = (await readIngest(broker.bootstrap)).filter(p => p.database === db)
    const counts = countByPoint(points, db)
    assert.equal(counts.size, 100)
    assert.deepEqual([...new Set(counts.values())], [1], 'each point once, though sent 1 + 1 and 6 times')
    assert.deepEqual([...new Set(points.map(p => p.idempotencyKey))].sort(), [concurrentKey, key].sort(), 'records carry the key')
    assert.ok(points.every(p => pointId(p).startsWith(db)))
  })
})

describe('the Kafka source inside the node (--kafka-source)', () => {
  it('re-keys a raw line protocol record written straight to sluice.ingest into Sluice\'s records, through the node\'s catalog', async () => {
    const producer = kafkaClient(broker.bootstrap).producer({ createPartitioner: kafkajs.Partitioners.DefaultPartitioner })
    await producer.connect()
    await producer.send({ topic: 'sluice.ingest', acks: -1, messages: [{ partition: 0, value: 'raw,host=a v=1 10\nraw,host=b v=2 20\n' }] })
    await producer.disconnect()
    let points: IngestedPoint[] = []
    // The source commits on its own schedule: read again until its records are there (bounded in time).
    const deadline = Date.now() + 30_000
    while (points.length < 2 && Date.now() < deadline) {
      points = (await readIngest(broker.bootstrap)).filter(p => p.database === sourceDb)
      if (points.length < 2) await new Promise(resolve => setTimeout(resolve, 250))
    }
    assert.deepEqual(points.map(p => [p.tenant, p.seriesKey, p.timeNs, p.partition]).sort(), [
      [tenant, 'raw,host=a', 10n, partitionForSeriesKey('raw,host=a', 6)], [tenant, 'raw,host=b', 20n, partitionForSeriesKey('raw,host=b', 6)],
    ])
    const databases = await fetch(`${node.url}/query?q=SHOW+DATABASES`)
    assert.ok(JSON.stringify(await databases.json()).includes(sourceDb), 'the source created the database through the shared catalog')
  })
})

describe('probes', () => {
  it('/ping answers 204 with X-Influxdb-Version and X-Influxdb-Build; /health reports Kafka and Redis', async () => {
    const ping = await fetch(`${node.url}/ping`)
    assert.equal(ping.status, 204)
    assert.equal(ping.headers.get('x-influxdb-version'), '1.8.10')
    assert.equal(ping.headers.get('x-influxdb-build'), 'OSS')
    const head = await fetch(`${node.url}/ping`, { method: 'HEAD' })
    assert.equal(head.status, 204)
    const health = await fetch(`${node.url}/health`)
    assert.equal(health.status, 200)
    const body = await health.json() as { status: string; checks: Array<{ name: string; status: string }> }
    assert.equal(body.status, 'pass')
    assert.deepEqual(body.checks.map(c => [c.name, c.status]), [['kafka', 'pass'], ['redis', 'pass']])
  })

  it('the schema registry routes answer under /schema-registry with Sluice\'s subjects', async () => {
    const subjects = await fetch(`${node.url}/schema-registry/subjects`)
    assert.equal(subjects.status, 200)
    assert.ok(((await subjects.json()) as string[]).includes('sluice.ingest-value'))
  })
})
