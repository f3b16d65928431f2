// The kubelet's `$(VAR)` expansion as the Deployment test applies it to command, args and env
// (kubernetes third_party/forked/golang/expansion/expand.go and its expand_test.go cases).
import t from 'tap'
import { expandKubeletVars } from './pod-simulation.ts'

t.test('expandKubeletVars follows the kubelet', async (t) => {
  const vars = { POD_NAMESPACE: 'zlh-system', EMPTY: '' }
  t.equal(expandKubeletVars('--ns=$(POD_NAMESPACE)', vars), '--ns=zlh-system', 'a defined variable')
  t.equal(expandKubeletVars('$(POD_NAMESPACE)$(POD_NAMESPACE)', vars), 'zlh-systemzlh-system', 'twice')
  t.equal(expandKubeletVars('$(EMPTY)x', vars), 'x', 'defined as empty')
  t.equal(expandKubeletVars('$(UNDEFINED)', vars), '$(UNDEFINED)', 'an undefined one stays as written')
  t.equal(expandKubeletVars('$$(POD_NAMESPACE)', vars), '$(POD_NAMESPACE)', '$$ escapes the reference')
  t.equal(expandKubeletVars('a$$b', vars), 'a$b', '$$ is one $')
  t.equal(expandKubeletVars('$x $', vars), '$x $', 'a lone $ stays')
  t.equal(expandKubeletVars('$(POD_NAMESPACE', vars), '$(POD_NAMESPACE', 'an unclosed reference stays')
})
