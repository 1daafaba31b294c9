// Exactly-once requests on the real lab: one idempotencykey (parameter or Idempotency-Key header) makes one template,
// one job and one workflow however many times, or however concurrently, the request is sent.
import { randomUUID } from 'node:crypto';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mapParams, type ApiResult, type FerryApiClient } from '../../api/client';
import { sign } from '../../api/signature';
import { sampleImages } from '../../lab/lab-layout';
import { applyTestSites } from '../support/lab-sites';
import { createS3Bucket, labS3, removeS3Bucket } from '../support/lab-stores';
import { adminApi, stack, unique } from '../support/stack';
import { temporalClient } from '../support/temporal';

type Row = { id: string; name: string } & Record<string, unknown>;

let api: FerryApiClient;
let sql: postgres.Sql;
let zone: Row;
let store: Row;
const bucket = `idem-${randomUUID().slice(0, 8)}`;

const register = (name: string, extra: Record<string, string> = {}) => {
  const image = sampleImages().find((i) => i.format === 'QCOW2')!;
  return {
    name,
    format: 'QCOW2',
    hypervisor: 'KVM',
    url: image.url,
    checksum: `{SHA-256}${image.sha256}`,
    zoneid: zone.id,
    ...extra,
  };
};

/** A signed request like FerryApiClient's, with an Idempotency-Key header (headers are not part of the signature). */
async function withHeader(command: string, params: Record<string, string>, key: string): Promise<ApiResult> {
  const all = new Map<string, string>(Object.entries({ ...params, command, response: 'json' }));
  all.set('apiKey', stack().apiKey);
  all.set('signatureVersion', '3');
  all.set('expires', new Date(Date.now() + 600_000).toISOString().replace(/\.\d{3}Z$/, '+0000'));
  all.set('signature', sign(all, stack().secretKey));
  const res = await fetch(`${stack().apiUrl}?${new URLSearchParams([...all]).toString()}`, {
    headers: { 'Idempotency-Key': key },
  });
  const json = (await res.json()) as Record<string, Record<string, unknown>>;
  return { status: res.status, body: json[`${command.toLowerCase()}response`]! };
}

const templatesNamed = async (name: string) =>
  Number((await sql`select count(*)::int as n from templates where name = ${name}`)[0]!.n);

