// Runs the replicator against $KUBECONFIG (or ~/.kube/config): node main.ts [--leader-elect]
import { KubeConfig } from '@kubernetes/client-node'
import { Manager } from '../../src/runtime/index.ts'
import { setupReplicator } from './replicator.ts'
const kubeConfig = new KubeConfig()
kubeConfig.loadFromDefault()
const leaderElection = process.argv.includes('--leader-elect') ? { leaseName: 'configmap-replicator', namespace: 'default' } : undefined
const mgr = new Manager({ kubeConfig, leaderElection, handleSignals: true, probes: { port: Number(process.env.PROBE_PORT ?? 8081) } })
setupReplicator(mgr)
await mgr.start()
