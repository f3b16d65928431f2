// The servers the signed-in token sees, kept live from the portal's event stream: the snapshot
// after each (re)connect replaces everything (level-based), each status change updates one entry.
// Specs (runtime, package: not part of the status view) come from GET /api/game and /api/dev,
// read after each snapshot and for servers that appear later.

import { useEffect, useState } from 'preact/hooks'
import { api, followEvents, serverPath } from './api.js'

/** @typedef {{name: string, namespace: string, kind: 'GameServer'|'DevServer', phase: string, ready: boolean, vmid: number|null, address: string|null, restarts: number, lastCrash: any, ide: {url: string}|null, players?: any, sleep?: any, conditions: any[], upToDate: boolean}} StatusView */

const keyOf = (kind, namespace, name) => `${kind}/${namespace}/${name}`

const state = {
  /** @type {Map<string, StatusView>} */
  servers: new Map(),
  /** @type {Map<string, any>} spec by key */
  specs: new Map(),
  /** 'connecting' | 'live' | 'offline' | 'refused' */
  connection: 'connecting',
  retryInMs: 0,
  /** True once the first snapshot arrived. */
  loaded: false,
  error: '',
}
const listeners = new Set()
const notify = () => {
  for (const l of listeners) l()
}
let stop = null

async function loadSpecs() {
  try {
    const [game, dev] = await Promise.all([api('GET', '/api/game'), api('GET', '/api/dev')])
    for (const item of [...game.items, ...dev.items]) state.specs.set(keyOf(item.kind, item.namespace, item.name), item.spec)
    state.error = ''
  } catch (err) {
    state.error = `Could not read the servers' specs: ${err.message}`
  }
  notify()
}

async function loadSpec(view) {
  try {
    const item = await api('GET', serverPath(view.kind, view.namespace, view.name))
    state.specs.set(keyOf(item.kind, item.namespace, item.name), item.spec)
    notify()
  } catch {
    /* gone again, or not readable: the row shows no spec */
  }
}

/** Starts following the event stream (idempotent). */
export function startServers() {
  if (stop) return
  stop = followEvents({
    onSnapshot(items) {
      state.servers = new Map(items.map((v) => [keyOf(v.kind, v.namespace, v.name), v]))
      state.loaded = true
      notify()
      loadSpecs()
    },
    onChange({ type, server }) {
      const key = keyOf(server.kind, server.namespace, server.name)
      if (type === 'deleted') {
        state.servers.delete(key)
        state.specs.delete(key)
      } else {
        const known = state.servers.has(key)
        state.servers.set(key, server)
        if (!known || !server.upToDate) loadSpec(server)
      }
      notify()
    },
    onState(connection, retryInMs = 0, message = '') {
      state.connection = connection
      state.retryInMs = retryInMs
      if (connection === 'refused') {
        state.loaded = true
        state.error = `The server list is not available to this token: ${message}`
      }
      notify()
    },
  })
}

/** Stops following and forgets everything (sign-out). */
export function stopServers() {
  stop?.()
  stop = null
  state.servers = new Map()
  state.specs = new Map()
  state.loaded = false
  state.connection = 'connecting'
  notify()
}

/** Records a spec the caller just wrote (the form's answer). */
export function rememberSpec(item) {
  state.specs.set(keyOf(item.kind, item.namespace, item.name), item.spec)
  notify()
}

/** Re-renders the calling component on every change; returns the store. */
export function useServers() {
  const [, setTick] = useState(0)
  useEffect(() => {
    const l = () => setTick((n) => n + 1)
    listeners.add(l)
    return () => listeners.delete(l)
  }, [])
  return state
}

export function serverOf(kind, namespace, name) {
  return state.servers.get(keyOf(kind, namespace, name))
}

export function specOf(kind, namespace, name) {
  return state.specs.get(keyOf(kind, namespace, name))
}
