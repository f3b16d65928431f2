// The agent's host-wide dev environment changes, for real inside an LXC container: the real agent
// (started by the container's init with root `/`, as on Proxmox) creates the `dev` user, gives it
// /home/dev/workspace and writes the profile.d script; a runtime installed through POST /runtimes
// from an artifact server on the provider's bridge lands on the dev user's login-shell PATH; and
// code-server (a busybox stand-in) runs as the dev user in /home/dev/workspace with that PATH.
// Everything is checked from inside the container with lxc-attach; the host's users are never
// touched. Needs root and the lxc + busybox-static packages (CI has both); the container, the
// bridge and the lxcpath are removed even when an assertion fails.
import t from 'tap'
import { execFileSync } from 'node:child_process'
import { existsSync, mkdtempSync, rmSync } from 'node:fs'
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { LxcBackend, listLxcNames } from '../../../src/providers/lxc/index.ts'
import { waitForAgent } from '../../../src/providers/index.ts'
import type { ContainerSpec } from '../../../src/providers/types.ts'
import { runtimeTarball, sha256, tarball } from '../artifacts.ts'

const projectDir = resolve(import.meta.dirname, '../../..')
const lxcAvailable = process.getuid?.() === 0 && existsSync('/usr/bin/lxc-create')
if (!lxcAvailable) t.plan(0, 'needs root and the lxc package (apt-get install -y lxc busybox-static)')

// A bridge and subnet of its own, so it never meets the provider tests' containers.
const bridge = 'zlhtst6'
const hostAddress = '10.213.96.1'
const subnet = '10.213.96.0/24'

/** Runs a busybox shell script inside the container as root; returns stdout (throws on failure). */
const attach = (lxcpath: string, vmid: number, script: string): string =>
  execFileSync('lxc-attach', ['-P', lxcpath, '-n', `zlh-${vmid}`, '--', '/bin/sh', '-c', script], { encoding: 'utf8', timeout: 30_000 })

/** Serves one artifact on the bridge's host address (the only host address the container can reach). */
async function serveOnBridge(name: string, body: Buffer): Promise<{ url: string; hits: () => number; close: () => Promise<void> }> {
  let hits = 0
  const server = http.createServer((req, res) => {
    if (req.url !== `/${name}`) return void res.writeHead(404).end('not found')
    hits++
    res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': body.length }).end(body)
  })
  await new Promise<void>((ok, fail) => {
    server.once('error', fail)
    server.listen(0, hostAddress, ok)
  })
  const port = (server.address() as AddressInfo).port
  return {
    url: `http://${hostAddress}:${port}/${name}`,
    hits: () => hits,
    close: () =>
      new Promise<void>((ok) => {
        server.closeAllConnections()
        server.close(() => ok())
      }),
  }
}

