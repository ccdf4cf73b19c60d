// The sluice command line: one subcommand per process Sluice can run.

// First, before anything loads kafkajs: its record batch CRC-32C becomes lib/checksum's (native).
import '../lib/kafka/native-crc32c.ts'
// kafkajs's read_committed consumers drop every record of an aborted transaction (its own filter lets some through).
import '../lib/kafka/aborted-filter.ts'
// kafkajs's request queues arm timers only while a request waits (an idle connection spun a 1 ms loop).
import '../lib/kafka/idle-request-queue.ts'
// kafkajs frames each request with one copy of its body (a Produce of record sections with none), not two.
import '../lib/kafka/request-framing.ts'
// kafkajs groups a send's messages by partition in linear time (a record section is a message per record).
import '../lib/kafka/message-grouping.ts'
// (Not here: kafkajs's response reads, replaced by the master processor and the replica as they start,
// lib/kafka/response-reassembly.ts's installResponseReassembly.)
import { parseArgs } from 'node:util'
import type { BrokerOptions, FlushPolicy } from '../broker/index.ts'
import { UsageError } from './errors.ts'
import { mqttBridgeUsage, nodeUsage, opsUsage, sqlUsage, statusUsage, tokenUsage } from './usage.ts'

const usage = `Usage: sluice <command> [options]

Commands:
  start                 Run Sluice on embedded defaults: the embedded broker on 127.0.0.1:9092 (data in
                        ./data/broker) and one node with HTTP on 127.0.0.1:8086 (data in ./data/node-1)
    --broker-port <n>        the embedded broker's port (default 9092)
    (any \`node\` option, e.g. --http-port 8087 --auth; --kafka is the embedded broker)
${nodeUsage}${mqttBridgeUsage}${tokenUsage}${statusUsage}${sqlUsage}${opsUsage}  broker                Run the embedded Kafka-protocol broker
    --host <addr>            listen address (default 127.0.0.1)
    --port <n>               listen port, 0 picks a free one (default 9092)
    --data-dir <dir>         where the log and coordinator state live (default ./data/broker)
    --advertised-host <h>    host clients are told to use (default: --host)
    --advertised-port <n>    port clients are told to use (default: the bound port)
    --node-id <n>            broker node id (default 0)
    --flush-policy <p>       always | interval | os (default always: nothing is acknowledged before fsync)
    --no-auto-create-topics  refuse produce/metadata for unknown topics
    --config <key=value>     any other broker setting by name, repeatable (see docs/broker.md),
                             e.g. --config groupMinSessionTimeoutMs=1000 --config segmentBytes=1048576
  help                  Show this text
`

async function main(argv: string[]): Promise<void> {
  const [command = 'help', ...rest] = argv
  switch (command) {
    case 'start':
      return runStart(rest)
    case 'broker':
      return runBroker(rest)
    case 'node':
      return runNode(rest)
    case 'mqtt-bridge':
      return runMqttBridge(rest)
    case 'token':
      return (await import('./token.ts')).runToken(rest)
    case 'status':
      return (await import('./status.ts')).runStatus(rest)
    case 'sql':
      process.exitCode = await (await import('./sql.ts')).runSql(rest)
      return
    case 'doctor':
      return (await import('./ops.ts')).runDoctor(rest)
    case 'compact':
      return (await import('./ops.ts')).runCompact(rest)
    case 'backup':
      return (await import('./ops.ts')).runBackup(rest)
    case 'restore':
      return (await import('./ops.ts')).runRestore(rest)
    case 'help':
    case '--help':
    case '-h':
      process.stdout.write(usage)
      return
    default:
      process.stderr.write(`sluice: unknown command "${command}"\n\n${usage}`)
      process.exitCode = 2
  }
}

