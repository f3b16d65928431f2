// TLS for the IDE on *.localhost: one CA (the embedded API server's own, in <state>/apiserver/pki)
// signs one serving certificate used by both the API server and the gateway. Browsers and Node
// refuse a wildcard directly under a top-level name (`*.localhost` matches nothing), so the
// certificate names every IDE host dev-<vmid>.localhost of the process provider's vmid range
// explicitly. Trusting the CA once (the command printed by trustCommand) removes the warning.
import { join } from 'node:path'
import { ideHostName } from '../../api/index.ts'
import { ensurePki, type Pki } from '../../apiserver/pki.ts'

/** vmids the certificate covers (the process provider numbers containers from 100). */
export const IDE_VMID_RANGE = { min: 100, max: 355 }

export function ideHosts(suffix: string): string[] {
  const hosts: string[] = []
  for (let v = IDE_VMID_RANGE.min; v <= IDE_VMID_RANGE.max; v++) hosts.push(ideHostName(v, suffix))
  return hosts
}

export function pkiDir(apiserverDir: string): string {
  return join(apiserverDir, 'pki')
}

export async function ensureServingPki(apiserverDir: string, ideSuffix: string): Promise<Pki> {
  return ensurePki(pkiDir(apiserverDir), ['127.0.0.1', 'localhost', ideSuffix, ...ideHosts(ideSuffix)])
}

/** The one command that makes browsers on this machine trust the generated CA (Linux NSS db). */
export function trustCommand(caFile: string): string {
  return `certutil -d sql:$HOME/.pki/nssdb -A -t C,, -n zlh-local-ca -i ${caFile}`
}
