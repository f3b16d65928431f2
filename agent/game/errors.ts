// Errors of the game routes. Their codes, statuses and messages are a section of the agent's one
// catalog (../errors.ts); this module keeps the GameError name and its codes.
import { CatalogError, type GameErrorCode } from '../errors.ts'

export type { GameErrorCode }

export class GameError extends CatalogError<GameErrorCode> {
  constructor(code: GameErrorCode, specific?: string) {
    super(code, specific)
    this.name = 'GameError'
  }
}
