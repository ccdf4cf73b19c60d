// The statements and expressions of the InfluxQL subset Sluice answers (docs/influxql.md).

export type Expr =
  | { kind: 'ident'; name: string; cast: string | null; offset: number }
  | { kind: 'string'; value: string; offset: number }
  | { kind: 'number'; value: number; integer: boolean; text: string; offset: number }
  | { kind: 'duration'; ns: bigint; offset: number }
  | { kind: 'regex'; regex: RegExp; source: string; offset: number }
  | { kind: 'bool'; value: boolean; offset: number }
  | { kind: 'wildcard'; offset: number }
  | { kind: 'call'; name: string; args: Expr[]; offset: number }
  | { kind: 'binary'; op: string; left: Expr; right: Expr; offset: number }

export interface SelectField {
  expr: Expr
  alias: string | null
}

/** A measurement by name or regex, with its database and retention policy when written. */
export interface Source {
  database: string | null
  retentionPolicy: string | null
  name: string | null
  regex: RegExp | null
}

export type Fill =
  | { kind: 'null' }
  | { kind: 'none' }
  | { kind: 'previous' }
  | { kind: 'linear' }
  | { kind: 'value'; value: number }

export interface SelectStatement {
  kind: 'select'
  fields: SelectField[]
  sources: Source[]
  condition: Expr | null
  groupByTime: { intervalNs: bigint; offsetNs: bigint } | null
  groupByTags: string[]
  /** GROUP BY *: every tag. */
  groupByAllTags: boolean
  fill: Fill
  descending: boolean
  limit: number
  offset: number
  slimit: number
  soffset: number
}

/** KEY = "a", KEY != "a", KEY IN ("a", "b"), KEY =~ /re/, KEY !~ /re/. */
export type KeyMatch =
  | { op: 'in'; keys: string[]; negate: boolean }
  | { op: 'regex'; regex: RegExp; negate: boolean }

export interface ShowCommon {
  database: string | null
  sources: Source[]
  condition: Expr | null
  limit: number
  offset: number
}

export type Statement =
  | SelectStatement
  | { kind: 'show-databases' }
  | { kind: 'create-database'; name: string }
  | { kind: 'show-retention-policies'; database: string | null }
  | ({ kind: 'show-measurements'; measurement: KeyMatch | null } & ShowCommon)
  | ({ kind: 'show-tag-keys' } & ShowCommon)
  | ({ kind: 'show-tag-values'; key: KeyMatch } & ShowCommon)
  | ({ kind: 'show-field-keys' } & ShowCommon)
  | ({ kind: 'show-series' } & ShowCommon)
