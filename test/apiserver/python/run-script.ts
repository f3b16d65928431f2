// Runs a script of fixtures/ with Debian's python3-kubernetes (/usr/bin/python3: a pyenv or venv
// python3 on PATH may lack it; .ci/run installs the package) and returns its output lines. The
// test fails naming the package when it is missing, and with the script's last error lines when
// it exits non-zero.
import type { Test } from 'tap'
import { execFile } from 'node:child_process'
import { join } from 'node:path'

const PYTHON = '/usr/bin/python3'

export async function runPythonScript(
  t: Test,
  script: string,
  args: string[],
  opts: { home: string; timeoutMs?: number },
): Promise<string[]> {
  const run = await new Promise<{ code: number | null; out: string; err: string }>((resolve) => {
    execFile(
      PYTHON,
      [join(import.meta.dirname, 'fixtures', script), ...args],
      { timeout: opts.timeoutMs ?? 60_000, env: { PATH: '/usr/bin:/bin', HOME: opts.home } },
      (e, out, err) => resolve({ code: e ? (typeof e.code === 'number' ? e.code : 1) : 0, out, err }),
    )
  })
  if (/No module named 'kubernetes'/.test(run.err))
    t.fail('python3-kubernetes is not installed: apt-get install python3-kubernetes (.ci/run does)')
  t.equal(
    run.code,
    0,
    `the script ran: ${run.err
      .split('\n')
      .filter((l) => !/Warning/.test(l))
      .slice(-4)
      .join(' | ')}`,
  )
  return run.out.trim().split('\n')
}