/** Workflows Temporal knows for a query, once its visibility has caught up with a start we know happened. */
async function workflowsWhere(query: string): Promise<string[]> {
  const client = await temporalClient();
  for (const until = Date.now() + 15_000; ;) {
    const ids: string[] = [];
    for await (const run of client.workflow.list({ query })) ids.push(`${run.workflowId}/${run.runId}`);
    if (ids.length > 0 || Date.now() > until) return ids;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

async function expectDone(jobid: string) {
  expect(await api.waitForJob(jobid)).toMatchObject({ jobstatus: 1 });
}

beforeAll(async () => {
  api = adminApi();
  sql = postgres(stack().databaseUrl, { max: 1 });
  await applyTestSites(api);
  zone = (await api.call('createZone', { name: unique('zone-idem'), networktype: 'Advanced' })).zone as Row;
  await createS3Bucket(bucket);
  const s3 = labS3();
  store = (
    await api.call('addImageStore', {
      provider: 'S3',
      name: unique('s3-idem'),
      zoneid: zone.id,
      ...mapParams('details', { endpoint: s3.endpoint, accesskey: s3.accesskey, secretkey: s3.secretkey, bucket }),
    })
  ).imagestore as Row;
});

afterAll(async () => {
  if (store) await api.call('updateImageStore', { id: store.id, readonly: true });
  await removeS3Bucket(bucket);
  await sql.end();
});

describe('idempotencykey', () => {
  const key = randomUUID();
  const name = unique('idem');

  it('20 concurrent registerTemplate calls with one key make one template, one job and one workflow', async () => {
    const answers = await Promise.all(
      Array.from({ length: 20 }, () => api.request('registerTemplate', register(name, { idempotencykey: key }))),
    );
    expect(answers.map((a) => a.status)).toEqual(Array<number>(20).fill(200));
    const jobids = new Set(answers.map((a) => a.body.jobid));
    const ids = new Set(answers.map((a) => a.body.id));
    expect(jobids.size).toBe(1);
    expect(ids.size).toBe(1);
    const [jobid] = [...jobids] as string[];
    const [id] = [...ids] as string[];
    expect(await templatesNamed(name)).toBe(1);
    expect(await workflowsWhere(`FerryObjectId = '${id}'`)).toEqual([expect.stringMatching(`^${jobid}/`)]);
    await expectDone(jobid!);
    expect(await workflowsWhere(`WorkflowId = '${jobid}'`)).toHaveLength(1);

    // Sent again once it is all over, the request still answers the first job.
    const later = await api.request('registerTemplate', register(name, { idempotencykey: key }));
    expect(later).toMatchObject({ status: 200, body: { jobid, id } });
    expect(await templatesNamed(name)).toBe(1);
  });

  it('refuses the key with other parameters or another command (431), creating nothing', async () => {
    const other = unique('idem-other');
    const changed = await api.request('registerTemplate', register(other, { idempotencykey: key }));
    expect(changed.status).toBe(431);
    expect(String(changed.body.errortext)).toMatch(
      /idempotencykey .* already used for this command with other parameters/,
    );
    expect(await templatesNamed(other)).toBe(0);

    const zoneName = unique('zone-idem');
    const command = await api.request('createZone', { name: zoneName, networktype: 'Advanced', idempotencykey: key });
    expect(command.status).toBe(431);
    expect(String(command.body.errortext)).toMatch(/already used for registerTemplate/);
    const zones = await api.call('listZones', { name: zoneName });
    expect(zones.count ?? 0).toBe(0);
  });

  it('takes the key from the Idempotency-Key header too, in the same key space as the parameter', async () => {
    const headerKey = randomUUID();
    const headerName = unique('idem-header');
    const first = await withHeader('registerTemplate', register(headerName), headerKey);
    expect(first.status).toBe(200);
    const again = await withHeader('registerTemplate', register(headerName), headerKey);
    const asParam = await api.request('registerTemplate', register(headerName, { idempotencykey: headerKey }));
    for (const answer of [again, asParam]) {
      expect(answer).toMatchObject({ status: 200, body: { jobid: first.body.jobid, id: first.body.id } });
    }
    expect(await templatesNamed(headerName)).toBe(1);
    await expectDone(String(first.body.jobid));

    const both = await withHeader(
      'registerTemplate',
      register(headerName, { idempotencykey: randomUUID() }),
      headerKey,
    );
    expect(both.status).toBe(431);
    expect(String(both.body.errortext)).toMatch(/idempotencykey parameter and the Idempotency-Key header differ/);
  });

  it('gives concurrent repeats of a refused request the same error, then lets a corrected retry through', async () => {
    const retryKey = randomUUID();
    const retryName = unique('idem-retry');
    const refused = await Promise.all(
      Array.from({ length: 5 }, () =>
        api.request('registerTemplate', register(retryName, { hypervisor: 'Hyper-V', idempotencykey: retryKey })),
      ),
    );
    for (const answer of refused) {
      expect(answer.status).toBe(431);
      expect(answer.body.errortext).toBe('Hypervisor Hyper-V is not supported; use KVM, XenServer or VMware.');
    }
    expect(await templatesNamed(retryName)).toBe(0);

    const retried = await api.request('registerTemplate', register(retryName, { idempotencykey: retryKey }));
    expect(retried.status).toBe(200);
    expect(await templatesNamed(retryName)).toBe(1);
    await expectDone(String(retried.body.jobid));
  });

  it('refuses a key that is not 1 to 255 visible characters', async () => {
    const bad = await api.request('registerTemplate', register(unique('idem-bad'), { idempotencykey: 'two words' }));
    expect(bad.status).toBe(431);
    expect(String(bad.body.errortext)).toMatch(/idempotencykey must be 1 to 255 visible ASCII characters/);
  });
});
