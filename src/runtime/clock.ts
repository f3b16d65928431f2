// The framework's clock is the platform's (src/platform/clock.ts: Clock, FakeClock, realClock,
// sleep); re-exported here so the framework's modules and users import it from src/runtime.
export * from '../platform/clock.ts'
