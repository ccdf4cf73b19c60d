// Credentials in every form InfluxDB clients send them, the token file's checks and reloads, and
// the Authorizer's 401/403 decisions.

import assert from 'node:assert/strict'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, it } from 'node:test'
import { Authorizer, mayAccess, parseCredentials } from './auth.ts'
import { statusFor } from './errors.ts'
import { createToken, parseTokenFile, readTokenFile, revokeToken, TokenDirectory } from './tokens.ts'

const tokensPath = (): string => join(mkdtempSync(join(tmpdir(), 'sluice-tokens-')), 'tokens.json')

describe('parseCredentials', () => {
  it('reads u/p, Basic, Token, Token user:password and Bearer; the header wins over the query', () => {
    assert.deepEqual(parseCredentials({ u: 'x', p: 'secret' }, undefined), { secret: 'secret' })
    assert.deepEqual(parseCredentials({}, `Basic ${Buffer.from('user:pa:ss').toString('base64')}`), { secret: 'pa:ss' })
    assert.deepEqual(parseCredentials({}, 'Token abc'), { secret: 'abc' })
    assert.deepEqual(parseCredentials({}, 'token user:abc'), { secret: 'user:abc', alternative: 'abc' })
    assert.deepEqual(parseCredentials({}, 'Bearer abc'), { secret: 'abc' })
    assert.deepEqual(parseCredentials({ p: 'query' }, 'Token header'), { secret: 'header' })
    assert.deepEqual(parseCredentials({}, undefined), { secret: undefined })
    assert.deepEqual(parseCredentials({ p: '' }, 'Digest x'), { secret: undefined })
  })
})

describe('token file', () => {
  it('stores hashes only, and finds, lists and revokes tokens', () => {
    const path = tokensPath()
    const { secret, record } = createToken(path, { tenant: 'acme', permissions: ['write', 'read', 'write'], databases: ['db1'], id: 't1' })
    assert.match(secret, /^sluice_[A-Za-z0-9_-]{43}$/)
    assert.deepEqual(record.permissions, ['read', 'write'])
    const content = readTokenFile(path)
    assert.equal(content.tokens.length, 1)
    assert.ok(!JSON.stringify(content).includes(secret))
    const directory = new TokenDirectory(path)
    assert.equal(directory.find(secret)?.id, 't1')
    assert.equal(directory.find(secret + 'x'), undefined)
    assert.equal(revokeToken(path, 't1'), true)
    assert.equal(revokeToken(path, 't1'), false)
  })

  it('sees a new token at once and a revocation on its next check, and keeps the old tokens when the new file is invalid', () => {
    const path = tokensPath()
    const first = createToken(path, { tenant: 'a', permissions: ['write'], databases: ['*'] }).secret
    let now = 0
    const directory = new TokenDirectory(path, () => now)
    assert.ok(directory.find(first))
    const second = createToken(path, { tenant: 'a', permissions: ['write'], databases: ['*'] }).secret
    assert.ok(directory.find(second), 'an unknown secret makes it look at the file at once')
    revokeToken(path, directory.find(second)!.id)
    assert.ok(directory.find(second), 'a known secret is checked at most once a second')
    now += 1_000
    assert.equal(directory.find(second), undefined, 'revoked at the next check')
    writeFileSync(path, '{"version": 1, "tokens": [{"id": "x"}]}')
    now += 1_000
    assert.ok(directory.find(first), 'an invalid file keeps the previous tokens')
    assert.match(String(directory.lastError?.message), /tenant must be a name/)
  })

  it('refuses files with unknown keys, bad permissions or duplicate ids, naming the problem', () => {
    const token = { id: 'a', tenant: 't', sha256: '0'.repeat(64), permissions: ['write'], databases: ['*'], createdAt: '' }
    assert.throws(() => parseTokenFile(JSON.stringify({ version: 2, tokens: [] }), 'f'), /version must be 1/)
    assert.throws(() => parseTokenFile(JSON.stringify({ version: 1, tokens: [{ ...token, admin: true }] }), 'f'), /unknown key "admin"/)
    assert.throws(() => parseTokenFile(JSON.stringify({ version: 1, tokens: [{ ...token, permissions: ['delete'] }] }), 'f'), /permissions/)
    assert.throws(() => parseTokenFile(JSON.stringify({ version: 1, tokens: [token, token] }), 'f'), /appears twice/)
  })
})

describe('Authorizer', () => {
  it('with auth off allows everything, in the named or the default tenant', () => {
    const authorizer = new Authorizer({ enabled: false, defaultTenant: 'default' })
    assert.deepEqual(authorizer.authenticate({ secret: undefined }, undefined, 'influx1'), { tenant: 'default', token: undefined })
    assert.equal(authorizer.authenticate({ secret: 'whatever' }, 'org', 'influx2').tenant, 'org')
  })

  it('with auth on: 401 without or with an unknown token, 403 across tenants and outside the grant', () => {
    const path = tokensPath()
    const secret = createToken(path, { tenant: 'acme', permissions: ['write'], databases: ['db1'], id: 'w' }).secret
    const authorizer = new Authorizer({ enabled: true, defaultTenant: 'default', tokens: new TokenDirectory(path) })
    const refusal = (work: () => unknown): number => {
      try { work() } catch (error) { return statusFor((error as { code: never }).code, 'influx1') }
      return 0
    }
    assert.equal(refusal(() => authorizer.authenticate({ secret: undefined }, undefined, 'influx1')), 401)
    assert.equal(refusal(() => authorizer.authenticate({ secret: 'nope' }, undefined, 'influx1')), 401)
    assert.equal(refusal(() => authorizer.authenticate({ secret }, 'globex', 'influx2')), 403)
    const access = authorizer.authenticate({ secret }, 'acme', 'influx2')
    assert.equal(access.tenant, 'acme')
    assert.equal(refusal(() => authorizer.authorize(access, 'db1', 'write')), 0)
    assert.equal(refusal(() => authorizer.authorize(access, 'db2', 'write')), 403)
    assert.equal(refusal(() => authorizer.authorize(access, 'db1', 'read')), 403)
    assert.equal(mayAccess(access, 'db1', 'write'), true)
    assert.throws(() => new Authorizer({ enabled: true, defaultTenant: 'd' }), /no token directory/)
  })
})
