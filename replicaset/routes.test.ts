// The operator routes (compaction, snapshots) with --auth: refused 403 when no cluster secret is
// set, 401 without or with a wrong secret, and run only with the right one. The replica here is a
// stand-in that records what it is asked; the routes' own code is what is under test.

import { after, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import Fastify from 'fastify'
import type { Membership } from './membership.ts'
import type { Replica } from './replica.ts'
import { replicaSetRoutes } from './routes.ts'

function recordingReplica(calls: string[]): Replica {
  return {
    compact: async () => { calls.push('compact'); return [] },
    snapshot: async (partition: number) => {
      calls.push(`snapshot ${partition}`)
      return { contentType: 'application/octet-stream', appliedOffset: 0n, files: [], release: () => calls.push('release') }
    },
  } as unknown as Replica
}

function app(auth: boolean, clusterSecret: string | undefined, calls: string[]) {
  const server = Fastify()
  replicaSetRoutes(server, { nodeId: 'n1', membership: {} as Membership, replica: recordingReplica(calls), auth, clusterSecret })
  return server
}

describe('operator routes under --auth', () => {
  const apps: Array<ReturnType<typeof app>> = []
  after(async () => { await Promise.all(apps.map(a => a.close())) })

  it('with --auth and no cluster secret, compaction and snapshots are refused 403, saying what to set', async () => {
    const calls: string[] = []
    const server = app(true, undefined, calls)
    apps.push(server)
    const compact = await server.inject({ method: 'POST', url: '/api/v1/replicaset/compact', headers: { authorization: 'Bearer anything' } })
    assert.equal(compact.statusCode, 403)
    assert.equal(compact.json().code, 'SLUICE_ERR_FORBIDDEN')
    assert.match(compact.json().message, /compaction needs --cluster-secret/)
    const snapshot = await server.inject({ method: 'GET', url: '/api/v1/replicaset/snapshot/0' })
    assert.equal(snapshot.statusCode, 403)
    assert.deepEqual(calls, [], 'the replica was never asked')
  })

  it('with a cluster secret: 401 without it or with a wrong one, run with the right one', async () => {
    const calls: string[] = []
    const server = app(true, 's3cret', calls)
    apps.push(server)
    for (const authorization of [undefined, 'Bearer wrong', 'Bearer s3cre', 'Basic s3cret', 's3cret']) {
      const compact = await server.inject({ method: 'POST', url: '/api/v1/replicaset/compact', headers: authorization ? { authorization } : {} })
      assert.equal(compact.statusCode, 401, String(authorization))
      assert.equal(compact.json().code, 'SLUICE_ERR_UNAUTHORIZED')
    }
    assert.deepEqual(calls, [])
    const compact = await server.inject({ method: 'POST', url: '/api/v1/replicaset/compact', headers: { authorization: 'Bearer s3cret' } })
    assert.equal(compact.statusCode, 200)
    assert.deepEqual(compact.json(), { node: 'n1', partitions: [] })
    assert.deepEqual(calls, ['compact'])
  })

  it('without --auth, compaction needs no secret', async () => {
    const calls: string[] = []
    const server = app(false, undefined, calls)
    apps.push(server)
    assert.equal((await server.inject({ method: 'POST', url: '/api/v1/replicaset/compact' })).statusCode, 200)
    assert.deepEqual(calls, ['compact'])
  })
})
