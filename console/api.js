// The node's public APIs, as the console calls them. Every request carries the saved token as
// `Authorization: Token <secret>` (the form pipeline/http/auth.ts reads); a 401 asks for one.

const TOKEN_KEY = 'sluice.console.token'
const tokenListeners = new Set()

export function token() {
  return localStorage.getItem(TOKEN_KEY) ?? ''
}

export function setToken(secret) {
  if (secret) localStorage.setItem(TOKEN_KEY, secret)
  else localStorage.removeItem(TOKEN_KEY)
}

/** Called with the refusal's message when a request is answered 401. */
export function onUnauthorized(listener) {
  tokenListeners.add(listener)
}

export class ApiError extends Error {
  constructor(status, message, code) {
    super(message)
    this.status = status
    this.code = code
  }
}

/**
 * Fetch options of every request: the token in a header the script sets, and no browser
 * credentials. `credentials: 'omit'` also keeps the browser from prompting for a password when
 * /query answers 401 with `WWW-Authenticate: Basic` (InfluxDB's way), so the console's own token
 * dialog asks instead.
 */
export function fetchOptions(options = {}) {
  return { ...options, headers: authHeaders(options.headers), credentials: 'omit' }
}

export function authHeaders(extra = {}) {
  const secret = token()
  return secret ? { ...extra, authorization: `Token ${secret}` } : { ...extra }
}

/** The message of an error answer, whichever dialect it is in (CnosDB, InfluxDB 1.x, fastify). */
async function errorOf(answer, what) {
  const text = await answer.text()
  let message = text
  let code
  try {
    const body = JSON.parse(text)
    message = body.error_message ?? body.message ?? body.error ?? text
    code = body.error_code ?? body.code
  } catch { /* not JSON: the text as it is */ }
  return new ApiError(answer.status, `${what}: HTTP ${answer.status}${message ? `: ${message}` : ''}`, code)
}

export async function request(path, { method = 'GET', body, headers = {}, signal } = {}) {
  const answer = await fetch(path, fetchOptions({ method, body, headers, signal }))
  if (answer.ok) return answer
  const error = await errorOf(answer, `${method} ${path.split('?')[0]}`)
  if (answer.status === 401) for (const listener of tokenListeners) listener(error.message)
  throw error
}

export async function getJson(path, options) {
  return (await request(path, options)).json()
}

/** POST /api/v1/sql: the rows as objects, keys in column order (docs/query.md). */
export async function sql(database, statement, { signal } = {}) {
  const answer = await request(`/api/v1/sql?db=${encodeURIComponent(database)}`, {
    method: 'POST', body: statement, headers: { 'content-type': 'text/plain', accept: 'application/json' }, signal,
  })
  return answer.json()
}

/** SHOW DATABASES over InfluxQL (/query): the databases the caller may read or write. */
export async function databases({ signal } = {}) {
  const body = await getJson(`/query?q=${encodeURIComponent('SHOW DATABASES')}`, { signal })
  const result = body.results?.[0]
  if (result?.error) throw new ApiError(400, `SHOW DATABASES: ${result.error}`)
  return (result?.series?.[0]?.values ?? []).map(row => String(row[0])).sort()
}

/**
 * GET /metrics as text, or null when the node does not serve it (404, 501): the pages then say
 * "metrics unavailable" instead of failing.
 */
export async function metricsText({ signal } = {}) {
  const answer = await fetch('/metrics', fetchOptions({ signal }))
  if (answer.status === 404 || answer.status === 501) return null
  if (!answer.ok) throw await errorOf(answer, 'GET /metrics')
  return answer.text()
}
