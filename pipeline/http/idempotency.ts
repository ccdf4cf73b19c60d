// Idempotency-Key: a request repeated with the same key (per tenant) within idempotencyTtlMs gets the
// first one's answer from the control store and writes nothing again.
//
// The key is claimed atomically before writing (SET NX with a short TTL, "pending:<owner>:<fingerprint>"),
// so of two concurrent requests with one key exactly one writes; the other waits for the first to finish
// and replays its answer (or gets 409, 503 on /write, with Retry-After if it is still running at its
// deadline). After a write reached Kafka the claim becomes "done:<answer>" for idempotencyTtlMs; when
// nothing was written (503, or a refusal that wrote nothing) the claim is removed so a retry really
// writes. Reusing a key for a different request (other body, path or parameters) is refused with 422,
// as the IETF Idempotency-Key draft says. If a node dies between the Kafka commit and storing the
// answer, the claim expires after idempotencyPendingTtlMs and a retry writes again (a duplicate of the
// same points, which upsert semantics absorb).

import { createHash, randomUUID } from 'node:crypto'
import { controlKeys, type ControlStore } from './control-store.ts'
import { HttpApiError, HttpErrorCode } from './errors.ts'
import type { HttpLimits } from './limits.ts'

export const IDEMPOTENCY_HEADER = 'idempotency-key'
/** Header on a replayed answer, so a client can tell. */
export const IDEMPOTENT_REPLAY_HEADER = 'Idempotent-Replayed'
const POLL_INTERVAL_MS = 50

export interface StoredAnswer {
  status: number
  headers: Record<string, string>
  body: unknown
}

export type IdempotencyClaim =
  | { kind: 'owner'; complete(answer: StoredAnswer): Promise<void>; release(): Promise<void> }
  | { kind: 'replay'; answer: StoredAnswer }

/** A digest of what makes two requests "the same": method, path, parameters (minus credentials), body. */
export function requestFingerprint(method: string, path: string, query: Record<string, unknown>, body: Buffer): string {
  const hash = createHash('sha256')
  hash.update(`${method} ${path}\n`)
  for (const name of Object.keys(query).sort()) {
    if (name === 'u' || name === 'p') continue
    hash.update(`${name}=${String(query[name])}\n`)
  }
  hash.update(body)
  return hash.digest('base64url')
}

const PRINTABLE_ASCII = /^[\x21-\x7e]+$/

export class IdempotencyKeys {
  constructor(
    private readonly store: ControlStore,
    private readonly limits: Pick<HttpLimits, 'idempotencyTtlMs' | 'idempotencyPendingTtlMs' | 'maxIdempotencyKeyBytes'>,
  ) {}

  /** Validates a header value; undefined when the request has none. */
  parseKey(header: string | string[] | undefined): string | undefined {
    if (header === undefined) return undefined
    const key = Array.isArray(header) ? header.join(',') : header.trim()
    if (key.length === 0 || key.length > this.limits.maxIdempotencyKeyBytes || !PRINTABLE_ASCII.test(key)) {
      throw new HttpApiError(HttpErrorCode.BAD_IDEMPOTENCY_KEY, `Idempotency-Key must be 1 to ${this.limits.maxIdempotencyKeyBytes} printable ASCII characters`)
    }
    return key
  }

  async claim(tenant: string, key: string, fingerprint: string, deadlineMs: number): Promise<IdempotencyClaim> {
    const storeKey = controlKeys.idempotency(tenant, key)
    const pending = `pending:${randomUUID()}:${fingerprint}`
    for (;;) {
      if (await this.store.claimKey(storeKey, pending, this.limits.idempotencyPendingTtlMs)) return this.owner(storeKey, pending)
      const current = await this.store.readKey(storeKey)
      if (current === null) continue // expired or released between the two calls: claim again
      if (current.startsWith('done:')) {
        const stored = JSON.parse(current.slice(5)) as { fingerprint: string; answer: StoredAnswer }
        if (stored.fingerprint !== fingerprint) throw reused()
        return { kind: 'replay', answer: stored.answer }
      }
      if (!current.endsWith(`:${fingerprint}`)) throw reused()
      if (Date.now() + POLL_INTERVAL_MS > deadlineMs) {
        throw new HttpApiError(HttpErrorCode.IDEMPOTENCY_IN_PROGRESS, 'a request with this Idempotency-Key is still in progress; retry later')
      }
      await new Promise(resolve => setTimeout(resolve, POLL_INTERVAL_MS))
    }
  }

  private owner(storeKey: string, pending: string): IdempotencyClaim {
    const fingerprint = pending.slice(pending.lastIndexOf(':') + 1)
    return {
      kind: 'owner',
      complete: async (answer) => {
        const done = 'done:' + JSON.stringify({ fingerprint, answer })
        await this.store.replaceKey(storeKey, pending, done, this.limits.idempotencyTtlMs)
      },
      release: () => this.store.deleteKey(storeKey, pending),
    }
  }
}

function reused(): HttpApiError {
  return new HttpApiError(HttpErrorCode.IDEMPOTENCY_KEY_REUSED, 'Idempotency-Key was already used for a different request')
}
