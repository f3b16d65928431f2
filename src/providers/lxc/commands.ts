// Runs the LXC tools (and iproute2) without a shell: arguments are passed as an array, nothing is
// interpolated, and no secret is ever an argument. Failures become ProviderErrors that carry the
// tool's stderr; a missing tool says which Debian package to install.

import { execFile } from 'node:child_process'
import { ProviderError } from '../errors.ts'

export interface RunResult {
  stdout: string
  stderr: string
  exitCode: number
}

const PACKAGE_OF: Record<string, string> = { ip: 'iproute2', bridge: 'iproute2' }

/** Runs `cmd args`; resolves with the exit code instead of throwing when `allowFailure`. */
export function run(
  cmd: string,
  args: string[],
  options: { timeoutMs?: number; allowFailure?: boolean; input?: string } = {},
): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = execFile(
      cmd,
      args,
      { timeout: options.timeoutMs ?? 60_000, maxBuffer: 4 * 1024 * 1024, env: { ...process.env, LANG: 'C', LC_ALL: 'C' } },
      (err, stdout, stderr) => {
        const code = (err as NodeJS.ErrnoException | null)?.code
        if (code === 'ENOENT') {
          return reject(
            new ProviderError(
              'HostUnsupported',
              `${cmd} is not installed; install the Debian package ${PACKAGE_OF[cmd] ?? 'lxc'} (apt-get install -y lxc busybox-static)`,
              {},
            ),
          )
        }
        const exitCode = err ? (typeof (err as { code?: unknown }).code === 'number' ? (err as unknown as { code: number }).code : -1) : 0
        if (err && (err as { killed?: boolean }).killed) {
          return reject(
            new ProviderError('Timeout', `${cmd} ${args.join(' ')} did not finish within ${options.timeoutMs ?? 60_000} ms`, {}),
          )
        }
        if (exitCode !== 0 && !options.allowFailure) {
          return reject(
            new ProviderError(
              'BackendFailed',
              `${cmd} ${args.join(' ')} failed (exit ${exitCode}): ${stderr.trim().split('\n').slice(-5).join(' | ') || stdout.trim()}`,
              { exitCode, stderr: stderr.slice(-4000) },
            ),
          )
        }
        resolve({ stdout, stderr, exitCode })
      },
    )
    if (options.input !== undefined) child.stdin?.end(options.input)
  })
}
