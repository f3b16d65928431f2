// Kubernetes Events with client-go-style correlation (count, aggregation, spam filter).
export { EventRecorder } from './recorder.ts'
export type { RecorderOptions } from './recorder.ts'
export { EventCorrelator } from './correlator.ts'
export type { Correlation, CorrelatorOptions, EventInput } from './correlator.ts'
