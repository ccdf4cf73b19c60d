// The change feed over server-sent events (issue 7, section 3): a node with --cdc takes 100,000
// points over HTTP /write with UPDATEs (fields and tags) and DELETEs over /api/v1/sql mixed in,
// while a subscriber of GET /api/v1/changes disconnects at random moments and reconnects with
// Last-Event-ID. It must receive every change exactly once, in changelog order per partition:
// compared event by event with what the committed changelog implies. Also: filters, refusals
// with their codes, and read permission.

import { after, before, test } from 'node:test'
import assert from 'node:assert/strict'
import { startBrokerProcess, type BrokerProcess } from '../lib/process/broker-process.ts'
import { startNodeProcess, type NodeProcess } from '../lib/process/node-process.ts'
import { eventually, kafkaClient, sleep } from './support/kafka.ts'
import { comparable, expectedEvents, idsByPartition, readChangelogRecords, readSse, type ComparableEvent } from './support/cdc.ts'

const PARTITIONS = 3
const DB = 'feed'
const BATCHES = 100
const LINES_PER_BATCH = 1_000
const HOSTS = 50
let broker: BrokerProcess
let node: NodeProcess

before(async () => {
  broker = await startBrokerProcess()
  node = await startNodeProcess({ kafka: broker.bootstrap, redis: 'memory', args: ['--partitions', String(PARTITIONS), '--cdc', '--parse-workers', '0', '--cdc-heartbeat-ms', '300'] })
})

after(async () => {
  assert.equal(await node?.stop(), 0, 'the node exits 0 on SIGTERM, open streams included')
  assert.ok(!((await openAtStop) instanceof Error), 'the open stream ended cleanly when the node stopped')
  await broker?.stop()
})

async function sql(statement: string): Promise<{ command_id: string }> {
  const answer = await fetch(`${node.url}/api/v1/sql?db=${DB}`, { method: 'POST', body: statement })
  const body = await answer.text()
  assert.equal(answer.status, 200, `${statement}: ${body}`)
  return JSON.parse(body) as { command_id: string }
}

function seeded(seed: number): () => number {
  return () => { seed = (seed * 1_103_515_245 + 12_345) % 2_147_483_648; return seed / 2_147_483_648 }
}

test('a subscriber that disconnects at random moments and resumes with Last-Event-ID gets every change once, in order', async t => {
  const seed = Number(process.env.SLUICE_FAULT_SEED ?? Date.now() % 100_000)
  t.diagnostic(`seed ${seed} (replay with SLUICE_FAULT_SEED)`)
  const random = seeded(seed)
  const received: ComparableEvent[] = []
  const markerSeen = new Set<number>()
  let marker: string | undefined
  let reconnects = 0
  let stopReading = false

  const reading = (async () => {
    let lastEventId: string | undefined
    while (!stopReading) {
      const controller = new AbortController()
      const abortAfterEvents = reconnects < 25 ? 200 + Math.floor(random() * 8_000) : Infinity
      const timer = reconnects < 25 ? setTimeout(() => controller.abort(), 300 + random() * 3_000) : undefined
      let inThisConnection = 0
      const url = `${node.url}/api/v1/changes?db=${DB}${lastEventId === undefined ? '&from=earliest' : ''}`
      const result = await readSse(url, {
        ...(lastEventId !== undefined ? { lastEventId } : {}),
        signal: controller.signal,
        onMessage: message => {
          if (message.data === undefined) return
          assert.equal(message.event, undefined, `no error event: ${message.data}`)
          const event = comparable(message.data)
          received.push(event)
          if (marker !== undefined && event.content.includes(marker)) markerSeen.add(event.partition)
          if (markerSeen.size === PARTITIONS) { stopReading = true; controller.abort() }
          if (++inThisConnection >= abortAfterEvents) controller.abort()
        },
      })
      clearTimeout(timer)
      assert.equal(result.status === 200 || result.status === 0, true, `stream answered ${result.status}: ${result.body}`)
      lastEventId = result.lastEventId
      if (!stopReading) reconnects++
    }
  })()

  let points = 0
  const commands: string[] = []
  for (let batch = 0; batch < BATCHES; batch++) {
    const lines = Array.from({ length: LINES_PER_BATCH }, (_, i) => {
      const n = batch * LINES_PER_BATCH + i
      return `cpu,host=h${n % HOSTS},rack=a usage=${n % 97}.5,n=${n}i ${1_700_000_000_000_000_000n + BigInt(n)}`
    })
    const answer = await fetch(`${node.url}/write?db=${DB}`, { method: 'POST', body: lines.join('\n') })
    assert.equal(answer.status, 204, await answer.text())
    points += lines.length
    if (batch % 10 === 9) {
      const k = (batch - 9) / 10
      const statement = [
        `UPDATE cpu SET usage = 0.25 WHERE host = 'h${k}'`,
        `UPDATE cpu SET rack = 'b${k}' WHERE host = 'h${10 + k}'`,
        `DELETE FROM cpu WHERE host = 'h${20 + k}' AND time < ${1_700_000_000_000_000_000n + BigInt(batch * LINES_PER_BATCH)}`,
      ][k % 3]!
      commands.push((await sql(statement)).command_id)
    }
  }
  marker = (await sql(`DELETE FROM cpu WHERE host = 'end-of-test'`)).command_id

  let markers = 0
  const changelog = await readChangelogRecords(kafkaClient(broker.bootstrap), records => {
    if (records[records.length - 1]!.entry.command?.commandId === marker) markers++
    return markers === PARTITIONS
  })
  const expected = expectedEvents(changelog, DB)
  t.diagnostic(`${points} points and ${commands.length + 1} commands written: ${expected.length} changes expected`)
  assert.equal(expected.length, points + (commands.length + 1) * PARTITIONS, 'one change per point, one per command and partition')

  const deadline = Date.now() + 60_000
  while (markerSeen.size < PARTITIONS && Date.now() < deadline) await sleep(100)
  stopReading = true
  await reading
  t.diagnostic(`${received.length} events received over ${reconnects + 1} connections`)
  assert.ok(reconnects >= 5, `the subscriber reconnected during the load (${reconnects})`)
  assert.equal(markerSeen.size, PARTITIONS, 'the last command reached the subscriber on every partition')

  const got = idsByPartition(received)
  for (const [partition, ids] of idsByPartition(expected)) {
    const mine = got.get(partition) ?? []
    assert.equal(new Set(mine).size, mine.length, `partition ${partition}: no event twice`)
    assert.deepEqual(mine, ids, `partition ${partition}: every change once, in changelog order`)
  }
  assert.equal(received.length, expected.length)
  const expectedContent = new Map(expected.map(event => [event.id, event.content]))
  for (const event of received) assert.equal(event.content, expectedContent.get(event.id), `event ${event.id}`)
  const ops = new Set(received.map(event => JSON.parse(event.content)[0] as string))
  assert.deepEqual([...ops].sort(), ['c', 'd', 'u'])
})

