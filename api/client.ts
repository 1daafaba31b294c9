// A small signed CloudStack API client (signatureVersion 3), for the lab seeder, tests and benchmarks.
import { sign } from './signature';

export interface ApiKeys {
  apiKey: string;
  secretKey: string;
}

export interface ApiResult {
  status: number;
  body: Record<string, unknown>;
}

export class FerryApiClient {
  constructor(
    readonly endpoint: string,
    private readonly keys: ApiKeys,
  ) {}

  /** Sends a signed request and returns the HTTP status and the unwrapped `<command>response` object. */
  async request(command: string, params: Record<string, string | number | boolean> = {}): Promise<ApiResult> {
    const all = new Map<string, string>(
      Object.entries({ ...params, command, response: 'json' }).map(([k, v]) => [k, String(v)]),
    );
    all.set('apiKey', this.keys.apiKey);
    all.set('signatureVersion', '3');
    all.set('expires', new Date(Date.now() + 600_000).toISOString().replace(/\.\d{3}Z$/, '+0000'));
    all.set('signature', sign(all, this.keys.secretKey));
    const res = await fetch(`${this.endpoint}?${new URLSearchParams([...all]).toString()}`);
    const json = (await res.json()) as Record<string, Record<string, unknown>>;
    return { status: res.status, body: json[`${command.toLowerCase()}response`] ?? json };
  }

  /** Like request, but throws unless the answer is 200. */
  async call(
    command: string,
    params: Record<string, string | number | boolean> = {},
  ): Promise<Record<string, unknown>> {
    const { status, body } = await this.request(command, params);
    if (status !== 200) throw new Error(`${command} failed (${status}): ${String(body.errortext)}`);
    return body;
  }

  /** Polls queryAsyncJobResult until the job ends; returns its final view. */
  async waitForJob(jobid: string, timeoutMs = 120_000): Promise<Record<string, unknown>> {
    const until = Date.now() + timeoutMs;
    for (;;) {
      const job = await this.call('queryAsyncJobResult', { jobid });
      if (job.jobstatus !== 0) return job;
      if (Date.now() > until) throw new Error(`job ${jobid} still running after ${timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, 250));
    }
  }
}

/** A map parameter as CloudStack clients send it: name[0].key=k&name[0].value=v&… */
export function mapParams(name: string, map: Record<string, string>): Record<string, string> {
  return Object.fromEntries(
    Object.entries(map).flatMap(([k, v], i): [string, string][] => [
      [`${name}[${i}].key`, k],
      [`${name}[${i}].value`, v],
    ]),
  );
}
