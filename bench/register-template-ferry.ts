// The Ferry side of bench/register-template.sh: registers the 1 GiB benchmark image from the lab's HTTP server
// into the `s3-region` store through the API, times registerTemplate → job completion, samples the worker's
// memory meanwhile, then deletes the template. A benchmark, not a test: vitest never runs it.
//
// stdout: one JSON line. Success: {"seconds", "bytes", "workerPeakRssBytes", "workerLifetimeHwmBytes", …}.
// Failure: {"error": "...", "kind": "unavailable" | "failed"} (the human message goes to stderr too).
// Exit codes: 0 measured, 3 registerTemplate does not exist in this Ferry yet (API 432), 1 anything else.
import { readdirSync, readFileSync } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { FerryApiClient, type ApiKeys } from '../api/client';
import { parseSiteList } from '../core/url-policy';

type Row = Record<string, unknown>;
type Params = Record<string, string | number | boolean>;

const ROOT = dirname(dirname(fileURLToPath(import.meta.url)));
const FERRY_HOME = process.env.FERRY_HOME ?? join(ROOT, '.ferry');
const IMAGE_NAME = process.env.BENCH_IMAGE_NAME ?? 'bench-1g.raw';
const IMAGE_FILE = join(FERRY_HOME, 'images', IMAGE_NAME);
const IMAGE_URL = process.env.BENCH_IMAGE_URL ?? `http://127.0.20.1:8099/${IMAGE_NAME}`;
const STORE_NAME = process.env.BENCH_STORE ?? 's3-region';
const TIMEOUT_MS = Number(process.env.BENCH_FERRY_TIMEOUT_S ?? 1800) * 1000;
const POLL_MS = 500;
const SAMPLE_MS = 200;
const ALLOW_SETTING = 'secstorage.allowed.internal.download.sites';

class BenchFailure extends Error {
  constructor(
    message: string,
    readonly kind: 'unavailable' | 'failed' = 'failed',
  ) {
    super(message);
  }
}

const log = (message: string) => process.stderr.write(`ferry-bench: ${message}\n`);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const str = (v: unknown): string | undefined =>
  typeof v === 'string' || typeof v === 'number' ? String(v) : undefined;

// --- the worker's memory -------------------------------------------------------------------------------------
// .ferry/run/worker.pid holds the pid `start_bg` launched: the `tsx` launcher, which runs the real worker as a
// child `node` process (Temporal's worker threads live inside that child). So the tree under the pidfile's pid is
// sampled, and the worker proper is the deepest process whose command line names workers/worker.ts.

interface ProcInfo {
  pid: number;
  cmdline: string;
  depth: number;
}

function procStatusKb(pid: number, field: 'VmRSS' | 'VmHWM'): number | undefined {
  try {
    const m = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m?.[1] === undefined ? undefined : Number(m[1]);
  } catch {
    return undefined; // the process is gone
  }
}

function processTree(root: number): ProcInfo[] {
  const children = new Map<number, number[]>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let statLine: string;
    try {
      statLine = readFileSync(`/proc/${entry}/stat`, 'utf8');
    } catch {
      continue;
    }
    // pid (comm) state ppid …: comm may hold spaces and parentheses, so parse after the last ')'.
    const ppid = Number(statLine.slice(statLine.lastIndexOf(')') + 2).split(' ')[1]);
    children.set(ppid, [...(children.get(ppid) ?? []), Number(entry)]);
  }
  const out: ProcInfo[] = [];
  const visit = (pid: number, depth: number) => {
    let cmdline: string;
    try {
      cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ').trim();
    } catch {
      return;
    }
    out.push({ pid, cmdline, depth });
    for (const child of children.get(pid) ?? []) visit(child, depth + 1);
  };
  visit(root, 0);
  return out;
}

class MemorySampler {
  readonly tree: ProcInfo[];
  readonly worker: ProcInfo;
  baselineRssKb = 0;
  peakRssKb = 0;
  peakTreeRssKb = 0;
  samples = 0;
  lost = false;
  private timer: NodeJS.Timeout | undefined;

