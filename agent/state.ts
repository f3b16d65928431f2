// The state hub: components publish their latest state here (`hub.update('game', state)`);
// GET /status reads it and GET /events streams every change.
//
// Guarantees: every update gets a strictly increasing id; subscribers see updates in id order;
// a subscriber that throws is dropped, never breaking the publisher.
// Assumptions: states are JSON-serialisable plain data; publishers pass a fresh object per update
// (the hub keeps the reference it is given).
import type { AgentStateEvent } from '../src/api/agent-types.ts'

export type StateListener = (event: AgentStateEvent) => void

export class StateHub {
  #states = new Map<string, unknown>()
  #listeners = new Set<StateListener>()
  #lastId = 0

  /** Publish a component's new state; notifies every subscriber. */
  update(component: string, state: unknown): AgentStateEvent {
    this.#states.set(component, state)
    const event: AgentStateEvent = { id: ++this.#lastId, component, state, at: new Date().toISOString() }
    for (const listener of this.#listeners) {
      try {
        listener(event)
      } catch {
        this.#listeners.delete(listener)
      }
    }
    return event
  }

  get(component: string): unknown {
    return this.#states.get(component)
  }

  /** All components' latest states and the id of the last update they include. */
  snapshot(): { id: number; components: Record<string, unknown> } {
    return { id: this.#lastId, components: Object.fromEntries(this.#states) }
  }

  /** Subscribe to every later update; returns the unsubscribe function. */
  subscribe(listener: StateListener): () => void {
    this.#listeners.add(listener)
    return () => this.#listeners.delete(listener)
  }

  get lastId(): number {
    return this.#lastId
  }
}
