// `sluice token create|list|revoke`: manages the token file a node reads (default
// <data-dir>/tokens.json). A new token's secret is printed once, alone on stdout, so that
// `TOKEN=$(npx sluice token create ...)` works; everything else goes to stderr.

import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { createToken, readTokenFile, revokeToken, type Permission } from '../pipeline/http/index.ts'
import { UsageError } from './errors.ts'
export { tokenUsage } from './usage.ts'


export class TokenUsageError extends UsageError {}

function list(text: string | undefined, name: string): string[] {
  const items = (text ?? '').split(',').map(item => item.trim()).filter(item => item.length > 0)
  if (items.length === 0) throw new TokenUsageError(`--${name} must name at least one item`)
  return items
}

export function runToken(args: string[]): void {
  const [action, ...rest] = args
  const { values, positionals } = parseArgs({
    args: rest,
    allowPositionals: true,
    options: {
      tenant: { type: 'string' }, databases: { type: 'string', default: '*' }, permissions: { type: 'string', default: 'read,write' },
      description: { type: 'string' }, id: { type: 'string' }, 'data-dir': { type: 'string', default: './data/node-1' }, 'tokens-file': { type: 'string' },
    },
    strict: true,
  })
  const path = values['tokens-file'] ?? join(values['data-dir'], 'tokens.json')
  switch (action) {
    case 'create': {
      if (!values.tenant) throw new TokenUsageError('token create needs --tenant')
      const permissions = list(values.permissions, 'permissions')
      for (const permission of permissions) if (permission !== 'read' && permission !== 'write') throw new TokenUsageError(`--permissions takes read and/or write, not "${permission}"`)
      const { secret, record } = createToken(path, {
        tenant: values.tenant, databases: list(values.databases, 'databases'), permissions: permissions as Permission[],
        ...(values.description ? { description: values.description } : {}), ...(values.id ? { id: values.id } : {}),
      })
      process.stderr.write(`token ${record.id}: tenant ${record.tenant}, ${record.permissions.join('+')} on ${record.databases.join(', ')} (in ${path})\n`)
      process.stdout.write(`${secret}\n`)
      return
    }
    case 'list': {
      for (const token of readTokenFile(path).tokens) {
        process.stdout.write(`${token.id}\ttenant=${token.tenant}\t${token.permissions.join('+')}\t${token.databases.join(',')}\t${token.createdAt}\t${token.description}\n`)
      }
      return
    }
    case 'revoke': {
      const id = positionals[0]
      if (!id) throw new TokenUsageError('token revoke needs the token id')
      if (!revokeToken(path, id)) throw new TokenUsageError(`no token "${id}" in ${path}`)
      process.stderr.write(`token ${id} revoked\n`)
      return
    }
    default:
      throw new TokenUsageError(`token needs create, list or revoke, not "${action ?? ''}"`)
  }
}
