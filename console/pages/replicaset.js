// The replica set (GET /api/v1/replicaset): members with health, masters, lag and heartbeats; the
// master of each partition and the last master change; a catching-up replica's progress per
// partition; this node's stores per partition (segments, levels, bytes), which a compaction
// merges, with the flush and compaction counts from /metrics when the node serves them; and
// "Compact now" (POST /api/v1/replicaset/compact, what `sluice compact` calls) with its progress.

import { fetchOptions, getJson, metricsText } from '../api.js'
import { errorBox, h, table } from '../dom.js'
import { ago, bytes, count } from '../format.js'
import { parseMetrics, sumBy } from '../prometheus.js'

const POLL_MS = 2000
/** Polls faster while a compaction started here runs, so its progress moves partition by partition. */
const COMPACTION_POLL_MS = 500

export function mount(container) {
  const body = h('div', {}, h('p', { class: 'muted' }, 'Loading the replica set…'))
  const compaction = compactionPanel(() => { clearTimeout(timer); void refresh() })
  container.append(h('h1', {}, 'Replica set'), body, compaction.element)
  let stopped = false
  let timer

  async function refresh() {
    try {
      const [view, metrics] = await Promise.all([getJson('/api/v1/replicaset'), metricsText().catch(() => null)])
      if (stopped) return
      body.replaceChildren(...render(view, metrics === null ? null : parseMetrics(metrics)))
      compaction.observe(view.self)
    } catch (error) {
      if (!stopped) body.replaceChildren(errorBox(error))
    }
    if (!stopped) timer = setTimeout(refresh, compaction.running() ? COMPACTION_POLL_MS : POLL_MS)
  }
  void refresh()
  return () => { stopped = true; clearTimeout(timer) }
}

/** A store's shape: what a compaction of its partition changes (segments, levels, bytes). */
function storeShape(partition) {
  const store = partition.store
  return store ? `${store.segments}/${store.levels.join(',')}/${store.segmentBytes}` : ''
}

/**
 * "Compact now": POST /api/v1/replicaset/compact, which merges partition after partition in
 * ascending order. Progress is read from this node's member record while it runs: the highest
 * partition whose store changed since the start, plus one, partitions are done.
 */
function compactionPanel(pollNow) {
  const secret = h('input', { type: 'password', id: 'compaction-secret', placeholder: 'cluster secret (nodes with --auth)', size: 30, autocomplete: 'off' })
  const button = h('button', { type: 'button', id: 'compaction-start', class: 'secondary' }, 'Compact now')
  const progress = h('div', { id: 'compaction-progress' })
  const element = h('section', { class: 'panel', id: 'compaction' },
    h('h2', {}, 'Compaction'),
    h('p', { class: 'muted' }, 'Merges every partition\'s segments into one on this node, between apply batches (ingest goes on), purging deleted and expired points: what `sluice compact` does. Compaction also runs by itself after flushes.'),
    h('div', { class: 'toolbar' }, button, secret),
    progress)
  let run = null
  let lastSelf = null

  button.addEventListener('click', async () => {
    run = { startedMs: Date.now(), before: null, done: 0, total: 0 }
    if (lastSelf) start(lastSelf) // the stores as last seen, before any partition is merged
    button.disabled = true
    progress.replaceChildren(h('p', { class: 'muted' }, 'starting…'))
    pollNow()
    // With a cluster secret, it is sent instead of the console's token (operator routes take only it).
    const options = secret.value ? { method: 'POST', headers: { authorization: `Bearer ${secret.value}` }, credentials: 'omit' } : fetchOptions({ method: 'POST' })
    try {
      const answer = await fetch('/api/v1/replicaset/compact', options)
      const body = await answer.json().catch(() => ({}))
      if (!answer.ok) throw new Error(`POST /api/v1/replicaset/compact: HTTP ${answer.status}: ${body.message ?? body.error_message ?? ''}`)
      progress.replaceChildren(finished(body, Date.now() - run.startedMs))
    } catch (error) {
      progress.replaceChildren(errorBox(error))
    } finally {
      run = null
      button.disabled = false
    }
  })

  function start(self) {
    run.before = new Map(self.partitions.map(p => [p.partition, storeShape(p)]))
    run.total = self.partitions.length
  }

  return {
    element,
    running: () => run !== null,
    observe(self) {
      lastSelf = self ?? null
      if (!run || !self) return
      if (run.before === null) start(self)
      for (const p of self.partitions) if (storeShape(p) !== run.before.get(p.partition)) run.done = Math.max(run.done, p.partition + 1)
      progress.replaceChildren(h('p', {}, h('progress', { max: run.total, value: run.done }),
        ` compacting: ${run.done} of ${run.total} partitions merged, ${((Date.now() - run.startedMs) / 1000).toFixed(1)} s`))
    },
  }
}

