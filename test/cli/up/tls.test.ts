// The IDE certificate: signed by the local CA, valid for every dev-<vmid>.localhost of the
// process provider's range (a *.localhost wildcard would match nothing), reused across starts.
import t from 'tap'
import { X509Certificate } from 'node:crypto'
import { ensureServingPki, ideHosts, IDE_VMID_RANGE, trustCommand } from '../../../src/cli/up/tls.ts'

t.test('certificate names the IDE hosts and chains to the CA', async (t) => {
  const dir = t.testdir()
  const pki = await ensureServingPki(dir, 'localhost')
  const cert = new X509Certificate(pki.certPem)
  t.ok(cert.verify(new X509Certificate(pki.caPem).publicKey), 'signed by the CA')
  for (const h of ['dev-100.localhost', 'dev-355.localhost', 'localhost']) t.equal(cert.checkHost(h), h, `valid for ${h}`)
  t.equal(cert.checkIP('127.0.0.1'), '127.0.0.1')
  t.equal(cert.checkHost('dev-356.localhost'), undefined, 'outside the range')
  t.equal(ideHosts('localhost').length, IDE_VMID_RANGE.max - IDE_VMID_RANGE.min + 1)
  const again = await ensureServingPki(dir, 'localhost')
  t.equal(again.certPem, pki.certPem, 'reused on the next start')
  t.match(trustCommand('/s/ca.crt'), /certutil .* -i \/s\/ca\.crt$/)
})
