// Uploads: streamed uploads and confined archive extraction, and their route.
export { archiveFormat, entryParts, extractArchive, type ArchiveFormat, type ExtractLimits } from './archive.ts'
export { createUploadRoutes, uploadRoutes, type UploadRoutesOptions } from './routes.ts'
