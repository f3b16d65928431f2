// Real kubectl against the embedded server: the four rbac.authorization.k8s.io/v1 kinds through
// `kubectl create role|clusterrole|rolebinding|clusterrolebinding`, get (-o wide, kube's printer
// columns), explain, apply (client and server side), and validation as kube-apiserver's
// (pkg/apis/rbac/validation). The harness runs with the admin token.
import t from 'tap'
import { startServer, writeTemp } from '../harness.ts'

t.test('kubectl create, get -o wide, explain, apply and validation of the RBAC kinds', async (t) => {
  const h = await startServer(t)

  t.test('kubectl create role|rolebinding and get rolebindings -o wide (kubectl create role docs)', async (t) => {
    t.match(
      await h.k('create', 'role', 'cm-reader', '--verb=get', '--verb=list', '--resource=configmaps', '-n', 'default'),
      /role.rbac.authorization.k8s.io\/cm-reader created/,
    )
    const role = JSON.parse(await h.k('get', 'role', 'cm-reader', '-n', 'default', '-o', 'json'))
    t.same(role.rules, [{ apiGroups: [''], resources: ['configmaps'], verbs: ['get', 'list'] }])
    t.match(
      await h.k(
        'create',
        'rolebinding',
        'read-cms',
        '--role=cm-reader',
        '--user=jane',
        '--group=devs',
        '--serviceaccount=default:robot',
        '-n',
        'default',
      ),
      /rolebinding.rbac.authorization.k8s.io\/read-cms created/,
    )
    const wide = await h.k('get', 'rolebindings', '-n', 'default', '-o', 'wide')
    t.match(wide, /^NAME\s+ROLE\s+AGE\s+USERS\s+GROUPS\s+SERVICEACCOUNTS\s*$/m, "kube's columns")
    t.match(wide, /^read-cms\s+Role\/cm-reader\s+\S+\s+jane\s+devs\s+default\/robot\s*$/m)
    const rb = JSON.parse(await h.k('get', 'rolebinding', 'read-cms', '-n', 'default', '-o', 'json'))
    t.same(rb.roleRef, { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'cm-reader' })
    t.match(rb.subjects, [
      { kind: 'User', name: 'jane', apiGroup: 'rbac.authorization.k8s.io' },
      { kind: 'Group', name: 'devs' },
      { kind: 'ServiceAccount', name: 'robot', namespace: 'default' },
    ])
    t.match(await h.k('get', 'roles', '-n', 'default'), /^NAME\s+CREATED AT\s*\ncm-reader\s+\d{4}-/m)
  })

  t.test('kubectl create clusterrole|clusterrolebinding, non-resource URLs, names with colons', async (t) => {
    t.match(
      await h.k('create', 'clusterrole', 'zlh:metrics', '--verb=get', '--non-resource-url=/metrics', '--non-resource-url=/logs/*'),
      /clusterrole.rbac.authorization.k8s.io\/zlh:metrics created/,
    )
    t.match(await h.k('create', 'clusterrolebinding', 'zlh:metrics', '--clusterrole=zlh:metrics', '--user=prom'), /created/)
    t.match(await h.k('get', 'clusterrolebindings', '-o', 'wide'), /^zlh:metrics\s+ClusterRole\/zlh:metrics\s+\S+\s+prom\s/m)
    t.match(
      await h.k('get', 'clusterrolebindings', '-o', 'wide'),
      /^cluster-admin\s+ClusterRole\/cluster-admin\s+\S+\s+system:masters\s/m,
      'bootstrap binding listed',
    )
    t.match(await h.k('get', 'clusterroles'), /^view\s/m, 'bootstrap roles listed')
    t.match(await h.k('create', 'clusterrole', 'monitoring', '--aggregation-rule=rbac.example.com/aggregate-to-monitoring=true'), /created/)
    await h.k('create', 'clusterrole', 'monitoring-cms', '--verb=get', '--resource=configmaps')
    await h.k('label', 'clusterrole', 'monitoring-cms', 'rbac.example.com/aggregate-to-monitoring=true')
    let rules: unknown = []
    for (let i = 0; i < 50 && JSON.stringify(rules) === '[]'; i++) {
      rules = JSON.parse(await h.k('get', 'clusterrole', 'monitoring', '-o', 'json')).rules ?? []
      if (JSON.stringify(rules) === '[]') await new Promise((r) => setTimeout(r, 100))
    }
    t.same(
      rules,
      [{ apiGroups: [''], resources: ['configmaps'], verbs: ['get'] }],
      'kubectl create clusterrole --aggregation-rule aggregates a labelled role',
    )
  })

  t.test('kubectl explain', async (t) => {
    t.match(await h.k('explain', 'rolebinding.roleRef'), /RoleRef can reference a Role in the current namespace/)
    t.match(await h.k('explain', 'clusterrole.aggregationRule.clusterRoleSelectors'), /ClusterRoleSelectors holds a list of selectors/)
  })

  t.test('apply, client and server side', async (t) => {
    const file = writeTemp(
      h,
      'cm-editor.yaml',
      `apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata:
  name: cm-editor
  labels: { rbac.authorization.k8s.io/aggregate-to-edit: "true" }
rules:
- apiGroups: [""]
  resources: [configmaps]
  verbs: [get, update]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: { name: cm-editors, namespace: default }
roleRef: { apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: cm-editor }
subjects:
- { kind: Group, name: editors }
`,
    )
    t.match(await h.k('apply', '-f', file), /clusterrole.rbac.authorization.k8s.io\/cm-editor created/)
    t.match(await h.k('apply', '-f', file), /cm-editor unchanged/)
    // A fresh object: server-side apply of one first applied client-side conflicts over the
    // defaulted subject apiGroup, as on kube (last-applied is compared undefaulted).
    const ssa = writeTemp(
      h,
      'ssa.yaml',
      `apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: { name: ssa-editors, namespace: default }
roleRef: { apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: cm-editor }
subjects:
- { kind: User, name: alice, apiGroup: rbac.authorization.k8s.io }
`,
    )
    t.match(await h.k('apply', '--server-side', '-f', ssa), /rolebinding.rbac.authorization.k8s.io\/ssa-editors serverside-applied/)
    t.match(await h.k('apply', '--server-side', '-f', ssa), /serverside-applied/)
    const rb = JSON.parse(await h.k('get', 'rolebinding', 'cm-editors', '-n', 'default', '-o', 'json'))
    t.equal(rb.subjects[0].apiGroup, 'rbac.authorization.k8s.io', 'a Group subject defaults its apiGroup')
  })

  t.test(
    'kubectl auth can-i --as agrees with the authorizer table (RBAC doc §Referring to resources, §RoleBinding examples, §User-facing roles)',
    async (t) => {
      await h.k('create', 'namespace', 'team')
      await h.k(
        'create',
        'role',
        'configmap-updater',
        '--verb=get,update',
        '--resource=configmaps',
        '--resource-name=my-configmap',
        '-n',
        'default',
      )
      await h.k('create', 'rolebinding', 'cmu', '--role=configmap-updater', '--user=cmu', '-n', 'default')
      await h.k('create', 'rolebinding', 'ed', '--clusterrole=edit', '--user=ed', '-n', 'team')
      await h.k('create', 'rolebinding', 'vic', '--clusterrole=view', '--user=vic', '-n', 'team')
      const cases: Array<[string[], 'yes' | 'no', string]> = [
        [['get', 'configmaps/my-configmap', '-n', 'default', '--as=cmu'], 'yes', 'resourceNames: the named object'],
        [['update', 'configmaps/my-configmap', '-n', 'default', '--as=cmu'], 'yes', 'resourceNames: the named object'],
        [['get', 'configmaps/other', '-n', 'default', '--as=cmu'], 'no', 'resourceNames: another object'],
        [['list', 'configmaps', '-n', 'default', '--as=cmu'], 'no', 'resourceNames never match list'],
        [['create', 'configmaps', '-n', 'default', '--as=cmu'], 'no', 'resourceNames never match create'],
        [['create', 'serviceaccounts', '--subresource=token', '-n', 'team', '--as=ed'], 'yes', 'edit: serviceaccounts/token'],
        [
          ['create', 'serviceaccounts', '--subresource=token', '-n', 'default', '--as=ed'],
          'no',
          'a RoleBinding to a ClusterRole grants in its namespace only',
        ],
        [['get', 'secrets', '-n', 'team', '--as=ed'], 'yes', 'edit reads Secrets'],
        [['get', 'secrets', '-n', 'team', '--as=vic'], 'no', 'view does not'],
        [['list', 'configmaps', '-n', 'team', '--as=vic'], 'yes', 'view lists configmaps'],
        [['get', '/metrics', '--as=prom'], 'yes', 'non-resource URL through a ClusterRoleBinding'],
        [['get', '/logs/kube-apiserver.log', '--as=prom'], 'yes', 'non-resource URL prefix'],
        [['get', '/metrics', '--as=nobody'], 'no', 'not for others'],
      ]
      for (const [args, want, what] of cases) {
        const r = await h.kubectl(['auth', 'can-i', ...args])
        t.equal(r.stdout.trim(), want, `kubectl auth can-i ${args.join(' ')}: ${what}`)
        t.equal(r.code, want === 'yes' ? 0 : 1, 'exit code')
      }
    },
  )

  t.test('validation as kube-apiserver (pkg/apis/rbac/validation)', async (t) => {
    const bad = async (yaml: string, re: RegExp, what: string) => {
      const r = await h.kubectl(['apply', '-f', '-'], { input: yaml })
      t.not(r.code, 0, what)
      t.match(r.stderr, re, what)
    }
    await bad(
      'apiVersion: rbac.authorization.k8s.io/v1\nkind: Role\nmetadata: {name: r, namespace: default}\nrules:\n- apiGroups: [""]\n  resources: [pods]\n',
      /rules\[0\]\.verbs: Required value: verbs must contain at least one value/,
      'rules need verbs',
    )
    await bad(
      'apiVersion: rbac.authorization.k8s.io/v1\nkind: Role\nmetadata: {name: r, namespace: default}\nrules:\n- nonResourceURLs: [/x]\n  verbs: [get]\n',
      /namespaced rules cannot apply to non-resource URLs/,
      'no nonResourceURLs in a Role',
    )
    await bad(
      'apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata: {name: r}\nrules:\n- nonResourceURLs: [/x]\n  resources: [pods]\n  verbs: [get]\n',
      /rules cannot apply to both regular resources and non-resource URLs/,
      'not both',
    )
    await bad(
      'apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata: {name: r}\nrules:\n- verbs: [get]\n',
      /resource rules must supply at least one api group/,
      'apiGroups needed',
    )
    await bad(
      'apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRoleBinding\nmetadata: {name: b}\nroleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: x}\n',
      /roleRef\.kind: Unsupported value: "Role": supported values: "ClusterRole"/,
      'a ClusterRoleBinding references a ClusterRole only',
    )
    await bad(
      'apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRoleBinding\nmetadata: {name: b}\nroleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: view}\nsubjects:\n- {kind: ServiceAccount, name: robot}\n',
      /subjects\[0\]\.namespace: Required value/,
      'an SA subject needs a namespace in a ClusterRoleBinding',
    )
    await bad(
      'apiVersion: rbac.authorization.k8s.io/v1\nkind: RoleBinding\nmetadata: {name: b, namespace: default}\nroleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: view}\nsubjects:\n- {kind: Robot, name: r2}\n',
      /subjects\[0\]\.kind: Unsupported value: "Robot"/,
      'subject kinds',
    )
    await bad(
      'apiVersion: rbac.authorization.k8s.io/v1\nkind: RoleBinding\nmetadata: {name: b, namespace: default}\nroleRef: {apiGroup: example.com, kind: ClusterRole, name: view}\n',
      /roleRef\.apiGroup: Unsupported value: "example.com"/,
      'roleRef apiGroup',
    )
    await bad(
      'apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata: {name: agg}\naggregationRule: {clusterRoleSelectors: []}\n',
      /at least one clusterRoleSelector required if aggregationRule is non-nil/,
      'aggregationRule needs selectors',
    )
    await bad(
      'apiVersion: rbac.authorization.k8s.io/v1\nkind: RoleBinding\nmetadata: {name: read-cms, namespace: default}\nroleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: view}\nsubjects:\n- {kind: User, name: jane}\n',
      /roleRef: Invalid value: .*cannot change roleRef/,
      'roleRef is immutable',
    )
  })
})
