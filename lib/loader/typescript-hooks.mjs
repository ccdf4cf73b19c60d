// Module hooks that run Sluice's TypeScript (registered by ./register.mjs): each `.ts` file is
// transformed by esbuild, types stripped and nothing else. tsx did this before, but its transform
// sets esbuild's keepNames, which wraps every function and arrow in `__name(fn, "name")`, an
// Object.defineProperty each time a closure is created: 10-20% of the samples of a query in
// profiles. Tests and benchmarks still run under tsx (`node --import tsx`); the `sluice`
// processes and their worker threads run here.
//
// Transformed files are kept in the system's temp directory by a hash of their text (and of
// esbuild's version), so a process starts without esbuild's service when nothing changed.

import { createHash } from 'node:crypto'
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { transform, version } from 'esbuild'

/** As tsconfig.json's target ES2022 implies: class fields are defined, not assigned. */
const TRANSFORM = {
  loader: 'ts',
  format: 'esm',
  target: `node${process.versions.node.split('.')[0]}`,
  sourcemap: 'inline',
  tsconfigRaw: { compilerOptions: { useDefineForClassFields: true } },
}
const CACHE_DIR = join(tmpdir(), `sluice-typescript-${version}`)

export async function load(url, context, nextLoad) {
  if (!url.startsWith('file:') || !url.endsWith('.ts')) return nextLoad(url, context)
  const path = fileURLToPath(url)
  const source = await readFile(path, 'utf8')
  const hash = createHash('sha256').update(JSON.stringify(TRANSFORM)).update('\0').update(path).update('\0').update(source).digest('hex')
  const cached = join(CACHE_DIR, `${hash}.mjs`)
  const kept = await readFile(cached, 'utf8').catch(() => null)
  if (kept !== null) return { format: 'module', source: kept, shortCircuit: true }
  const { code } = await transform(source, { ...TRANSFORM, sourcefile: path })
  await keep(cached, code)
  return { format: 'module', source: code, shortCircuit: true }
}

/** Writes a transformed file for the next start; a failure (read-only temp, full disk) only costs that. */
async function keep(file, code) {
  try {
    await mkdir(CACHE_DIR, { recursive: true })
    const partial = `${file}.${process.pid}.${Math.random().toString(36).slice(2)}`
    await writeFile(partial, code)
    await rename(partial, file)
  } catch {
    // The next start transforms the file again.
  }
}
