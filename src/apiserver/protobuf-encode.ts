// Encoding of responses as Kubernetes protobuf (application/vnd.kubernetes.protobuf), the
// counterpart of protobuf.ts's request decoding and with its schemas: an object or list is the
// "k8s\0" magic + runtime.Unknown{typeMeta, raw}; a watch stream
// (application/vnd.kubernetes.protobuf;stream=watch) is a sequence of frames, each a 4-byte
// big-endian length and a bare metav1.WatchEvent{type, object: RawExtension{raw}} whose raw is the
// object's own envelope, as kube-apiserver's watch encoder writes them.
// Guarantees: only kinds whose schema is complete are encoded (responseSchema); fields are written
// in field-number order and map entries sorted by key, as Go's generated marshallers do.

import { responseSchema, type Kind, type Schema } from './protobuf.ts'

export const PROTOBUF = 'application/vnd.kubernetes.protobuf'
export const PROTOBUF_WATCH = `${PROTOBUF};stream=watch`

function varint(v: bigint): Buffer {
  let n = BigInt.asUintN(64, v)
  const out: number[] = []
  do {
    let b = Number(n & 0x7fn)
    n >>= 7n
    if (n > 0n) b |= 0x80
    out.push(b)
  } while (n > 0n)
  return Buffer.from(out)
}

const tag = (n: number, wire: number): Buffer => varint(BigInt((n << 3) | wire))
const lengthDelimited = (n: number, b: Buffer): Buffer => Buffer.concat([tag(n, 2), varint(BigInt(b.length)), b])

function timeMessage(value: unknown, micro: boolean): Buffer | undefined {
  if (typeof value !== 'string') return undefined
  const ms = Date.parse(value)
  if (Number.isNaN(ms)) return undefined
  const seconds = Math.floor(ms / 1000)
  const frac = micro ? /\.(\d{1,9})/.exec(value)?.[1] : undefined
  const nanos = frac ? Number(frac.padEnd(9, '0')) : 0
  const parts = [Buffer.concat([tag(1, 0), varint(BigInt(seconds))])]
  if (nanos) parts.push(Buffer.concat([tag(2, 0), varint(BigInt(nanos))]))
  return Buffer.concat(parts)
}

function encodeValue(n: number, kind: Kind, value: unknown): Buffer | undefined {
  if (value === undefined || value === null) return undefined
  if (kind === 'string') return lengthDelimited(n, Buffer.from(String(value), 'utf8'))
  if (kind === 'bytes') return lengthDelimited(n, Buffer.from(String(value), 'base64'))
  if (kind === 'int') return typeof value === 'number' ? Buffer.concat([tag(n, 0), varint(BigInt(Math.trunc(value)))]) : undefined
  if (kind === 'bool') return typeof value === 'boolean' ? Buffer.concat([tag(n, 0), varint(value ? 1n : 0n)]) : undefined
  if (kind === 'fieldsV1') return lengthDelimited(n, lengthDelimited(1, Buffer.from(JSON.stringify(value), 'utf8')))
  if (kind === 'time' || kind === 'microtime') {
    const m = timeMessage(value, kind === 'microtime')
    return m && lengthDelimited(n, m)
  }
  if (typeof value !== 'object') return undefined
  if ('msg' in kind) return lengthDelimited(n, encodeMessage(value as Record<string, unknown>, kind.msg))
  const entries = Object.entries(value as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
  return Buffer.concat(
    entries.map(([k, v]) =>
      lengthDelimited(n, Buffer.concat([encodeValue(1, 'string', k)!, encodeValue(2, kind.map, v) ?? Buffer.alloc(0)])),
    ),
  )
}

function encodeMessage(obj: Record<string, unknown>, schema: Schema): Buffer {
  const parts: Buffer[] = []
  for (const n of Object.keys(schema)
    .map(Number)
    .sort((a, b) => a - b)) {
    const field = schema[n]
    const value = obj[field.name]
    if (field.repeated) {
      if (!Array.isArray(value)) continue
      for (const item of value) {
        const b = encodeValue(n, field.kind, item)
        if (b) parts.push(b)
      }
      continue
    }
    const b = encodeValue(n, field.kind, value)
    if (b) parts.push(b)
  }
  return Buffer.concat(parts)
}

/** Whether objects (and lists) of this kind can be answered in protobuf. */
export function canEncodeProtobuf(apiVersion: string, kind: string): boolean {
  return responseSchema(apiVersion, kind) !== undefined
}

/** The "k8s\0"-prefixed envelope of an object or list that carries its apiVersion and kind. */
export function encodeProtobufObject(obj: { apiVersion?: unknown; kind?: unknown; [field: string]: unknown }): Buffer {
  const apiVersion = String(obj.apiVersion ?? '')
  const kind = String(obj.kind ?? '')
  const schema = responseSchema(apiVersion, kind)
  if (!schema) throw new Error(`no protobuf encoding for ${apiVersion}, Kind=${kind}`)
  const raw = encodeMessage(obj as Record<string, unknown>, schema)
  const typeMeta = Buffer.concat([encodeValue(1, 'string', apiVersion)!, encodeValue(2, 'string', kind)!])
  return Buffer.concat([
    Buffer.from('k8s\0', 'latin1'),
    lengthDelimited(1, typeMeta),
    lengthDelimited(2, raw),
    lengthDelimited(3, Buffer.alloc(0)),
    lengthDelimited(4, Buffer.alloc(0)),
  ])
}

/** One length-prefixed frame of a protobuf watch stream. */
export function encodeWatchFrame(type: string, object: Buffer): Buffer {
  const event = Buffer.concat([encodeValue(1, 'string', type)!, lengthDelimited(2, lengthDelimited(1, object))])
  const length = Buffer.alloc(4)
  length.writeUInt32BE(event.length)
  return Buffer.concat([length, event])
}
