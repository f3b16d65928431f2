// Reading the small JSON state files the agent keeps (null when absent or torn), and an existence
// check that does not follow links. Durable writes are the platform's (src/platform/durable-file.ts).
import fs from 'node:fs/promises'

export async function readJson<T>(file: string): Promise<T | null> {
  try {
    return JSON.parse(await fs.readFile(file, 'utf8')) as T
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code
    if (code === 'ENOENT' || err instanceof SyntaxError) return null
    throw err
  }
}

export async function exists(p: string): Promise<boolean> {
  try {
    await fs.lstat(p)
    return true
  } catch {
    return false
  }
}