if (lxcAvailable) {
  const lxcpath = mkdtempSync(join(tmpdir(), 'zlh-lxc-devenv-'))
  const provider = new LxcBackend({ lxcpath, bridge, subnet, projectDir })
  // Last resort only (the checks below run after the provider's own delete): nothing may survive.
  t.teardown(async () => {
    for (const name of await listLxcNames(lxcpath)) execFileSync('lxc-destroy', ['-P', lxcpath, '-n', name, '-f'])
    // Absent when ensure failed before creating it; the lxcpath goes either way.
    if (existsSync(`/sys/class/net/${bridge}`)) execFileSync('ip', ['link', 'del', 'dev', bridge], { stdio: 'ignore' })
    rmSync(lxcpath, { recursive: true, force: true })
  })

  t.test('dev user, workspace, profile script and runtime PATH inside a real LXC container', async (t) => {
    const ownerUid = '06060606-0000-4000-8000-0000000d0e0f'
    const spec: ContainerSpec = {
      identity: { ownerUid, kind: 'DevServer', namespace: 'default', name: 'devenv-lxc' },
      resources: { cores: 1, memoryMiB: 256, diskGiB: 1 },
      agent: { token: `lxc-devenv-token-${ownerUid}` },
    }
    const closers: Array<() => Promise<void>> = []
    // Registered before anything is created, so a failure at any later step still deletes it.
    t.teardown(async () => {
      for (const close of closers) await close().catch(() => undefined)
      await provider.delete({ ownerUid })
    })

    const container = await provider.ensure(spec)
    await provider.start({ ownerUid })
    const { vmid, agentUrl } = container
    if (agentUrl === undefined) throw new Error('the lxc provider reported no agentUrl for the container')
    const probe = await waitForAgent(agentUrl, spec.agent.token, 60_000)
    const status = probe.body as {
      provisioningComplete: boolean
      devEnv: { hostChanges: string; profileScript: string; workspace: string } | null
    }
    t.equal(status.devEnv?.hostChanges, 'applied', 'the agent applied host-wide changes (root / and uid 0 inside the container)')
    t.equal(status.devEnv?.workspace, '/home/dev/workspace')
    t.equal(status.devEnv?.profileScript, '/etc/profile.d/zlh-dev-env.sh')

    // The user and its workspace, as seen inside the container.
    const id = attach(lxcpath, vmid, 'id dev')
    t.match(id, /^uid=\d+\(dev\) gid=\d+\(dev\)/, '`id dev` succeeds inside the container')
    t.match(attach(lxcpath, vmid, 'grep "^dev:" /etc/passwd'), /^dev:x:\d+:\d+::\/home\/dev:\/bin\/bash$/m, 'dev has /home/dev and bash')
    t.equal(
      attach(lxcpath, vmid, 'stat -c "%F %U %G" /home/dev/workspace').trim(),
      'directory dev dev',
      'the workspace is a directory owned by dev',
    )
    t.equal(attach(lxcpath, vmid, 'stat -c "%U" /home/dev').trim(), 'dev', 'the home is owned by dev')
    t.match(attach(lxcpath, vmid, 'cat /etc/profile.d/zlh-dev-env.sh'), /^export PATH$/m, 'the profile.d script exists')

    // A tiny runtime from an artifact server on the bridge's host address.
    const artifact = runtimeTarball('zlhtool', '1.0', [], 4 * 1024)
    const server = await serveOnBridge('zlhtool-1.0.tgz', artifact)
    closers.push(server.close)
    const res = await fetch(`${agentUrl}/runtimes`, {
      method: 'POST',
      headers: { authorization: `Bearer ${spec.agent.token}`, 'content-type': 'application/json' },
      // The bridge address is private: allowed only because the source names that very address.
      body: JSON.stringify({
        name: 'zlhtool',
        version: '1.0',
        url: server.url,
        sha256: sha256(artifact),
        verify: { command: ['zlhtool'], expectOutput: 'zlhtool 1.0' },
        outbound: { allowedSources: [`${new URL(server.url).origin}/`] },
      }),
      signal: AbortSignal.timeout(30_000),
    })
    const installed = (await res.json()) as Record<string, unknown>
    t.equal(res.status, 200, `install answered ${JSON.stringify(installed)}`)
    t.match(installed, { name: 'zlhtool', version: '1.0', current: '1.0' })
    t.equal(server.hits(), 1, 'the container downloaded the artifact once')

    const bin = '/opt/zlh/runtimes/zlhtool/current/bin'
    t.match(
      attach(lxcpath, vmid, 'cat /etc/profile.d/zlh-dev-env.sh'),
      `PATH='${bin}:`,
      'the profile.d script puts the runtime first on PATH',
    )
    // A login shell of the dev user (busybox su → the dev user's /bin/bash as a login shell).
    const loginPath = attach(lxcpath, vmid, `su - dev -c 'echo "$PATH"'`).trim()
    t.equal(loginPath.split(':')[0], bin, `the dev login shell's PATH starts with the runtime's bin (${loginPath})`)
    t.equal(
      attach(lxcpath, vmid, `su - dev -c 'echo "$(id -un) $HOME"; zlhtool'`).trim(),
      'dev /home/dev\nzlhtool 1.0',
      'the dev user runs the runtime by name from its login shell',
    )
    t.equal(
      attach(lxcpath, vmid, `su - dev -c 'bash -c "echo \\$PATH"'`).trim().split(':')[0],
      bin,
      'a non-login bash started from that shell keeps the same PATH',
    )

    // code-server, as a busybox stand-in that records who and where it runs and serves /healthz:
    // the agent starts it as the dev user, in the workspace, with the dev environment (what its
    // integrated terminal inherits), and reports /home/dev/workspace as the folder it opens.
    const standIn = [
      '#!/bin/sh',
      'prev=; for a in "$@"; do [ "$prev" = --bind-addr ] && bind="$a"; prev="$a"; folder="$a"; done',
      'dir="$HOME/.cs-standin"; mkdir -p "$dir"',
      `echo '{"status":"alive"}' > "$dir/healthz"`,
      'printf "%s\\n" "$(id -un)" "$(pwd)" "$USER" "$HOME" "$folder" "$PATH" > "$dir/probe"',
      'exec busybox httpd -f -p "$bind" -h "$dir"',
      '',
    ].join('\n')
    const cs = tarball([
      { path: 'code-server-4.0.0-standin/', type: 'dir' },
      { path: 'code-server-4.0.0-standin/bin/', type: 'dir' },
      { path: 'code-server-4.0.0-standin/bin/code-server', content: standIn, mode: 0o755 },
    ])
    const csServer = await serveOnBridge('code-server.tgz', cs)
    closers.push(csServer.close)
    const agentPost = async (path: string, body?: unknown): Promise<{ status: number; json: any }> => {
      const r = await fetch(`${agentUrl}${path}`, {
        method: 'POST',
        headers: { authorization: `Bearer ${spec.agent.token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        signal: AbortSignal.timeout(90_000),
      })
      return { status: r.status, json: await r.json() }
    }
    const csInstall = await agentPost('/runtimes', {
      name: 'code-server',
      version: '4.0.0-standin',
      url: csServer.url,
      sha256: sha256(cs),
      outbound: { allowedSources: [`${new URL(csServer.url).origin}/`] },
    })
    t.equal(csInstall.status, 200, `code-server stand-in installed: ${JSON.stringify(csInstall.json)}`)
    const started = await agentPost('/dev/codeserver/start')
    t.match(started.json, { phase: 'Running', folder: '/home/dev/workspace' }, `code-server started: ${JSON.stringify(started.json)}`)
    const [user, cwd, envUser, home, folder, path] = attach(lxcpath, vmid, 'cat /home/dev/.cs-standin/probe').split('\n')
    t.same(
      [user, cwd, envUser, home, folder],
      ['dev', '/home/dev/workspace', 'dev', '/home/dev', '/home/dev/workspace'],
      'code-server runs as dev (id -un and USER), in the workspace it opens, with the dev HOME',
    )
    t.ok(path?.split(':').includes(bin), `with the dev PATH, runtimes included (${path})`)
    t.equal(attach(lxcpath, vmid, `stat -c %U /proc/${started.json.pid}`).trim(), 'dev', 'the process belongs to dev')
    const reported = (await (await fetch(`${agentUrl}/status`, { headers: { authorization: `Bearer ${spec.agent.token}` } })).json()) as {
      codeServer: { folder?: string }
    }
    t.equal(reported.codeServer.folder, '/home/dev/workspace', 'GET /status reports the folder code-server opens')
  })

  t.test('after the provider deleted it, lxc-ls shows no container of this test', async (t) => {
    t.ok(existsSync(lxcpath), 'the lxcpath is still there to be listed')
    t.same(await listLxcNames(lxcpath), [], 'lxc-ls -P <lxcpath> is empty')
    t.same(await provider.list(), [], 'the provider lists nothing either')
  })
}
