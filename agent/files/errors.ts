// Error catalog of the files, uploads and mods routes: stable codes, HTTP statuses, what to do.
import { CatalogError } from '../errors.ts'

export const fileErrors = {
  FILE_PATH_NUL_BYTE: { status: 400, message: 'the path contains a NUL byte; remove it' },
  FILE_PATH_ABSOLUTE: { status: 400, message: 'the path must be relative to the server root (no leading "/")' },
  FILE_PATH_TRAVERSAL: { status: 400, message: 'the path may not contain ".." components; name the file from the server root' },
  FILE_NAME_TOO_LONG: { status: 400, message: 'a path component is longer than 255 bytes; use a shorter name' },
  FILE_PATH_TOO_LONG: { status: 400, message: 'the path is longer than 4096 bytes; use a shorter path' },
  FILE_PATH_SYMLINK: { status: 403, message: 'the path goes through a symbolic link, which the file API never follows; use the link target\'s real path inside the root' },
  FILE_PATH_RESERVED: { status: 403, message: 'names starting with ".zlh-tmp-" are the agent\'s own temp files and staging; choose another name' },
  FILE_PATH_INVALID: { status: 400, message: 'the path is not valid' },
  FILE_ROOT_PROTECTED: { status: 403, message: 'the server root itself cannot be removed, renamed or overwritten' },
  FILE_NOT_FOUND: { status: 404, message: 'no such file or directory' },
  FILE_NOT_A_DIRECTORY: { status: 409, message: 'a component of the path is a file, not a directory' },
  FILE_IS_DIRECTORY: { status: 409, message: 'the path is a directory; name a file' },
  FILE_NOT_REGULAR: { status: 403, message: 'the path is not a regular file or directory (device, FIFO or socket); the file API only serves regular files' },
  FILE_EXISTS: { status: 409, message: 'the target already exists; remove it first or choose another name' },
  FILE_DIRECTORY_NOT_EMPTY: { status: 409, message: 'the directory is not empty; pass ?recursive=true to remove it with its contents' },
  FILE_TOO_LARGE: { status: 413, message: 'the body is larger than the allowed maximum' },
  FILE_BAD_OPERATION: { status: 400, message: 'unknown operation: use ?op=mkdir or ?op=rename with a JSON body {"to": "<new path>"}' },
  UPLOAD_BAD_CONTENT_TYPE: { status: 415, message: 'send the file as application/octet-stream (raw or chunked) or multipart/form-data with one file field' },
  ARCHIVE_UNSUPPORTED: { status: 415, message: 'only .zip, .tar.gz and .tgz archives can be extracted' },
  ARCHIVE_INVALID: { status: 422, message: 'the archive could not be read; check it is a complete zip or tar.gz' },
  ARCHIVE_UNSAFE_ENTRY: { status: 422, message: 'the archive has an entry that would land outside the target directory or is a link/device; nothing was extracted' },
  ARCHIVE_TOO_LARGE: { status: 413, message: 'the archive expands to more than the allowed size or number of entries; nothing was extracted' },
  MOD_NOT_FOUND: { status: 404, message: 'no such mod in the mods folder' },
  MOD_NAME_INVALID: { status: 400, message: 'a mod name is a plain file name: letters, digits, ".", "_", "+", "-", starting with a letter or digit' },
} as const satisfies Record<string, { status: number; message: string }>

export type FileErrorCode = keyof typeof fileErrors

export class FileError extends CatalogError<FileErrorCode> {
  constructor(code: FileErrorCode, specific?: string) {
    super(fileErrors, code, specific)
    this.name = 'FileError'
  }
}
