// A write body's way from the socket to a parse worker's answer, in process, for this checkout and one
// other (--compare DIR, a git worktree with node_modules linked): each tree's body reading
// (pipeline/http/body.ts acceptRawBodies in fastify) and its parse pool (pipeline/http/parse-pool.ts,
// one worker) encoding the body as a node's write route asks for the transactional sink, over
// loopback HTTP, one request at a time, the two trees taking turns body by body. The process's CPU
// (every thread: the request thread, the worker, the client sending) is read around each request, so
// each body's figure is that tree's whole cost of receiving, handing over and encoding it, plus the
// same client cost for both; the main thread's share (/proc/<pid>/schedstat) separately. Medians over rounds, the same-run ratio per round, and the median over
// every body of the ratio of its two sends one after the other (the steadier one on a shared machine).
//
// Run: npm run bench:http-body [-- --compare DIR] [-- --rounds 7] [-- --bodies 40]

import { request, Agent } from 'node:http'
import { resolve } from 'node:path'
import { pathToFileURL } from 'node:url'
import { parseArgs } from 'node:util'
import Fastify, { type FastifyInstance } from 'fastify'
import { generateTsbsCpu, tsbsCpuOneDay } from './support/tsbs-cpu.ts'
import { cpuPressureMeter, describeMachine, median } from './support/report.ts'
import { sampleThread } from './support/cpu.ts'
import { defaultLineProtocolLimits } from '../pipeline/ingest/index.ts'
import { RecordBatchCodec } from '../lib/kafka/record-batch.ts'
import { DEFAULT_MAX_PARTITION_BATCH_BYTES } from '../lib/kafka/split-batches.ts'
import { sluiceRecordHeaders } from '../pipeline/source/index.ts'

const { values: options } = parseArgs({ options: { bodies: { type: 'string', default: '40' }, rounds: { type: 'string', default: '7' }, compare: { type: 'string' } } })
const BODIES = Number(options.bodies)
const ROUNDS = Number(options.rounds)
const MAX_BODY_BYTES = 25_000_000

interface BodyModule {
  acceptRawBodies(app: FastifyInstance, maxBodyBytes: number): void
  rawBody(body: unknown): Buffer
  /** Only in trees that hand a body's chunks to the worker. */
  bodyChunks?: (body: unknown) => readonly Buffer[]
}
interface Pool { encode(request: Record<string, unknown>, deadlineMs: number): Promise<{ kind: string; pointCount?: number }>; ready(): Promise<void>; close(): Promise<void> }

interface Contender { name: string; app: FastifyInstance; pool: Pool; port: number }

/** The tree at `root`: its body reading and one parse worker behind a fastify route shaped as write.ts's. */
async function contenderOf(name: string, root: string): Promise<Contender> {
  const body = await import(pathToFileURL(resolve(root, 'pipeline/http/body.ts')).href) as BodyModule
  const { ParsePool } = await import(pathToFileURL(resolve(root, 'pipeline/http/parse-pool.ts')).href) as { ParsePool: new (options: { size: number }) => Pool }
  const pool = new ParsePool({ size: 1 })
  await pool.ready()
  const app = Fastify()
  await app.register(async scope => {
    body.acceptRawBodies(scope, MAX_BODY_BYTES)
    scope.post('/write', async (req, reply) => {
      // As write.ts of each tree: the chunks where the tree hands them over, else the body in one buffer.
      const handed = body.bodyChunks === undefined ? body.rawBody(req.body) : body.bodyChunks(req.body)
      const result = await pool.encode({
        body: handed, precision: 'ns', receivedAtNs: 1_700_000_000_000_000_000n, limits: defaultLineProtocolLimits, maxErrorsReported: 1000,
        tenant: 'default', database: 'bench', partitions: 6, schemaId: 1, idempotencyKey: null, encodeAroundErrors: false,
        sections: { codec: RecordBatchCodec.LZ4, maxSectionRecordBytes: DEFAULT_MAX_PARTITION_BATCH_BYTES, headers: sluiceRecordHeaders },
      }, Date.now() + 60_000)
      if (result.kind !== 'encoded' || result.pointCount !== 5000) throw new Error(`${name}: body not encoded (${result.kind}, ${result.pointCount} points)`)
      return reply.code(204).send()
    })
  })
  await app.listen({ port: 0, host: '127.0.0.1' })
  return { name, app, pool, port: (app.server.address() as { port: number }).port }
}

