// Rule coverage (escalation prevention's core) against the cases of Kubernetes'
// staging/src/k8s.io/component-helpers/auth/rbac/validation/policy_comparator_test.go, each named
// by its upstream test function, and the compact wording of kube's escalation message
// (pkg/apis/rbac/v1/evaluation_helpers.go CompactString, pkg/registry/rbac/validation/policy_compact.go).
import t from 'tap'
import { compactRules, compactString, covers, nonResourceUrlCovers } from '../../../src/apiserver/rbac/rules.ts'
import type { PolicyRule } from '../../../src/apiserver/rbac/types.ts'

const r = (apiGroups: string[], verbs: string[], resources: string[], resourceNames?: string[]): PolicyRule => ({
  apiGroups,
  verbs,
  resources,
  ...(resourceNames ? { resourceNames } : {}),
})
const u = (nonResourceURLs: string[], verbs: string[]): PolicyRule => ({ nonResourceURLs, verbs })

const cases: Array<[string, PolicyRule[], PolicyRule[], PolicyRule[]]> = [
  ['TestCoversExactMatch', [r(['v1'], ['get'], ['builds'])], [r(['v1'], ['get'], ['builds'])], []],
  ['TestCoversSubresourceWildcard', [r(['v1'], ['get'], ['*/scale'])], [r(['v1'], ['get'], ['foo/scale'])], []],
  [
    'TestCoversMultipleRulesCoveringSingleRule',
    [r(['v1'], ['delete'], ['deployments']), r(['v1'], ['delete'], ['builds']), r(['v1'], ['update'], ['builds', 'deployments'])],
    [r(['v1'], ['delete', 'update'], ['builds', 'deployments'])],
    [],
  ],
  [
    'TestCoversSingleAPIGroupsCoveringMultiple',
    [r(['group1', 'group2'], ['delete', 'update'], ['builds', 'deployments'])],
    [r(['group1'], ['delete'], ['deployments']), r(['group2'], ['update'], ['builds', 'deployments'])],
    [],
  ],
  [
    'TestCoversMultipleRulesMissingSingleVerbResourceCombination',
    [r(['v1'], ['delete', 'update'], ['builds', 'deployments']), r(['v1'], ['delete'], ['pods'])],
    [r(['v1'], ['delete', 'update'], ['builds', 'deployments', 'pods'])],
    [r(['v1'], ['update'], ['pods'])],
  ],
  ['TestCoversAPIGroupStarCoveringMultiple', [r(['*'], ['get'], ['roles'])], [r(['group1', 'group2'], ['get'], ['roles'])], []],
  [
    'TestCoversEnumerationNotCoveringAPIGroupStar',
    [r(['dummy-group'], ['get'], ['roles'])],
    [r(['*'], ['get'], ['roles'])],
    [r(['*'], ['get'], ['roles'])],
  ],
  ['TestCoversVerbStarCoveringMultiple', [r(['v1'], ['*'], ['roles'])], [r(['v1'], ['watch', 'list'], ['roles'])], []],
  [
    'TestCoversEnumerationNotCoveringVerbStar',
    [r(['v1'], ['get', 'list', 'watch', 'create', 'update', 'delete', 'exec'], ['roles'])],
    [r(['v1'], ['*'], ['roles'])],
    [r(['v1'], ['*'], ['roles'])],
  ],
  ['TestCoversResourceStarCoveringMultiple', [r(['v1'], ['get'], ['*'])], [r(['v1'], ['get'], ['resourcegroup:deployments'])], []],
  [
    'TestCoversEnumerationNotCoveringResourceStar',
    [r(['v1'], ['get'], ['roles', 'resourcegroup:deployments'])],
    [r(['v1'], ['get'], ['*'])],
    [r(['v1'], ['get'], ['*'])],
  ],
  ['TestCoversResourceNameEmptyCoveringMultiple', [r(['v1'], ['get'], ['pods'], [])], [r(['v1'], ['get'], ['pods'], ['foo', 'bar'])], []],
  [
    'TestCoversEnumerationNotCoveringResourceNameEmpty',
    [r(['v1'], ['get'], ['pods'], ['foo', 'bar'])],
    [r(['v1'], ['get'], ['pods'], [])],
    [r(['v1'], ['get'], ['pods'])],
  ],
  ['TestCoversNonResourceURLs', [u(['/apis'], ['*'])], [u(['/apis'], ['*'])], []],
  ['TestCoversNonResourceURLsStar', [u(['*'], ['*'])], [u(['/apis', '/apis/v1', '/'], ['*'])], []],
  [
    'TestCoversNonResourceURLsStarAfterPrefixDoesntCover',
    [u(['/apis/*'], ['*'])],
    [u(['/apis', '/apis/v1'], ['get'])],
    [u(['/apis'], ['get'])],
  ],
  ['TestCoversNonResourceURLsStarAfterPrefix', [u(['/apis/*'], ['*'])], [u(['/apis/v1/foo', '/apis/v1'], ['get'])], []],
  [
    'TestCoversNonResourceURLsWithOtherFieldsFailure',
    [r(['v1'], ['get'], ['builds'])],
    [{ ...r(['v1'], ['get'], ['builds']), nonResourceURLs: ['/apis'] }],
    [u(['/apis'], ['get'])],
  ],
]

t.test('covers (policy_comparator_test.go)', async (t) => {
  for (const [name, owner, servant, missing] of cases) {
    const got = covers(owner, servant)
    t.equal(got.covered, missing.length === 0, `${name}: covered`)
    t.same(got.missing, missing, `${name}: uncovered rules`)
  }
})

t.test('nonResourceURLCovers (policy_comparator_test.go TestNonResourceURLCovers)', async (t) => {
  const table: Array<[string, string, boolean]> = [
    ['*', '', true],
    ['*', '/', true],
    ['*', '/api', true],
    ['/*', '', false],
    ['/*', '/', true],
    ['/*', '/foo', true],
    ['/api', '/api', true],
    ['/apis', '/api', false],
    ['/api/v1', '/api', false],
    ['/api/v1', '/api/v1', true],
    ['/api/*', '/api/v1', true],
    ['/api/*', '/api', false],
    ['/api/*/*', '/api/v1', false],
    ['/*/v1/*', '/api/v1', false],
  ]
  for (const [owner, path, want] of table)
    t.equal(nonResourceUrlCovers(owner, path), want, `${owner} covers ${JSON.stringify(path)}: ${want}`)
})

t.test("the escalation message's wording (CompactString, CompactRules)", async (t) => {
  t.equal(compactString(r([''], ['get', 'list'], ['secrets'])), '{APIGroups:[""], Resources:["secrets"], Verbs:["get" "list"]}')
  t.equal(
    compactString({ ...r(['apps'], ['get'], ['deployments'], ['web']) }),
    '{APIGroups:["apps"], Resources:["deployments"], ResourceNames:["web"], Verbs:["get"]}',
  )
  t.equal(compactString(u(['/metrics'], ['get'])), '{NonResourceURLs:["/metrics"], Verbs:["get"]}')
  t.same(
    compactRules([
      r([''], ['get'], ['secrets']),
      r([''], ['list'], ['secrets']),
      r([''], ['get'], ['pods'], ['p']),
      r([''], ['get'], ['pods'], ['q']),
      u(['/x'], ['get']),
    ]),
    [u(['/x'], ['get']), r([''], ['get', 'list'], ['secrets']), r([''], ['get'], ['pods'], ['p']), r([''], ['get'], ['pods'], ['q'])],
    'verbs of one group/resource/name merge; others stay',
  )
})