async function runBroker(args: string[]): Promise<void> {
  const { values } = parseArgs({
    args,
    options: {
      host: { type: 'string', default: '127.0.0.1' },
      port: { type: 'string', default: '9092' },
      'data-dir': { type: 'string', default: './data/broker' },
      'advertised-host': { type: 'string' },
      'advertised-port': { type: 'string' },
      'node-id': { type: 'string', default: '0' },
      'flush-policy': { type: 'string', default: 'always' },
      'no-auto-create-topics': { type: 'boolean', default: false },
      config: { type: 'string', multiple: true, default: [] },
    },
    strict: true,
  })
  const flushPolicy = values['flush-policy'] as FlushPolicy
  if (!['always', 'interval', 'os'].includes(flushPolicy)) throw new UsageError(`--flush-policy must be always, interval or os, not "${flushPolicy}"`)
  const options: BrokerOptions = {
    host: values.host,
    port: integer('--port', values.port),
    dataDir: values['data-dir'],
    nodeId: integer('--node-id', values['node-id']),
    flushPolicy,
    autoCreateTopics: !values['no-auto-create-topics'],
    ...(values['advertised-host'] ? { advertisedHost: values['advertised-host'] } : {}),
    ...(values['advertised-port'] ? { advertisedPort: integer('--advertised-port', values['advertised-port']) } : {}),
  }
  // Loaded on demand so that `sluice help` and the other commands start fast.
  const { startBroker } = await import('../broker/index.ts')
  Object.assign(options, await brokerSettings(values.config))
  const broker = await startBroker(options)
  process.stdout.write(`sluice broker listening on ${broker.bootstrap} (node ${broker.nodeId}, cluster ${broker.clusterId})\n`)
  const stop = (signal: string): void => {
    process.stderr.write(`sluice broker: ${signal}, shutting down\n`)
    broker.close().then(() => process.exit(0), error => { process.stderr.write(`${error.stack}\n`); process.exit(1) })
  }
  process.once('SIGTERM', () => stop('SIGTERM'))
  process.once('SIGINT', () => stop('SIGINT'))
}


/**
 * Installed before a command starts anything, so that no SIGTERM or SIGINT ever meets Node's
 * default action (death without a flush). The first signal stops what the command hands to the
 * returned function, in order, at once or as soon as start-up has finished, then exits 0 (1 if a
 * stop failed). A repeated SIGTERM while stopping is noted and ignored (SIGKILL forces); a second
 * SIGINT (Ctrl-C twice) exits at once with 130.
 */
function stopOnSignal(name: string): (stoppers: Array<() => Promise<void>>) => void {
  let stoppers: Array<() => Promise<void>> | undefined
  let signalled = false
  let stopping = false
  const stop = (): void => {
    if (stopping || !signalled || stoppers === undefined) return
    stopping = true
    const list = stoppers
    ;(async () => { for (const stopper of list) await stopper() })()
      .then(() => process.exit(0), error => { process.stderr.write(`${error.stack}\n`); process.exit(1) })
  }
  const onSignal = (signal: NodeJS.Signals): void => {
    if (signalled) {
      if (signal === 'SIGINT') process.exit(130)
      process.stderr.write(`sluice ${name}: ${signal} again, still shutting down\n`)
      return
    }
    signalled = true
    process.stderr.write(`sluice ${name}: ${signal}, shutting down${stoppers === undefined ? ' once started' : ''}\n`)
    stop()
  }
  process.on('SIGTERM', onSignal)
  process.on('SIGINT', onSignal)
  return list => { stoppers = list; stop() }
}

async function runNode(args: string[]): Promise<void> {
  const stopWith = stopOnSignal('node')
  const { loadNodeConfig } = await import('./node-config.ts')
  const config = loadNodeConfig(args)
  const { startNode } = await import('./node.ts')
  const node = await startNode(config)
  process.stdout.write(`sluice node ${config.nodeId} listening on ${node.url} (kafka ${config.kafkaBrokers.join(',')}, ${node.ingestPartitions} ingest partitions, auth ${config.auth ? 'on' : 'off'})\n`)
  stopWith([() => node.close()])
}

