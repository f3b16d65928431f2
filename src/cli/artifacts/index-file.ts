// The index of an artifact directory (`index.json`, written by `zlh artifacts build`, read by
// `zlh artifacts publish`): which file holds which runtime name and version, its sha256 and size,
// and a fingerprint of what it was built from (so a re-run reuses an artifact only when its
// source is unchanged AND its file still hashes to what was recorded).
// Guarantees: the index is replaced durably and atomically (src/platform/durable-file.ts), so a
// reader sees the old or the new index, never a part.
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { writeFileDurable } from '../../platform/durable-file.ts'
import { RUNTIME_NAME, RUNTIME_VERSION } from './build.ts'

export const INDEX_FILE = 'index.json'
export const ARCHES = ['x64', 'arm64'] as const
export type Arch = (typeof ARCHES)[number]

export interface IndexEntry {
  name: string
  version: string
  arch: Arch
  /** File name inside the directory. */
  file: string
  sha256: string
  sizeBytes: number
  /** What the artifact was built from (a version, a tree's fingerprint); compared on re-runs. */
  source: string
}

interface IndexDocument {
  kind: 'ZlhArtifactIndex'
  apiVersion: 1
  artifacts: IndexEntry[]
}

export class IndexError extends Error {}

/** The entries of DIR/index.json; [] when there is none. A malformed index is an error naming the field. */
export async function readIndex(dir: string): Promise<IndexEntry[]> {
  let text: string
  try {
    text = await readFile(join(dir, INDEX_FILE), 'utf8')
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return []
    throw err
  }
  let doc: unknown
  try {
    doc = JSON.parse(text)
  } catch {
    throw new IndexError(`${join(dir, INDEX_FILE)} is not JSON: remove it and run zlh artifacts build again`)
  }
  const artifacts = (doc as { artifacts?: unknown }).artifacts
  if (!Array.isArray(artifacts))
    throw new IndexError(`${join(dir, INDEX_FILE)} has no artifacts list: remove it and run zlh artifacts build again`)
  return artifacts.map((a, i) => checkEntry(a, `${join(dir, INDEX_FILE)}: artifacts[${i}]`))
}

function checkEntry(raw: unknown, where: string): IndexEntry {
  const a = raw as Partial<IndexEntry>
  const bad = (field: string): never => {
    throw new IndexError(`${where}.${field} is missing or malformed: remove the index and run zlh artifacts build again`)
  }
  if (typeof a.name !== 'string' || !RUNTIME_NAME.test(a.name)) bad('name')
  if (typeof a.version !== 'string' || !RUNTIME_VERSION.test(a.version)) bad('version')
  if (!ARCHES.includes(a.arch as Arch)) bad('arch')
  if (typeof a.file !== 'string' || !/^[A-Za-z0-9][A-Za-z0-9._+-]{0,254}$/.test(a.file)) bad('file')
  if (typeof a.sha256 !== 'string' || !/^[a-f0-9]{64}$/.test(a.sha256)) bad('sha256')
  if (typeof a.sizeBytes !== 'number' || !Number.isSafeInteger(a.sizeBytes) || a.sizeBytes < 1) bad('sizeBytes')
  return {
    name: a.name!,
    version: a.version!,
    arch: a.arch!,
    file: a.file!,
    sha256: a.sha256!,
    sizeBytes: a.sizeBytes!,
    source: typeof a.source === 'string' ? a.source : '',
  }
}

export async function writeIndex(dir: string, entries: IndexEntry[]): Promise<void> {
  const sorted = [...entries].sort(
    (a, b) => a.name.localeCompare(b.name) || a.version.localeCompare(b.version) || a.arch.localeCompare(b.arch),
  )
  const doc: IndexDocument = { kind: 'ZlhArtifactIndex', apiVersion: 1, artifacts: sorted }
  await writeFileDurable(join(dir, INDEX_FILE), `${JSON.stringify(doc, null, 2)}\n`, 0o644)
}
