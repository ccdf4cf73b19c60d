// The broker process: opens storage and coordinators (recovery happens here, before the port
// accepts anyone), listens, and shuts down in the reverse order on close().

import { randomUUID } from 'node:crypto'
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs'
import { createServer, type Server, type Socket } from 'node:net'
import { join } from 'node:path'
import { defaultBrokerConfig, type BrokerConfig } from '../config.ts'
import { createLogger, type Logger } from '../logger.ts'
import { LogManager } from '../log/log-manager.ts'
import { GroupCoordinator } from '../group/coordinator.ts'
import { TxnCoordinator } from '../txn/coordinator.ts'
import { syncDirectory } from '../meta/meta-log.ts'
import { Connection } from './connection.ts'
import type { BrokerParts, Route } from './context.ts'
import { buildRoutes } from './handlers/index.ts'

export interface RunningBroker {
  /** The bound port (useful with port 0). */
  port: number
  host: string
  /** "host:port" as clients should bootstrap. */
  bootstrap: string
  nodeId: number
  clusterId: string
  close(): Promise<void>
}

export type BrokerOptions = Partial<BrokerConfig> & { dataDir: string; logger?: Logger; now?: () => number }

export async function startBroker(options: BrokerOptions): Promise<RunningBroker> {
  const { logger: givenLogger, now: givenNow, ...overrides } = options
  const config: BrokerConfig = { ...defaultBrokerConfig, ...overrides }
  const logger = givenLogger ?? createLogger('broker')
  const now = givenNow ?? Date.now
  mkdirSync(config.dataDir, { recursive: true })
  const clusterId = loadClusterId(config)
  logger.info('broker starting', { dataDir: config.dataDir, nodeId: config.nodeId, clusterId, flushPolicy: config.flushPolicy })

  const logs = await LogManager.open({ config, logger, now })
  const groups = await GroupCoordinator.open({ config, logger, now })
  const txns = await TxnCoordinator.open({ config, logger, markers: logs, offsets: groups, now })

  const server = createServer()
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(config.port, config.host, () => { server.off('error', reject); resolve() })
  })
  const address = server.address()
  const port = typeof address === 'object' && address ? address.port : config.port
  const advertised = { host: config.advertisedHost ?? config.host, port: config.advertisedPort ?? port }
  const parts: BrokerParts = { config, advertised, clusterId, logs, groups, txns, logger, now }
  const routes: ReadonlyMap<number, Route> = buildRoutes()
  const connections = trackConnections(server, routes, parts)
  logger.info('broker listening', { host: config.host, port, advertised: `${advertised.host}:${advertised.port}` })

  let closing: Promise<void> | undefined
  const close = (): Promise<void> => {
    closing ??= (async () => {
      logger.info('broker shutting down')
      const stopped = new Promise<void>(resolve => server.close(() => resolve()))
      for (const connection of connections) connection.close('broker shutting down')
      await stopped
      await txns.close()
      await groups.close()
      await logs.close()
      logger.info('broker stopped')
    })()
    return closing
  }
  return { port, host: advertised.host, bootstrap: `${advertised.host}:${advertised.port}`, nodeId: config.nodeId, clusterId, close }
}

function trackConnections(server: Server, routes: ReadonlyMap<number, Route>, parts: BrokerParts): Set<Connection> {
  const connections = new Set<Connection>()
  let nextId = 1
  server.on('connection', (socket: Socket) => {
    const connection = new Connection(nextId++, socket, routes, parts)
    connections.add(connection)
    socket.on('close', () => connections.delete(connection))
  })
  return connections
}

/** The cluster id is made once and kept in meta/cluster.json (write, fsync, rename, fsync dir). */
function loadClusterId(config: BrokerConfig): string {
  if (config.clusterId) return config.clusterId
  const metaDir = join(config.dataDir, 'meta')
  const path = join(metaDir, 'cluster.json')
  if (existsSync(path)) return (JSON.parse(readFileSync(path, 'utf8')) as { clusterId: string }).clusterId
  mkdirSync(metaDir, { recursive: true })
  const clusterId = randomUUID().replace(/-/g, '').slice(0, 22)
  writeFileSync(`${path}.tmp`, JSON.stringify({ clusterId, nodeId: config.nodeId }), { flush: true })
  renameSync(`${path}.tmp`, path)
  syncDirectory(metaDir)
  return clusterId
}
