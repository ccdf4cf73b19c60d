// restartWhenKafkajsGivesUp (consumer-restart.ts): a crash kafkajs does not restart starts the
// consumer again, with a delay doubling from 100 ms while attempts fail; kafkajs's own restarts,
// a stopped component and a cancelled restart are left alone. The stand-in emits kafkajs's CRASH
// event; the real crash is integration/http-kafka-down.test.ts's.

import assert from 'node:assert/strict'
import { EventEmitter } from 'node:events'
import { test } from 'node:test'
import type { Consumer } from 'kafkajs'
import { FIRST_RESTART_DELAY_MS, restartWhenKafkajsGivesUp } from './consumer-restart.ts'

const CRASH = 'consumer.crash'

function standIn(): { consumer: Pick<Consumer, 'on' | 'events'>; crash: (restart: boolean) => void } {
  const emitter = new EventEmitter()
  const consumer = { events: { CRASH }, on: (event: string, listener: (e: unknown) => void) => emitter.on(event, listener) } as unknown as Pick<Consumer, 'on' | 'events'>
  return { consumer, crash: restart => emitter.emit(CRASH, { payload: { error: new Error('Failed to find group coordinator'), restart } }) }
}

const sleep = (ms: number): Promise<void> => new Promise(resolve => setTimeout(resolve, ms))

test('a crash kafkajs gives up on starts the consumer again; failed attempts back off, doubling', async () => {
  const { consumer, crash } = standIn()
  const starts: number[] = []
  const logged: Array<{ attempt: number; delayMs: number }> = []
  const began = Date.now()
  restartWhenKafkajsGivesUp(consumer, async () => {
    starts.push(Date.now() - began)
    if (starts.length < 3) throw new Error('broker still away')
  }, { stopped: () => false, log: fields => logged.push(fields) })
  crash(false)
  await sleep(FIRST_RESTART_DELAY_MS * (1 + 2 + 4) + 300)
  assert.equal(starts.length, 3, 'two failed attempts, then one that started')
  assert.deepEqual(logged.map(entry => entry.delayMs), [100, 200, 400])
  assert.ok(starts[0]! >= 100 && starts[1]! - starts[0]! >= 200 && starts[2]! - starts[1]! >= 400, `attempts at ${starts}`)

  // After a start that worked, the next crash waits the first delay again.
  crash(false)
  await sleep(FIRST_RESTART_DELAY_MS + 100)
  assert.equal(starts.length, 4)
  assert.equal(logged.at(-1)!.delayMs, 100)
})

test("kafkajs's own restarts, a stopped component and a cancelled restart start nothing", async () => {
  const { consumer, crash } = standIn()
  let starts = 0
  let stopped = false
  const cancel = restartWhenKafkajsGivesUp(consumer, async () => { starts++ }, { stopped: () => stopped, log: () => {} })
  crash(true) // kafkajs restarts this one itself
  await sleep(FIRST_RESTART_DELAY_MS + 100)
  assert.equal(starts, 0)
  crash(false)
  cancel()
  await sleep(FIRST_RESTART_DELAY_MS + 100)
  assert.equal(starts, 0, 'cancelled')
  crash(false)
  stopped = true
  await sleep(FIRST_RESTART_DELAY_MS + 100)
  assert.equal(starts, 0, 'stopped before the delay ran out')
  crash(false)
  await sleep(FIRST_RESTART_DELAY_MS + 100)
  assert.equal(starts, 0, 'stopped')
})

test('cancelling waits for an attempt in progress, so a stop disconnects after its connect', async () => {
  const { consumer, crash } = standIn()
  let settled = false
  const cancel = restartWhenKafkajsGivesUp(consumer, async () => { await sleep(200); settled = true }, { stopped: () => false, log: () => {} })
  crash(false)
  await sleep(FIRST_RESTART_DELAY_MS + 50) // the attempt has begun
  assert.equal(settled, false)
  await cancel()
  assert.equal(settled, true)
})
