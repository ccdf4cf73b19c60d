// kafkajs restarts a crashed consumer only when it deems the error retriable. Some errors of a broker
// outage it does not: "Failed to find group coordinator" (KafkaJSGroupCoordinatorNotFound, after its
// own retries) leaves the consumer disconnected for good, and a node's master, replica or CDC loop
// with it, until the process restarts: acknowledged writes were never applied (seen in
// integration/http-kafka-down.test.ts after a broker kill -9). restartWhenKafkajsGivesUp starts such
// a consumer again itself (connect, subscribe, run: what the component's start did), after a delay
// that grows from 100 ms to 5 s while the attempts fail, until the component stops.

import type { Consumer } from 'kafkajs'

export const FIRST_RESTART_DELAY_MS = 100
export const MAX_RESTART_DELAY_MS = 5_000

export interface ConsumerRestartOptions {
  /** True once the component is stopping: no restart then. */
  stopped: () => boolean
  log: (fields: { event: string; error: string; attempt: number; delayMs: number }) => void
}

/**
 * Subscribes to `consumer`'s crashes. Returns a cancel function for the component's stop: it clears a
 * pending restart and resolves once an attempt in progress has settled, so that the stop's
 * disconnect comes after that attempt's connect, not before.
 */
export function restartWhenKafkajsGivesUp(consumer: Pick<Consumer, 'on' | 'events'>, start: () => Promise<void>, options: ConsumerRestartOptions): () => Promise<void> {
  let timer: NodeJS.Timeout | undefined
  let running: Promise<void> | undefined
  let attempt = 0
  const schedule = (error: string): void => {
    if (options.stopped() || timer !== undefined) return
    const delayMs = Math.min(MAX_RESTART_DELAY_MS, FIRST_RESTART_DELAY_MS * 2 ** attempt)
    attempt++
    options.log({ event: 'consumer_restart_scheduled', error, attempt, delayMs })
    timer = setTimeout(() => {
      timer = undefined
      if (options.stopped()) return
      running = start().then(
        () => { attempt = 0 },
        (failure: unknown) => schedule((failure as Error).message ?? String(failure)),
      ).finally(() => { running = undefined })
    }, delayMs)
  }
  consumer.on(consumer.events.CRASH, ({ payload }) => {
    if (!payload.restart) schedule(String(payload.error))
  })
  return async () => {
    if (timer !== undefined) clearTimeout(timer)
    timer = undefined
    await running
  }
}
