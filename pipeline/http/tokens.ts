// API tokens: where they live and what they grant. A token belongs to one tenant and grants read
// and/or write on a list of that tenant's databases ("*" = all of them). Tokens live in one JSON file,
// by default <data-dir>/tokens.json, managed with `sluice token create|list|revoke`; the file holds
// only SHA-256 hashes of the secrets (a secret is shown once, at creation). A running node re-reads
// the file when it changes, so creating or revoking a token needs no restart: a secret it does not know
// makes it look at the file at once (a new token works as soon as `sluice token create` returns), and
// a known one at most once a second (a revocation takes effect within a second).
//
// File layout (version 1):
//   { "version": 1, "tokens": [ { "id", "tenant", "description", "sha256", "permissions": ["read","write"],
//                                  "databases": ["telegraf"] | ["*"], "createdAt": ISO-8601 } ] }

import { createHash, randomBytes } from 'node:crypto'
import { readFileSync, renameSync, statSync, writeFileSync, mkdirSync } from 'node:fs'
import { dirname } from 'node:path'

export const TOKEN_FILE_VERSION = 1
/** How often a node looks at the token file's modification time, at most. */
export const TOKEN_FILE_CHECK_INTERVAL_MS = 1000
/** Secrets are "sluice_" + 32 random bytes in base64url: unguessable, and easy to grep for in leaks. */
const SECRET_PREFIX = 'sluice_'

export type Permission = 'read' | 'write'

export interface TokenRecord {
  id: string
  tenant: string
  description: string
  /** SHA-256 of the secret, hex. */
  sha256: string
  permissions: Permission[]
  /** Database names of the tenant, or ["*"] for all. */
  databases: string[]
  createdAt: string
}

export interface TokenFileContent {
  version: number
  tokens: TokenRecord[]
}

export function hashSecret(secret: string): string {
  return createHash('sha256').update(secret, 'utf8').digest('hex')
}

const NAME = /^[^\s/\\:*]{1,255}$/

function fail(path: string, message: string): never {
  throw new TypeError(`token file ${path}: ${message}`)
}

/** Parses and validates the file's JSON; every problem names the token and the setting. */
export function parseTokenFile(text: string, path: string): TokenFileContent {
  let json: unknown
  try { json = JSON.parse(text) } catch (error) { fail(path, `not JSON (${(error as Error).message})`) }
  if (typeof json !== 'object' || json === null) fail(path, 'expected an object')
  const { version, tokens } = json as Record<string, unknown>
  if (version !== TOKEN_FILE_VERSION) fail(path, `version must be ${TOKEN_FILE_VERSION}, got ${String(version)}`)
  if (!Array.isArray(tokens)) fail(path, 'tokens must be an array')
  const ids = new Set<string>()
  const records = tokens.map((entry: unknown, i): TokenRecord => {
    const where = `tokens[${i}]`
    if (typeof entry !== 'object' || entry === null) fail(path, `${where} must be an object`)
    const t = entry as Record<string, unknown>
    for (const key of Object.keys(t)) {
      if (!['id', 'tenant', 'description', 'sha256', 'permissions', 'databases', 'createdAt'].includes(key)) fail(path, `${where} has unknown key "${key}"`)
    }
    if (typeof t.id !== 'string' || !NAME.test(t.id)) fail(path, `${where}.id must be a name`)
    if (ids.has(t.id)) fail(path, `${where}.id "${t.id}" appears twice`)
    ids.add(t.id)
    if (typeof t.tenant !== 'string' || !NAME.test(t.tenant)) fail(path, `${where}.tenant must be a name`)
    if (typeof t.sha256 !== 'string' || !/^[0-9a-f]{64}$/.test(t.sha256)) fail(path, `${where}.sha256 must be 64 hex digits`)
    const permissions = t.permissions
    if (!Array.isArray(permissions) || permissions.length === 0 || !permissions.every(p => p === 'read' || p === 'write')) fail(path, `${where}.permissions must list "read" and/or "write"`)
    const databases = t.databases
    if (!Array.isArray(databases) || databases.length === 0 || !databases.every(d => typeof d === 'string' && d.length > 0)) fail(path, `${where}.databases must list database names or "*"`)
    return {
      id: t.id, tenant: t.tenant, description: typeof t.description === 'string' ? t.description : '', sha256: t.sha256,
      permissions: permissions as Permission[], databases: databases as string[], createdAt: typeof t.createdAt === 'string' ? t.createdAt : '',
    }
  })
  return { version: TOKEN_FILE_VERSION, tokens: records }
}

