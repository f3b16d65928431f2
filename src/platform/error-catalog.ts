// One way to define an error catalog. A component lists its errors once — code, HTTP status, a
// message (a plain sentence, or a template over typed parameters), an optional hint saying what to
// do, and whether retrying can help — and gets back typed constructors of one Error class.
//
// Guarantees, checked when the catalog is defined (a mistake fails the module's first import, so
// every test of the component sees it):
// - every code carries the catalog's prefix, except the codes listed in `unprefixedCodes`: codes
//   that predate the prefix and that readers outside this release match on (an agent baked into
//   a template, a condition reason stored in an object's status); that list only ever shrinks;
// - no code is defined twice, neither within a catalog (sections merged with `mergeEntries`) nor
//   across the catalogs loaded in one process (`definedErrorCatalogs()` lists them);
// - statuses are HTTP error statuses (400–599), messages and hints are non-empty.
// The wire format stays each component's own: the catalog gives code, status, message and hint;
// how a component serialises them (the agent's body, the gateway's page, a condition) is its call.

/** One error of a catalog. `P` is the type of the template's parameters. */
export interface ErrorEntry<P = never> {
  readonly httpStatus: number
  /** What was wrong (and, without a hint, what to do). */
  readonly message: string | ((params: P) => string)
  /** What the reader does about it, when the message does not already say. */
  readonly hint?: string
  /** Whether the same request can succeed later without anyone changing anything. Default false. */
  readonly retryable?: boolean
}

// The entry map's bound: each entry's template may take its own parameter type.
// biome-ignore lint/suspicious/noExplicitAny: a bound over entries whose parameter types differ; each entry keeps its own
type AnyEntry = ErrorEntry<any>
type Entries = Record<string, AnyEntry>

/** The parameters an entry's message template takes (undefined for a plain sentence). */
export type ErrorParams<E> = E extends { readonly message: (params: infer P) => string } ? P : undefined

/** How a thrown error is phrased beyond the catalog's message. */
export interface CatalogErrorOptions {
  /** The specific thing that was wrong; the message becomes "<specific>: <catalog message>". */
  readonly specific?: string
  readonly cause?: unknown
}

type CreateArgs<E> = E extends { readonly message: (params: infer P) => string }
  ? [params: P, options?: CatalogErrorOptions]
  : [options?: CatalogErrorOptions]

export interface ErrorCatalogSpec<E extends Entries> {
  /** Who raises these errors (agent, gateway, providers, runtime, …); unique per process. */
  readonly component: string
  /** What every new code starts with, e.g. "ZLH_GW_". */
  readonly prefix: string
  /** Codes kept without the prefix because readers outside this release match on them. */
  readonly unprefixedCodes?: readonly (keyof E & string)[]
  readonly entries: E
}

export interface ErrorCatalog<E extends Entries = Entries> {
  readonly component: string
  readonly prefix: string
  readonly entries: E
  readonly codes: readonly (keyof E & string)[]
  readonly unprefixedCodes: readonly (keyof E & string)[]
  has(code: unknown): code is keyof E & string
  /** The catalog message of `code`, its template filled in. */
  message<C extends keyof E & string>(code: C, ...params: ErrorParams<E[C]> extends undefined ? [] : [ErrorParams<E[C]>]): string
  /** A CatalogError of `code`. */
  error<C extends keyof E & string>(code: C, ...args: CreateArgs<E[C]>): CatalogError<C>
}

/**
 * An error of a catalog: `code` is what callers match on, `status` the HTTP status an edge answers,
 * `hint` what to do, `retryable` whether to retry. Components subclass it to keep their names.
 */
export class CatalogError<C extends string = string> extends Error {
  readonly component: string
  readonly code: C
  /** The entry's httpStatus. */
  readonly status: number
  readonly hint: string | undefined
  readonly retryable: boolean

  /** `message` is the final text; use the catalog's `error()` or `formatMessage` to build it. */
  constructor(catalog: { readonly component: string; readonly entries: Entries }, code: C, message: string, options?: { cause?: unknown }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause })
    const entry = catalog.entries[code]
    if (entry === undefined) throw new Error(`error code ${JSON.stringify(code)} is not in the ${catalog.component} error catalog`)
    this.name = 'CatalogError'
    this.component = catalog.component
    this.code = code
    this.status = entry.httpStatus
    this.hint = entry.hint
    this.retryable = entry.retryable ?? false
  }
}

export function isCatalogError(err: unknown): err is CatalogError {
  return err instanceof CatalogError
}

