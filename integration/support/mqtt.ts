// MQTT helpers for integration tests: a Mosquitto of the test's own on a free port (lossless
// settings: persistence, no queue limit), the `sluice mqtt-bridge` process, publishers
// (mosquitto_pub and mqtt.js), and reading back what reached sluice.ingest as distinct
// (series key, time) pairs.

import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { createServer, Socket } from 'node:net'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { once } from 'node:events'
import type { Kafka } from 'kafkajs'
import mqtt from 'mqtt'
import { registerKafkaCodecs } from '../../pipeline/source/codecs.ts'
import { decode, ingestRecordType, unframe } from '../../schemas/index.ts'
import { consumeUntil, sleep } from './kafka.ts'

const repositoryRoot = resolve(import.meta.dirname, '..', '..')
export const MOSQUITTO = '/usr/sbin/mosquitto'
export const SYSTEM_MQTT_URL = 'mqtt://127.0.0.1:1883'

export function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number }
      server.close(() => resolvePort(port))
    })
  })
}

async function waitForPort(port: number, timeoutMs: number, logs: () => string): Promise<void> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const open = await new Promise<boolean>(done => {
      const socket = new Socket()
      socket.once('connect', () => { socket.destroy(); done(true) })
      socket.once('error', () => done(false))
      socket.connect(port, '127.0.0.1')
    })
    if (open) return
    if (Date.now() > deadline) throw new Error(`mosquitto did not listen on ${port} within ${timeoutMs} ms:\n${logs()}`)
    await sleep(100)
  }
}

export interface MosquittoProcess {
  url: string
  port: number
  dir: string
  logs(): string
  stop(): Promise<void>
}

/**
 * Mosquitto with the settings a lossless bridge needs (docs/mqtt.md): sessions and queued messages
 * persisted, no limit on queued messages per client, and no expiry of persistent clients.
 */
export async function startMosquitto(options: { port?: number; dir?: string; maxInflightMessages?: number } = {}): Promise<MosquittoProcess> {
  const dir = options.dir ?? mkdtempSync(join(tmpdir(), 'sluice-mosquitto-'))
  const port = options.port ?? await freePort()
  const config = join(dir, 'mosquitto.conf')
  writeFileSync(config, [
    `listener ${port} 127.0.0.1`,
    'allow_anonymous true',
    'persistence true',
    `persistence_location ${dir}/`,
    'autosave_interval 1',
    'max_queued_messages 0',
    'max_queued_bytes 0',
    `max_inflight_messages ${options.maxInflightMessages ?? 100}`,
    'log_dest stderr',
    'log_type error',
    'log_type warning',
    '',
  ].join('\n'))
  const child: ChildProcess = spawn(MOSQUITTO, ['-c', config], { stdio: ['ignore', 'pipe', 'pipe'] })
  let output = ''
  child.stdout!.on('data', chunk => { output += chunk })
  child.stderr!.on('data', chunk => { output += chunk })
  const exited = once(child, 'exit')
  child.once('error', error => { output += `\ncould not start ${MOSQUITTO} (is the mosquitto package installed? .ci/run installs it): ${error.message}` })
  await waitForPort(port, 10_000, () => output)
  return {
    url: `mqtt://127.0.0.1:${port}`,
    port,
    dir,
    logs: () => output,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return
      child.kill('SIGTERM')
      await exited
    },
  }
}

export interface BridgeProcess {
  child: ChildProcess
  logs(): string
  /** SIGTERM and wait for exit; returns the exit code. */
  stop(): Promise<number | null>
  /** kill -9 and wait until the process is gone. */
  kill(): Promise<void>
}

/** Writes a bridge config file; returns its path. */
export function writeBridgeConfig(config: unknown): string {
  const path = join(mkdtempSync(join(tmpdir(), 'sluice-bridge-')), 'bridge.json')
  writeFileSync(path, JSON.stringify(config, null, 2))
  return path
}

