// sinks/cdc: the change feed. Change events (Debezium's envelope, Avro CdcEvent or JSON) derived
// from sluice.changelog entries; the exactly-once loop that writes them to the topic sluice.cdc
// (--cdc); and GET /api/v1/changes, a server-sent event stream that resumes exactly after the last
// event a client received. It reads only sluice.changelog; it does not own authentication (the
// node hands in the HTTP layer's read check) or the segment stores. User docs: docs/cdc.md.

export { eventsOf, eventCount, commandOp, CDC_CONNECTOR, type EntryPosition, type EmitterInfo } from './events.ts'
export { cdcEventJson, rfc3339Nanos } from './json.ts'
export { parseTagFilter, entryMatches, type ChangeFilter } from './filter.ts'
export { ResumeToken, type StreamPosition } from './resume-token.ts'
export { startCdcLoop, CdcTopic, CDC_GROUP_ID, CDC_TRANSACTIONAL_ID_PREFIX, type CdcLoop, type CdcLoopOptions, type CdcLoopStats } from './cdc-loop.ts'
export { changesRoutes, type ChangesRouteOptions } from './changes-route.ts'
export { CdcError, CdcErrorCode, isCdcError, type CdcErrorCodeValue } from './errors.ts'
export { cdcLimits } from './limits.ts'
