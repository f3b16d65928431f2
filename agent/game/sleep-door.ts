// The front door a sleeping game leaves on its port (process-level sleep): a Minecraft
// server-list ping gets "<motd> — sleeping, join to wake"; a login (wake onConnect) wakes the
// game and the player is held, then proxied to it through the agent once it answers; with wake
// never the login is told to ask the operator. The protocol itself is the platform's
// (src/platform/game-protocol); this module only says what a sleeping game answers.
//
// Expected flow: open() while asleep → release() when the game wakes (the port is handed back to
// the game; held and proxied players stay connected through the released door) → close() at
// shutdown or when the game is stopped for good.
// Guarantees: at most one door listens at a time per SleepDoors; a released door is closed once
// its connections are gone (checked at the next open/release) or at closeAll().
import type { AddressInfo } from 'node:net'
import type { Backend, FrontDoorOptions } from '../../src/platform/game-protocol/types.ts'
import { sleepingMotd } from './idle.ts'

/** What the platform's createMinecraftFrontDoor returns, as far as the agent uses it. */
export interface MinecraftDoor {
  listen(port: number, host?: string): Promise<AddressInfo>
  stopListening(): Promise<void>
  close(): Promise<void>
  readonly connections: number
}

export type DoorFactory = (options: FrontDoorOptions) => MinecraftDoor

export interface SleepingAnswer {
  /** The game's own MOTD when it was last seen. */
  gameMotd: string | null
  maxPlayers?: number
  wake: 'onConnect' | 'never'
  /** Wakes the game and resolves with where it answers, or undefined when it did not in time. */
  onLogin: () => Promise<Backend | undefined>
}

const BIND_ATTEMPTS = 10
const BIND_RETRY_MS = 300

export const RETRY_AFTER_WAKE = 'The server is waking up; join again in a few seconds.'
export const ASK_OPERATOR = 'This server is asleep and does not wake on join; ask its operator to start it.'

export class SleepDoors {
  readonly #createDoor: DoorFactory
  readonly #holdTimeoutMs: number | undefined
  #listening: MinecraftDoor | null = null
  #released = new Set<MinecraftDoor>()

  constructor(createDoor: DoorFactory, holdTimeoutMs?: number) {
    this.#createDoor = createDoor
    this.#holdTimeoutMs = holdTimeoutMs
  }

  get isOpen(): boolean {
    return this.#listening !== null
  }

  /** Listens on `port` on every interface (as the game does) with the sleeping answer. */
  async open(port: number, answer: SleepingAnswer): Promise<void> {
    await this.release()
    const motd = sleepingMotd(answer.gameMotd, answer.wake)
    const door = this.#createDoor({
      decide: () => ({
        action: 'sleeping',
        motd,
        ...(answer.maxPlayers !== undefined ? { maxPlayers: answer.maxPlayers } : {}),
        ...(answer.wake === 'onConnect' ? { wake: answer.onLogin } : {}),
        retryMessage: answer.wake === 'onConnect' ? RETRY_AFTER_WAKE : ASK_OPERATOR,
      }),
      ...(this.#holdTimeoutMs !== undefined ? { holdTimeoutMs: this.#holdTimeoutMs } : {}),
    })
    // The game's listener has just closed; a child it left behind may hold the port a moment longer.
    for (let attempt = 1; ; attempt++) {
      try {
        await door.listen(port)
        break
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EADDRINUSE' || attempt >= BIND_ATTEMPTS) {
          await door.close().catch(() => undefined)
          throw err
        }
        await new Promise((resolve) => setTimeout(resolve, BIND_RETRY_MS))
      }
    }
    this.#listening = door
  }

  /** Stops listening (the game takes the port back); connections on the door live on. */
  async release(): Promise<void> {
    for (const door of this.#released) {
      if (door.connections === 0) {
        this.#released.delete(door)
        await door.close().catch(() => undefined)
      }
    }
    const door = this.#listening
    if (!door) return
    this.#listening = null
    await door.stopListening().catch(() => undefined)
    this.#released.add(door)
  }

  /** Closes every door and every connection on them. */
  async closeAll(): Promise<void> {
    const doors = [...this.#released, ...(this.#listening ? [this.#listening] : [])]
    this.#listening = null
    this.#released.clear()
    await Promise.all(doors.map((d) => d.close().catch(() => undefined)))
  }
}
