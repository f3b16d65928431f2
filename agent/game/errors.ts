// Error catalog of the game routes: stable codes, HTTP statuses and what to do about them.
import { CatalogError } from '../errors.ts'

export const gameErrors = {
  GAME_NOT_CONFIGURED: { status: 409, message: 'no game spec has been pushed yet: PUT /game with the server and supervision spec first' },
  GAME_SPEC_INVALID: { status: 400, message: 'the game spec is invalid' },
  GAME_NOT_RUNNING: { status: 409, message: 'the game server is not running: POST /game/start first' },
  GAME_CONSOLE_UNAVAILABLE: { status: 503, message: 'the game console is not connected; retry in a moment' },
  CONSOLE_SESSION_INVALID: { status: 400, message: 'a console session name is 1-64 letters, digits, "_" or "-"' },
} as const satisfies Record<string, { status: number; message: string }>

export type GameErrorCode = keyof typeof gameErrors

export class GameError extends CatalogError<GameErrorCode> {
  constructor(code: GameErrorCode, specific?: string) {
    super(gameErrors, code, specific)
    this.name = 'GameError'
  }
}
