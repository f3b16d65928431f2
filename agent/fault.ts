// Crash injection for durability tests: when ZLH_AGENT_FAULT names a point the agent reaches,
// the process SIGKILLs itself there, exactly as an OOM kill or power cut would.
// Inert unless that variable is set; production never sets it.
export type FaultHook = (point: string) => void

export function faultHookFromEnv(env: NodeJS.ProcessEnv = process.env): FaultHook | undefined {
  const wanted = env.ZLH_AGENT_FAULT
  if (!wanted) return undefined
  return (point) => {
    if (point === wanted) process.kill(process.pid, 'SIGKILL')
  }
}
