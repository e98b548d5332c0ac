import { pino, type Logger as PinoLogger, type LevelWithSilent } from 'pino';
import pretty from 'pino-pretty';

/** The one structured logger type the project passes around. */
export type Logger = PinoLogger;

/** `LOG_FORMAT`: `auto` is pretty for a person at a terminal, JSON for everything else. */
export type LogFormatSetting = 'auto' | 'pretty' | 'json';

/**
 * How the log is written. JSON lines unless a person reads stdout directly: a log collector, a
 * container runtime or a pipe gets one JSON object per line, whatever its terminal says.
 */
export function chooseLogFormat(setting: LogFormatSetting, stdoutIsTty: boolean): 'pretty' | 'json' {
  if (setting !== 'auto') return setting;
  return stdoutIsTty ? 'pretty' : 'json';
}

export function createLogger(
  options: { level?: LevelWithSilent; name?: string; format?: LogFormatSetting; stdoutIsTty?: boolean } = {},
): Logger {
  const settings = {
    name: options.name ?? 'writersroom-collab',
    level: options.level ?? 'info',
    base: { pid: process.pid },
    timestamp: pino.stdTimeFunctions.isoTime,
  };
  if (chooseLogFormat(options.format ?? 'auto', options.stdoutIsTty ?? process.stdout.isTTY === true) === 'json') return pino(settings);
  // In-process and synchronous rather than pino's worker-thread transport: a development server
  // is not log-bound, and a line logged just before process.exit (a shutdown, a fatal start-up
  // error) must still reach the terminal.
  return pino(settings, pretty({ colorize: true, sync: true, translateTime: 'SYS:HH:MM:ss', ignore: 'pid,hostname,name' }));
}

/** A logger that drops everything: for tests and one-shot tools that print their own output. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}

/**
 * The start-up line for the person who ran the server: where to open the editor. A wildcard
 * listen address (0.0.0.0, ::) is not one a browser can open; the loopback address of the same
 * family is.
 */
export function startupLine(options: { httpUrl: string; demo: boolean }): string {
  const url = new URL(options.httpUrl);
  if (url.hostname === '0.0.0.0') url.hostname = '127.0.0.1';
  if (url.hostname === '[::]') url.hostname = '[::1]';
  return `open ${url.href} in a browser${options.demo ? ' (development: a demo script, tokens issued by the server)' : ''}`;
}