export function readTokenFile(path: string): TokenFileContent {
  let text: string
  try {
    text = readFileSync(path, 'utf8')
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { version: TOKEN_FILE_VERSION, tokens: [] }
    throw error
  }
  return parseTokenFile(text, path)
}

/** Writes the file atomically (temporary file, then rename), readable only by its owner. */
export function writeTokenFile(path: string, content: TokenFileContent): void {
  mkdirSync(dirname(path), { recursive: true })
  const temporary = `${path}.${process.pid}.tmp`
  writeFileSync(temporary, JSON.stringify(content, null, 2) + '\n', { mode: 0o600 })
  renameSync(temporary, path)
}

export interface NewToken {
  tenant: string
  permissions: Permission[]
  databases: string[]
  description?: string
  id?: string
}

/** Adds a token to the file; returns the secret (shown once) and the stored record. */
export function createToken(path: string, spec: NewToken): { secret: string; record: TokenRecord } {
  const content = readTokenFile(path)
  const secret = SECRET_PREFIX + randomBytes(32).toString('base64url')
  const record: TokenRecord = {
    id: spec.id ?? randomBytes(6).toString('hex'),
    tenant: spec.tenant,
    description: spec.description ?? '',
    sha256: hashSecret(secret),
    permissions: [...new Set(spec.permissions)].sort(),
    databases: spec.databases,
    createdAt: new Date().toISOString(),
  }
  const next = { version: TOKEN_FILE_VERSION, tokens: [...content.tokens, record] }
  parseTokenFile(JSON.stringify(next), path) // the same checks a node applies when it reads the file
  writeTokenFile(path, next)
  return { secret, record }
}

/** Removes a token by id; false if there was none. */
export function revokeToken(path: string, id: string): boolean {
  const content = readTokenFile(path)
  const tokens = content.tokens.filter(token => token.id !== id)
  if (tokens.length === content.tokens.length) return false
  writeTokenFile(path, { version: TOKEN_FILE_VERSION, tokens })
  return true
}

/** The tokens of a file, by hash, re-read when the file changes. */
export class TokenDirectory {
  private byHash = new Map<string, TokenRecord>()
  /** inode, size and mtime of the file last read: a rewrite (rename) always changes the inode. */
  private loadedVersion = ''
  private checkedAtMs = -Infinity
  /** Why the last re-read failed (the previous tokens stay in force); undefined after a good read. */
  lastError: Error | undefined

  constructor(private readonly path: string, private readonly nowMs: () => number = Date.now) {
    this.reload()
  }

  /** The token a secret belongs to, or undefined. */
  find(secret: string): TokenRecord | undefined {
    const hash = hashSecret(secret)
    this.refresh(false)
    if (this.byHash.has(hash)) return this.byHash.get(hash)
    this.refresh(true) // perhaps created since the last check: one stat tells
    return this.byHash.get(hash)
  }

  private refresh(force: boolean): void {
    const now = this.nowMs()
    if (!force && now - this.checkedAtMs < TOKEN_FILE_CHECK_INTERVAL_MS) return
    this.checkedAtMs = now
    try {
      this.reload()
    } catch (error) {
      // A file that fails validation keeps the previous tokens in force rather than locking everyone out.
      this.lastError = error as Error
    }
  }

  private reload(): void {
    let version: string
    try {
      const stat = statSync(this.path)
      version = `${stat.ino}:${stat.size}:${stat.mtimeMs}`
    } catch {
      version = 'none' // no file: no tokens
    }
    if (version === this.loadedVersion) return
    const content = version === 'none' ? { version: TOKEN_FILE_VERSION, tokens: [] } : readTokenFile(this.path)
    this.byHash = new Map(content.tokens.map(token => [token.sha256, token]))
    this.loadedVersion = version
    this.lastError = undefined
  }
}
