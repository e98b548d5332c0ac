/**
 * `npm run job -- <job> [options]`: runs one pass of a job from the command line (see
 * `jobs/registry.ts` for the jobs, `--help` for their options). Results go to stdout, progress and
 * errors to stderr; exit code 0 ok, 1 failed, 2 bad arguments.
 */
import { preflight } from '../src/preflight.ts';
import { runJobCli } from './runner.ts';

// The Node check and .env, as for the server: a job reads the same configuration.
preflight('job');

runJobCli(process.argv.slice(2), {
  env: process.env,
  stdout: (line) => process.stdout.write(`${line}\n`),
  stderr: (line) => process.stderr.write(`${line}\n`),
})
  .then((code) => {
    process.exitCode = code;
  })
  .catch((error: unknown) => {
    process.stderr.write(`job: unexpected error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exitCode = 1;
  });
