// Test helpers for `zlh artifacts …`: the real CLI as a child process of the pinned Node.
import { spawn, type ChildProcess } from 'node:child_process'
import { createHash } from 'node:crypto'
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import type { Test } from 'tap'

export const BIN = join(import.meta.dirname, '..', '..', '..', 'bin', 'zlh.js')

export interface Run {
  code: number | null
  stdout: string
  stderr: string
}

/** Runs `zlh …args` to completion (bounded: 240 s). */
export function zlh(args: string[], env: Record<string, string> = {}): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString()
    })
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString()
    })
    const timer = setTimeout(() => {
      child.kill('SIGKILL')
      reject(new Error(`zlh ${args.join(' ')} did not finish in 240 s`))
    }, 240_000)
    child.on('close', (code) => {
      clearTimeout(timer)
      resolve({ code, stdout, stderr })
    })
  })
}

/** A runtime tree like an operator's JDK: bin/<cmd> printing the version. */
export function operatorTree(root: string, name: string, version: string): string {
  const tree = join(root, `${name}-${version}`)
  mkdirSync(join(tree, 'bin'), { recursive: true })
  writeFileSync(join(tree, 'bin', name), `#!/bin/sh\necho ${version}\n`)
  chmodSync(join(tree, 'bin', name), 0o755)
  mkdirSync(join(tree, 'lib'))
  writeFileSync(join(tree, 'lib', 'data'), `${name} ${version}\n`)
  return tree
}

export const sha256File = (file: string): string => createHash('sha256').update(readFileSync(file)).digest('hex')

export interface Served {
  child: ChildProcess
  port: number
  log: () => string
}

/** `zlh artifacts serve …` on a random loopback port; stopped (SIGTERM) at teardown. */
export async function serve(t: Test, dir: string, extra: string[] = []): Promise<Served> {
  const child = spawn(process.execPath, [BIN, 'artifacts', 'serve', '--dir', dir, '--listen', '127.0.0.1:0', ...extra], {
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let out = ''
  child.stdout!.on('data', (d: Buffer) => {
    out += d.toString()
  })
  child.stderr!.on('data', (d: Buffer) => {
    out += d.toString()
  })
  t.teardown(
    () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) {
          resolve()
          return
        }
        child.once('exit', () => resolve())
        child.kill('SIGTERM')
      }),
  )
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`artifact server did not start: ${out}`)), 30_000)
    const look = (): void => {
      const m = /"url":"http:\/\/127\.0\.0\.1:(\d+)"/.exec(out)
      if (m) {
        clearTimeout(timer)
        resolve(Number(m[1]))
      }
    }
    child.stdout!.on('data', look)
    child.once('exit', (code) => {
      clearTimeout(timer)
      reject(new Error(`artifact server exited ${code}: ${out}`))
    })
  })
  return { child, port, log: () => out }
}
