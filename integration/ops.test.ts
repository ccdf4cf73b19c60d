// The operating commands against a real node: `sluice backup` of a running node, `sluice compact`,
// `sluice restore` refused while the node runs and then put in place of its wiped stores (the
// node comes back to the same checksum and answers), and `sluice doctor` with everything up and
// with Kafka unreachable.

import { after, before, test } from 'node:test'
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { startBrokerProcess, type BrokerProcess } from '../lib/process/broker-process.ts'
import { startNodeProcess, type NodeProcess } from '../lib/process/node-process.ts'
import { forgetTenants, uniqueName } from './http-helpers.ts'
import { eventually } from './support/kafka.ts'
import { nodeChecksum } from './support/replicas.ts'

const root = resolve(import.meta.dirname, '..')
const tenant = uniqueName('it_ops')
const args = ['--partitions', '2', '--default-tenant', tenant, '--replica-flush-interval-ms', '300']
let broker: BrokerProcess
let node: NodeProcess

before(async () => {
  broker = await startBrokerProcess()
  node = await startNodeProcess({ kafka: broker.bootstrap, args })
})

after(async () => {
  await node?.stop()
  await broker?.stop()
  await forgetTenants([tenant])
})

/** Runs `sluice <args>` to its end; returns its exit code and output. */
function sluice(...commandArgs: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolveRun, reject) => {
    const child = spawn(process.execPath, ['bin/sluice.js', ...commandArgs], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', chunk => { stdout += chunk })
    child.stderr.on('data', chunk => { stderr += chunk })
    child.once('error', reject)
    child.once('exit', code => resolveRun({ code, stdout, stderr }))
  })
}

async function count(url: string): Promise<number | undefined> {
  const answer = await fetch(`${url}/api/v1/sql?db=ops`, { method: 'POST', body: 'SELECT count(v) AS n FROM m' })
  return answer.status === 200 ? (await answer.json() as Array<{ n: number }>)[0]!.n : undefined
}

test('backup of a running node, compact, and restore into its wiped data directory', async () => {
  for (let batch = 0; batch < 4; batch++) {
    const body = Array.from({ length: 500 }, (_, i) => `m,k=k${i % 9} v=${batch * 500 + i} ${1_700_000_000_000_000_000n + BigInt(batch * 500 + i) * 1_000_000n}`).join('\n')
    const answer = await fetch(`${node.url}/write?db=ops`, { method: 'POST', body })
    assert.equal(answer.status, 204, await answer.text())
  }
  assert.ok(await eventually(async () => (await count(node.url)) === 2_000, 30_000), 'the node applied every point')

  // Bad requests to the operator routes are refused with the reason, and change nothing.
  for (const [path, status, message] of [['/api/v1/replicaset/snapshot/abc', 400, /partition must be an integer/], ['/api/v1/replicaset/snapshot/7', 400, /no changelog partition 7 \(the set has 2\)/]] as const) {
    const answer = await fetch(`${node.url}${path}`)
    assert.equal(answer.status, status, path)
    assert.match(await answer.text(), message, path)
  }
  assert.equal(await count(node.url), 2_000, 'refused requests changed nothing')

  const compacted = await sluice('compact', '--node', node.url)
  assert.equal(compacted.code, 0, compacted.stderr)
  assert.match(compacted.stdout, /^partition 0: \d+ segments, \d+ bytes → [01] segments, \d+ bytes \(\d+ ms\)$/m)
  assert.match(compacted.stdout, /^partition 1: /m)

  const out = join(mkdtempSync(join(tmpdir(), 'sluice-backup-')), 'b')
  const backup = await sluice('backup', '--node', node.url, '--out', out)
  assert.equal(backup.code, 0, backup.stderr)
  const manifest = JSON.parse(readFileSync(join(out, 'BACKUP.json'), 'utf8')) as { node: string; partitions: Array<{ partition: number; appliedOffset: string }> }
  assert.equal(manifest.node, node.nodeId)
  assert.deepEqual(manifest.partitions.map(p => p.partition), [0, 1])
  const again = await sluice('backup', '--node', node.url, '--out', out)
  assert.equal(again.code, 1, 'a backup never goes into a non-empty directory')

  const refused = await sluice('restore', '--from', out, '--data-dir', node.dataDir)
  assert.equal(refused.code, 1)
  assert.match(refused.stderr, /is in use by process \d+ .*stop the node first/)

  const before = await nodeChecksum(node.url)
  assert.equal(await node.stop(), 0)
  rmSync(join(node.dataDir, 'replica'), { recursive: true, force: true })
  const restored = await sluice('restore', '--from', out, '--data-dir', node.dataDir)
  assert.equal(restored.code, 0, restored.stderr)
  assert.match(restored.stdout, /restored 2 partitions of /)
  assert.ok(existsSync(join(node.dataDir, 'replica', 'changelog-1', 'MANIFEST')))

  node = await startNodeProcess({ kafka: broker.bootstrap, dataDir: node.dataDir, nodeId: node.nodeId, args })
  assert.match(node.logs(), /"event":"store_opened".*"durableOffset":"[1-9]/, 'the stores came back from the backup, not empty')
  const after = await nodeChecksum(node.url)
  assert.equal(after.checksum, before.checksum, 'the restored node holds what it held')
  assert.equal(await count(node.url), 2_000)
})

test('doctor: every check passes against a running set, and Kafka unreachable fails with advice', async () => {
  const ok = await sluice('doctor', '--kafka', broker.bootstrap, '--data-dir', node.dataDir)
  assert.equal(ok.code, 0, ok.stdout + ok.stderr)
  for (const name of ['configuration', 'disk', 'kafka', 'topics', 'redis', 'clock']) assert.match(ok.stdout, new RegExp(`^(OK|WARN) +${name} `, 'm'), name)
  assert.match(ok.stdout, /topics +\{"sluice\.ingest":2,"sluice\.changelog":2,"sluice\.state":2\}/)

  const down = await sluice('doctor', '--kafka', '127.0.0.1:1', '--data-dir', node.dataDir, '--json')
  assert.equal(down.code, 1)
  const { checks } = JSON.parse(down.stdout) as { checks: Array<{ name: string; verdict: string; advice?: string }> }
  const kafka = checks.find(c => c.name === 'kafka')!
  assert.equal(kafka.verdict, 'fail')
  assert.match(kafka.advice!, /start Kafka/)

  const bad = await sluice('doctor', '--partitions', 'many')
  assert.equal(bad.code, 1)
  assert.match(bad.stdout, /FAIL +configuration +ingestPartitions \(--partitions\) must be a positive integer/)
})
