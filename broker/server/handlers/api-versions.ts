// ApiVersions: the advertised table is derived from the registered routes, so what is advertised
// is exactly what is implemented.

import { apiVersionsApi } from '../../protocol/apis/api-versions.ts'
import { ErrorCode } from '../../protocol/errors.ts'
import { route, type Route } from '../context.ts'
import { advertisedKeys } from '../connection.ts'

export function apiVersionsRoute(routes: () => ReadonlyMap<number, Route>): Route {
  return route(apiVersionsApi, () => ({
    errorCode: ErrorCode.NONE,
    apiKeys: advertisedKeys(routes()),
    throttleTimeMs: 0,
  }))
}
