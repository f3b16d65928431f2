// Builders of hostile test archives. Real archivers refuse to write most of these entries
// (../ names, absolute paths, links to /etc/passwd, devices), so the bytes are laid out here by
// hand: zip (stored or deflated) and ustar tar, optionally gzipped. A zip entry's header can be
// made to lie about its data (sizes, crc, the compressed bytes themselves) for fuzzing.
import { crc32, deflateRawSync, gzipSync } from 'node:zlib'

export interface ZipEntrySpec {
  name: string
  data?: string | Buffer
  mode?: number
  /** 0 stored (default), 8 deflated */
  method?: 0 | 8
  /** the bytes stored for the entry instead of `data` (stored) or deflate(`data`) */
  rawData?: Buffer
  /** the uncompressed size both headers declare, instead of the real one */
  declaredSize?: number
  /** the compressed size both headers declare, instead of the real one */
  declaredCompressedSize?: number
}

export function buildZip(entries: ZipEntrySpec[]): Buffer {
  const locals: Buffer[] = []
  const centrals: Buffer[] = []
  let offset = 0
  for (const e of entries) {
    const name = Buffer.from(e.name, 'utf8')
    const data = Buffer.isBuffer(e.data) ? e.data : Buffer.from(e.data ?? '', 'utf8')
    const crc = crc32(data)
    const method = e.method ?? 0
    const stored = e.rawData ?? (method === 8 ? deflateRawSync(data) : data)
    const size = e.declaredSize ?? data.length
    const csize = e.declaredCompressedSize ?? stored.length
    const local = Buffer.alloc(30)
    local.writeUInt32LE(0x04034b50, 0)
    local.writeUInt16LE(20, 4)
    local.writeUInt16LE(0x0800, 6) // UTF-8 names
    local.writeUInt16LE(method, 8)
    local.writeUInt16LE(0, 10)
    local.writeUInt16LE(0x21, 12)
    local.writeUInt32LE(crc, 14)
    local.writeUInt32LE(csize, 18)
    local.writeUInt32LE(size, 22)
    local.writeUInt16LE(name.length, 26)
    local.writeUInt16LE(0, 28)
    const central = Buffer.alloc(46)
    central.writeUInt32LE(0x02014b50, 0)
    central.writeUInt16LE((3 << 8) | 20, 4) // made by unix: external attributes hold the mode
    central.writeUInt16LE(20, 6)
    central.writeUInt16LE(0x0800, 8)
    central.writeUInt16LE(method, 10)
    central.writeUInt16LE(0, 12)
    central.writeUInt16LE(0x21, 14)
    central.writeUInt32LE(crc, 16)
    central.writeUInt32LE(csize, 20)
    central.writeUInt32LE(size, 24)
    central.writeUInt16LE(name.length, 28)
    central.writeUInt32LE(((e.mode ?? (e.name.endsWith('/') ? 0o040755 : 0o100644)) << 16) >>> 0, 38)
    central.writeUInt32LE(offset, 42)
    locals.push(local, name, stored)
    centrals.push(central, name)
    offset += local.length + name.length + stored.length
  }
  const cd = Buffer.concat(centrals)
  const eocd = Buffer.alloc(22)
  eocd.writeUInt32LE(0x06054b50, 0)
  eocd.writeUInt16LE(entries.length, 8)
  eocd.writeUInt16LE(entries.length, 10)
  eocd.writeUInt32LE(cd.length, 12)
  eocd.writeUInt32LE(offset, 16)
  return Buffer.concat([...locals, cd, eocd])
}

export interface TarEntrySpec {
  name: string
  data?: string | Buffer
  type?: '0' | '1' | '2' | '3' | '4' | '5' | '6'
  linkname?: string
  mode?: number
}

function octal(n: number, width: number): string {
  return `${n.toString(8).padStart(width - 1, '0')}\0`
}

export function buildTar(entries: TarEntrySpec[], gzip = true): Buffer {
  const blocks: Buffer[] = []
  for (const e of entries) {
    const data = Buffer.isBuffer(e.data) ? e.data : Buffer.from(e.data ?? '', 'utf8')
    const type = e.type ?? '0'
    const h = Buffer.alloc(512)
    h.write(e.name, 0, 100, 'utf8')
    h.write(octal(e.mode ?? (type === '5' ? 0o755 : 0o644), 8), 100, 'ascii')
    h.write(octal(0, 8), 108, 'ascii')
    h.write(octal(0, 8), 116, 'ascii')
    h.write(octal(type === '0' ? data.length : 0, 12), 124, 'ascii')
    h.write(octal(1_700_000_000, 12), 136, 'ascii')
    h.write('        ', 148, 'ascii')
    h.write(type, 156, 'ascii')
    if (e.linkname) h.write(e.linkname, 157, 100, 'utf8')
    h.write('ustar\0', 257, 'ascii')
    h.write('00', 263, 'ascii')
    let sum = 0
    for (const b of h) sum += b
    h.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 'ascii')
    blocks.push(h)
    if (type === '0' && data.length > 0) {
      blocks.push(data, Buffer.alloc((512 - (data.length % 512)) % 512))
    }
  }
  blocks.push(Buffer.alloc(1024))
  const tar = Buffer.concat(blocks)
  return gzip ? gzipSync(tar) : tar
}
