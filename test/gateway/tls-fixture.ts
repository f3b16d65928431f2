// A throwaway test CA and a server certificate for `*.<suffix>` signed by it (EC P-256), plus the
// SPKI hash Chromium is told to trust (--ignore-certificate-errors-spki-list) so that the dev
// hosts are genuine secure contexts for the browser test: Secure and __Host- cookies work.

// @peculiar/x509 (through tsyringe) needs a Reflect metadata polyfill loaded before it.
import 'reflect-metadata'
import { createHash, webcrypto } from 'node:crypto'
import * as x509 from '@peculiar/x509'

x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0])

const alg = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' }

const pem = (label: string, der: ArrayBuffer): string =>
  `-----BEGIN ${label}-----\n${Buffer.from(der).toString('base64').replace(/.{64}/g, '$&\n').replace(/\n$/, '')}\n-----END ${label}-----\n`

export interface TestTls {
  key: string
  cert: string
  caCert: string
  /** base64 SHA-256 of the server certificate's SubjectPublicKeyInfo. */
  spkiSha256: string
}

export async function createTestTls(suffix: string): Promise<TestTls> {
  const caKeys = (await webcrypto.subtle.generateKey(alg, true, ['sign', 'verify'])) as webcrypto.CryptoKeyPair
  const now = Date.now()
  const ca = await x509.X509CertificateGenerator.createSelfSigned({
    name: 'CN=zlh gateway test CA',
    keys: caKeys,
    notBefore: new Date(now - 3600_000),
    notAfter: new Date(now + 24 * 3600_000),
    signingAlgorithm: alg,
    extensions: [
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
    ],
  })
  const keys = (await webcrypto.subtle.generateKey(alg, true, ['sign', 'verify'])) as webcrypto.CryptoKeyPair
  const leaf = await x509.X509CertificateGenerator.create({
    subject: `CN=*.${suffix}`,
    issuer: ca.subject,
    publicKey: keys.publicKey,
    signingKey: caKeys.privateKey,
    notBefore: new Date(now - 3600_000),
    notAfter: new Date(now + 24 * 3600_000),
    signingAlgorithm: alg,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]),
      new x509.SubjectAlternativeNameExtension([
        { type: 'dns', value: `*.${suffix}` },
        { type: 'dns', value: suffix },
      ]),
    ],
  })
  const spki = await webcrypto.subtle.exportKey('spki', keys.publicKey)
  return {
    key: pem('PRIVATE KEY', await webcrypto.subtle.exportKey('pkcs8', keys.privateKey)),
    cert: `${leaf.toString('pem')}\n`,
    caCert: `${ca.toString('pem')}\n`,
    spkiSha256: createHash('sha256').update(Buffer.from(spki)).digest('base64'),
  }
}
