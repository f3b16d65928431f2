// The server's TLS material: a CA and a serving certificate signed by it (ECDSA P-256), generated
// on first start with @peculiar/x509 over node:crypto's WebCrypto and kept in <dataDir>/pki.
//
// Guarantees
// - Private keys are written with mode 0600, never logged.
// - The serving certificate is reissued (by the same CA) when the requested host names change or
//   it is within 30 days of expiry, so clients holding the CA keep trusting the server.

// @peculiar/x509 resolves its services through tsyringe, which needs the Reflect metadata API loaded first.
import 'reflect-metadata'
import { webcrypto, X509Certificate as NodeX509 } from 'node:crypto'
import { existsSync, mkdirSync, readFileSync } from 'node:fs'
import { writeFileDurableSync } from '../platform/durable-file.ts'
import { isIP } from 'node:net'
import { join } from 'node:path'
import * as x509 from '@peculiar/x509'

x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0])

type CryptoKey = webcrypto.CryptoKey
type CryptoKeyPair = webcrypto.CryptoKeyPair

const ALG = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' }
const DAY = 24 * 3600 * 1000

export interface Pki {
  caPem: string
  certPem: string
  keyPem: string
}

async function exportKey(k: CryptoKey): Promise<string> {
  const der = await webcrypto.subtle.exportKey('pkcs8', k)
  return x509.PemConverter.encode(der, 'PRIVATE KEY')
}

async function importKey(pem: string): Promise<CryptoKey> {
  const der = x509.PemConverter.decode(pem)[0]
  return webcrypto.subtle.importKey('pkcs8', der, ALG, false, ['sign'])
}

function sanNames(hosts: string[]): x509.JsonGeneralName[] {
  const names = new Set(['127.0.0.1', '::1', 'localhost', ...hosts.filter((h) => h && h !== '0.0.0.0' && h !== '::')])
  return [...names].sort().map((h) => ({ type: isIP(h) ? 'ip' : 'dns', value: h }) as x509.JsonGeneralName)
}

function servingCertCurrent(certPem: string, wanted: x509.JsonGeneralName[]): boolean {
  const cert = new NodeX509(certPem)
  if (Date.parse(cert.validTo) - Date.now() < 30 * DAY) return false
  return wanted.every((n) => (n.type === 'ip' ? cert.checkIP(n.value) !== undefined : cert.checkHost(n.value) !== undefined))
}

/** Loads the CA and serving certificate from `dir`, creating or reissuing what is missing or stale. */
export async function ensurePki(dir: string, hosts: string[]): Promise<Pki> {
  mkdirSync(dir, { recursive: true, mode: 0o700 })
  const files = { ca: join(dir, 'ca.crt'), caKey: join(dir, 'ca.key'), cert: join(dir, 'server.crt'), key: join(dir, 'server.key') }
  let caPem: string
  let caKey: CryptoKey
  if (existsSync(files.ca) && existsSync(files.caKey)) {
    caPem = readFileSync(files.ca, 'utf8')
    caKey = await importKey(readFileSync(files.caKey, 'utf8'))
  } else {
    const keys = (await webcrypto.subtle.generateKey(ALG, true, ['sign', 'verify'])) as CryptoKeyPair
    const ca = await x509.X509CertificateGenerator.createSelfSigned({
      name: 'CN=zlh-apiserver-ca',
      notBefore: new Date(Date.now() - 3600_000),
      notAfter: new Date(Date.now() + 10 * 365 * DAY),
      keys,
      signingAlgorithm: ALG,
      extensions: [
        new x509.BasicConstraintsExtension(true, 0, true),
        new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
        await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
      ],
    })
    caPem = ca.toString('pem')
    caKey = keys.privateKey
    writeFileDurableSync(files.caKey, await exportKey(keys.privateKey), 0o600)
    writeFileDurableSync(files.ca, caPem, 0o644)
  }
  const wanted = sanNames(hosts)
  if (existsSync(files.cert) && existsSync(files.key) && servingCertCurrent(readFileSync(files.cert, 'utf8'), wanted)) {
    return { caPem, certPem: readFileSync(files.cert, 'utf8'), keyPem: readFileSync(files.key, 'utf8') }
  }
  const ca = new x509.X509Certificate(caPem)
  const keys = (await webcrypto.subtle.generateKey(ALG, true, ['sign', 'verify'])) as CryptoKeyPair
  const cert = await x509.X509CertificateGenerator.create({
    subject: 'CN=zlh-apiserver',
    issuer: ca.subject,
    notBefore: new Date(Date.now() - 3600_000),
    notAfter: new Date(Date.now() + 2 * 365 * DAY),
    publicKey: keys.publicKey,
    signingKey: caKey,
    signingAlgorithm: ALG,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment, true),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]),
      new x509.SubjectAlternativeNameExtension(wanted),
      await x509.AuthorityKeyIdentifierExtension.create(ca),
    ],
  })
  const certPem = cert.toString('pem')
  const keyPem = await exportKey(keys.privateKey)
  writeFileDurableSync(files.key, keyPem, 0o600)
  writeFileDurableSync(files.cert, certPem, 0o644)
  return { caPem, certPem, keyPem }
}
