// The one way to define an error catalog (src/platform/error-catalog.ts): typed constructors that
// carry code, status, message, hint and retryable; templates over typed parameters; the checks made
// when a catalog is defined (prefix, duplicates within and across catalogs, statuses, messages).
import t from 'tap'
import {
  CatalogError,
  defineErrorCatalog,
  definedErrorCatalogs,
  formatMessage,
  isCatalogError,
  mergeEntries,
} from '../../src/platform/error-catalog.ts'

t.test('an error carries code, status, message, hint and retryable; templates take typed parameters', async (t) => {
  const catalog = defineErrorCatalog({
    component: 'test-basic',
    prefix: 'TB_',
    entries: {
      TB_LIMIT: {
        httpStatus: 413,
        message: (p: { field: string; limit: number }) => `${p.field} is longer than ${p.limit} bytes`,
        hint: 'Send less.',
      },
      TB_BUSY: { httpStatus: 503, message: 'the thing is busy', retryable: true },
    },
  })
  const limit = catalog.error('TB_LIMIT', { field: 'spec.motd', limit: 256 })
  t.ok(limit instanceof CatalogError && limit instanceof Error && isCatalogError(limit))
  t.match(limit, {
    component: 'test-basic',
    code: 'TB_LIMIT',
    status: 413,
    message: 'spec.motd is longer than 256 bytes',
    hint: 'Send less.',
    retryable: false,
  })
  const busy = catalog.error('TB_BUSY', { specific: 'node pool', cause: new Error('inner') })
  t.match(busy, { code: 'TB_BUSY', status: 503, message: 'node pool: the thing is busy', hint: undefined, retryable: true })
  t.equal((busy.cause as Error).message, 'inner')
  t.equal(catalog.message('TB_LIMIT', { field: 'x', limit: 1 }), 'x is longer than 1 bytes')
  t.equal(catalog.message('TB_BUSY'), 'the thing is busy')
  t.same(catalog.codes, ['TB_LIMIT', 'TB_BUSY'])
  t.ok(catalog.has('TB_BUSY'))
  t.notOk(catalog.has('TB_NOPE'))
  t.notOk(catalog.has('toString'), 'inherited names are not codes')
  t.equal(formatMessage('m'), 'm')
  t.ok(definedErrorCatalogs().includes(catalog as never), 'the catalog is listed')
  t.throws(() => new CatalogError(catalog, 'TB_NOPE', 'm'), /TB_NOPE.*not in the test-basic error catalog/)
  t.ok(Object.isFrozen(catalog.entries), 'entries cannot be changed after the checks')
})

t.test('codes must carry the prefix unless listed as unprefixed, and the list may not go stale', async (t) => {
  t.throws(
    () => defineErrorCatalog({ component: 'test-prefix-1', prefix: 'TP_', entries: { OTHER_CODE: { httpStatus: 400, message: 'm' } } }),
    /OTHER_CODE must start with TP_/,
  )
  const legacy = defineErrorCatalog({
    component: 'test-prefix-2',
    prefix: 'TP2_',
    unprefixedCodes: ['OLD_WIRE_CODE'],
    entries: { OLD_WIRE_CODE: { httpStatus: 400, message: 'm' }, TP2_NEW: { httpStatus: 400, message: 'm' } },
  })
  t.same(legacy.unprefixedCodes, ['OLD_WIRE_CODE'])
  t.throws(
    () =>
      defineErrorCatalog({
        component: 'test-prefix-3',
        prefix: 'TP3_',
        unprefixedCodes: ['GONE' as never],
        entries: { TP3_A: { httpStatus: 400, message: 'm' } },
      }),
    /lists GONE as unprefixed but defines no such code/,
  )
  t.throws(
    () =>
      defineErrorCatalog({
        component: 'test-prefix-4',
        prefix: 'TP4_',
        unprefixedCodes: ['TP4_A'],
        entries: { TP4_A: { httpStatus: 400, message: 'm' } },
      }),
    /carries the prefix/,
  )
  t.throws(
    () => defineErrorCatalog({ component: 'test-prefix-5', prefix: '', entries: { A: { httpStatus: 400, message: 'm' } } }),
    /needs a prefix/,
  )
  t.throws(
    () => defineErrorCatalog({ component: 'test-prefix-6', prefix: 'TP6_', entries: { 'TP6_a-b': { httpStatus: 400, message: 'm' } } }),
    /letters, digits/,
  )
})

t.test('statuses are HTTP error statuses; messages and hints are not empty', async (t) => {
  t.throws(
    () => defineErrorCatalog({ component: 'test-status-1', prefix: 'TS1_', entries: { TS1_OK: { httpStatus: 200, message: 'm' } } }),
    /TS1_OK has HTTP status 200/,
  )
  t.throws(
    () => defineErrorCatalog({ component: 'test-status-2', prefix: 'TS2_', entries: { TS2_X: { httpStatus: 400, message: '  ' } } }),
    /TS2_X needs a message/,
  )
  t.throws(
    () =>
      defineErrorCatalog({ component: 'test-status-3', prefix: 'TS3_', entries: { TS3_X: { httpStatus: 400, message: 'm', hint: '' } } }),
    /TS3_X has an empty hint/,
  )
})

t.test('no code is defined twice: not in two sections of a catalog, not in two catalogs, no component twice', async (t) => {
  // The agent had ARCHIVE_INVALID in its core and its files catalog with different messages.
  t.throws(
    () => mergeEntries({ TD_ARCHIVE: { httpStatus: 422, message: 'a' } }, { TD_ARCHIVE: { httpStatus: 422, message: 'b' } }),
    /TD_ARCHIVE is defined twice in one catalog/,
  )
  const merged = mergeEntries(
    { TD_A: { httpStatus: 400, message: 'a' } },
    { TD_B: { httpStatus: 404, message: 'b' } },
    { TD_C: { httpStatus: 409, message: 'c' } },
  )
  t.same(Object.keys(merged), ['TD_A', 'TD_B', 'TD_C'])
  defineErrorCatalog({ component: 'test-dup-1', prefix: 'TD_', entries: merged })
  t.throws(
    () => defineErrorCatalog({ component: 'test-dup-2', prefix: 'TD_', entries: { TD_B: { httpStatus: 400, message: 'b' } } }),
    /TD_B is already defined by the test-dup-1 error catalog/,
  )
  t.throws(
    () => defineErrorCatalog({ component: 'test-dup-1', prefix: 'TD_', entries: { TD_Z: { httpStatus: 400, message: 'z' } } }),
    /test-dup-1 error catalog is defined twice/,
  )
  t.notOk(
    definedErrorCatalogs().some((c) => c.component === 'test-dup-2'),
    'a refused catalog is not registered',
  )
})