function finished(body, ms) {
  const rows = body.partitions ?? []
  return h('div', { id: 'compaction-result' },
    h('p', {}, h('progress', { max: rows.length || 1, value: rows.length || 1 }), ` compacted: ${rows.length} of ${rows.length} partitions in ${(ms / 1000).toFixed(1)} s`),
    table([{ label: 'partition', num: true }, { label: 'segments before', num: true }, { label: 'segments after', num: true }, { label: 'bytes before', num: true }, { label: 'bytes after', num: true }, { label: 'ms', num: true }],
      rows.map(r => [String(r.partition), String(r.before.segments), String(r.after.segments), bytes(r.before.bytes), bytes(r.after.bytes), String(r.ms)])))
}

function totalLag(member) {
  let sum = 0n
  let unknown = false
  for (const p of member.partitions) p.lag === null ? unknown = true : sum += BigInt(p.lag)
  return `${count(String(sum))}${unknown ? ' (some unknown)' : ''}`
}

export function render(view, samples) {
  const now = Date.now()
  const partitions = Math.max(0, ...view.members.map(m => m.partitions.length))
  const facts = h('div', { class: 'facts' },
    h('div', {}, h('span', { class: 'muted' }, 'members'), h('b', { id: 'member-count' }, String(view.members.length))),
    h('div', {}, h('span', { class: 'muted' }, 'partitions'), h('b', {}, String(partitions))),
    h('div', {}, h('span', { class: 'muted' }, 'healthy'), h('b', {}, `${view.members.filter(m => m.health === 'ok').length} of ${view.members.length}`)),
    h('div', { id: 'last-failover' }, h('span', { class: 'muted' }, 'last master change (failover or rebalance)'),
      h('b', {}, view.lastFailover ? `partition ${view.lastFailover.partition} → ${view.lastFailover.node}` : 'none'),
      view.lastFailover ? h('span', { class: 'muted' }, ago(view.lastFailover.at, now)) : null))

  const members = table(
    [{ label: 'node' }, { label: 'address' }, { label: 'health' }, { label: 'masters' }, { label: 'lag (records)', num: true }, { label: 'heartbeat' }, { label: 'started' }],
    view.members.map(m => [
      h('span', {}, m.id, m.id === view.node ? h('span', { class: 'muted' }, ' (this node)') : null),
      h('span', { class: 'mono' }, m.address || '–'),
      h('span', {}, h('span', { class: `badge ${m.health}` }, m.health), m.detail ? h('div', { class: 'muted' }, m.detail) : null),
      m.masters.join(', ') || '–',
      totalLag(m),
      ago(m.heartbeatAt, now),
      ago(m.startedAt, now),
    ]),
    { id: 'members' })

  const catchingUp = view.members.filter(m => m.catchingUp?.length)
  const progress = catchingUp.length === 0 ? [] : [h('section', { class: 'panel', id: 'catching-up' },
    h('h2', {}, 'Catching up'),
    h('p', { class: 'muted' }, 'A replica that started behind reads sluice.changelog up to the end it saw at start; it answers no queries until then.'),
    table([{ label: 'node' }, { label: 'partition', num: true }, { label: 'progress' }],
      catchingUp.flatMap(m => m.catchingUp.map(p => [m.id, String(p.partition), catchUpBar(p)]))))]

  const mastersByPartition = new Map(view.masters.map(m => [m.partition, m.nodes]))
  const sinceOf = (node, partition) => view.members.find(m => m.id === node)?.masterSince?.find(s => s.partition === partition)?.since
  const masters = table([{ label: 'partition', num: true }, { label: 'master' }, { label: 'since' }],
    Array.from({ length: partitions }, (_, p) => {
      const nodes = mastersByPartition.get(p) ?? []
      const since = nodes.length === 1 ? sinceOf(nodes[0], p) : undefined
      return [String(p), nodes.length === 0 ? h('span', { class: 'error' }, 'none') : nodes.length > 1 ? h('span', { class: 'error' }, `${nodes.join(', ')} (more than one)`) : nodes[0], since ? ago(since, now) : '–']
    }), { id: 'masters' })

  const self = view.self ?? view.members.find(m => m.id === view.node)
  const compactions = samples ? sumBy(samples, 'sluice_store_compactions_total').get('') : undefined
  const flushes = samples ? sumBy(samples, 'sluice_store_flushes_total').get('') : undefined
  const storage = self ? [h('section', { class: 'panel', id: 'storage' },
    h('h2', {}, `Stores of ${self.id}`),
    h('p', { class: 'muted' }, samples === null
      ? 'Flush and compaction counts: metrics unavailable (GET /metrics is not served by this node).'
      : `Since start: ${count(flushes ?? 0)} flushes, ${count(compactions ?? 0)} compactions. A compaction merges a partition's segments into fewer, higher-level ones; the segment counts below fall as it proceeds.`),
    table([{ label: 'partition', num: true }, { label: 'applied offset', num: true }, { label: 'changelog end', num: true }, { label: 'lag', num: true }, { label: 'segments', num: true }, { label: 'levels' }, { label: 'on disk', num: true }, { label: 'memtable', num: true }, { label: 'compacting' }],
      self.partitions.map(p => [String(p.partition), count(p.appliedOffset), count(p.endOffset), count(p.lag),
        p.store ? String(p.store.segments) : '–', p.store ? p.store.levels.join(' ') || '–' : '–', p.store ? bytes(p.store.segmentBytes) : '–', p.store ? bytes(p.store.memtableBytes) : '–',
        p.store?.compacting ? compactionBar(p.store.compacting) : '–'])))] : []

  return [
    h('section', { class: 'panel' }, h('p', { class: 'muted' }, `Answered by ${view.node}. Kafka's consumer group decides the masters; each member reports itself to the control store every heartbeat.`), facts, members),
    ...progress,
    h('section', { class: 'panel' }, h('h2', {}, 'Master per partition'), masters),
    ...storage,
  ]
}

/** A store's running compaction (background or requested): series merged of its inputs'. */
function compactionBar(c) {
  const fraction = c.series > 0 ? Math.min(1, c.seriesDone / c.series) : 1
  return h('span', { class: 'compacting' }, h('progress', { max: 1, value: fraction.toFixed(4) }),
    ` ${count(c.seriesDone)} of ${count(c.series)} series, ${c.inputs} segments (${bytes(c.inputBytes)})`)
}

function catchUpBar(p) {
  if (p.target === null) return h('span', { class: 'muted' }, `not yet reading (at ${count(p.position)})`)
  const position = Number(p.position)
  const target = Number(p.target)
  const fraction = target > 0 ? Math.min(1, position / target) : 1
  return h('span', {}, h('progress', { max: 1, value: fraction.toFixed(4) }), ` ${count(p.position)} of ${count(p.target)} (${(fraction * 100).toFixed(1)} %)`)
}
