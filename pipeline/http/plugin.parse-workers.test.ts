// The HTTP API tests of plugin.test.ts again, with line protocol parsed and encoded on a ParsePool:
// every answer, partial-write rule and record must be the same as on the request thread.

process.env.SLUICE_TEST_PARSE_WORKERS = '1'
await import('./plugin.test.ts')
