// The web console's files over HTTP: GET / answers index.html, GET /console/<file> the scripts
// and styles beside it. No @fastify/static: a handful of files, read from this directory on each
// request (they are small, and an edit shows at the next reload), with their content type, an ETag
// from size and mtime (304 to a matching If-None-Match) and `Cache-Control: no-cache` (the browser
// revalidates, so an upgraded node never runs stale scripts). Only the types below are served:
// never this file, tests, dot files, or anything outside the directory (by name or by symlink).

import { readFile, realpath, stat } from 'node:fs/promises'
import { extname, join, sep } from 'node:path'
import type { FastifyInstance, FastifyReply } from 'fastify'

/** The console's directory (this file's). */
export const CONSOLE_DIR = import.meta.dirname

const CONTENT_TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
}

/** Longest relative path taken, in characters: the console's are far shorter. */
const MAX_PATH_CHARS = 200

export interface ConsoleRoutesOptions {
  /** Where the files are; default this directory. */
  dir?: string
}

type Lookup = { file: string; contentType: string } | { refused: { status: 400 | 404; message: string } }

const NOT_FOUND = { status: 404, message: 'no such file' } as const
const OUTSIDE = { status: 400, message: 'path outside the console directory' } as const

/** The file a relative URL path names, or why it is refused. */
export async function consoleFile(root: string, relative: string): Promise<Lookup> {
  if (relative.length === 0 || relative.length > MAX_PATH_CHARS) return { refused: NOT_FOUND }
  const parts = relative.split('/')
  if (parts.some(part => part === '' || part.startsWith('.') || part.includes('\\') || part.includes('\0'))) return { refused: OUTSIDE }
  const contentType = CONTENT_TYPES[extname(relative)]
  if (contentType === undefined || relative.endsWith('.test.js')) return { refused: NOT_FOUND }
  let real: string
  try {
    real = await realpath(join(root, ...parts))
  } catch {
    return { refused: NOT_FOUND }
  }
  const realRoot = await realpath(root)
  if (!real.startsWith(realRoot + sep)) return { refused: OUTSIDE }
  return { file: real, contentType }
}

async function sendFile(reply: FastifyReply, file: string, contentType: string, ifNoneMatch: string | undefined): Promise<FastifyReply> {
  const info = await stat(file)
  const etag = `"${info.size.toString(36)}-${Math.floor(info.mtimeMs).toString(36)}"`
  reply.header('Cache-Control', 'no-cache').header('ETag', etag).header('X-Content-Type-Options', 'nosniff')
  if (ifNoneMatch === etag) return reply.code(304).send()
  return reply.code(200).type(contentType).send(await readFile(file))
}

export function consoleRoutes(app: FastifyInstance, options: ConsoleRoutesOptions = {}): void {
  const root = options.dir ?? CONSOLE_DIR
  app.get('/', (request, reply) => sendFile(reply, join(root, 'index.html'), CONTENT_TYPES['.html']!, request.headers['if-none-match']))
  app.get('/console', (_request, reply) => reply.redirect('/', 302))
  app.get<{ Params: { '*': string } }>('/console/*', async (request, reply) => {
    const found = await consoleFile(root, request.params['*'])
    if ('refused' in found) {
      const code = found.refused.status === 404 ? 'SLUICE_ERR_NOT_FOUND' : 'SLUICE_ERR_BAD_PATH'
      return reply.code(found.refused.status).send({ code, message: `${found.refused.message}: /console/${request.params['*'].slice(0, MAX_PATH_CHARS)}` })
    }
    return sendFile(reply, found.file, found.contentType, request.headers['if-none-match'])
  })
}
