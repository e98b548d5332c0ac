import { pino, type Logger as PinoLogger, type LevelWithSilent } from 'pino';

/** The one structured logger type the project passes around. */
export type Logger = PinoLogger;

export function createLogger(options: { level?: LevelWithSilent; name?: string } = {}): Logger {
  return pino({
    name: options.name ?? 'writersroom-collab',
    level: options.level ?? 'info',
    base: { pid: process.pid },
    timestamp: pino.stdTimeFunctions.isoTime,
  });
}

/** A logger that drops everything: for tests and one-shot tools that print their own output. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
