// Route schemas compiled on the first request that needs them, not when the agent starts.
//
// Fastify compiles every route's validation (ajv) and response (fast-json-stringify) schemas
// while the server gets ready: the largest piece of the agent's start, for routes most agents
// never call. These factories plug into fastify's `schemaController.compilersFactory` and hand
// fastify, per schema, a function that compiles on its first call and keeps the result.
//
// Guarantees: the compilers are fastify's own defaults (`@fastify/ajv-compiler`,
// `@fastify/fast-json-stringify-compiler`), built from the same server options and shared
// schemas fastify passes, so a request is validated and a response serialized exactly as
// with eager compilation — only when the compiling happens moves. A schema that does not
// compile fails its route's first request (500) instead of the start; the agent's schemas are
// fixed in its sources and a test compiles each (`compileEveryRouteSchema`).
import AjvCompiler from '@fastify/ajv-compiler'
import { SerializerSelector } from '@fastify/fast-json-stringify-compiler'
import type { FastifyServerOptions } from 'fastify'

type CompilersFactory = NonNullable<NonNullable<FastifyServerOptions['schemaController']>['compilersFactory']>
/** What fastify hands a compiler: the schema and where it applies. */
type RouteSchema = { schema: unknown; method: string; url: string }
type Validate = ((data: unknown) => unknown) & { errors?: unknown }
type Serialize = (data: unknown) => string
/** A compiler builder as fastify calls it: external schemas and options in, a per-route compiler out. */
type Build<F> = (externalSchemas: unknown, options: unknown) => (route: RouteSchema) => F

/** Every lazy compile function handed out, so a test can force them all. */
const pending = new WeakMap<object, Array<() => void>>()

function remember(owner: object, force: () => void): void {
  let list = pending.get(owner)
  if (!list) pending.set(owner, (list = []))
  list.push(force)
}

const defaultBuildValidator = AjvCompiler() as unknown as Build<Validate>
const defaultBuildSerializer = SerializerSelector() as unknown as Build<Serialize>

/**
 * `build`, deferred: its compiler is made when the first route is compiled, and each route is
 * compiled by the first call of the function returned for it (remembered for compileEveryRouteSchema).
 */
function deferred<F>(owner: object, build: Build<F>): Build<() => F> {
  return (externalSchemas, options) => {
    let compiler: ((route: RouteSchema) => F) | undefined
    return (route) => {
      let compiled: F | undefined
      const compile = (): F => {
        compiler ??= build(externalSchemas, options)
        compiled ??= compiler(route)
        return compiled
      }
      remember(owner, compile)
      return compile
    }
  }
}

/** A compilersFactory whose validators and serializers compile on first use. */
export function lazySchemaCompilers(): CompilersFactory {
  const owner = {}
  const validators = deferred(owner, defaultBuildValidator)
  const serializers = deferred(owner, defaultBuildSerializer)
  const buildValidator: Build<Validate> = (externalSchemas, options) => {
    const forRoute = validators(externalSchemas, options)
    return (route) => {
      const compiled = forRoute(route)
      const lazy = ((data: unknown) => {
        const real = compiled()
        const result = real(data)
        // fastify reads the errors of a failed validation from the function it was handed
        lazy.errors = real.errors
        return result
      }) as Validate
      return lazy
    }
  }
  const buildSerializer: Build<Serialize> = (externalSchemas, options) => {
    const forRoute = serializers(externalSchemas, options)
    return (route) => {
      const compiled = forRoute(route)
      return (data: unknown) => compiled()(data)
    }
  }
  const factory = { buildValidator, buildSerializer } as unknown as CompilersFactory
  owners.set(factory, owner)
  return factory
}

const owners = new WeakMap<CompilersFactory, object>()

/** Compile every schema a factory has handed out so far (tests: a schema that would fail its first request fails here). */
export function compileEveryRouteSchema(factory: CompilersFactory): number {
  const list = pending.get(owners.get(factory) ?? {}) ?? []
  for (const force of list) force()
  return list.length
}
