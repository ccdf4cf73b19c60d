// Topic templates: an MQTT topic filter whose wildcard levels may carry a name, in the spirit of
// Telegraf's topic_parsing. `factory/+site/+line/+sensor` subscribes to `factory/+/+/+` and turns
// `factory/berlin/l2/temp` into {site: "berlin", line: "l2", sensor: "temp"}.
//
//   literal   must equal the topic level
//   +         any one level, not kept
//   +name     any one level, kept as `name`
//   #         the rest of the topic (zero or more levels), not kept; last level only
//   #name     the rest of the topic, kept as `name` (its levels joined by "/")
//
// Name templates (measurement, database) refer to kept levels as `{name}`: "{sensor}", "plant_{site}".

import { MqttBridgeError, MqttErrorCode } from './errors.ts'

const NAME = /^[A-Za-z_][A-Za-z0-9_.-]*$/

const LevelKind = { Literal: 1, One: 2, Rest: 3 } as const
type LevelKindValue = (typeof LevelKind)[keyof typeof LevelKind]

interface Level {
  kind: LevelKindValue
  /** Literal text, or the capture's name ('' when not kept). */
  text: string
}

function configError(message: string): MqttBridgeError {
  return new MqttBridgeError(MqttErrorCode.CONFIG, message)
}

export class TopicTemplate {
  /** The MQTT subscription filter (names removed). */
  readonly filter: string
  /** Names of the kept levels, in topic order. */
  readonly names: readonly string[]
  private readonly levels: readonly Level[]

  constructor(readonly template: string) {
    if (template.length === 0) throw configError('a topic template must not be empty')
    const levels: Level[] = []
    const names: string[] = []
    const parts = template.split('/')
    parts.forEach((part, index) => {
      const first = part[0]
      if (first === '+' || first === '#') {
        if (first === '#' && index !== parts.length - 1) throw configError(`topic "${template}": "#" must be the last level`)
        const name = part.slice(1)
        if (name.length > 0) {
          if (!NAME.test(name)) throw configError(`topic "${template}": level name "${name}" must start with a letter or "_" and hold only letters, digits, "_", "." and "-"`)
          if (names.includes(name)) throw configError(`topic "${template}": level name "${name}" is used twice`)
          names.push(name)
        }
        levels.push({ kind: first === '+' ? LevelKind.One : LevelKind.Rest, text: name })
        return
      }
      if (part.includes('+') || part.includes('#')) throw configError(`topic "${template}": "+" and "#" may only start a level ("${part}")`)
      levels.push({ kind: LevelKind.Literal, text: part })
    })
    this.levels = levels
    this.names = names
    this.filter = levels.map(level => level.kind === LevelKind.Literal ? level.text : level.kind === LevelKind.One ? '+' : '#').join('/')
  }

  /** The kept levels of `topic` in `names` order, or null when the topic does not match. */
  match(topic: string): string[] | null {
    const parts = topic.split('/')
    const captured: string[] = []
    for (let i = 0; i < this.levels.length; i++) {
      const level = this.levels[i]!
      if (level.kind === LevelKind.Rest) {
        // "a/#" also matches "a" itself (MQTT 3.1.1 section 4.7.1.2).
        if (level.text.length > 0) captured.push(parts.slice(i).join('/'))
        return captured
      }
      const part = parts[i]
      if (part === undefined) return null
      if (level.kind === LevelKind.Literal) {
        if (part !== level.text) return null
      } else if (level.text.length > 0) {
        captured.push(part)
      }
    }
    return parts.length === this.levels.length ? captured : null
  }
}

/** A string with `{name}` references to kept levels, resolved per message. */
export class NameTemplate {
  /** Names it refers to. */
  readonly references: readonly string[]
  private readonly pieces: ReadonlyArray<string | number>

  constructor(readonly text: string, topic: TopicTemplate, setting: string) {
    const pieces: Array<string | number> = []
    const references: string[] = []
    let rest = text
    while (rest.length > 0) {
      const open = rest.indexOf('{')
      if (open < 0) {
        if (rest.includes('}')) throw configError(`${setting} "${text}": "}" without "{"`)
        pieces.push(rest)
        break
      }
      const close = rest.indexOf('}', open)
      if (close < 0) throw configError(`${setting} "${text}": "{" without "}"`)
      if (open > 0) pieces.push(rest.slice(0, open))
      const name = rest.slice(open + 1, close)
      const index = topic.names.indexOf(name)
      if (index < 0) throw configError(`${setting} "${text}": {${name}} is not a named level of topic "${topic.template}" (named: ${topic.names.join(', ') || 'none'})`)
      pieces.push(index)
      references.push(name)
      rest = rest.slice(close + 1)
    }
    if (pieces.length === 0) throw configError(`${setting} must not be empty`)
    this.pieces = pieces
    this.references = references
  }

  /** The text with each reference replaced by its level of `captured` (TopicTemplate.match's result). */
  resolve(captured: readonly string[]): string {
    let out = ''
    for (const piece of this.pieces) out += typeof piece === 'number' ? captured[piece]! : piece
    return out
  }
}
