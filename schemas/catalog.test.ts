// The schema files and their TypeScript mirrors: every file loads and stands alone, every named type
// is defined once, sample values of each type are valid and round-trip exactly, and 64-bit values
// survive where avsc's default long would throw.

import assert from 'node:assert/strict'
import { readdirSync } from 'node:fs'
import { describe, it } from 'node:test'
import avro from 'avsc'
import { parseAvroSchema, resolutionError, type AvroType } from './avro-types.ts'
import { canonicalSchemaText } from './canonical.ts'
import { cdcEventType, changelogEntryType, compressorStateType, ingestBatchType, ingestCommandType, ingestRecordType, readSchemaFile, sluiceTypes, topicValueSubjects, type SluiceType } from './catalog.ts'
import { decode, encode } from './codec.ts'
import { plain, sampleBatch, sampleCdcDelete, sampleCdcEvent, sampleChangelogCommand, sampleChangelogUpsert, sampleCommand, sampleCompressorState, sampleDelete } from './testing/samples.ts'

function assertValid<T>(type: SluiceType<T>, value: T): void {
  const problems: string[] = []
  const valid = type.avro.isValid(value, { noUndeclaredFields: true, errorHook: (path: string[]) => problems.push(path.join('.')) })
  assert.ok(valid, `${type.name}: invalid at ${problems.join(', ')}`)
}

function assertRoundTrip<T>(type: SluiceType<T>, value: T): void {
  assertValid(type, value)
  const bytes = encode(type, value)
  assert.deepEqual(plain(decode(type, bytes)), plain(value))
  assert.deepEqual(bytes, type.avro.toBuffer(value), `${type.name}: encode() differs from avsc`)
}

