// Files: confined access to the game server's root, and its routes.
export { ConfinedRoot, splitPath, removeTree, sizeLimit, at } from './confined-fs.ts'
export { FileError, type FileErrorCode } from './errors.ts'
export { createFileRoutes, fileRoutes, workspaceFileRoutes, type FileArea, type FileRoutesOptions } from './routes.ts'
