// The HTTPS agent for one Proxmox VE endpoint: trusts exactly what the ContainerProvider pins.
//
// - `caPem`: the chain must verify against this CA bundle and the certificate must name the host.
// - `fingerprint`: the leaf certificate's SHA-256 must equal the pin (PVE's self-signed node
//   certificates are the usual reason); the socket is handed to the HTTP layer only after the
//   check, so not one request byte (nor the API token) is written to an unverified peer.
// - neither: the system's CA store.
// - `insecureSkipVerify`: no verification at all; only when the resource says so explicitly.

import https from 'node:https'
import tls from 'node:tls'
import type { Duplex } from 'node:stream'
import { ProviderError } from '../errors.ts'

export interface TlsPin {
  caPem?: string
  fingerprint?: string
  insecureSkipVerify?: boolean
}

export function normalizeFingerprint(fp: string): string {
  return fp.replace(/:/g, '').toUpperCase()
}

class FingerprintPinnedAgent extends https.Agent {
  readonly #pin: string

  constructor(pin: string, options: https.AgentOptions) {
    super(options)
    this.#pin = normalizeFingerprint(pin)
  }

  override createConnection(
    options: https.RequestOptions,
    callback?: (err: Error | null, stream: Duplex) => void,
  ): Duplex | null | undefined {
    const socket = tls.connect({ ...(options as tls.ConnectionOptions), rejectUnauthorized: false })
    const onError = (err: Error) => callback?.(err, socket)
    socket.once('error', onError)
    socket.once('secureConnect', () => {
      socket.off('error', onError)
      const seen = normalizeFingerprint(socket.getPeerCertificate().fingerprint256 ?? '')
      if (seen !== this.#pin) {
        socket.destroy()
        callback?.(
          new ProviderError(
            'ProviderTlsFailed',
            `the endpoint's certificate SHA-256 fingerprint ${seen} does not match spec.proxmox.fingerprint; check that the fingerprint is the node's current certificate`,
            {},
          ),
          socket,
        )
        return
      }
      callback?.(null, socket)
    })
    return undefined
  }
}

export function createPveAgent(pin: TlsPin): https.Agent {
  const options: https.AgentOptions = { keepAlive: true, maxSockets: 8 }
  if (pin.insecureSkipVerify) return new https.Agent({ ...options, rejectUnauthorized: false })
  if (pin.fingerprint) return new FingerprintPinnedAgent(pin.fingerprint, options)
  if (pin.caPem) return new https.Agent({ ...options, ca: pin.caPem, rejectUnauthorized: true })
  return new https.Agent({ ...options, rejectUnauthorized: true })
}
