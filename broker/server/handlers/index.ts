// The route table: every API the broker serves, keyed by API key. ApiVersions advertises exactly
// this table, so what is advertised is what is implemented.

import type { Route } from '../context.ts'
import { alterConfigsRoute, createPartitionsRoute, createTopicsRoute, deleteRecordsRoute, deleteTopicsRoute, describeConfigsRoute } from './admin.ts'
import { apiVersionsRoute } from './api-versions.ts'
import { fetchRoute } from './fetch.ts'
import { groupRoutes } from './group.ts'
import { listOffsetsRoute } from './list-offsets.ts'
import { metadataRoute } from './metadata.ts'
import { produceRoute } from './produce.ts'
import { txnRoutes } from './txn.ts'

export function buildRoutes(): ReadonlyMap<number, Route> {
  const routes = new Map<number, Route>()
  const all = [
    produceRoute, fetchRoute, listOffsetsRoute, metadataRoute,
    createTopicsRoute, deleteTopicsRoute, createPartitionsRoute, deleteRecordsRoute, describeConfigsRoute, alterConfigsRoute,
    ...groupRoutes, ...txnRoutes, apiVersionsRoute(() => routes),
  ]
  for (const r of all) {
    if (routes.has(r.api.key)) throw new Error(`two routes for API key ${r.api.key}`)
    routes.set(r.api.key, r)
  }
  return routes
}
