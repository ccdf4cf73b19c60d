// Module hooks that run Sluice's TypeScript (registered by ./register.mjs): each `.ts` file is
// transformed by esbuild, types stripped and nothing else. tsx did this before, but its transform
// sets esbuild's keepNames, which wraps every function and arrow in `__name(fn, "name")`, an
// Object.defineProperty each time a closure is created; on the query and write paths that was a
// tenth of the CPU in profiles (docs/benchmarks.md, "The TypeScript loader"). Tests and benchmarks
// still run under tsx (`node --import tsx`); the `sluice` processes and their worker threads run here.

import { readFile } from 'node:fs/promises'
import { fileURLToPath } from 'node:url'
import { transform } from 'esbuild'

/** As tsconfig.json's target ES2022 implies: class fields are defined, not assigned. */
const TRANSFORM = {
  loader: 'ts',
  format: 'esm',
  target: `node${process.versions.node}`,
  sourcemap: 'inline',
  tsconfigRaw: { compilerOptions: { useDefineForClassFields: true } },
}

export async function load(url, context, nextLoad) {
  if (!url.startsWith('file:') || !url.endsWith('.ts')) return nextLoad(url, context)
  const path = fileURLToPath(url)
  const { code } = await transform(await readFile(path, 'utf8'), { ...TRANSFORM, sourcefile: path })
  return { format: 'module', source: code, shortCircuit: true }
}