/** A stream left open until the node stops: stopping must end it, not wait for it. */
let openAtStop: Promise<unknown> | undefined

test('filters by measurement and tags, starts at latest, sends heartbeats, ends its consumer group on disconnect, and refuses bad requests', async () => {
  openAtStop = readSse(`${node.url}/api/v1/changes?db=${DB}`, { signal: new AbortController().signal, onMessage: () => {} }).catch(error => error)
  const controller = new AbortController()
  const seen: string[] = []
  let started!: () => void
  const positioned = new Promise<void>(resolve => { started = resolve })
  const reading = readSse(`${node.url}/api/v1/changes?db=${DB}&measurement=mem&where=${encodeURIComponent("host IN ('x', 'y') AND dc = 'eu'")}`, {
    signal: controller.signal,
    onMessage: message => {
      started() // the first message is the starting position (an id alone)
      if (message.data !== undefined) seen.push(JSON.parse(message.data).after.tags.host as string)
      if (seen.length === 2) controller.abort()
    },
  })
  await positioned // from=latest: only what is written after the stream started
  const body = ['mem,host=x,dc=eu v=1 1', 'mem,host=z,dc=eu v=1 2', 'mem,host=y,dc=us v=1 3', 'cpu,host=x,dc=eu v=1 4', 'mem,host=y,dc=eu v=1 5'].join('\n')
  assert.equal((await fetch(`${node.url}/write?db=${DB}`, { method: 'POST', body })).status, 204)
  const timeout = setTimeout(() => controller.abort(), 20_000)
  await reading
  clearTimeout(timeout)
  assert.deepEqual(seen.sort(), ['x', 'y'])

  // An idle stream (a database without changes) sends heartbeat comments with its position.
  const idle = new AbortController()
  const response = await fetch(`${node.url}/api/v1/changes?db=quiet`, { signal: idle.signal })
  const idleBody = response.body!.getReader()
  let text = ''
  while ((text.match(/: heartbeat\nid: [0-9:,]+\n\n/g) ?? []).length < 2) text += new TextDecoder().decode((await idleBody.read()).value)
  idle.abort()
  assert.doesNotMatch(text, /data:/)

  // Every stream but the one left open has ended, and its consumer group is gone from the broker.
  const admin = kafkaClient(broker.bootstrap).admin()
  await admin.connect()
  const streamGroups = async (): Promise<string[]> => (await admin.listGroups()).groups.map(group => group.groupId).filter(id => id.startsWith('sluice.changes.'))
  assert.ok(await eventually(async () => (await streamGroups()).length === 1), `one stream group left: ${(await streamGroups()).join(', ')}`)
  await admin.disconnect()

  const refusals: Array<[string, number, string, RegExp]> = [
    ['', 400, 'SLUICE_ERR_CDC_PARAMETER', /db is required/],
    [`db=${DB}&where=${encodeURIComponent('host = x')}`, 400, 'SLUICE_ERR_CDC_FILTER', /single-quoted value .* character 8/],
    [`db=${DB}&from=7:0:0`, 400, 'SLUICE_ERR_CDC_RESUME_TOKEN', /partition 7; sluice.changelog has 3/],
    [`db=${DB}&from=yesterday`, 400, 'SLUICE_ERR_CDC_RESUME_TOKEN', /<partition>:<offset>:<index>/],
  ]
  for (const [query, status, code, message] of refusals) {
    const answer = await fetch(`${node.url}/api/v1/changes?${query}`)
    const error = await answer.json() as { error_code: string; error_message: string }
    assert.equal(answer.status, status, query)
    assert.equal(error.error_code, code, query)
    assert.match(error.error_message, message, query)
  }
})

