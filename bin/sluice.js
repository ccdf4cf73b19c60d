#!/usr/bin/env node
// The `sluice` command: registers the TypeScript loader (lib/loader), then runs the CLI written in TypeScript.
import '../lib/loader/register.mjs'

await import('./cli.ts')