  constructor(rootPid: number) {
    this.tree = processTree(rootPid);
    if (this.tree.length === 0) {
      throw new BenchFailure(`the worker (pid ${rootPid} from .ferry/run/worker.pid) is not running; run ./ferry up`);
    }
    const named = this.tree.filter((p) => p.cmdline.includes('worker.ts')).sort((a, b) => b.depth - a.depth);
    this.worker = named[0] ?? this.tree[0]!;
  }

  private sample() {
    const rss = procStatusKb(this.worker.pid, 'VmRSS');
    if (rss === undefined) {
      this.lost = true;
      return;
    }
    this.samples++;
    this.peakRssKb = Math.max(this.peakRssKb, rss);
    const total = this.tree.reduce((sum, p) => sum + (procStatusKb(p.pid, 'VmRSS') ?? 0), 0);
    this.peakTreeRssKb = Math.max(this.peakTreeRssKb, total);
  }

  start() {
    this.baselineRssKb = procStatusKb(this.worker.pid, 'VmRSS') ?? 0;
    this.sample();
    this.timer = setInterval(() => this.sample(), SAMPLE_MS);
  }

  stop() {
    if (this.timer) clearInterval(this.timer);
    this.sample();
  }
}

// --- the API ---------------------------------------------------------------------------------------------------

async function readJson<T>(file: string): Promise<T> {
  try {
    return JSON.parse(await readFile(file, 'utf8')) as T;
  } catch (err) {
    throw new BenchFailure(`cannot read ${file} (${(err as Error).message}); is the lab up (./ferry up)?`);
  }
}

async function call(api: FerryApiClient, command: string, params: Params = {}): Promise<Row> {
  let res;
  try {
    res = await api.request(command, params);
  } catch (err) {
    throw new BenchFailure(`${command}: cannot reach the Ferry API at ${api.endpoint} (${(err as Error).message})`);
  }
  if (res.status === 432) {
    throw new BenchFailure(
      `${command} is not available in this Ferry (API 432: ${str(res.body.errortext) ?? 'unknown command'})`,
      'unavailable',
    );
  }
  if (res.status !== 200) {
    throw new BenchFailure(
      `${command} failed (HTTP ${res.status}): ${str(res.body.errortext) ?? JSON.stringify(res.body)}`,
    );
  }
  return res.body;
}

/** Polls queryAsyncJobResult every POLL_MS until jobstatus != 0; returns the final job view. */
async function waitForJob(api: FerryApiClient, jobid: string, timeoutMs: number): Promise<Row> {
  const until = Date.now() + timeoutMs;
  let lastReport = Date.now();
  for (;;) {
    const job = await call(api, 'queryAsyncJobResult', { jobid });
    if (job.jobstatus !== 0) return job;
    if (Date.now() > until) throw new BenchFailure(`job ${jobid} still running after ${timeoutMs / 1000} s`);
    if (Date.now() - lastReport >= 10_000) {
      log(`job ${jobid} running, ${str(job.jobprocstatus) ?? '?'}% done`);
      lastReport = Date.now();
    }
    await sleep(POLL_MS);
  }
}

function jobError(job: Row): string {
  const result = (job.jobresult ?? {}) as Row;
  return `${str(result.errortext) ?? 'no errortext'} (errorcode ${str(result.errorcode) ?? '?'})`;
}

/** An ostypeid if this Ferry knows OS types (listOsTypes), else undefined: Ferry's registerTemplate may not need one. */
async function pickOsType(api: FerryApiClient): Promise<string | undefined> {
  if (process.env.BENCH_OSTYPEID) return process.env.BENCH_OSTYPEID;
  const res = await api.request('listOsTypes');
  if (res.status !== 200) return undefined;
  const types = (res.body.ostype ?? []) as Row[];
  const preferred = types.find((t) => /other.*linux.*64/i.test(str(t.description) ?? '')) ?? types[0];
  return str(preferred?.id);
}

