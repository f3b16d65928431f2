// Dev console sessions: a login shell in a PTY (node-pty, from @lydell/node-pty: prebuilt binaries,
// nothing compiled at install) per session, as the `dev` user in the workspace with the dev
// environment (runtime PATH). Viewers join a private session (default)
// or a named shared one (?session=name); every viewer of a session sees the same output.
//
// Guarantees: a session's shell is killed when its last viewer leaves; a viewer that stops
// reading is cut off by the fan-out (bounded memory); when the shell exits, viewers get
// {type:'exit'} and are closed; closeAll() resolves once every shell has exited (SIGHUP, then
// SIGKILL after a grace), so nothing a shell writes on its way out (history) outlives the agent.
// Assumptions: shells run as `dev` only when the agent may switch users (root is `/` and the
// agent runs as uid 0: runAs is set); otherwise as the agent's own user, which is logged once.
import { existsSync } from 'node:fs'
import { randomBytes } from 'node:crypto'
import { createRequire } from 'node:module'
import type { IPty } from '@lydell/node-pty'
import type { WebSocket } from 'ws'
import { ConsoleFanout, parseClientMessage, type FanoutOptions } from './fanout.ts'

type NodePty = typeof import('@lydell/node-pty')
let nodePty: NodePty | undefined
/** node-pty (a native addon, ≈3 MiB of RSS) is loaded by the first dev console session, not by every agent. */
const loadPty = (): NodePty => (nodePty ??= createRequire(import.meta.filename)('@lydell/node-pty') as NodePty)

export interface DevShellOptions {
  cwd: () => string
  env: () => Record<string, string>
  /** uid/gid of dev, or null to run as the agent's own user. */
  runAs: () => { uid: number; gid: number } | null
  shell?: string
  log: { info(obj: object, msg: string): void; warn(obj: object, msg: string): void }
  fanout?: FanoutOptions
}

interface Session {
  name: string
  term: IPty
  fanout: ConsoleFanout
  exited: Promise<void>
}

const SHELL_EXIT_GRACE_MS = 3000

export const SESSION_NAME = /^[A-Za-z0-9_-]{1,64}$/

export class DevConsoleSessions {
  private readonly sessions = new Map<string, Session>()
  private readonly opts: DevShellOptions
  private warnedSelf = false

  constructor(opts: DevShellOptions) {
    this.opts = opts
  }

  get count(): number {
    return this.sessions.size
  }

  /** Attaches a viewer to a named (shared) or new private session. */
  attach(ws: WebSocket, sessionName?: string): void {
    const name = sessionName ?? `private-${randomBytes(6).toString('hex')}`
    const session = this.sessions.get(name) ?? this.open(name)
    session.fanout.add(ws)
    session.fanout.send(ws, { type: 'info', message: `dev console session ${name}` })
    ws.on('message', (raw) => {
      const msg = parseClientMessage(raw)
      if (msg?.type === 'input') session.term.write(msg.data)
      else if (msg?.type === 'resize') session.term.resize(msg.cols, msg.rows)
    })
    ws.on('close', () => {
      if (session.fanout.size === 0 && this.sessions.get(name) === session) this.end(session)
    })
  }

  private open(name: string): Session {
    const shell = this.opts.shell ?? (existsSync('/bin/bash') ? '/bin/bash' : '/bin/sh')
    const runAs = this.opts.runAs()
    if (!runAs && !this.warnedSelf) {
      this.warnedSelf = true
      this.opts.log.info(
        { uid: process.getuid?.() },
        "dev console: shells run as the agent's own user, not dev (the root is not / or the agent is not uid 0)",
      )
    }
    const term = loadPty().spawn(shell, ['-l'], {
      name: 'xterm-256color',
      cols: 80,
      rows: 24,
      cwd: this.opts.cwd(),
      env: { ...this.opts.env(), TERM: 'xterm-256color' },
      ...(runAs ? { uid: runAs.uid, gid: runAs.gid } : {}),
    })
    const fanout = new ConsoleFanout({
      ...this.opts.fanout,
      onSlowViewer: (buffered) => this.opts.log.warn({ session: name, buffered }, 'dev console: cut off a viewer that stopped reading'),
    })
    let markExited!: () => void
    const session: Session = {
      name,
      term,
      fanout,
      exited: new Promise((resolve) => {
        markExited = resolve
      }),
    }
    term.onData((d) => fanout.output(d))
    term.onExit(({ exitCode, signal }) => {
      markExited()
      fanout.broadcast({ type: 'exit', exitCode, signal: signal ? String(signal) : null })
      fanout.closeAll(1000, 'shell exited')
      this.sessions.delete(name)
    })
    this.sessions.set(name, session)
    return session
  }

  private end(session: Session): void {
    this.sessions.delete(session.name)
    try {
      session.term.kill('SIGHUP')
    } catch {
      /* already gone */
    }
  }

  /** Agent shutdown: ends every shell and waits until each has exited. */
  async closeAll(): Promise<void> {
    const ending = [...this.sessions.values()]
    for (const s of ending) {
      s.fanout.closeAll(1001, 'agent shutting down')
      this.end(s)
    }
    const exitedWithin = (ms: number, s: Session): Promise<boolean> =>
      Promise.race([s.exited.then(() => true), new Promise<boolean>((resolve) => setTimeout(resolve, ms, false).unref())])
    await Promise.all(
      ending.map(async (s) => {
        if (await exitedWithin(SHELL_EXIT_GRACE_MS, s)) return
        try {
          s.term.kill('SIGKILL')
        } catch {
          /* already gone */
        }
        await exitedWithin(1000, s)
      }),
    )
  }
}
