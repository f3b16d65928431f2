// `zlh agent`: runs the agent until SIGTERM/SIGINT. Flags are the contract in DESIGN.md.
import type { Command } from 'commander'
import { CODE_SERVER_PORT } from '../src/api/ports.ts'
import { startAgent } from './main.ts'

export function registerAgentCommand(program: Command): void {
  program
    .command('agent')
    .description('run the in-container agent (runtimes, dev environment, code-server, game server)')
    .requiredOption('--root <dir>', 'every path the agent touches lives under this directory (/ in a container)')
    .requiredOption('--listen <host:port>', 'address to serve the agent API on (port 0 = random)')
    .requiredOption('--token-file <file>', 'file holding the bearer token clients must send')
    .option('--vmid <id>', 'container id, added to every log line', process.env.ZLH_VMID)
    .option('--code-server-bind <host:port>', 'code-server --bind-addr', `0.0.0.0:${CODE_SERVER_PORT}`)
    .option('--log-level <level>', 'pino log level', 'info')
    .option('--log-file <file>', 'write the log to FILE, rotated at --log-max-bytes keeping 2 old files (default: stdout)')
    .option('--log-max-bytes <n>', 'size at which --log-file is rotated', String(10 * 1024 * 1024))
    .option('--enroll', 'if the token file does not exist, accept the token once via POST /enroll (writes the file)')
    .option('--install-grace-ms <ms>', 'on SIGTERM, how long in-flight installs may finish before they are rolled back', '10000')
    .action(
      async (opts: {
        root: string
        listen: string
        tokenFile: string
        vmid?: string
        codeServerBind: string
        logLevel: string
        logFile?: string
        logMaxBytes: string
        installGraceMs: string
        enroll?: boolean
      }) => {
        try {
          const logMaxBytes = Number(opts.logMaxBytes)
          if (!Number.isInteger(logMaxBytes) || logMaxBytes < 4096)
            throw new Error(`--log-max-bytes ${JSON.stringify(opts.logMaxBytes)} must be an integer of at least 4096`)
          await startAgent({
            root: opts.root,
            listen: opts.listen,
            tokenFile: opts.tokenFile,
            vmid: opts.vmid,
            logLevel: opts.logLevel,
            logFile: opts.logFile,
            logMaxBytes,
            codeServer: { bindAddr: opts.codeServerBind },
            installGraceMs: Number(opts.installGraceMs),
            enroll: opts.enroll === true,
            handleSignals: true,
            guardProcess: true,
          })
        } catch (err) {
          console.error(`zlh agent: ${(err as Error).message}`)
          process.exit(2)
        }
      },
    )
}