const agent = new Agent({ keepAlive: true, maxSockets: 1 })

function post(port: number, body: Buffer): Promise<void> {
  return new Promise((resolvePost, reject) => {
    const req = request({ agent, host: '127.0.0.1', port, method: 'POST', path: '/write', headers: { 'content-type': 'text/plain', 'content-length': body.length } }, res => {
      res.resume()
      res.on('end', () => (res.statusCode === 204 ? resolvePost() : reject(new Error(`answered ${res.statusCode}`))))
    })
    req.on('error', reject)
    req.end(body)
  })
}

function cpuMs(): number {
  const usage = process.cpuUsage()
  return (usage.user + usage.system) / 1000
}

/** This process's main thread on a CPU so far (the request thread, where the client runs too). */
const mainThreadMs = (): number => sampleThread(process.pid).cpuNs / 1e6

async function main(): Promise<void> {
  const bodies = generateTsbsCpu(tsbsCpuOneDay).batches.slice(0, BODIES)
  const contenders = [await contenderOf('this tree', resolve(import.meta.dirname, '..'))]
  if (options.compare !== undefined) contenders.push(await contenderOf(`compare (${options.compare})`, options.compare))
  console.log(`# write bodies from the socket to a parse worker's answer: ${describeMachine()}`)
  console.log(`# ${bodies.length} bodies of 5000 lines (${(bodies[0]!.length / 1e6).toFixed(2)} MB), ${ROUNDS} rounds, one request at a time, the trees taking turns body by body; process CPU per body`)
  const pressure = cpuPressureMeter()
  for (const contender of contenders) for (const body of bodies.slice(0, 5)) await post(contender.port, body) // warm up
  pressure.start()
  const perRound = contenders.map(() => [] as number[])
  /** this / compare of each body, the two sent one after the other: steadier than rounds on a shared machine. */
  const perBody: number[] = []
  const mainPerBody: number[] = []
  for (let round = 0; round < ROUNDS; round++) {
    const total = contenders.map(() => 0)
    for (const [b, body] of bodies.entries()) {
      const spent = contenders.map(() => 0)
      const spentMain = contenders.map(() => 0)
      // Alternate which tree goes first, body by body.
      const order = (b + round) % 2 === 0 ? contenders.map((_, i) => i) : contenders.map((_, i) => i).reverse()
      for (const i of order) {
        const before = cpuMs()
        const mainBefore = mainThreadMs()
        await post(contenders[i]!.port, body)
        spent[i] = cpuMs() - before
        spentMain[i] = mainThreadMs() - mainBefore
        total[i]! += spent[i]!
      }
      if (contenders.length === 2 && spent[1]! > 0) perBody.push(spent[0]! / spent[1]!)
      if (contenders.length === 2 && spentMain[1]! > 0) mainPerBody.push(spentMain[0]! / spentMain[1]!)
    }
    total.forEach((ms, i) => perRound[i]!.push(ms / bodies.length))
    console.log(`# round ${round + 1}: ${contenders.map((c, i) => `${c.name} ${(total[i]! / bodies.length).toFixed(2)} ms`).join(', ')} CPU per body`)
  }
  console.log('| tree | CPU-ms per body (median of rounds) |')
  console.log('|---|---:|')
  contenders.forEach((c, i) => console.log(`| ${c.name} | ${median(perRound[i]!).toFixed(2)} |`))
  if (contenders.length === 2) {
    const ratios = perRound[0]!.map((ms, round) => ms / perRound[1]![round]!).sort((a, b) => a - b)
    console.log(`this / compare, per round: median ${median(ratios).toFixed(3)}, range ${ratios[0]!.toFixed(3)}-${ratios.at(-1)!.toFixed(3)}; per body: median ${median(perBody).toFixed(3)} of ${perBody.length}; the main thread alone (request thread and client), per body: median ${median(mainPerBody).toFixed(3)}`)
  }
  console.log(`CPU pressure over the run: ${pressure.percent()}`)
  agent.destroy()
  for (const contender of contenders) {
    await contender.app.close()
    await contender.pool.close()
  }
}

await main()