/** Size of the template's object(s) in the store's bucket, found by the template id in the key; undefined if unknown. */
async function storedBytes(store: Row, templateId: string): Promise<number | undefined> {
  const accessKeyId = process.env.FERRY_S3_ACCESS_KEY;
  const secretAccessKey = process.env.FERRY_S3_SECRET_KEY;
  const details = new Map(((store.details ?? []) as Row[]).map((d) => [str(d.key), str(d.value)]));
  const bucket = details.get('bucket');
  const endpoint = details.get('endpoint') ?? str(store.url)?.replace(/\/[^/]*$/, '');
  if (!accessKeyId || !secretAccessKey || !bucket || !endpoint) return undefined;
  const s3 = new S3Client({
    endpoint,
    region: details.get('region') ?? 'us-east-1',
    forcePathStyle: true,
    credentials: { accessKeyId, secretAccessKey },
  });
  try {
    let total: number | undefined;
    let token: string | undefined;
    do {
      const page = await s3.send(
        new ListObjectsV2Command({ Bucket: bucket, Prefix: 'template/', ContinuationToken: token }),
      );
      for (const o of page.Contents ?? []) {
        if (o.Key?.includes(`/${templateId}/`)) total = (total ?? 0) + (o.Size ?? 0);
      }
      token = page.NextContinuationToken;
    } while (token);
    return total;
  } finally {
    s3.destroy();
  }
}

async function deleteTemplate(api: FerryApiClient, id: string): Promise<void> {
  const res = await api.request('deleteTemplate', { id });
  if (res.status === 432) {
    log(`warning: deleteTemplate is not available; template ${id} stays in the store (delete it by hand)`);
    return;
  }
  if (res.status !== 200) {
    log(`warning: deleteTemplate ${id} failed (HTTP ${res.status}): ${str(res.body.errortext) ?? ''}`);
    return;
  }
  const jobid = str(res.body.jobid);
  if (!jobid) return;
  const job = await waitForJob(api, jobid, 600_000);
  if (job.jobstatus !== 1) log(`warning: deleteTemplate ${id} job ${jobid} failed: ${jobError(job)}`);
}

// --- the run ---------------------------------------------------------------------------------------------------

