// Runs a runtime's catalog verify command against the staged (not yet installed) tree.
//
// The command runs with the staged tree as cwd and its bin/ first on PATH, so `["node",
// "--version"]` and `["bin/java", "-version"]` both exercise the new files; it must exit 0
// within the timeout and, when `expectOutput` is set, print it (stdout or stderr).
import { spawn } from 'node:child_process'
import path from 'node:path'
import type { RuntimeVerify } from '../../src/api/agent-types.ts'
import { AgentError } from '../errors.ts'

export interface VerifyOptions {
  tree: string
  verify: RuntimeVerify
  env: Record<string, string>
  timeoutMs?: number
  signal?: AbortSignal
}

const OUTPUT_LIMIT = 64 * 1024

export async function runVerify(opts: VerifyOptions): Promise<{ output: string }> {
  const [cmd, ...args] = opts.verify.command
  if (!cmd) throw new AgentError('BAD_REQUEST', 'verify.command is empty')
  const env = { ...opts.env, PATH: `${path.join(opts.tree, 'bin')}:${opts.env.PATH ?? ''}` }
  const label = opts.verify.command.join(' ')
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd: opts.tree, env, stdio: ['ignore', 'pipe', 'pipe'], signal: opts.signal })
    // Our own timer: spawn's `timeout` option is not cleared when the command cannot start.
    let timedOut = false
    const timer = setTimeout(() => {
      timedOut = true
      child.kill('SIGKILL')
    }, opts.timeoutMs ?? 60_000)
    let output = ''
    const collect = (chunk: Buffer): void => {
      if (output.length < OUTPUT_LIMIT) output += chunk.toString('utf8')
    }
    child.stdout.on('data', collect)
    child.stderr.on('data', collect)
    child.on('error', (err: NodeJS.ErrnoException) => {
      clearTimeout(timer)
      if (err.name === 'AbortError') return reject(new AgentError('INSTALL_ABORTED', 'the verify command was cancelled'))
      reject(
        new AgentError('VERIFY_FAILED', `\`${label}\` could not run (${err.code ?? err.message}); check that the artifact contains it`, {
          output,
        }),
      )
    })
    child.on('close', (code, signal) => {
      clearTimeout(timer)
      const tail = output.slice(-2000)
      if (opts.signal?.aborted) return reject(new AgentError('INSTALL_ABORTED', 'the verify command was cancelled'))
      if (code !== 0)
        return reject(
          new AgentError(
            'VERIFY_FAILED',
            `\`${label}\` ${timedOut ? `did not finish within ${opts.timeoutMs ?? 60_000} ms` : `exited with ${signal ? `signal ${signal}` : `code ${code}`}`}`,
            { output: tail },
          ),
        )
      if (opts.verify.expectOutput !== undefined && !output.includes(opts.verify.expectOutput)) {
        return reject(
          new AgentError('VERIFY_FAILED', `\`${label}\` did not print ${JSON.stringify(opts.verify.expectOutput)}`, { output: tail }),
        )
      }
      resolve({ output: tail })
    })
  })
}
