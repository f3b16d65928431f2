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
  return Buffer.concat([
    Buffer.from('k8s\0', 'latin1'),
    msg(1, str(1, apiVersion), str(2, kind)),
    msg(2, ...fields),
    str(3, ''),
    str(4, ''),
  ])
}

/** Reads one message's fields without a schema: field number → its raw values (varints as bigint, the rest as bytes). */
export function fields(buf: Buffer): Map<number, Array<bigint | Buffer>> {
  const out = new Map<number, Array<bigint | Buffer>>()
  let pos = 0
  const varintAt = (): bigint => {
    let result = 0n
    let shift = 0n
    for (;;) {
      const b = buf[pos++]
      if (b === undefined) throw new Error('truncated varint')
      result |= BigInt(b & 0x7f) << shift
      if ((b & 0x80) === 0) return result
      shift += 7n
    }
  }
  while (pos < buf.length) {
    const key = Number(varintAt())
    const wire = key & 7
    let value: bigint | Buffer
    if (wire === 0) value = varintAt()
    else if (wire === 2) {
      const len = Number(varintAt())
      value = buf.subarray(pos, pos + len)
      pos += len
    } else throw new Error(`wire type ${wire} not expected in these messages`)
    const list = out.get(key >> 3) ?? []
    list.push(value)
    out.set(key >> 3, list)
  }
  return out
}

/** A length-delimited field's bytes (the first one). */
export function sub(m: Map<number, Array<bigint | Buffer>>, n: number): Buffer {
  const v = m.get(n)?.[0]
  if (!Buffer.isBuffer(v)) throw new Error(`field ${n} is not length-delimited`)
  return v
}

/** The envelope's apiVersion, kind and raw object fields. */
export function openEnvelope(body: Buffer): { apiVersion: string; kind: string; raw: Map<number, Array<bigint | Buffer>> } {
  if (body.subarray(0, 4).toString('latin1') !== 'k8s\0') throw new Error('no k8s\\0 prefix')
  const unknown = fields(body.subarray(4))
  const typeMeta = fields(sub(unknown, 1))
  return { apiVersion: sub(typeMeta, 1).toString(), kind: sub(typeMeta, 2).toString(), raw: fields(sub(unknown, 2)) }
}
