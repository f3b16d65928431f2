// Port choice for the all-in-one start: reuse the port of the previous start when it is free (so
// URLs and kubeconfigs stay valid across restarts), else let the kernel pick one.
import { createServer } from 'node:net'

export function portFree(port: number, host = '127.0.0.1'): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = createServer()
    probe.once('error', () => resolve(false))
    probe.listen(port, host, () => probe.close(() => resolve(true)))
  })
}

/** `preferred` when free on `host`, else 0 (any). */
export async function reusablePort(preferred: number | undefined, host = '127.0.0.1'): Promise<number> {
  if (preferred !== undefined && preferred > 0 && (await portFree(preferred, host))) return preferred
  return 0
}
