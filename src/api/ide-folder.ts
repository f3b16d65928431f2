// The IDE's workspace folder: the contract between the agent (reports it), the controller (copies
// it into DevServer `status.ide.folder`) and the gateway (redirects a browser to `/?folder=<it>`).
//
// Guarantees: `ideFolderOf` returns only a folder that is a plain absolute path — it starts with
// exactly one `/`, has no `.`/`..`/empty segment, no backslash, no control character and fits the
// CRD's maxLength — so a hostile status value can neither make the gateway's redirect leave the
// dev host's origin nor inject anything into its Location header; anything else is ignored
// (undefined), and the caller falls back to DEFAULT_IDE_FOLDER.

/** The dev workspace inside an LXC/Proxmox container; what an older agent, reporting none, has. */
export const DEFAULT_IDE_FOLDER = '/home/dev/workspace'

/** `status.ide.folder`'s maxLength in the DevServer CRD. */
export const IDE_FOLDER_MAX_LENGTH = 4096

// C0 controls, DEL and C1 controls; also the line/paragraph separators some parsers treat as newlines.
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/

/** The folder if it is a plain absolute path (see the header), else undefined. */
export function ideFolderOf(value: unknown): string | undefined {
  if (typeof value !== 'string' || value.length < 2 || value.length > IDE_FOLDER_MAX_LENGTH) return undefined
  if (!value.startsWith('/') || value.startsWith('//')) return undefined
  if (CONTROL.test(value) || value.includes('\\')) return undefined
  const segments = value.replace(/\/$/, '').split('/').slice(1)
  if (segments.some((s) => s === '' || s === '.' || s === '..')) return undefined
  return value
}

/** The `?folder=…` query opening `folder` in code-server: URL-encoded, slashes kept literal. */
export function ideFolderQuery(folder: string): string {
  return `?folder=${encodeURIComponent(folder).replaceAll('%2F', '/')}`
}
