// `zlh artifacts build|publish|serve`: the artifact workflow for a cluster — pack runtimes into a
// directory any static web server can serve, host it (or use `serve`), and publish the
// RuntimeCatalogs naming the files with their real sha256s. Exit codes: 0 done, 1 failed while
// working, 2 refused input (a flag, a tree without bin/).
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import type { Command } from 'commander'
import pino from 'pino'
import { Progress } from '../progress.ts'
import { resolveCacheDir } from '../state-dir.ts'
import { TreeRefusedError } from './build.ts'
import { buildDirectory, DEFAULT_BUILTINS, parseOnly, parsePackSpec, type BuiltinRuntime } from './build-dir.ts'
import { IndexError } from './index-file.ts'
import { publish, PublishError } from './publish.ts'
import { DEFAULT_MAX_UPLOAD_BYTES, startArtifactServer } from './server.ts'

/** HOST:PORT (IPv6 in brackets); loopback when HOST is empty. */
export function parseListen(addr: string): { host: string; port: number } {
  const i = addr.lastIndexOf(':')
  const host = i <= 0 ? '127.0.0.1' : addr.slice(0, i).replace(/^\[|\]$/g, '')
  const port = Number(i < 0 ? addr : addr.slice(i + 1))
  if (!/^\d+$/.test(i < 0 ? addr : addr.slice(i + 1)) || port > 65535)
    throw new TreeRefusedError(`--listen ${addr}: want HOST:PORT with a port 0-65535, e.g. 127.0.0.1:8080`)
  return { host, port }
}

function fail(command: string, err: unknown): void {
  const refused = err instanceof TreeRefusedError || err instanceof PublishError || err instanceof IndexError
  console.error(`zlh artifacts ${command}: ${(err as Error).message}`)
  process.exitCode = refused ? 2 : 1
}

const collect = (value: string, previous: string[]): string[] => [...previous, value]

