// Who is asking and what they may do. Credentials are read the ways InfluxDB clients send them:
// `?u=&p=` and Basic auth (the password is the token; the user name is not checked), `Authorization:
// Token <token>` (2.x; 1.x's `Token user:password` form works too), and `Authorization: Bearer <token>`.
// With auth off every request is allowed, in the tenant the request names or the default tenant.

import type { Permission, TokenDirectory, TokenRecord } from './tokens.ts'
import { HttpApiError, HttpErrorCode, Dialect, type DialectValue } from './errors.ts'

export interface Credentials {
  /** The secret presented (a token), or undefined when the request carries none. */
  secret: string | undefined
  /** For `Token user:password`: the part after the colon, tried when the whole value is no token. */
  alternative?: string
}

/** Reads credentials from the query (u/p) and the Authorization header. */
export function parseCredentials(query: Record<string, unknown>, authorization: string | undefined): Credentials {
  if (typeof authorization === 'string' && authorization.length > 0) {
    const space = authorization.indexOf(' ')
    const scheme = (space < 0 ? authorization : authorization.slice(0, space)).toLowerCase()
    const value = space < 0 ? '' : authorization.slice(space + 1).trim()
    if (scheme === 'basic') {
      const decoded = Buffer.from(value, 'base64').toString('utf8')
      const colon = decoded.indexOf(':')
      return { secret: colon < 0 ? decoded : decoded.slice(colon + 1) }
    }
    if (scheme === 'token') {
      const colon = value.indexOf(':')
      return colon < 0 ? { secret: value } : { secret: value, alternative: value.slice(colon + 1) }
    }
    if (scheme === 'bearer') return { secret: value }
  }
  const password = query.p
  if (typeof password === 'string' && password.length > 0) return { secret: password }
  return { secret: undefined }
}

export interface AuthOptions {
  /** Off by default: every request is allowed. On: every request needs a token. */
  enabled: boolean
  /** Tenant of requests that name none, with auth off. Default "default". */
  defaultTenant: string
  /** Where tokens are looked up (required when enabled). */
  tokens?: TokenDirectory
}

export interface Access {
  tenant: string
  /** The token used; undefined with auth off. */
  token: TokenRecord | undefined
}

function unauthorized(message: string, dialect: DialectValue): HttpApiError {
  // InfluxDB 1.x asks for Basic credentials, which the influx CLI and browsers understand.
  const headers: Record<string, string> = dialect === Dialect.INFLUX1 ? { 'WWW-Authenticate': 'Basic realm="InfluxDB"' } : {}
  return new HttpApiError(HttpErrorCode.UNAUTHORIZED, message, { headers })
}

export class Authorizer {
  constructor(private readonly options: AuthOptions) {
    if (options.enabled && !options.tokens) throw new TypeError('auth is enabled but no token directory was given')
  }

  get enabled(): boolean {
    return this.options.enabled
  }

  /**
   * Who the request acts as: the token's tenant (refusing a request that names another tenant) or,
   * with auth off, the named tenant or the default one. Throws 401 for missing or unknown credentials.
   */
  authenticate(credentials: Credentials, requestedTenant: string | undefined, dialect: DialectValue): Access {
    if (!this.options.enabled) return { tenant: requestedTenant ?? this.options.defaultTenant, token: undefined }
    if (credentials.secret === undefined) throw unauthorized('unable to parse authentication credentials', dialect)
    const tokens = this.options.tokens!
    const token = tokens.find(credentials.secret) ?? (credentials.alternative === undefined ? undefined : tokens.find(credentials.alternative))
    if (!token) throw unauthorized('authorization failed', dialect)
    if (requestedTenant !== undefined && requestedTenant !== token.tenant) {
      throw new HttpApiError(HttpErrorCode.FORBIDDEN, `token "${token.id}" belongs to tenant "${token.tenant}", not "${requestedTenant}"`)
    }
    return { tenant: token.tenant, token }
  }

  /** Throws 403 unless the access may `permission` the database. */
  authorize(access: Access, database: string, permission: Permission): void {
    if (!mayAccess(access, database, permission)) {
      throw new HttpApiError(HttpErrorCode.FORBIDDEN, `token "${access.token!.id}" is not authorized to ${permission} database "${database}" of tenant "${access.tenant}"`)
    }
  }
}

/** Whether the access may `permission` the database (always, with auth off). */
export function mayAccess(access: Access, database: string, permission: Permission): boolean {
  const token = access.token
  if (!token) return true
  return token.permissions.includes(permission) && (token.databases.includes('*') || token.databases.includes(database))
}