describe('schema catalog', () => {
  it('loads every .avsc file of schemas/ into a standalone schema', () => {
    const files = readdirSync(new URL('./', import.meta.url)).filter((name) => name.endsWith('.avsc')).sort()
    assert.deepEqual(sluiceTypes.map((type) => type.file).sort(), files)
    for (const type of sluiceTypes) {
      // Standalone: parses with plain avsc (no library of other files), and the canonical text is a fixpoint.
      assert.doesNotThrow(() => avro.Type.forSchema(JSON.parse(type.schema), { wrapUnions: 'auto' }), type.file)
      assert.equal(canonicalSchemaText(JSON.parse(type.schema)), type.schema)
    }
  })

  it('defines each named type in exactly one file', () => {
    const definedIn = new Map<string, string>()
    const visit = (node: unknown, file: string): void => {
      if (Array.isArray(node)) return node.forEach((inner) => visit(inner, file))
      if (typeof node !== 'object' || node === null) return
      const object = node as Record<string, unknown>
      if (typeof object.name === 'string' && ['record', 'enum', 'fixed'].includes(object.type as string)) {
        assert.equal(definedIn.get(object.name), undefined, `${object.name} defined in ${definedIn.get(object.name)} and ${file}`)
        definedIn.set(object.name, file)
      }
      for (const inner of Object.values(object)) visit(inner, file)
    }
    for (const type of sluiceTypes) visit(readSchemaFile(type.file), type.file)
    assert.deepEqual([...definedIn.keys()].sort(), [
      'CdcCommand', 'CdcEvent', 'CdcRow', 'CdcSource', 'ChangelogEntry', 'CommandKind', 'CompressionAlgorithm', 'CompressorState', 'DoorSlopes',
      'Field', 'FieldCodec', 'FieldExpression', 'IngestBatch', 'IngestCommand', 'IngestRecord', 'Point', 'Predicate', 'Sample', 'SeriesUpsert', 'Tag', 'TagMatch', 'Uint64',
    ])
  })

  it('orders every union so that no branch is read by an earlier one (no long read as double)', () => {
    // avsc resolves a writer branch to the first reader branch that can read it (evolution.md rule 5).
    const visit = (type: AvroType, path: string, seen: Set<AvroType>): void => {
      if (seen.has(type)) return
      seen.add(type)
      const inner = type as unknown as { types?: AvroType[]; fields?: Array<{ name: string; type: AvroType }>; itemsType?: AvroType; valuesType?: AvroType }
      if (inner.types) {
        assert.equal(type.typeName, 'union:unwrapped', `${path}: avsc would wrap this union, types.ts assumes none is`)
        inner.types.forEach((later, j) => inner.types!.slice(0, j).forEach((earlier, i) => {
          assert.notEqual(resolutionError(earlier, later), undefined, `${path}: branch ${i} (${earlier.typeName}) would read branch ${j} (${later.typeName})`)
        }))
        inner.types.forEach((branch, i) => visit(branch, `${path}[${i}]`, seen))
      }
      for (const field of inner.fields ?? []) visit(field.type, `${path}.${field.name}`, seen)
      if (inner.itemsType) visit(inner.itemsType, `${path}[]`, seen)
      if (inner.valuesType) visit(inner.valuesType, `${path}{}`, seen)
    }
    for (const type of sluiceTypes) visit(type.avro, type.name, new Set())
    // The check has teeth: the order the field values once had fails it.
    const wrongOrder = parseAvroSchema(['double', 'long'])
    const [double, long] = (wrongOrder as unknown as { types: AvroType[] }).types
    assert.equal(resolutionError(double!, long!), undefined)
  })

  it('round-trips a sample of every record exactly', () => {
    assertRoundTrip(ingestBatchType, sampleBatch)
    assertRoundTrip(ingestCommandType, sampleCommand)
    assertRoundTrip(ingestCommandType, sampleDelete)
    assertRoundTrip(ingestRecordType, { batch: sampleBatch, command: null })
    assertRoundTrip(ingestRecordType, { batch: null, command: sampleCommand })
    assertRoundTrip(changelogEntryType, sampleChangelogUpsert)
    assertRoundTrip(changelogEntryType, sampleChangelogCommand)
    assert.throws(() => encode(changelogEntryType, { ...sampleChangelogCommand, upsert: sampleChangelogUpsert.upsert } as never), { code: 'SLUICE_ERR_SCHEMA_ENCODE', message: /exactly one/ })
    assert.throws(() => decode(changelogEntryType, changelogEntryType.avro.toBuffer({ ...sampleChangelogCommand, command: null })), { code: 'SLUICE_ERR_SCHEMA_DECODE', message: /exactly one/ })
    assertRoundTrip(compressorStateType, sampleCompressorState)
    assertRoundTrip(compressorStateType, { ...sampleCompressorState, algorithm: 'NONE', lastSeen: null, slopes: null })
    assertRoundTrip(cdcEventType, sampleCdcEvent)
    assertRoundTrip(cdcEventType, sampleCdcDelete)
    assertRoundTrip(cdcEventType, { ...sampleCdcDelete, op: 'u', command: { ...sampleCdcDelete.command!, kind: 'UPDATE_TAGS', set: [{ name: 'host', value: 'c' }] } })
    assertRoundTrip(cdcEventType, { ...sampleCdcDelete, op: 'u', command: { ...sampleCdcDelete.command!, kind: 'UPDATE_EXPRESSIONS', expressions: [{ name: 'f', type: 'float', expression: '("f" * 1.8)' }] } })
  })

  it('keeps 64-bit longs exact where avsc\'s default long throws', () => {
    const plainAvsc = avro.Type.forSchema(JSON.parse(ingestBatchType.schema))
    assert.throws(() => plainAvsc.toBuffer({ ...sampleBatch, points: [], receivedAtNs: Number(sampleBatch.receivedAtNs) }))
    const bytes = encode(ingestBatchType, sampleBatch)
    assert.throws(() => plainAvsc.fromBuffer(bytes), /precision loss/)
    const decoded = decode(ingestBatchType, bytes)
    assert.equal(decoded.points[0]!.timeNs, 1_700_000_000_123_456_789n)
    assert.equal(decoded.points[0]!.fields[1]!.value, -(2n ** 63n))
    assert.deepEqual(decoded.points[0]!.fields[2]!.value, { unsigned: 2n ** 64n - 1n })
  })

  it('rejects values that do not match, naming the path', () => {
    assert.throws(() => encode(compressorStateType, { ...sampleCompressorState, pointsIn: 5 as unknown as bigint }),
      (error: Error & { code?: string }) => error.code === 'SLUICE_ERR_SCHEMA_ENCODE' && /pointsIn/.test(error.message))
    assert.throws(() => encode(ingestCommandType, { ...sampleCommand, kind: 'TRUNCATE' as never }),
      (error: Error & { code?: string }) => error.code === 'SLUICE_ERR_SCHEMA_ENCODE' && /kind/.test(error.message))
    assert.throws(() => encode(compressorStateType, { ...sampleCompressorState, pointsIn: 2n ** 63n }), { code: 'SLUICE_ERR_SCHEMA_ENCODE' })
  })

  it('maps each Sluice topic to its value schema', () => {
    assert.equal(topicValueSubjects['sluice.ingest-value'], ingestRecordType)
    assert.equal(topicValueSubjects['sluice.changelog-value'], changelogEntryType)
    assert.equal(topicValueSubjects['sluice.state-value'], compressorStateType)
    assert.equal(topicValueSubjects['sluice.cdc-value'], cdcEventType)
  })
})
