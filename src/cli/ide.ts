// `zlh ide <devserver>`: waits for the DevServer to be Ready (progress), asks the portal API for
// a one-time IDE token (POST /api/dev/:name/ide-token) and prints (or opens) the IDE link. A
// sleeping DevServer (spec.idle) gets its link at once: opening it wakes the DevServer.
// The link carries a short-lived single-use token; the API token itself is never printed.
import { spawn } from 'node:child_process'
import { existsSync, readFileSync } from 'node:fs'
import { Agent, fetch } from 'undici'
import { Progress } from './progress.ts'
import { readRuntime, resolveStateDir, stateLayout } from './state-dir.ts'
import { pkiDir } from './up/tls.ts'

interface Opts {
  stateDir?: string
  namespace?: string
  gateway?: string
  tokenFile?: string
  open?: boolean
  timeout: string
}

export async function ideCommand(name: string, o: Opts): Promise<void> {
  const layout = stateLayout(resolveStateDir(o.stateDir))
  const gateway = o.gateway ?? readRuntime(layout).gatewayUrl
  const tokenFile = o.tokenFile ?? layout.adminTokenFile
  if (gateway === undefined || !existsSync(tokenFile)) {
    console.error(`zlh ide: no running gateway known in ${layout.root}: start the system (npm start) or pass --gateway and --token-file`)
    process.exitCode = 3
    return
  }
  const token = readFileSync(tokenFile, 'utf8').trim()
  const caFile = `${pkiDir(layout.apiserver)}/ca.crt`
  const dispatcher = new Agent({ connect: existsSync(caFile) ? { ca: readFileSync(caFile) } : {} })
  const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json' }
  // Without -n the portal picks the token's home namespace (admin: default).
  const ns = o.namespace === undefined ? '' : `?namespace=${encodeURIComponent(o.namespace)}`
  const deadline = Date.now() + Number(o.timeout) * 1000
  const progress = new Progress()
  try {
    await progress.step(`waiting for DevServer ${name} to be Ready`, async (detail) => {
      for (;;) {
        const r = await fetch(`${gateway}/api/servers/${encodeURIComponent(name)}/status${ns}`, { headers, dispatcher })
        if (r.status === 404)
          throw new Error(`DevServer ${name} not found: kubectl apply -f manifests/examples/devserver.yaml (or name another)`)
        if (r.ok) {
          const body = (await r.json()) as {
            phase?: string
            ready?: boolean
            conditions?: Array<{ type: string; status: string; message?: string }>
          }
          const ready = body.ready === true || body.conditions?.some((c) => c.type === 'Ready' && c.status === 'True')
          if (ready) return
          if (body.phase === 'Sleeping') return detail('asleep: opening the link wakes it')
          const notReady = body.conditions?.find((c) => c.status !== 'True')
          detail(`${body.phase ?? 'Pending'}${notReady?.message ? `: ${notReady.message.slice(0, 80)}` : ''}`)
        } else if (r.status === 401 || r.status === 403)
          throw new Error(`the portal refused the token (${r.status}): pass --token-file with a token that has the ide scope`)
        if (Date.now() > deadline) throw new Error(`not Ready after ${o.timeout}s: kubectl describe devserver ${name}`)
        await new Promise((res) => setTimeout(res, 1000))
      }
    })
    const r = await fetch(`${gateway}/api/dev/${encodeURIComponent(name)}/ide-token${ns}`, {
      method: 'POST',
      headers,
      body: '{}',
      dispatcher,
    })
    const body = (await r.json()) as { url?: string; message?: string; code?: string }
    if (!r.ok || body.url === undefined) throw new Error(`portal said ${r.status} ${body.code ?? ''}: ${body.message ?? ''}`)
    console.log(body.url)
    if (o.open)
      spawn(process.platform === 'darwin' ? 'open' : 'xdg-open', [body.url], { stdio: 'ignore', detached: true })
        .on('error', () => console.error('could not open a browser: open the link above yourself'))
        .unref()
  } catch (err) {
    console.error(`zlh ide: ${(err as Error).message}`)
    process.exitCode = 1
  } finally {
    await dispatcher.close()
  }
}
