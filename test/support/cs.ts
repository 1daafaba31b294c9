// Runs the unmodified Python CloudStack client `cs` against the test stack; returns its parsed JSON answer.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { mapParams } from '../../api/client';
import { stack } from './stack';

const run = promisify(execFile);

export interface CsResult {
  ok: boolean;
  body: Record<string, unknown>;
  output: string;
}

export async function cs(
  command: string,
  params: Record<string, string> = {},
  options: { async?: boolean } = {},
): Promise<CsResult> {
  const args = [...(options.async ? ['--async'] : []), command, ...Object.entries(params).map(([k, v]) => `${k}=${v}`)];
  const env = {
    ...process.env,
    CLOUDSTACK_ENDPOINT: stack().apiUrl,
    CLOUDSTACK_KEY: stack().apiKey,
    CLOUDSTACK_SECRET: stack().secretKey,
    CLOUDSTACK_TIMEOUT: '60',
  };
  try {
    const { stdout } = await run('cs', args, { env });
    return { ok: true, body: JSON.parse(stdout) as Record<string, unknown>, output: stdout };
  } catch (err) {
    const { stdout = '', stderr = '' } = err as { stdout?: string; stderr?: string };
    const json = /\{[\s\S]*\}/.exec(stdout)?.[0];
    const parsed = json ? (JSON.parse(json) as Record<string, unknown>) : {};
    // On errors cs prints the whole answer: {"<command>response": {errorcode, errortext}}.
    const keys = Object.keys(parsed);
    const body =
      keys.length === 1 && keys[0]!.endsWith('response') ? (parsed[keys[0]!] as Record<string, unknown>) : parsed;
    return { ok: false, body, output: stdout + stderr };
  }
}

/** details[i].key/value parameters, as CloudStack clients send a map. */
export const details = (map: Record<string, string>) => mapParams('details', map);

export interface CsJob {
  /** The command's own answer (jobid, and the new entity for create commands). */
  started: Record<string, unknown>;
  jobid: string;
  /** queryAsyncJobResult's answer once the job ended. */
  done: { jobstatus: number; jobresultcode: number; jobresult: Record<string, unknown> };
}

/** Starts an async command with cs (--async, so the jobid is seen) and polls queryAsyncJobResult with cs to the end. */
export async function csJob(command: string, params: Record<string, string>, timeoutMs = 120_000): Promise<CsJob> {
  const started = await cs(command, params, { async: true });
  if (!started.ok || typeof started.body.jobid !== 'string')
    throw new Error(`${command} did not start a job: ${started.output}`);
  const jobid = started.body.jobid;
  const until = Date.now() + timeoutMs;
  for (;;) {
    const polled = await cs('queryAsyncJobResult', { jobid });
    if (!polled.ok) throw new Error(`queryAsyncJobResult failed: ${polled.output}`);
    if (polled.body.jobstatus !== 0) return { started: started.body, jobid, done: polled.body as CsJob['done'] };
    if (Date.now() > until) throw new Error(`job ${jobid} still running after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 300));
  }
}