async function main(): Promise<Row> {
  const lab = await readJson<{ apiUrl?: string; adminKeysFile?: string }>(join(FERRY_HOME, 'lab.json'));
  if (!lab.apiUrl) throw new BenchFailure(`${FERRY_HOME}/lab.json has no apiUrl`);
  const keys = await readJson<ApiKeys>(lab.adminKeysFile ?? join(FERRY_HOME, 'admin.json'));
  const api = new FerryApiClient(lab.apiUrl, keys);

  const bytes = (await stat(IMAGE_FILE)).size;
  const sha256 = (await readFile(`${IMAGE_FILE}.sha256`, 'utf8')).trim().split(/\s+/)[0] ?? '';
  if (!/^[0-9a-f]{64}$/.test(sha256)) throw new BenchFailure(`${IMAGE_FILE}.sha256 holds no SHA-256`);

  const store = ((await call(api, 'listImageStores', { name: STORE_NAME })).imagestore as Row[] | undefined)?.[0];
  const storeId = str(store?.id);
  if (!store || !storeId) throw new BenchFailure(`no image store named ${STORE_NAME}; run ./ferry up to seed it`);
  const zones = ((await call(api, 'listZones')).zone ?? []) as Row[];
  log(
    `store ${STORE_NAME} (${storeId}, ${str(store.scope) ?? '?'}); zones: ${zones.map((z) => str(z.name)).join(', ')}`,
  );

  // The lab allows its image server (127.0.20.1/32:8099); without that Ferry refuses the loopback URL by design.
  const allowed = (((await call(api, 'listConfigurations', { name: ALLOW_SETTING })).configuration ?? []) as Row[])[0];
  const image = new URL(IMAGE_URL);
  const target = { hostname: image.hostname, address: image.hostname, port: Number(image.port || 80) };
  if (!parseSiteList(str(allowed?.value) ?? '').matches(target)) {
    throw new BenchFailure(
      `${ALLOW_SETTING} does not include ${image.host}, so Ferry will refuse ${IMAGE_URL}; ./ferry up sets it ` +
        `(or: updateConfiguration name=${ALLOW_SETTING} value=${image.hostname}/32:${target.port})`,
    );
  }

  const ostypeid = await pickOsType(api);
  const workerPid = Number((await readFile(join(FERRY_HOME, 'run', 'worker.pid'), 'utf8')).trim());
  const sampler = new MemorySampler(workerPid);
  log(`worker pid ${sampler.worker.pid} (pidfile ${workerPid}, ${sampler.tree.length} process(es) in its tree)`);

  const params: Params = {
    name: `bench-${new Date().toISOString().replace(/[-:.]/g, '').slice(0, 15)}`,
    displaytext: 'bench',
    url: IMAGE_URL,
    format: 'RAW',
    hypervisor: 'KVM',
    zoneid: '-1',
    checksum: `{SHA-256}${sha256}`,
  };
  if (ostypeid) params.ostypeid = ostypeid;

  sampler.start();
  const t0 = performance.now();
  let templateId: string | undefined;
  try {
    const registered = await call(api, 'registerTemplate', params);
    const template = (registered.template as Row[] | undefined)?.[0];
    templateId = str(template?.id) ?? str(registered.id);
    const jobid = str(registered.jobid);
    if (!jobid || !templateId) {
      throw new BenchFailure(
        `registerTemplate answered without a top-level jobid or template id: ${JSON.stringify(registered)}`,
      );
    }
    log(`registerTemplate: template ${templateId}, job ${jobid}`);
    const job = await waitForJob(api, jobid, TIMEOUT_MS);
    const seconds = (performance.now() - t0) / 1000;
    sampler.stop();
    if (job.jobstatus !== 1) throw new BenchFailure(`registerTemplate job ${jobid} failed: ${jobError(job)}`);
    if (sampler.lost) throw new BenchFailure('the worker process went away during the run (restarted?)');
    const hwmKb = procStatusKb(sampler.worker.pid, 'VmHWM') ?? 0;

    const stored = await storedBytes(store, templateId).catch((err: Error) => {
      log(`warning: could not list the store's bucket: ${err.message}`);
      return undefined;
    });
    if (stored === undefined) log('warning: did not find the template in the bucket; stored size unverified');
    else if (stored !== bytes) log(`warning: the store holds ${stored} bytes for the template, the image has ${bytes}`);

    return {
      seconds: Number(seconds.toFixed(3)),
      bytes,
      mibPerSecond: Number((bytes / 1048576 / seconds).toFixed(1)),
      workerPeakRssBytes: sampler.peakRssKb * 1024,
      workerLifetimeHwmBytes: hwmKb * 1024,
      workerBaselineRssBytes: sampler.baselineRssKb * 1024,
      workerTreePeakRssBytes: sampler.peakTreeRssKb * 1024,
      workerPid: sampler.worker.pid,
      rssSamples: sampler.samples,
      storedObjectBytes: stored ?? null,
      templateId,
      jobid,
    };
  } finally {
    sampler.stop();
    if (templateId) await deleteTemplate(api, templateId);
  }
}

try {
  console.log(JSON.stringify(await main()));
} catch (err) {
  const failure = err instanceof BenchFailure ? err : new BenchFailure(String((err as Error).stack ?? err));
  log(`error: ${failure.message}`);
  if (failure.kind === 'unavailable') {
    log('the Ferry side cannot be measured until registerTemplate lands; the s5cmd numbers stand on their own');
  }
  console.log(JSON.stringify({ error: failure.message, kind: failure.kind }));
  process.exitCode = failure.kind === 'unavailable' ? 3 : 1;
}
