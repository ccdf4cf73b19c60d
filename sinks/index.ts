// sinks/: where applied changelog data goes. segments/ is the storage every replica holds and
// queries read; cdc/ is the change feed (sluice.cdc and GET /api/v1/changes). Other layers import from here only.

export * from './segments/index.ts'
export * from './cdc/index.ts'
