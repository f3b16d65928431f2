// What extraction needs from an archive format: a scan of every entry that writes nothing (for
// the limits and the entry checks), then the entries again with their data, in the same order.
import type { Readable } from 'node:stream'

export interface RawEntry {
  /** the name as the archive spells it */
  name: string
  kind: 'file' | 'directory' | 'other'
  /** what the archive says the entry is (for error messages) */
  detail: string
  /** the size the archive declares (its data is still counted as it streams) */
  size: number
}

export interface ArchiveReader {
  /**
   * Pass 1: reads every entry's header without writing anything. `announceCount` gets the
   * entry count first where the format states one (zip); `admit` gets each entry and throws to
   * refuse the archive (the scan stops there).
   */
  scan(admit: (entry: RawEntry) => void, announceCount?: (count: number) => void): Promise<void>
  /** Pass 2: each entry again; `open` opens a file entry's data (null for other kinds). */
  extract(onEntry: (entry: RawEntry, open: (() => Promise<Readable>) | null) => Promise<void>): Promise<void>
  close(): Promise<void>
}
