// Seeded generators of random and mutated line protocol for the parser's fuzz tests (test support
// only): a small PRNG (so a failing seed replays exactly), valid seed lines covering the grammar,
// and byte-level mutations biased towards the bytes the grammar cares about.

/** mulberry32: tiny, fast, and good enough to spread mutations; deterministic for a seed. */
export class Random {
  private state: number
  constructor(seed: number) { this.state = seed >>> 0 }
  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0
    let t = this.state
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296
  }
  below(n: number): number { return Math.floor(this.next() * n) }
  pick<T>(items: readonly T[]): T { return items[this.below(items.length)]! }
}

/** Valid lines that together touch every part of the grammar. */
export const seedLines: readonly string[] = [
  'cpu,host=a,region=west usage=1.5,count=42i,note="ok",up=true 1700000000000000000',
  'cpu usage=0.5',
  'c\\,pu\\ x,ho\\=st=local\\ host\\,y f\\,x\\=y\\ z=1 1000',
  'm s="quote \\" and backslash \\\\ inside" 1000',
  'm a=1.5e3,b=-0.5,c=.5,d=1.,e=1E+78,f=-0 1000',
  'm max=9223372036854775807i,min=-9223372036854775808i 1000',
  'm a=t,b=F,c=TRUE,d=false 1000',
  'weather,location=us-midwest temperature=82 1465839830100400200',
  'm,t=é v="unicode ü 😀" -1465839830123456789',
  'm v=1 9223372036854775806',
  '"m",t="q" "f"=1 1000',
  'm,tag=a\\b va\\lue=42 1000',
  'disk,path=/var/log,fstype=ext4 used=12345i,free=67890i,used_percent=15.3 1700000000',
  'm v=1   1000   ',
]

/** Bytes mutations insert or substitute: the grammar's special bytes, digits, letters, control bytes, UTF-8 pieces. */
const interesting: readonly number[] = [
  0x20, 0x2c, 0x3d, 0x22, 0x5c, 0x0a, 0x0d, 0x09, 0x23, 0x2e, 0x2d, 0x2b, 0x65, 0x45, 0x69, 0x75, 0x74, 0x66, 0x54, 0x46,
  0x30, 0x31, 0x39, 0x61, 0x7a, 0x00, 0x01, 0x7f, 0xc3, 0xa9, 0xff, 0x80, 0x27,
]

function randomByte(random: Random): number {
  return random.next() < 0.7 ? random.pick(interesting) : random.below(256)
}

/** Applies one to four random byte-level mutations to `input`. */
export function mutate(input: Buffer, random: Random): Buffer {
  let bytes = [...input]
  const count = 1 + random.below(4)
  for (let m = 0; m < count; m++) {
    const at = random.below(bytes.length + 1)
    switch (random.below(7)) {
      case 0: bytes.splice(at, 0, randomByte(random)); break
      case 1: if (bytes.length > 0) bytes.splice(Math.min(at, bytes.length - 1), 1); break
      case 2: if (at < bytes.length) bytes[at] = randomByte(random); break
      case 3: { // duplicate a slice
        const end = Math.min(bytes.length, at + 1 + random.below(12))
        bytes.splice(end, 0, ...bytes.slice(at, end))
        break
      }
      case 4: if (at + 1 < bytes.length) [bytes[at], bytes[at + 1]] = [bytes[at + 1]!, bytes[at]!]; break
      case 5: bytes = bytes.slice(0, at); break
      default: { // a run of digits, as in long numbers and timestamps
        const digits = Array.from({ length: 1 + random.below(24) }, () => 0x30 + random.below(10))
        bytes.splice(at, 0, ...digits)
      }
    }
  }
  return Buffer.from(bytes)
}

/** Random bytes, mostly from the interesting set, up to maxBytes long. */
export function randomBody(random: Random, maxBytes: number): Buffer {
  const length = random.below(maxBytes + 1)
  const out = Buffer.allocUnsafe(length)
  for (let i = 0; i < length; i++) out[i] = randomByte(random)
  return out
}

/** A mutated body: several seed lines (some mutated) joined by newlines. */
export function mutatedBody(random: Random): Buffer {
  const lines = Array.from({ length: 1 + random.below(4) }, () => {
    const line = Buffer.from(random.pick(seedLines))
    return random.next() < 0.8 ? mutate(line, random) : line
  })
  return Buffer.concat(lines.flatMap((line, i) => (i === 0 ? [line] : [Buffer.from('\n'), line])))
}
