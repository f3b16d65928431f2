// Frees the memory of dead Buffers while a stream moves many megabytes through a process.
//
// Why: a stream allocates a fresh Buffer per chunk (socket reads, gunzip output). Its memory is
// freed only when a scavenge collects the Buffer's small JS object, and V8 paces scavenges by JS
// allocation, not by Buffer bytes: during a 100 MiB runtime install the agent held ≈20 MiB of dead
// Buffers at once (bench/footprint.ts). A minor GC every `everyBytes` bounds that to a few chunks,
// for ≈0.2 ms each.
// Assumption: only processes started with --expose-gc (the agent) have `gc`; elsewhere this does
// nothing, so the sources run the same code without the flag.

/** A counter to call with each chunk's length; it runs a minor GC after every `everyBytes`. */
export function deadBufferReleaser(everyBytes = 2 * 1024 * 1024): (bytes: number) => void {
  const collect = globalThis.gc
  if (collect === undefined) return () => {}
  let pending = 0
  return (bytes) => {
    pending += bytes
    if (pending < everyBytes) return
    pending = 0
    collect({ type: 'minor' })
  }
}
