// Server-sent events read with fetch, not EventSource: EventSource cannot send the Authorization
// header a node with --auth needs. Parses the stream as the HTML spec says (event, data, id,
// retry; comments ignored) and reconnects after the server's retry delay with Last-Event-ID.

import { fetchOptions } from './api.js'

/**
 * Streams `url` until `stop()`; calls onOpen(status), onMessage({ event, data, id }),
 * onError(error) and onPosition(id) (every id, events or bare positions). Returns { stop }.
 */
export function subscribe(url, { onOpen, onMessage, onError, onPosition, lastEventId } = {}) {
  let controller = new AbortController()
  let stopped = false
  let retryMs = 1000
  let lastId = lastEventId

  async function connect() {
    while (!stopped) {
      controller = new AbortController()
      try {
        const headers = { accept: 'text/event-stream' }
        if (lastId !== undefined) headers['last-event-id'] = lastId
        const answer = await fetch(url, fetchOptions({ headers, signal: controller.signal }))
        if (!answer.ok) {
          const text = await answer.text()
          let message = text
          try { const body = JSON.parse(text); message = body.error_message ?? body.message ?? text } catch { /* text */ }
          const error = new Error(`HTTP ${answer.status}: ${message}`)
          error.status = answer.status
          throw error
        }
        onOpen?.(answer.status)
        await read(answer.body)
        if (!stopped) onError?.(new Error('the stream ended; reconnecting'))
      } catch (error) {
        if (stopped) return
        onError?.(error)
        if (error.status >= 400 && error.status < 500) return // a refusal does not change by retrying
      }
      await new Promise(resolve => setTimeout(resolve, retryMs))
    }
  }

  async function read(body) {
    const reader = body.pipeThrough(new TextDecoderStream()).getReader()
    let buffer = ''
    let message = { event: undefined, data: undefined, id: undefined }
    for (;;) {
      const { value, done } = await reader.read()
      if (done) return
      buffer += value
      let newline
      while ((newline = buffer.search(/\r\n|\r|\n/)) >= 0) {
        if (newline === buffer.length - 1 && buffer.endsWith('\r')) break // maybe the \r of a \r\n split across chunks
        const line = buffer.slice(0, newline)
        buffer = buffer.slice(newline + (buffer.startsWith('\r\n', newline) ? 2 : 1))
        if (line === '') {
          if (message.id !== undefined) { lastId = message.id; onPosition?.(message.id) }
          if (message.data !== undefined) onMessage?.(message)
          message = { event: undefined, data: undefined, id: undefined }
          continue
        }
        if (line.startsWith(':')) continue
        const colon = line.indexOf(':')
        const field = colon < 0 ? line : line.slice(0, colon)
        const text = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '')
        if (field === 'data') message.data = message.data === undefined ? text : `${message.data}\n${text}`
        else if (field === 'event') message.event = text
        else if (field === 'id') message.id = text
        else if (field === 'retry' && /^\d+$/.test(text)) retryMs = Number(text)
      }
    }
  }

  void connect()
  return {
    stop() { stopped = true; controller.abort() },
    get lastEventId() { return lastId },
  }
}
