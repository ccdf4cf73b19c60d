// sinks/: where applied changelog data goes. segments/ is the storage every replica holds and
// queries read; the CDC sink (change feed) will live beside it. Other layers import from here only.

export * from './segments/index.ts'