export function registerArtifactsCommand(program: Command): void {
  const artifacts = program
    .command('artifacts')
    .description('build, host and catalog runtime artifacts for a cluster (see docs/cluster.md)')

  artifacts
    .command('build')
    .description('pack runtimes into DIR as .tar.gz files plus DIR/index.json; re-runs reuse unchanged artifacts (re-hashed)')
    .requiredOption('--out <dir>', 'directory to write the artifacts and index.json into')
    .option(
      '--only <list>',
      `built-in runtimes to pack, comma-separated: node, flying-squid, code-server (code-server takes minutes the first time) (default ${DEFAULT_BUILTINS.join(',')}; none for only --pack trees)`,
    )
    .option(
      '--pack <name@version=tree>',
      'also pack an operator tree whose root holds bin/, e.g. java@21.0.5=/opt/jdk-21 (repeatable)',
      collect,
      [],
    )
    .option('--json', 'progress as JSON lines')
    .action(async (o: { out: string; only?: string; pack: string[]; json?: boolean }) => {
      const progress = new Progress({ json: o.json === true })
      try {
        const packs = o.pack.map(parsePackSpec)
        const builtins: BuiltinRuntime[] = o.only !== undefined ? parseOnly(o.only) : DEFAULT_BUILTINS
        const result = await buildDirectory({
          outDir: o.out,
          builtins,
          packs,
          progress,
          codeServerCacheDir: join(resolveCacheDir(), 'code-server'),
        })
        for (const e of result.entries)
          progress.info(`${e.name} ${e.version} ${e.arch} ${e.file} sha256 ${e.sha256} ${e.sizeBytes} bytes`, { event: 'artifact', ...e })
        progress.info(
          `${join(o.out, 'index.json')}: ${result.entries.length} artifact(s) (${result.built.length} packed, ${result.reused.length} reused); next: zlh artifacts publish --dir ${o.out} --base-url URL`,
        )
      } catch (err) {
        fail('build', err)
      }
    })

  artifacts
    .command('agent')
    .description(
      'pack the agent as one self-contained tarball for container templates (Proxmox ostemplates): bin/zlh-agent runs it with Node 24 from PATH or $ZLH_NODE',
    )
    .requiredOption('--out <dir>', 'directory to write zlh-agent-<version>-x64.tar.gz into')
    .option('--json', 'progress as JSON lines')
    .action(async (o: { out: string; json?: boolean }) => {
      const progress = new Progress({ json: o.json === true })
      try {
        const { buildAgentPack } = await import('./agent-pack.ts')
        const a = await buildAgentPack(o.out)
        progress.info(`${a.name} ${a.version} ${a.file} sha256 ${a.sha256} ${a.sizeBytes} bytes`, { event: 'artifact', ...a })
      } catch (err) {
        fail('agent', err)
      }
    })

  artifacts
    .command('publish')
    .description(
      "emit RuntimeCatalogs (one per runtime, stable = newest) for DIR's files served at --base-url; optionally upload, apply and allow the source",
    )
    .requiredOption('--dir <dir>', 'a directory written by zlh artifacts build')
    .requiredOption('--base-url <url>', 'where containers download the files from, e.g. http://10.0.0.5:30080/')
    .option('-o, --out <file>', 'write the YAML here instead of stdout')
    .option('--apply', 'server-side apply the catalogs (field manager zlh-artifacts)')
    .option('--force-conflicts', 'with --apply: take over fields another manager owns')
    .option('--kubeconfig <file>', 'kubeconfig for --apply/--provider (default $KUBECONFIG, ~/.kube/config)')
    .option('--provider <name>', "add --base-url to this ContainerProvider's spec.outbound.allowedSources")
    .option('--upload <url>', 'first PUT every file to this artifact server (zlh artifacts serve --upload-token-file)')
    .option('--upload-token-file <file>', "file holding the artifact server's upload token (with --upload)")
    .option('--no-verify', 'do not GET the files back to check their sha256 (when the serving URL is not reachable from here)')
    .option('--json', 'progress as JSON lines')
    .action(
      async (o: {
        dir: string
        baseUrl: string
        out?: string
        apply?: boolean
        forceConflicts?: boolean
        kubeconfig?: string
        provider?: string
        upload?: string
        uploadTokenFile?: string
        verify: boolean
        json?: boolean
      }) => {
        // The YAML goes to stdout without -o: progress goes to stderr then.
        const progress = new Progress({ json: o.json === true, out: o.out === undefined ? process.stderr : process.stdout, tty: false })
        try {
          await publish({
            dir: o.dir,
            baseUrl: o.baseUrl,
            out: o.out,
            apply: o.apply,
            forceConflicts: o.forceConflicts,
            kubeconfig: o.kubeconfig,
            provider: o.provider,
            upload: o.upload,
            uploadTokenFile: o.uploadTokenFile,
            verify: o.verify,
            progress,
          })
        } catch (err) {
          fail('publish', err)
        }
      },
    )

  artifacts
    .command('serve')
    .description("serve DIR's files (GET/HEAD by name, /healthz); with --upload-token-file also accept authenticated PUT uploads")
    .requiredOption('--dir <dir>', 'directory of artifacts to serve')
    .option('--listen <host:port>', 'address to listen on (loopback by default; 0.0.0.0:8080 in a pod)', '127.0.0.1:8080')
    .option(
      '--upload-token-file <file>',
      'enable PUT /<name>: bearer token file (without it, or while the file does not exist, PUT is 405)',
    )
    .option('--max-upload-bytes <n>', 'largest accepted upload', String(DEFAULT_MAX_UPLOAD_BYTES))
    .action(async (o: { dir: string; listen: string; uploadTokenFile?: string; maxUploadBytes: string }) => {
      const logger = pino({ base: { component: 'artifact-server' } })
      try {
        const { host, port } = parseListen(o.listen)
        const maxUploadBytes = Number(o.maxUploadBytes)
        if (!Number.isSafeInteger(maxUploadBytes) || maxUploadBytes < 1)
          throw new TreeRefusedError(`--max-upload-bytes ${o.maxUploadBytes} must be a whole number of bytes >= 1`)
        let uploadToken: string | undefined
        if (o.uploadTokenFile !== undefined) {
          // A missing file (the optional Secret of manifests/optional/artifact-server not created)
          // turns uploads off, said in the log; an unreadable or empty one is an error.
          try {
            uploadToken = readFileSync(o.uploadTokenFile, 'utf8').trim()
          } catch (err) {
            if ((err as NodeJS.ErrnoException).code !== 'ENOENT')
              throw new TreeRefusedError(`cannot read --upload-token-file ${o.uploadTokenFile}: ${(err as Error).message}`)
            logger.warn(
              { file: o.uploadTokenFile },
              'upload token file does not exist: uploads are off (PUT answers 405) until it does and the server restarts',
            )
          }
          if (uploadToken === '')
            throw new TreeRefusedError(
              `--upload-token-file ${o.uploadTokenFile} is empty: put a random token in it (e.g. openssl rand -hex 32)`,
            )
        }
        const server = await startArtifactServer(o.dir, {
          host,
          port,
          uploadToken,
          maxUploadBytes,
          onUpload: (e) => (e.status === 201 ? logger.info(e, 'artifact uploaded') : logger.warn(e, 'artifact upload refused')),
        })
        logger.info({ url: server.baseUrl, dir: o.dir, uploads: uploadToken !== undefined, maxUploadBytes }, 'artifact server listening')
        const stop = (): void => {
          void server.close().then(() => {
            logger.info('artifact server stopped')
            process.exit(0)
          })
        }
        process.once('SIGTERM', stop)
        process.once('SIGINT', stop)
      } catch (err) {
        fail('serve', err)
      }
    })
}
