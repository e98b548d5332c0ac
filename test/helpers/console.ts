import { format } from 'node:util';
import { afterAll, beforeAll, vi } from 'vitest';

/**
 * What Hocuspocus prints when a hook throws: it reports every error with `console.error` (the
 * hook's name and the reason, `[onAuthenticate] no-access: ...`, and for an error while handling
 * a message `closing connection <id> ... because of exception` with the whole stack). Our hooks
 * throw on purpose to refuse a connection or an update, so a test that provokes refusals would
 * fill the output with expected errors and their stacks.
 */
export const HOOK_REFUSALS: readonly RegExp[] = [/^\[\w+\] /, /^closing connection \S+ \(while handling .*\) because of exception /s];

/** What the socket layer prints when a frame exceeds its payload limit (two calls: the peer, then the error). */
export const OVERSIZE_FRAME_ERRORS: readonly RegExp[] = [/^WebSocket error for peer: \S+$/, /^WSError: RangeError: Max payload size exceeded/];

/**
 * Keeps the library errors a suite provokes on purpose out of the output: for the suite (the
 * enclosing describe, or the file), a `console.error` or `console.warn` whose message matches one
 * of `expected` is kept in `messages` instead of printed; anything else is printed as usual, so an
 * error nobody expected still shows.
 */
export function captureExpectedConsoleErrors(expected: readonly RegExp[] = HOOK_REFUSALS): { messages: () => string[] } {
  const messages: string[] = [];
  beforeAll(() => {
    for (const method of ['error', 'warn'] as const) {
      const original = console[method].bind(console);
      vi.spyOn(console, method).mockImplementation((...args: unknown[]) => {
        const message = format(...args);
        if (expected.some((pattern) => pattern.test(message))) messages.push(message);
        else original(...args);
      });
    }
  });
  afterAll(() => {
    vi.mocked(console.error).mockRestore();
    vi.mocked(console.warn).mockRestore();
  });
  return { messages: () => [...messages] };
}