test('ALTER TABLE ... DROP reaches the feed: one op d per changelog partition, naming the dropped field', async () => {
  const db = 'dropfeed'
  assert.equal((await fetch(`${node.url}/write?db=${db}`, { method: 'POST', body: 'probe,host=a volts=1,amps=2 1\nprobe,host=b volts=3,amps=4 2' })).status, 204)
  const controller = new AbortController()
  const drops: Array<{ op: string; source: { table: string; partition: number }; command: { kind: string; columns: string[] | null } }> = []
  let started!: () => void
  const positioned = new Promise<void>(resolve => { started = resolve })
  const reading = readSse(`${node.url}/api/v1/changes?db=${db}&measurement=probe`, {
    signal: controller.signal,
    onMessage: message => {
      started()
      if (message.data === undefined) return
      const event = JSON.parse(message.data)
      if (event.command !== null) drops.push(event)
      if (drops.length === PARTITIONS) controller.abort()
    },
  })
  await positioned
  const answer = await fetch(`${node.url}/api/v1/sql?db=${db}`, { method: 'POST', body: 'ALTER TABLE probe DROP volts' })
  assert.equal(answer.status, 200, await answer.clone().text())
  const { command_id: commandId } = await answer.json() as { command_id: string }
  const timeout = setTimeout(() => controller.abort(), 20_000)
  await reading
  clearTimeout(timeout)
  assert.equal(drops.length, PARTITIONS, 'one event per changelog partition')
  assert.deepEqual(drops.map(event => event.source.partition).sort(), Array.from({ length: PARTITIONS }, (_, p) => p))
  for (const event of drops) {
    assert.equal(event.op, 'd')
    assert.equal(event.source.table, 'probe')
    assert.equal(event.command.kind, 'DROP_FIELDS')
    assert.deepEqual(event.command.columns, ['volts'])
    assert.equal((event.command as unknown as { commandId: string }).commandId, commandId)
  }
})

test('needs read permission on the database when auth is on', async () => {
  const secured = await startNodeProcess({ kafka: broker.bootstrap, redis: 'memory', args: ['--partitions', String(PARTITIONS), '--auth', '--no-processor', '--no-kafka-source', '--no-replica', '--parse-workers', '0'] })
  try {
    const writer = secured.createToken({ tenant: 'default', databases: [DB], permissions: ['write'] })
    const reader = secured.createToken({ tenant: 'default', databases: [DB], permissions: ['read'] })
    assert.equal((await fetch(`${secured.url}/api/v1/changes?db=${DB}`)).status, 401)
    const forbidden = await fetch(`${secured.url}/api/v1/changes?db=${DB}`, { headers: { authorization: `Token ${writer}` } })
    assert.equal(forbidden.status, 403)
    assert.match(await forbidden.text(), /not authorized to read database/)
    const other = await fetch(`${secured.url}/api/v1/changes?db=elsewhere`, { headers: { authorization: `Token ${reader}` } })
    assert.equal(other.status, 403)
    const controller = new AbortController()
    const allowed = await fetch(`${secured.url}/api/v1/changes?db=${DB}&from=earliest`, { headers: { authorization: `Token ${reader}` }, signal: controller.signal })
    assert.equal(allowed.status, 200)
    assert.match(allowed.headers.get('content-type') ?? '', /^text\/event-stream/)
    const reader2 = allowed.body!.getReader()
    let text = ''
    while (!text.includes('data: ')) text += new TextDecoder().decode((await reader2.read()).value)
    assert.match(text, /^: sluice change stream\nretry: 1000\nid: 0:\d+:0,1:\d+:0,2:\d+:0\n\n/)
    controller.abort()
  } finally {
    assert.equal(await secured.stop(), 0)
  }
})
