// The two references the line protocol benchmarks measure in the same run as Sluice's parser: the
// machine's ceiling for touching every line of a body, and a naive split-and-regex parser.

/** The ceiling: find every line with Buffer.indexOf and read one byte of each. */
export function indexOfScan(body: Buffer): number {
  let lines = 0
  let sum = 0
  for (let pos = 0; pos < body.length;) {
    const newline = body.indexOf(10, pos)
    const end = newline === -1 ? body.length : newline
    sum += body[pos]!
    lines++
    pos = end + 1
  }
  if (sum < 0) throw new Error('unreachable')
  return lines
}

/** The naive reference: decode, split lines, a regular expression per line, an object per point. */
const naiveLine = /^([^, ]+)((?:,[^=, ]+=[^, ]+)*) ([^ ]+)(?: (-?\d+))?$/
export function naiveParse(body: Buffer): number {
  const points: Array<{ measurement: string; tags: Record<string, string>; fields: Record<string, number | string | boolean>; time: bigint }> = []
  for (const line of body.toString('utf8').split('\n')) {
    if (line === '' || line.startsWith('#')) continue
    const match = naiveLine.exec(line)
    if (!match) continue
    const tags: Record<string, string> = {}
    for (const pair of match[2]!.split(',').slice(1)) { const [k, v] = pair.split('='); tags[k!] = v! }
    const fields: Record<string, number | string | boolean> = {}
    for (const pair of match[3]!.split(',')) {
      const [k, v] = pair.split('=') as [string, string]
      fields[k] = v.endsWith('i') ? Number(v.slice(0, -1)) : v === 'true' ? true : v === 'false' ? false : Number(v)
    }
    points.push({ measurement: match[1]!, tags, fields, time: BigInt(match[4] ?? 0) })
  }
  return points.length
}
