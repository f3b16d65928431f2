// What the Minecraft router tells players, in one place: server-list MOTDs and login disconnect texts.
// `name` is always a GameServer name (a DNS label checked by parseGameHost), never raw client input;
// the front door puts these into JSON text components itself.

export const playerText = {
  unknownServer: (): string => 'There is no game server at this address. Check the server address you typed.',
  sleepingMotd: (name: string): string => `${name} is sleeping — join to wake`,
  sleepingNoWakeMotd: (name: string): string => `${name} is sleeping`,
  sleepingNoWake: (name: string): string => `${name} is sleeping and wakes only when its operator starts it. Try again later.`,
  startingMotd: (name: string): string => `${name} is starting — join to play when it is up`,
  comeBackLater: (name: string): string => `${name} is waking up. Join again in a minute.`,
  notRunning: (name: string): string => `${name} is not running right now. Try again later.`,
} as const
