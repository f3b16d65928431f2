// A throwaway CA and a server certificate for 127.0.0.1, made per test run with the openssl CLI
// (a dependency of ca-certificates, which CI installs), so the Proxmox double serves real HTTPS
// and the provider's CA pinning and fingerprint pinning are exercised for real.

import { execFileSync } from 'node:child_process'
import { X509Certificate } from 'node:crypto'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

export interface TestTls {
  caPem: string
  certPem: string
  keyPem: string
  /** SHA-256 fingerprint of the server certificate, AA:BB:… as PVE shows it. */
  fingerprint: string
}

export function makeTestTls(): TestTls {
  const dir = mkdtempSync(join(tmpdir(), 'zlh-pve-ca-'))
  const at = (name: string) => join(dir, name)
  const openssl = (...args: string[]) => execFileSync('openssl', args, { stdio: ['ignore', 'ignore', 'pipe'] })
  try {
    openssl(
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:P-256',
      '-nodes',
      '-days',
      '2',
      '-subj',
      '/CN=zlh test Proxmox CA',
      '-keyout',
      at('ca.key'),
      '-out',
      at('ca.pem'),
      '-addext',
      'basicConstraints=critical,CA:TRUE,pathlen:0',
      '-addext',
      'keyUsage=critical,keyCertSign,cRLSign',
    )
    openssl(
      'req',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:P-256',
      '-nodes',
      '-subj',
      '/CN=127.0.0.1',
      '-keyout',
      at('server.key'),
      '-out',
      at('server.csr'),
    )
    writeFileSync(at('ext.cnf'), 'basicConstraints=CA:FALSE\nsubjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n')
    openssl(
      'x509',
      '-req',
      '-in',
      at('server.csr'),
      '-CA',
      at('ca.pem'),
      '-CAkey',
      at('ca.key'),
      '-CAcreateserial',
      '-days',
      '2',
      '-extfile',
      at('ext.cnf'),
      '-out',
      at('server.pem'),
    )
    const certPem = readFileSync(at('server.pem'), 'utf8')
    return {
      caPem: readFileSync(at('ca.pem'), 'utf8'),
      certPem,
      keyPem: readFileSync(at('server.key'), 'utf8'),
      fingerprint: new X509Certificate(certPem).fingerprint256,
    }
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}
