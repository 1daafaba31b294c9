// Every command of the command table, every parameter, a table of bad values, through the HTTP API: each answer is a
// CloudStack error with a 4xx code (never 5xx) and an X-Description, and no table of the catalogue changes.
// The cases are generated from each command's parameter specs, on top of a baseline request that would get far with
// the real inventory (so a bad value that slipped through would act, and be seen), plus a hand table of the inputs
// that once answered 5xx (issue 11).
import { createHmac, randomUUID } from 'node:crypto';
import { sql, eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { allCommands } from '../../api/commands';
import type { ApiCommand } from '../../api/command';
import type { ParamSpec } from '../../api/params';
import { createDownloadLinks } from '../../core/download-links';
import { openDb, type DbHandle } from '../../db/client';
import { templates, users } from '../../db/schema';
import { labHostUser } from '../../lab/lab-layout';
import { loadConfig } from '../../temporal.config';
import { mapParams } from '../../api/client';
import { freshNfsDir, removeNfsDir } from '../support/lab-stores';
import { sendSigned, type RawAnswer } from '../support/signed-request';
import { adminApi, hostFingerprint, labHost, makeCluster, stack, unique } from '../support/stack';

type Row = { id: string; name: string } & Record<string, unknown>;

interface Case {
  command: string;
  label: string;
  params: Record<string, string>;
  /** A parameter whose value must never be echoed (a secret). */
  secret?: string;
}

let dbHandle: DbHandle;
let inventory: { zone: Row; pod: Row; cluster: Row; storagePool: Row };
let fingerprint: string;
let templateId: string;
let nfsStore: Row;
let nfsDir: string;

/** A UUID nothing in the catalogue has. */
const UNKNOWN = randomUUID();

// --- what the catalogue holds, to prove a refused request changed nothing --------------------------------------

/** Columns a background refresh may rewrite (capacity, timestamps): not a change a request made. */
const VOLATILE_COLUMN = /(_bytes$|^updated$|^last_)/;

async function catalogue(): Promise<Record<string, string>> {
  const columns = await dbHandle.db.execute<{ table_name: string; column_name: string }>(
    sql`select table_name, column_name from information_schema.columns
        where table_schema = 'public' order by table_name, ordinal_position`,
  );
  const tables = new Map<string, string[]>();
  for (const { table_name: t, column_name: c } of columns) {
    if (!VOLATILE_COLUMN.test(c)) tables.set(t, [...(tables.get(t) ?? []), c]);
  }
  const parts = [...tables].map(
    ([t, cs]) =>
      `'${t}', (select md5(coalesce(string_agg(r, '|' order by r), '')) from ` +
      `(select row(${cs.map((c) => `"${c}"`).join(', ')})::text as r from "${t}") rows)`,
  );
  const [row] = await dbHandle.db.execute<{ state: Record<string, string> }>(
    sql.raw(`select json_build_object(${parts.join(', ')}) as state`),
  );
  return row!.state;
}

// --- the cases ------------------------------------------------------------------------------------------------

/** A value for a required parameter that the command would accept and act on, from the real inventory if it can. */
function baselineValue(command: ApiCommand, name: string, spec: ParamSpec): string {
  const byName: Record<string, string> = {
    zoneid: inventory.zone.id,
    podid: inventory.pod.id,
    clusterid: inventory.cluster.id,
    storageid: inventory.storagePool.id,
    name: unique('sweep'),
    clustername: unique('sweep'),
    hypervisor: 'KVM',
    format: 'QCOW2',
    username: labHostUser,
    hostkeyfingerprint: fingerprint,
    provider: 'NFS',
    type: 'image',
    mode: 'HTTP_DOWNLOAD',
    accesskey: 'sweep',
    secretkey: 'sweep',
    bucket: 'sweep',
  };
  // URLs that are refused or answer nothing, so no case ever fetches from outside the lab.
  const urls: Record<string, string> = {
    addHost: `ssh://${labHost('kvm-a1').address}:${labHost('kvm-a1').port}`,
    createStoragePool: 'SharedMountPoint:///sweep/never-created',
    addSwift: 'http://127.0.0.1:9/auth/v1.0',
  };
  if (name === 'url') return urls[command.name] ?? 'http://127.0.0.1:9/sweep.qcow2';
  if (command.name === 'updateConfiguration' && name === 'name') return 'extract.url.expiration.interval';
  if (byName[name] !== undefined) return byName[name];
  return spec.type === 'uuid' ? UNKNOWN : 'sweep';
}

const overlong = (spec: ParamSpec) => 'a'.repeat((spec.maxLength ?? 4096) + 1);

/** Bad values for one parameter, by its spec: [what it is, the raw parameters it is sent as]. */
function badValues(command: ApiCommand, name: string, spec: ParamSpec): [string, Record<string, string>][] {
  const one = (v: string): Record<string, string> => ({ [name]: v });
  const common: [string, Record<string, string>][] = [
    ['a NUL byte', one(spec.type === 'uuid' ? `${UNKNOWN}\u0000` : 'sweep\u0000x')],
    ['CR LF', one('sweep\r\nX-Injected: 1')],
    ['an ESC sequence', one('\u001b[31msweep')],
    ['an overlong value', one(overlong(spec))],
  ];
  const isList = command.name.startsWith('list');
  switch (spec.type) {
    case 'uuid':
      return [
        ...common,
        ['a non-UUID', one('not-a-uuid')],
        ['SQL', one("' OR '1'='1")],
        ['a UUID with junk', one(`${UNKNOWN}x`)],
        ['-1', one('-1')],
        // An unknown id is not malformed: list commands answer an empty list for it.
        ...(isList ? [] : ([['an unknown id', one(randomUUID())]] as [string, Record<string, string>][])),
      ];
    case 'list':
      return [
        ...common,
        ['a non-UUID', one('not-a-uuid')],
        ['a non-UUID among UUIDs', one(`${UNKNOWN},not-a-uuid`)],
        ['an empty entry', one(`${UNKNOWN},,${UNKNOWN}`)],
        ['an unknown id', one(randomUUID())],
      ];
    case 'integer':
      return [
        ...common,
        ['a negative number', one('-1')],
        ['zero', one('0')],
        ['a huge integer', one('999999999999999')],
        ['beyond 64 bits', one('99999999999999999999')],
        ['a fraction', one('1.5')],
        ['an exponent', one('1e3')],
      ];
    case 'long':
      return [
        ...common,
        ['a negative number', one('-1')],
        ['zero', one('0')],
        ['beyond 2^53', one('9007199254740993')],
        ['beyond 64 bits', one('99999999999999999999')],
        ['a fraction', one('1.5')],
        ['an exponent', one('1e3')],
      ];
    case 'boolean':
      return [...common, ['yes', one('yes')], ['1', one('1')], ['truee', one('truee')]];
    case 'date':
      return [
        ...common,
        ['a word', one('tomorrow')],
        ['February 31st', one('2026-02-31')],
        ['year 0', one('0000-01-01')],
        ['before the epoch of JavaScript', one('-271821-04-20T00:00:00Z')],
      ];
    case 'map':
      return [
        ['a NUL byte in a value', mapParams(name, { sweep: 'a\u0000b' })],
        ['CR LF in a value', mapParams(name, { sweep: 'a\r\nb' })],
        ['an overlong key', mapParams(name, { ['k'.repeat(65)]: 'v' })],
        ['an overlong value', mapParams(name, { sweep: 'v'.repeat(2049) })],
        ['too many entries', mapParams(name, Object.fromEntries(Array.from({ length: 33 }, (_, i) => [`k${i}`, 'v'])))],
      ];
    default:
      return common;
  }
}

function generatedCases(): Case[] {
  const cases: Case[] = [];
  for (const command of allCommands) {
    const baseline: Record<string, string> = {};
    for (const [name, spec] of Object.entries(command.params)) {
      if (spec.required) baseline[name] = baselineValue(command, name, spec);
    }
    for (const [name, spec] of Object.entries(command.params)) {
      for (const [what, params] of badValues(command, name, spec)) {
        cases.push({
          command: command.name,
          label: `${name}: ${what}`,
          params: { ...baseline, ...params },
          secret: (command.secretParams as string[] | undefined)?.includes(name) ? name : undefined,
        });
      }
    }
  }
  return cases;
}

/** The inputs that once answered 5xx or were accepted, each sent where it would reach the code that failed. */
function knownCases(): Case[] {
  const nul = 'sweep\u0000x';
  const zoneid = inventory.zone.id;
  const listFilters = [
    'listZones',
    'listPods',
    'listClusters',
    'listHosts',
    'listStoragePools',
    'listImageStores',
    'listVolumes',
    'listSnapshots',
  ].map((command) => ({ command, label: 'known: NUL in the name filter', params: { name: nul } }));
  return [
    ...listFilters,
    { command: 'listZones', label: 'known: NUL in keyword', params: { keyword: nul } },
    { command: 'createVolume', label: 'known: NUL in name', params: { name: nul, zoneid, size: '1' } },
    { command: 'queryAsyncJobResult', label: 'known: NUL in jobid', params: { jobid: nul } },
    {
      command: 'copyTemplate',
      label: 'known: a non-UUID in destzoneids',
      params: { id: templateId, destzoneids: `${zoneid},not-a-zone` },
    },
    {
      command: 'createVolume',
      label: 'known: size=999999999999999 (its bytes overflow a bigint)',
      params: { zoneid, size: '999999999999999' },
    },
    { command: 'createVolume', label: 'known: 1 PiB + 1 GB', params: { zoneid, size: String(1024 * 1024 + 1) } },
    {
      command: 'addHost',
      label: 'known: a malformed sshkey',
      secret: 'sshkey',
      params: {
        clusterid: inventory.cluster.id,
        hypervisor: 'KVM',
        url: `ssh://${labHost('kvm-a1').address}:${labHost('kvm-a1').port}`,
        username: labHostUser,
        hostkeyfingerprint: fingerprint,
        sshkey: '-----BEGIN OPENSSH PRIVATE KEY-----\nbm90IGEga2V5\n-----END OPENSSH PRIVATE KEY-----\n',
      },
    },
    {
      command: 'createStoragePool',
      label: 'found: a broken %-escape in the pool url',
      params: { name: unique('sweep'), zoneid, url: 'SharedMountPoint:///sweep/%zz' },
    },
  ];
}

// --- the checks -----------------------------------------------------------------------------------------------

function expectCloudStackError(c: Case, res: RawAnswer) {
  const context = `${c.command} ${c.label}: ${res.status} ${res.text.slice(0, 300)}`;
  expect(res.status, context).toBeGreaterThanOrEqual(400);
  expect(res.status, context).toBeLessThan(500);
  const body = res.json?.[`${c.command.toLowerCase()}response`] as Record<string, unknown> | undefined;
  expect(body, context).toMatchObject({
    errorcode: res.status,
    cserrorcode: expect.any(Number) as number,
    errortext: expect.any(String) as string,
  });
  expect(res.headers.get('x-description'), context).toBeTruthy();
  if (c.secret) expect(String(body?.errortext), context).not.toContain(c.params[c.secret]!.slice(0, 20));
}

beforeAll(async () => {
  const api = adminApi();
  dbHandle = openDb(stack().databaseUrl, { max: 2 });
  inventory = await makeCluster(api, 'KVM', 'primary-kvm-a');
  fingerprint = await hostFingerprint('kvm-a1');
  // An Up host on the pool: createVolume gets as far as writing its row, where an oversized size once overflowed.
  const kvm = labHost('kvm-a1');
  const added = await api.call('addHost', {
    name: unique('sweep-kvm'),
    clusterid: inventory.cluster.id,
    hypervisor: 'KVM',
    url: `ssh://${kvm.address}:${kvm.port}`,
    username: labHostUser,
    hostkeyfingerprint: fingerprint,
  });
  expect(await api.waitForJob(String(added.jobid))).toMatchObject({ jobstatus: 1 });
  // A template row, so copyTemplate gets past its template to the destination zones (no bytes needed for that).
  const [admin] = await dbHandle.db.select().from(users).where(eq(users.username, 'admin'));
  const [template] = await dbHandle.db
    .insert(templates)
    .values({
      name: unique('sweep-template'),
      displayText: 'bad-input sweep',
      format: 'QCOW2',
      hypervisor: 'KVM',
      url: 'http://127.0.0.1:9/sweep.qcow2',
      crossZones: false,
      ownerId: admin!.id,
    })
    .returning();
  templateId = template!.id;
  // A real NFS store: a download link into it reaches its driver.
  nfsDir = freshNfsDir('nfs-a');
  const ssvm = labHost('ssvm-a');
  nfsStore = (
    await api.call('addImageStore', {
      provider: 'NFS',
      name: unique('sweep-nfs'),
      zoneid: inventory.zone.id,
      url: `nfs://${ssvm.address}${nfsDir}`,
      ...mapParams('details', {
        sshurl: `ssh://${ssvm.address}:${ssvm.port}`,
        hostkeyfingerprint: await hostFingerprint('ssvm-a'),
      }),
    })
  ).imagestore as Row;
  await api.call('updateImageStore', { id: nfsStore.id, readonly: true });
});

afterAll(async () => {
  if (nfsDir) removeNfsDir(nfsDir);
  await dbHandle?.close();
});

describe('bad-input sweep', () => {
  it('covers every command of the command table with at least 100 cases', () => {
    const cases = generatedCases();
    expect(new Set(cases.map((c) => c.command))).toEqual(new Set(allCommands.map((c) => c.name)));
    expect(cases.length + knownCases().length).toBeGreaterThanOrEqual(100);
  });

  it('answers every generated bad value with a CloudStack 4xx and changes nothing', async () => {
    const before = await catalogue();
    const cases = generatedCases();
    const problems: string[] = [];
    for (const c of cases) {
      // POST: an overlong value does not fit in a request line.
      const res = await sendSigned(c.command, c.params, 'POST');
      try {
        expectCloudStackError(c, res);
      } catch (err) {
        problems.push((err as Error).message.split('\n')[0]!);
      }
    }
    expect(problems).toEqual([]);
    expect(await catalogue()).toEqual(before);
    console.log(`bad-input sweep: ${cases.length} generated cases over ${allCommands.length} commands`);
  });

  it('answers each input of the known 5xx table with a CloudStack 4xx and changes nothing', async () => {
    const problems: string[] = [];
    for (const c of knownCases()) {
      const before = await catalogue();
      try {
        expectCloudStackError(c, await sendSigned(c.command, c.params, 'GET'));
        expect(await catalogue(), `${c.command} ${c.label}: the catalogue changed`).toEqual(before);
      } catch (err) {
        problems.push((err as Error).message.split('\n')[0]!);
      }
    }
    expect(problems).toEqual([]);
  });

  it('refuses signed /download links whose key leaves the store with 4xx, never 5xx', async () => {
    const config = loadConfig();
    const expires = String(Math.floor(Date.now() / 1000) + 300);
    // Signed the way Ferry signs (so only the key is wrong): a link someone holding the link key made.
    const linkKey = createHmac('sha256', config.masterKey).update('ferry-download-links-v1').digest();
    const link = (store: string, key: string) => {
      const signature = createHmac('sha256', linkKey).update(`${store}\n${key}\n${expires}`).digest('hex');
      return `${new URL(stack().apiUrl).origin}/download?${new URLSearchParams({ store, key, expires, signature }).toString()}`;
    };
    for (const [store, key] of [
      [nfsStore.id, '../../../../etc/passwd'],
      [nfsStore.id, '/etc/passwd'],
      [nfsStore.id, 'template/../../../etc/passwd'],
      [nfsStore.id, 'template/tmpl/a\u0000b'],
      [nfsStore.id, '.ferry-uploads/x'],
      [nfsStore.id, 'a\r\nSet-Cookie: x=1'],
      ['not-a-store-id', 'template/tmpl/x'],
    ] as const) {
      const res = await fetch(link(store, key));
      const text = await res.text();
      expect(res.status, `${key}: ${res.status} ${text}`).toBeGreaterThanOrEqual(400);
      expect(res.status, `${key}: ${res.status} ${text}`).toBeLessThan(500);
      expect(res.headers.get('x-description')).toBeTruthy();
      expect(res.headers.get('set-cookie')).toBeNull();
    }
    // The links' own maker refuses to make them at all.
    expect(() => createDownloadLinks(config.masterKey, 'http://x').url(nfsStore.id, '../x', 60)).toThrow();
  });
});
