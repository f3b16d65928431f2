// Errors of the files, uploads and mods routes. Their codes, statuses and messages are a section
// of the agent's one catalog (../errors.ts); this module keeps the FileError name and its codes.
import { CatalogError, type FileErrorCode } from '../errors.ts'

export type { FileErrorCode }

export class FileError extends CatalogError<FileErrorCode> {
  constructor(code: FileErrorCode, specific?: string) {
    super(code, specific)
    this.name = 'FileError'
  }
}
