// What a request handler sees: the request's own context, and the broker's parts (logs, group and
// transaction coordinators). Handlers are thin: decode, call a coordinator or the log, encode.

import type { BrokerConfig } from '../config.ts'
import type { Logger } from '../logger.ts'
import type { LogManager } from '../log/log-manager.ts'
import type { GroupCoordinator } from '../group/coordinator.ts'
import type { TxnCoordinator } from '../txn/coordinator.ts'
import type { ApiDefinition } from '../protocol/schema.ts'

export interface BrokerParts {
  config: BrokerConfig
  /** Advertised host and port, known once the socket is bound. */
  advertised: { host: string; port: number }
  clusterId: string
  logs: LogManager
  groups: GroupCoordinator
  txns: TxnCoordinator
  logger: Logger
  /** Milliseconds since the epoch; a seam so tests can move time. */
  now(): number
}

export interface RequestContext {
  apiKey: number
  apiVersion: number
  correlationId: number
  clientId: string | null
  clientHost: string
  connectionId: number
  /** Resolves when the connection closes; long waits (fetch, join) give up then. */
  closed: Promise<void>
}

/** Returned by a handler that must send no response (Produce with acks=0). */
export const NO_RESPONSE = Symbol('no-response')

export type Handler<Request, Response> = (
  request: Request,
  context: RequestContext,
  broker: BrokerParts,
) => Response | typeof NO_RESPONSE | Promise<Response | typeof NO_RESPONSE>

export interface Route<Request = unknown, Response = unknown> {
  api: ApiDefinition<Request, Response>
  handle: Handler<Request, Response>
}

/** Pairs an API with its handler, keeping the request and response types tied together. */
export function route<Request, Response>(api: ApiDefinition<Request, Response>, handle: Handler<Request, Response>): Route {
  return { api, handle } as unknown as Route
}