/** "<specific>: <message>", or the message alone. */
export function formatMessage(message: string, specific?: string): string {
  return specific ? `${specific}: ${message}` : message
}

/**
 * Joins sections of one catalog (e.g. a component's core, files and game errors), refusing a code
 * that two sections define — a spread would silently keep the last one.
 */
export function mergeEntries<A extends Entries, B extends Entries>(a: A, b: B): A & B
export function mergeEntries<A extends Entries, B extends Entries, C extends Entries>(a: A, b: B, c: C): A & B & C
export function mergeEntries(...sections: Entries[]): Entries {
  const merged: Entries = {}
  for (const section of sections) {
    for (const [code, entry] of Object.entries(section)) {
      if (Object.hasOwn(merged, code)) throw new Error(`error code ${code} is defined twice in one catalog; keep one definition`)
      merged[code] = entry
    }
  }
  return merged
}

const CODE_SHAPE = /^[A-Za-z][A-Za-z0-9_]*$/
const registry = new Map<string, ErrorCatalog>()
const owners = new Map<string, string>()

/** Defines a catalog after checking it (see the module header); throws naming the first mistake. */
export function defineErrorCatalog<const E extends Entries>(spec: ErrorCatalogSpec<E>): ErrorCatalog<E> {
  const { component, prefix, entries } = spec
  const unprefixed = new Set<string>(spec.unprefixedCodes ?? [])
  const where = `${component} error catalog`
  if (!component) throw new Error('an error catalog needs a component name')
  if (registry.has(component)) throw new Error(`the ${where} is defined twice`)
  if (!CODE_SHAPE.test(prefix)) throw new Error(`the ${where} needs a prefix of letters, digits and "_", got ${JSON.stringify(prefix)}`)
  for (const code of unprefixed) {
    if (!Object.hasOwn(entries, code))
      throw new Error(`the ${where} lists ${code} as unprefixed but defines no such code; remove it from unprefixedCodes`)
    if (code.startsWith(prefix))
      throw new Error(`the ${where} lists ${code} as unprefixed but it carries the prefix ${prefix}; remove it from unprefixedCodes`)
  }
  for (const [code, entry] of Object.entries(entries)) {
    if (!CODE_SHAPE.test(code))
      throw new Error(`${where}: code ${JSON.stringify(code)} must be letters, digits and "_", starting with a letter`)
    if (!code.startsWith(prefix) && !unprefixed.has(code)) throw new Error(`${where}: code ${code} must start with ${prefix}`)
    if (!Number.isInteger(entry.httpStatus) || entry.httpStatus < 400 || entry.httpStatus > 599) {
      throw new Error(`${where}: code ${code} has HTTP status ${entry.httpStatus}; an error's status is 400–599`)
    }
    if (typeof entry.message === 'string' ? entry.message.trim() === '' : typeof entry.message !== 'function')
      throw new Error(`${where}: code ${code} needs a message`)
    if (entry.hint !== undefined && entry.hint.trim() === '')
      throw new Error(`${where}: code ${code} has an empty hint; leave it out or say what to do`)
    const owner = owners.get(code)
    if (owner !== undefined)
      throw new Error(`${where}: code ${code} is already defined by the ${owner} error catalog; codes are unique across components`)
  }

  const codes = Object.keys(entries) as (keyof E & string)[]
  const has = (code: unknown): code is keyof E & string => typeof code === 'string' && Object.hasOwn(entries, code)
  const render = (code: string, params: unknown): string => {
    const template = entries[code]!.message
    return typeof template === 'function' ? template(params) : template
  }
  const catalog: ErrorCatalog<E> = {
    component,
    prefix,
    entries,
    codes,
    unprefixedCodes: [...unprefixed] as (keyof E & string)[],
    has,
    message: (code, ...params) => render(code, params[0]),
    error: (code, ...args) => {
      const given = args as unknown[]
      const templated = typeof entries[code]!.message === 'function'
      const params = templated ? given[0] : undefined
      const options = (templated ? given[1] : given[0]) as CatalogErrorOptions | undefined
      return new CatalogError(catalog, code, formatMessage(render(code, params), options?.specific), options)
    },
  }
  Object.freeze(entries)
  registry.set(component, catalog as unknown as ErrorCatalog)
  for (const code of codes) owners.set(code, component)
  return catalog
}

/** Every catalog defined in this process so far, in definition order. */
export function definedErrorCatalogs(): readonly ErrorCatalog[] {
  return [...registry.values()]
}
