// The environment this repository's launchers (npm start's script, the integration tests' and the
// benchmarks' process starters) give a Sluice process.
//
// glibc's malloc is asked to back the memory it maps with transparent huge pages
// (GLIBC_TUNABLES=glibc.malloc.hugetlb=1: madvise(MADV_HUGEPAGE) on its heaps, which a kernel whose
// THP mode is "madvise", Debian's default, honours). A node's buffers (request bodies, record
// batches, LZ4 output, typed arrays) come from malloc. A node fills 500 MiB in a bench:e2e day,
// and each fresh 4 KiB page costs a page fault: on a 2-core VM these were 14% of the main thread's
// samples (perf), and the setting halves their count. glibc reads the variable only when a process
// starts, so it is set by whoever starts it; docs/operations.md#malloc-huge-pages says how, and what
// it costs. Other C libraries ignore it. npm start's script does the same in sh: it puts the tunable
// first, and glibc lets a later setting of the same name (an operator's) win.

/** The glibc tunable that asks malloc for transparent huge pages. */
export const MALLOC_HUGE_PAGES_TUNABLE = 'glibc.malloc.hugetlb=1'

/** `tunables` with malloc's huge pages added, unless it sets glibc.malloc.hugetlb already (the operator's choice stands). */
export function withMallocHugePages(tunables: string | undefined): string {
  if (tunables === undefined || tunables === '') return MALLOC_HUGE_PAGES_TUNABLE
  if (tunables.split(':').some(entry => entry.startsWith('glibc.malloc.hugetlb='))) return tunables
  return `${tunables}:${MALLOC_HUGE_PAGES_TUNABLE}`
}

/** The environment of a Sluice child process: this one's, with malloc's huge pages and SLUICE_LOG_LEVEL (default info). */
export function sluiceProcessEnv(env: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  return { ...env, GLIBC_TUNABLES: withMallocHugePages(env.GLIBC_TUNABLES), SLUICE_LOG_LEVEL: env.SLUICE_LOG_LEVEL ?? 'info' }
}
