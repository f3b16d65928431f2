// The last line of defence against a request ending the agent process: every request runs in
// an async scope, and an exception nothing caught is attributed to the request whose work threw it.
//
// Expected flow:
//  1. `requestScopeHook` (onRequest, first hook) runs the rest of the request inside
//     requestScope, so every callback, timer and stream event that request's code schedules
//     carries it (AsyncLocalStorage follows async causality, not the call stack).
//  2. An uncaught exception (or unhandled rejection, which Node raises as one) reaches
//     `installProcessGuard`'s handler. If it carries the scope of a request that is still in
//     flight, the failure is provably that request's: it is logged with the request id, the
//     request is answered 500 INTERNAL (or its connection closed if a reply had started), and
//     the agent keeps serving every other request.
//  3. Anything else — no request scope, or the scope of a request that already finished (a
//     component such as a supervisor may have been started by a request and live on) — is
//     logged as fatal and the process exits with status 1, as Node would: state shared beyond
//     one request may be broken, and the process provider or init restarts the agent.
// Guarantees: no error is swallowed silently; every one is logged with its stack.
// Caveats: work a request starts that outlives it loses the protection once the request has
// been answered (step 3); code that starts long-lived components should not rely on it.
import { AsyncLocalStorage } from 'node:async_hooks'
import type { FastifyReply, FastifyRequest, onRequestHookHandler } from 'fastify'
import type { Logger } from './log.ts'
import { AgentError, errorBody } from './errors.ts'

interface RequestScope {
  req: FastifyRequest
  reply: FastifyReply
}

const requestScope = new AsyncLocalStorage<RequestScope>()

/** onRequest hook: the rest of the request (hooks, handler, its streams) runs in its scope. */
export const requestScopeHook: onRequestHookHandler = (req, reply, done) => {
  requestScope.run({ req, reply }, done)
}

function inFlight(scope: RequestScope): boolean {
  const res = scope.reply.raw
  return !res.writableFinished && !res.destroyed
}

/** The request an uncaught error belongs to, when it is still in flight (the guard's test). */
export function owningRequest(): RequestScope | undefined {
  const scope = requestScope.getStore()
  return scope && inFlight(scope) ? scope : undefined
}

/**
 * Installs the process-wide handler described above; returns its removal. Only a process that
 * is the agent (the CLI) installs it: a library embedder keeps its own policy.
 */
export function installProcessGuard(log: Logger, exit: (code: number) => void = (code) => process.exit(code)): () => void {
  const onUncaught = (err: Error, origin: string): void => {
    const scope = owningRequest()
    if (!scope) {
      log.fatal({ err, origin }, 'uncaught error outside any request: the agent exits so it is restarted clean')
      exit(1)
      return
    }
    const { req, reply } = scope
    req.log.error(
      { err, origin, reqId: req.id, method: req.method, url: req.url.split('?')[0] },
      'uncaught error in a request: the request fails, the agent keeps serving',
    )
    try {
      if (!reply.sent && !reply.raw.headersSent)
        void reply.code(500).send(errorBody(new AgentError('INTERNAL', 'the request failed unexpectedly')))
      else reply.raw.destroy()
    } catch {
      reply.raw.destroy()
    }
  }
  process.on('uncaughtException', onUncaught)
  return () => {
    process.off('uncaughtException', onUncaught)
  }
}
