// The console's file route: index.html at /, files by type, ETag revalidation, and refusals of
// anything but the console's own static files (other types, dot files, paths leaving the directory
// by name or by symlink).

import { test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync, mkdirSync, symlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import Fastify from 'fastify'
import { consoleRoutes } from './serve.ts'

function fixture(): string {
  const base = mkdtempSync(join(tmpdir(), 'sluice-console-'))
  const dir = join(base, 'console')
  mkdirSync(join(dir, 'pages'), { recursive: true })
  writeFileSync(join(dir, 'index.html'), '<!doctype html><title>t</title>')
  writeFileSync(join(dir, 'app.js'), 'export {}')
  writeFileSync(join(dir, 'pages', 'sql.js'), 'export const page = 1')
  writeFileSync(join(dir, 'serve.ts'), 'secret source')
  writeFileSync(join(dir, '.env.js'), 'hidden')
  writeFileSync(join(base, 'outside.js'), 'outside')
  symlinkSync(join(base, 'outside.js'), join(dir, 'link.js'))
  return dir
}

test('serves index.html at / and the console files with their types and revalidation', async () => {
  const app = Fastify()
  consoleRoutes(app, { dir: fixture() })
  const index = await app.inject({ url: '/' })
  assert.equal(index.statusCode, 200)
  assert.equal(index.headers['content-type'], 'text/html; charset=utf-8')
  assert.equal(index.headers['cache-control'], 'no-cache')
  const script = await app.inject({ url: '/console/pages/sql.js' })
  assert.equal(script.statusCode, 200)
  assert.equal(script.headers['content-type'], 'text/javascript; charset=utf-8')
  assert.equal(script.body, 'export const page = 1')
  const again = await app.inject({ url: '/console/pages/sql.js', headers: { 'if-none-match': String(script.headers.etag) } })
  assert.equal(again.statusCode, 304)
  assert.equal(again.body, '')
  assert.equal((await app.inject({ url: '/console' })).headers.location, '/')
})

test('refuses what is not a console file: 404 for unknown names and types, 400 for paths leaving the directory', async () => {
  const app = Fastify()
  consoleRoutes(app, { dir: fixture() })
  const cases: Array<[string, number]> = [
    ['/console/serve.ts', 404], ['/console/missing.js', 404], ['/console/', 404],
    ['/console/.env.js', 400], ['/console/pages/..%2f..%2foutside.js', 400],
    ['/console/pages//sql.js', 400], ['/console/link.js', 400], ['/console/a%5c..%5coutside.js', 400], ['/console/x%00.js', 400],
  ]
  for (const [url, status] of cases) {
    const answer = await app.inject({ url })
    assert.equal(answer.statusCode, status, `${url}: ${answer.body}`)
    assert.match(answer.json().message, status === 404 ? /^no such file/ : /^path outside the console directory/, url)
  }
  // fastify's router resolves a dot-dot segment before routing: the request never reaches the console.
  const dotDot = await app.inject({ url: '/console/%2e%2e/outside.js' })
  assert.equal(dotDot.statusCode, 404)
  assert.doesNotMatch(dotDot.body, /^outside$/)
})
