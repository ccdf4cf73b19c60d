// bench:e2e's options for its compare target ("Sluice 1 node (compare)"): V8 flags, `sluice node`
// options and environment variables, each refused without --compare (there is no target to give
// them to) and refused when malformed, with the flag named in the error.

export interface CompareFlags {
  compare?: string
  'compare-v8-flags'?: string
  /** `sluice node` options, split at spaces. */
  'compare-node-args'?: string
  /** NAME=value entries. */
  'compare-env'?: string[]
}

export interface CompareTargetOptions {
  nodeArgs: string[]
  env: Record<string, string>
}

const NEEDS_COMPARE = 'give --compare DIR too (--compare . for this checkout)'

/** The compare target's node arguments and environment, from the command line's flags; throws on a misuse. */
export function compareTargetOptions(flags: CompareFlags): CompareTargetOptions {
  if (flags.compare === undefined) {
    if (flags['compare-v8-flags'] !== undefined) throw new Error(`--compare-v8-flags sets the V8 flags of the compare target: ${NEEDS_COMPARE}`)
    if (flags['compare-node-args'] !== undefined) throw new Error(`--compare-node-args gives the compare target's nodes options: ${NEEDS_COMPARE}`)
    if (flags['compare-env'] !== undefined) throw new Error(`--compare-env sets the environment of the compare target: ${NEEDS_COMPARE}`)
  }
  const nodeArgs = [
    ...(flags['compare-v8-flags'] === undefined ? [] : [`--v8-flags=${flags['compare-v8-flags']}`]),
    ...(flags['compare-node-args'] ?? '').split(' ').filter(arg => arg !== ''),
  ]
  const env = Object.fromEntries((flags['compare-env'] ?? []).map(entry => {
    const at = entry.indexOf('=')
    if (at <= 0) throw new Error(`--compare-env ${entry}: give NAME=value`)
    return [entry.slice(0, at), entry.slice(at + 1)]
  }))
  return { nodeArgs, env }
}
