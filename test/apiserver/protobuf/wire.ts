// Test helper: writes Kubernetes protobuf bodies ("k8s\0" + runtime.Unknown{typeMeta, raw}) field by
// field, with the k8s.io/api generated.proto field numbers, as client-go's typed clients send them.

function varint(v: number | bigint): Buffer {
  let n = BigInt.asUintN(64, BigInt(v))
  const out: number[] = []
  do {
    let b = Number(n & 0x7fn)
    n >>= 7n
    if (n > 0n) b |= 0x80
    out.push(b)
  } while (n > 0n)
  return Buffer.from(out)
}

const lengthDelimited = (n: number, b: Buffer): Buffer => Buffer.concat([varint((n << 3) | 2), varint(b.length), b])
export const str = (n: number, s: string): Buffer => lengthDelimited(n, Buffer.from(s, 'utf8'))
export const msg = (n: number, ...parts: Buffer[]): Buffer => lengthDelimited(n, Buffer.concat(parts))
export const int = (n: number, v: number): Buffer => Buffer.concat([varint(n << 3), varint(v)])
export const bool = (n: number, v: boolean): Buffer => int(n, v ? 1 : 0)
/** metav1.Time / MicroTime: {seconds = 1, nanos = 2}. */
export const time = (n: number, d: Date, nanos = 0): Buffer => msg(n, int(1, Math.floor(d.getTime() / 1000)), int(2, nanos))

/** The envelope around an object's fields. */
export function envelope(apiVersion: string, kind: string, ...fields: Buffer[]): Buffer {
  return Buffer.concat([Buffer.from('k8s\0', 'latin1'), msg(1, str(1, apiVersion), str(2, kind)), msg(2, ...fields), str(3, ''), str(4, '')])
}
