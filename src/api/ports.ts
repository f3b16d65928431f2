// Ports inside a container that more than one component relies on. The providers start the agent
// (and the agent code-server) on them; the controller and the gateway dial them. A provider that
// maps them elsewhere reports the real address (ContainerInfo.agentUrl / codeServerAddress).

/** The agent's HTTP API in lxc and proxmox containers: the providers start it there (`--listen 0.0.0.0:7100`); the controller and the gateway call it. */
export const AGENT_PORT = 7100
/** code-server in a container: the agent binds it (`--code-server-bind`); the controller writes `<address>:6000` into status.ide.upstream; the gateway proxies the IDE to it. */
export const CODE_SERVER_PORT = 6000
