// Uploads: streamed uploads and confined archive extraction, and their route.
export { archiveFormat, entryParts, extractArchive, type ArchiveFormat, type ExtractLimits } from './archive.ts'
export { createUploadRoutes, uploadRoutes, workspaceUploadRoutes, type UploadRoutesOptions } from './routes.ts'