/** `sluice mqtt-bridge` as a child process; resolves once it is connected to the MQTT broker. */
export async function startBridgeProcess(options: { config: string; kafka: string; mqtt?: string; redis?: string; args?: string[] }): Promise<BridgeProcess> {
  const args = ['bin/sluice.js', 'mqtt-bridge', '--config', options.config, '--kafka', options.kafka, '--redis', options.redis ?? 'redis://127.0.0.1:6379', ...(options.mqtt ? ['--mqtt', options.mqtt] : []), ...(options.args ?? [])]
  const child = spawn(process.execPath, args, { cwd: repositoryRoot, stdio: ['ignore', 'pipe', 'pipe'] })
  let stderr = ''
  child.stderr!.on('data', chunk => { stderr += chunk })
  await new Promise<void>((resolveStarted, reject) => {
    let stdout = ''
    const timer = setTimeout(() => reject(new Error(`mqtt-bridge did not connect within 60 s:\n${stderr}`)), 60_000)
    child.stdout!.on('data', chunk => {
      stdout += chunk
      if (/connected to/.test(stdout)) { clearTimeout(timer); resolveStarted() }
    })
    child.once('exit', code => { clearTimeout(timer); reject(new Error(`mqtt-bridge exited with ${code} before connecting:\n${stderr}`)) })
  })
  const exited = once(child, 'exit')
  return {
    child,
    logs: () => stderr,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return child.exitCode
      child.kill('SIGTERM')
      const [code] = await exited
      return code as number | null
    },
    async kill() {
      if (child.exitCode !== null || child.signalCode !== null) return
      child.kill('SIGKILL')
      await exited
    },
  }
}

export interface IngestedPoint {
  database: string
  seriesKey: string
  timeNs: bigint
  fields: Record<string, unknown>
}

/**
 * Reads sluice.ingest (read_committed) from the start until `until` holds for the distinct
 * (database, series key, time) points seen, or the deadline passes. Returns them by that key.
 */
export async function readIngestedPoints(kafka: Kafka, until: (points: Map<string, IngestedPoint>) => boolean, timeoutMs = 30_000): Promise<Map<string, IngestedPoint>> {
  registerKafkaCodecs()
  const points = new Map<string, IngestedPoint>()
  await consumeUntil(kafka, 'sluice.ingest', {
    raw: true,
    timeoutMs,
    until: records => {
      const record = records[records.length - 1]!
      const { batch } = decode(ingestRecordType, unframe(record.rawValue!).payload)
      if (batch) {
        for (const point of batch.points) {
          const fields: Record<string, unknown> = {}
          for (const field of point.fields) fields[field.name] = field.value
          points.set(`${batch.database}|${batch.seriesKey}|${point.timeNs}`, { database: batch.database, seriesKey: batch.seriesKey, timeNs: point.timeNs, fields })
        }
      }
      return until(points)
    },
  })
  return points
}

export interface DeadLetter {
  key: string | null
  value: string | null
  headers: Record<string, string>
}

/** Reads the dead-letter topic from the start until `until` holds for the letters whose key (the MQTT topic) starts with `topicPrefix`. */
export async function readDeadLetters(kafka: Kafka, topicPrefix: string, until: (letters: DeadLetter[]) => boolean, timeoutMs = 20_000, topic = 'sluice.deadletter'): Promise<DeadLetter[]> {
  const letters: DeadLetter[] = []
  const consumer = kafka.consumer({ groupId: `dead-letters-${Math.random().toString(36).slice(2)}`, maxWaitTimeInMs: 200 })
  await consumer.connect()
  try {
    await consumer.subscribe({ topics: [topic], fromBeginning: true })
    let finish!: () => void
    const done = new Promise<void>(resolveDone => { finish = resolveDone })
    await consumer.run({
      eachMessage: async ({ message }) => {
        const key = message.key?.toString() ?? null
        if (key === null || !key.startsWith(topicPrefix)) return
        const headers: Record<string, string> = {}
        for (const [name, value] of Object.entries(message.headers ?? {})) headers[name] = String(value)
        letters.push({ key, value: message.value?.toString() ?? null, headers })
        if (until(letters)) finish()
      },
    })
    let timer: NodeJS.Timeout | undefined
    await Promise.race([done, new Promise(resolveTimeout => { timer = setTimeout(resolveTimeout, timeoutMs) })])
    clearTimeout(timer)
  } finally {
    await consumer.disconnect()
  }
  return letters
}

/** Ends a persistent session on the broker (connect with its client id and clean=true), so test runs leave none behind. */
export async function forgetSession(url: string, clientId: string): Promise<void> {
  const client = await mqtt.connectAsync(url, { clientId, clean: true, reconnectPeriod: 0 })
  await client.endAsync()
}
