// Enrollment: with --enroll and no token file the agent accepts its token once over POST /enroll.
import t from 'tap'
import fs from 'node:fs'
import path from 'node:path'
import { Writable } from 'node:stream'
import { startAgent } from '../../agent/index.ts'
import { createAgentLogger } from '../../agent/log.ts'

function capture(): { logs: string[]; destination: Writable } {
  const logs: string[] = []
  return {
    logs,
    destination: new Writable({
      write(c: Buffer, _e, cb) {
        logs.push(c.toString())
        cb()
      },
    }),
  }
}

t.test('first POST /enroll sets the token; everything else needs it; later enrolls are refused', async (t) => {
  const root = t.testdir()
  const tokenFile = path.join(root, 'etc/zlh/agent-token')
  const { logs, destination } = capture()
  const agent = await startAgent({ root, tokenFile, enroll: true, logger: createAgentLogger({ destination: destination as never }) })
  t.teardown(() => agent.close())
  const token = 'e'.repeat(48)
  const post = (body: unknown, auth?: string) =>
    fetch(`${agent.url}/enroll`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(auth ? { authorization: `Bearer ${auth}` } : {}) },
      body: JSON.stringify(body),
    })

  t.equal((await fetch(`${agent.url}/status`)).status, 401, 'nothing else is open before enrollment')
  t.equal(
    (await fetch(`${agent.url}/status`, { headers: { authorization: `Bearer ${token}` } })).status,
    401,
    'no token matches before enrollment',
  )
  t.equal((await post({ token: 'short' })).status, 400, 'too short')
  t.equal((await post({ token: 'has space in it 1234567890' })).status, 400, 'not printable ascii without spaces')
  t.notOk(fs.existsSync(tokenFile))

  const [a, b] = await Promise.all([post({ token }), post({ token: 'f'.repeat(48) })])
  t.same([a.status, b.status].sort(), [204, 409], 'exactly one of two racing enrollments wins')
  const winner = a.status === 204 ? token : 'f'.repeat(48)
  t.equal(fs.readFileSync(tokenFile, 'utf8'), `${winner}\n`)
  t.equal(fs.statSync(tokenFile).mode & 0o777, 0o600)
  t.equal(fs.statSync(path.dirname(tokenFile)).mode & 0o777, 0o700)

  t.equal((await fetch(`${agent.url}/status`, { headers: { authorization: `Bearer ${winner}` } })).status, 200)
  t.equal((await fetch(`${agent.url}/status`)).status, 401)
  const again = await post({ token: 'g'.repeat(48) }, winner)
  t.equal(again.status, 409)
  t.equal(((await again.json()) as any).code, 'ALREADY_ENROLLED')
  t.equal(fs.readFileSync(tokenFile, 'utf8'), `${winner}\n`, 'never overwritten')
  t.notMatch(logs.join(''), winner, 'the token is never logged')
  t.notMatch(logs.join(''), 'f'.repeat(48))
})

t.test('with a token file present, --enroll changes nothing', async (t) => {
  const root = t.testdir()
  const tokenFile = path.join(root, 'token')
  fs.writeFileSync(tokenFile, `${'h'.repeat(40)}\n`)
  const agent = await startAgent({
    root,
    tokenFile,
    enroll: true,
    logger: createAgentLogger({ destination: capture().destination as never }),
  })
  t.teardown(() => agent.close())
  const res = await fetch(`${agent.url}/enroll`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ token: 'i'.repeat(40) }),
  })
  t.equal(res.status, 409)
  t.equal((await fetch(`${agent.url}/status`, { headers: { authorization: `Bearer ${'h'.repeat(40)}` } })).status, 200)
})

t.test('without --enroll there is no open route', async (t) => {
  const root = t.testdir()
  const tokenFile = path.join(root, 'missing-token')
  await t.rejects(startAgent({ root, tokenFile, logger: createAgentLogger({ destination: capture().destination as never }) }), /ENOENT/)
  fs.writeFileSync(tokenFile, 'j'.repeat(40))
  const agent = await startAgent({ root, tokenFile, logger: createAgentLogger({ destination: capture().destination as never }) })
  t.teardown(() => agent.close())
  const res = await fetch(`${agent.url}/enroll`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ token: 'k'.repeat(40) }),
  })
  t.equal(res.status, 401)
})