/** `sluice mqtt-bridge`: the MQTT bridge as its own process (docs/mqtt.md). */
async function runMqttBridge(args: string[]): Promise<void> {
  const stopWith = stopOnSignal('mqtt-bridge')
  const { values } = parseArgs({
    args,
    options: {
      config: { type: 'string' },
      mqtt: { type: 'string' },
      kafka: { type: 'string', default: process.env.KAFKA_BROKERS ?? '127.0.0.1:9092' },
      redis: { type: 'string', default: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379' },
      partitions: { type: 'string', default: '8' },
      'no-auto-create-databases': { type: 'boolean', default: false },
    },
    strict: true,
  })
  if (values.config === undefined) throw new UsageError('mqtt-bridge needs --config <file> (JSON, see docs/mqtt.md)')
  const { loadBridgeConfig, startStandaloneBridge } = await import('../pipeline/mqtt/index.ts')
  let config
  try {
    config = loadBridgeConfig(values.config, values.mqtt === undefined ? {} : { url: values.mqtt })
  } catch (error) {
    throw (error as { code?: string }).code === 'SLUICE_ERR_MQTT_CONFIG' ? new UsageError((error as Error).message) : error
  }
  const kafkaBrokers = values.kafka.split(',').map(broker => broker.trim()).filter(broker => broker.length > 0)
  const log = (event: Record<string, unknown>): void => { process.stderr.write(`${JSON.stringify({ time: Date.now(), component: 'mqtt-bridge', ...event })}\n`) }
  const running = await startStandaloneBridge({
    config, kafkaBrokers, redisUrl: values.redis, ingestPartitions: integer('--partitions', values.partitions), autoCreateDatabases: !values['no-auto-create-databases'], log,
  })
  await running.bridge.connected()
  process.stdout.write(`sluice mqtt-bridge connected to ${config.url} as ${config.clientId} (kafka ${kafkaBrokers.join(',')}, ${running.ingestPartitions} ingest partitions)\n`)
  stopWith([() => running.close()])
}

/** The embedded broker and one node in this process: what `npm start` runs. */
async function runStart(args: string[]): Promise<void> {
  const stopWith = stopOnSignal('start')
  const nodeArgs: string[] = []
  let brokerPort = 9092
  for (let i = 0; i < args.length; i++) {
    if (args[i] === '--broker-port') brokerPort = integer('--broker-port', args[++i] ?? '')
    else nodeArgs.push(args[i]!)
  }
  const { startBroker } = await import('../broker/index.ts')
  const { loadNodeConfig } = await import('./node-config.ts')
  const broker = await startBroker({ host: '127.0.0.1', port: brokerPort, dataDir: './data/broker' })
  process.stdout.write(`sluice broker listening on ${broker.bootstrap} (node ${broker.nodeId}, cluster ${broker.clusterId})\n`)
  let config
  try {
    config = loadNodeConfig([...nodeArgs, '--kafka', broker.bootstrap])
  } catch (error) {
    await broker.close()
    throw error
  }
  const { startNode } = await import('./node.ts')
  const node = await startNode(config)
  process.stdout.write(`sluice node ${config.nodeId} listening on ${node.url} (kafka ${broker.bootstrap}, ${node.ingestPartitions} ingest partitions, auth ${config.auth ? 'on' : 'off'})\n`)
  stopWith([() => node.close(), () => broker.close()])
}

/** Parses `--config key=value` pairs against the broker's own settings, by name and type. */
async function brokerSettings(pairs: string[]): Promise<Record<string, number | boolean | string>> {
  const { defaultBrokerConfig } = await import('../broker/index.ts')
  const settings: Record<string, number | boolean | string> = {}
  for (const pair of pairs) {
    const [key = '', ...valueParts] = pair.split('=')
    const text = valueParts.join('=')
    if (!(key in defaultBrokerConfig)) throw new UsageError(`--config ${key}: no such broker setting (see docs/broker.md)`)
    const current = defaultBrokerConfig[key as keyof typeof defaultBrokerConfig]
    if (typeof current === 'number') {
      const value = Number(text)
      if (text === '' || !Number.isFinite(value)) throw new UsageError(`--config ${key} takes a number, not "${text}"`)
      settings[key] = value
    } else if (typeof current === 'boolean') {
      if (text !== 'true' && text !== 'false') throw new UsageError(`--config ${key} takes true or false, not "${text}"`)
      settings[key] = text === 'true'
    } else {
      settings[key] = text
    }
  }
  return settings
}

function integer(flag: string, text: string): number {
  const value = Number(text)
  if (!Number.isInteger(value) || value < 0) throw new UsageError(`${flag} must be a non-negative integer, not "${text}"`)
  return value
}

main(process.argv.slice(2)).catch(error => {
  if (error instanceof UsageError || (error as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
    process.stderr.write(`sluice: ${error.message}\n\n${usage}`)
    process.exit(2)
  }
  process.stderr.write(`sluice: ${error.stack ?? error}\n`)
  process.exit(1)
})
