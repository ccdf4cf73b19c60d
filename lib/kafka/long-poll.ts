// How long Sluice's kafkajs consumers let a Fetch wait at the broker (maxWaitTimeInMs). With minBytes
// 1 the broker answers as soon as one record is readable, so a long wait costs no latency; it only
// sets how often an idle consumer asks again. Two things bound it: kafkajs heartbeats only between
// fetches, so a wait beyond the heartbeat interval delays heartbeats (and noticing a rebalance), and
// a consumer's disconnect waits for its parked fetch to end: with 1 s a node's stop took about 1 s
// longer (its consumers stop one after another), with 500 ms about 0.5 s, for about 1.4% of a core
// more while idle (docs/benchmarks.md, idle node).

/** A stop waits for the parked fetch: at most this long. As Java's fetch.max.wait.ms default. */
export const MAX_FETCH_WAIT_MS = 500

/** The fetch wait of a consumer that heartbeats every `heartbeatIntervalMs`. */
export function fetchWaitMs(heartbeatIntervalMs: number): number {
  return Math.min(heartbeatIntervalMs, MAX_FETCH_WAIT_MS)
}
