// The agent's own entry: `node agent/bin.ts --root … --listen … --token-file …` takes the flags of
// `zlh agent` (cli.ts defines them) and nothing else. It is the entry of the agent bundle that
// providers start in containers (src/providers/agent-launch.ts); `zlh agent` stays the
// development path through the whole CLI.
import { Command } from 'commander'
import { registerAgentCommand } from './cli.ts'

const program = new Command().name('zlh-agent')
registerAgentCommand(program)
void program.parseAsync(['agent', ...process.argv.slice(2)], { from: 'user' })
