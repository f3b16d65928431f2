// `zlh status`: one screen with the control plane (is zlh up running, where) and every game and
// dev server: phase, Ready, restarts, last crash (when, how, classification).
import { existsSync } from 'node:fs'
import { API_VERSION } from '../api/index.ts'
import { Client, type KObject } from '../runtime/index.ts'
import { alive, readRuntime, resolveStateDir, stateLayout } from './state-dir.ts'

interface ServerView extends KObject {
  status?: {
    phase?: string
    vmid?: number
    restarts?: number
    lastCrash?: { time?: string; exitCode?: number; signal?: string; classification?: string }
    conditions?: Array<{ type: string; status: string; reason?: string; message?: string }>
    ide?: { url?: string }
  }
}

export interface StatusRow {
  kind: string
  namespace: string
  name: string
  phase: string
  ready: string
  vmid: string
  restarts: number
  lastCrash: string
  message: string
}

function ago(iso: string | undefined): string {
  if (!iso) return ''
  const s = Math.max(0, Math.round((Date.now() - Date.parse(iso)) / 1000))
  return s < 120 ? `${s}s ago` : s < 7200 ? `${Math.round(s / 60)}m ago` : `${Math.round(s / 3600)}h ago`
}

export function rowOf(kind: string, o: ServerView): StatusRow {
  const st = o.status ?? {}
  const ready = st.conditions?.find((c) => c.type === 'Ready')
  const crash = st.lastCrash
  return {
    kind,
    namespace: o.metadata?.namespace ?? '',
    name: o.metadata?.name ?? '',
    phase: st.phase ?? 'Pending',
    ready: ready?.status ?? 'Unknown',
    vmid: st.vmid === undefined ? '' : String(st.vmid),
    restarts: st.restarts ?? 0,
    lastCrash: crash
      ? `${ago(crash.time)} ${crash.classification ?? ''} ${crash.signal ?? (crash.exitCode !== undefined ? `exit ${crash.exitCode}` : '')}`.trim()
      : '',
    message: ready?.status === 'True' ? (st.ide?.url ?? '') : (ready?.message ?? ''),
  }
}

export function table(rows: string[][]): string {
  const widths = rows[0]?.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length))) ?? []
  return rows
    .map((r) =>
      r
        .map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i] ?? 0)))
        .join('  ')
        .trimEnd(),
    )
    .join('\n')
}

export async function statusCommand(o: { stateDir?: string; kubeconfig?: string; namespace?: string; json?: boolean }): Promise<void> {
  const layout = stateLayout(resolveStateDir(o.stateDir))
  const rt = readRuntime(layout)
  const kubeconfig = o.kubeconfig ?? (existsSync(layout.kubeconfig) ? layout.kubeconfig : process.env.KUBECONFIG)
  const upRunning = alive(rt.pid)
  if (kubeconfig === undefined) {
    console.error(`zlh status: no kubeconfig in ${layout.root} and $KUBECONFIG is unset: start the system (npm start) or pass --kubeconfig`)
    process.exitCode = 3
    return
  }
  let client: Client
  try {
    client = Client.fromKubeConfigFile(kubeconfig)
  } catch (err) {
    console.error(`zlh status: no usable kubeconfig (${(err as Error).message}): start the system (npm start) or pass --kubeconfig`)
    process.exitCode = 3
    return
  }
  const rows: StatusRow[] = []
  try {
    for (const [kind, ref] of [
      ['GameServer', 'GameServer'],
      ['DevServer', 'DevServer'],
    ] as const) {
      const list = await client.list<ServerView>({ apiVersion: API_VERSION, kind: ref }, { namespace: o.namespace })
      for (const item of list.items) rows.push(rowOf(kind, item))
    }
  } catch (err) {
    console.error(`zlh status: cannot reach the API server${kubeconfig ? ` of ${kubeconfig}` : ''}: ${(err as Error).message}`)
    console.error(upRunning ? 'zlh up runs but does not answer: see its logs' : 'start it with npm start (or zlh up), or pass --kubeconfig')
    process.exitCode = 4
    return
  } finally {
    client.close()
  }
  if (o.json) {
    console.log(
      JSON.stringify({
        up: { running: upRunning, pid: rt.pid, apiUrl: rt.apiUrl, gatewayUrl: rt.gatewayUrl, stateDir: layout.root },
        servers: rows,
      }),
    )
    return
  }
  console.log(
    `control plane: ${upRunning ? `running (zlh up pid ${rt.pid})` : 'zlh up not running here'}  API ${rt.apiUrl ?? '-'}  gateway ${rt.gatewayUrl ?? '-'}`,
  )
  if (rows.length === 0) {
    console.log('no servers yet: kubectl apply -f manifests/examples/gameserver.yaml')
    return
  }
  console.log(
    table([
      ['KIND', 'NAMESPACE', 'NAME', 'PHASE', 'READY', 'VMID', 'RESTARTS', 'LAST CRASH', 'MESSAGE'],
      ...rows.map((r) => [r.kind, r.namespace, r.name, r.phase, r.ready, r.vmid, String(r.restarts), r.lastCrash, r.message]),
    ]),
  )
}
