// Benchmark (not a test; nothing runs it but you): back up a snapshot of a KVM volume holding 1 GiB of data to the
// region S3 store through Ferry (takeSnapshot: snapshot on primary, export, host upload by presigned parts), versus
// doing the same by hand on the same host: `qemu-img convert` of the snapshot, then s5cmd uploading that file.
// Run with the lab up (`./ferry up`): `node_modules/.bin/tsx bench/snapshot-backup.ts`. Appends one JSON line to
// bench/results.jsonl and prints it.
import { execFileSync } from 'node:child_process';
import { appendFileSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { FerryApiClient, type ApiKeys } from '../api/client';
import { ferryHome, ferryRoot, hostKeyFile, labHostUser, labHosts, poolPath } from '../lab/lab-layout';
import { createSshExecutor } from '../ssh/executor';
import { fingerprintOfPublicKeyFile } from '../ssh/known-host';

const MiB = 1024 * 1024;
const DATA_MIB = Number(process.env.BENCH_DATA_MIB ?? 1024);
const POOL = 'primary-kvm-a';
const HOST = 'kvm-a1';

type Row = Record<string, unknown>;
const log = (message: string) => process.stderr.write(`snapshot-bench: ${message}\n`);
const seconds = (t0: bigint) => Number(process.hrtime.bigint() - t0) / 1e9;

const lab = JSON.parse(readFileSync(join(ferryHome, 'lab.json'), 'utf8')) as { apiUrl: string };
const keys = JSON.parse(readFileSync(join(ferryHome, 'admin.json'), 'utf8')) as ApiKeys;
const api = new FerryApiClient(lab.apiUrl, keys);
const host = labHosts().find((h) => h.name === HOST)!;
const ssh = createSshExecutor({
  ferryPrivateKey: readFileSync(join(ferryHome, 'keys', 'ferry_ed25519')),
  connectTimeoutMs: 10_000,
});
const endpoint = {
  address: host.address,
  port: host.port,
  username: labHostUser,
  hostKeyFingerprint: await fingerprintOfPublicKeyFile(hostKeyFile(HOST)),
  credential: { kind: 'ferry-key' as const },
};
const onHost = async (argv: string[]) => {
  const r = await ssh.withSession(endpoint, (s) => s.run(argv, { timeoutMs: 3_600_000 }));
  if (r.exitCode !== 0) throw new Error(`${argv.join(' ')}: ${r.stderr}`);
  return r.stdout;
};

async function job(command: string, params: Record<string, string>): Promise<Row> {
  const started = await api.call(command, params);
  const done = await api.waitForJob(String(started.jobid), 3_600_000);
  if (done.jobstatus !== 1) throw new Error(`${command} failed: ${JSON.stringify(done.jobresult)}`);
  return started;
}

const pools = (await api.call('listStoragePools', { name: POOL })).storagepool as Row[];
const pool = pools[0]!;
log(`a 2 GB volume on ${POOL} with ${DATA_MIB} MiB written through ${HOST}`);
const made = await job('createVolume', {
  name: 'bench-snapshot',
  size: '2',
  zoneid: String(pool.zoneid),
  storageid: String(pool.id),
});
const volumeId = String(made.id);
const volume = ((await api.call('listVolumes', { id: volumeId })).volume as Row[])[0]!;
const path = join(poolPath(POOL), String(volume.path));
await onHost(['qemu-io', '-f', 'qcow2', '-c', `write -P 0x6b 0 ${DATA_MIB}M`, path]);

log('Ferry: createSnapshot → BackedUp');
let t0 = process.hrtime.bigint();
const snap = await job('createSnapshot', { volumeid: volumeId });
const ferrySeconds = seconds(t0);
const snapshot = ((await api.call('listSnapshots', { id: String(snap.id) })).snapshot as Row[])[0]!;
const bytes = Number(snapshot.physicalsize);

log('by hand: qemu-img snapshot + convert on the host, then s5cmd uploads the file');
const env = readFileSync(join(ferryHome, 'lab.env'), 'utf8');
const envOf = (name: string) => new RegExp(`^(?:export )?${name}=['"]?([^'"\\n]+)`, 'm').exec(env)?.[1] ?? '';
// s5cmd as bench/register-template.sh installs it (pinned) into the lab's venv.
const s5 = (...args: string[]) =>
  execFileSync('/opt/ferry-tools/venv/bin/s5cmd', ['--endpoint-url', 'http://127.0.0.1:8333', ...args], {
    env: {
      ...process.env,
      AWS_ACCESS_KEY_ID: envOf('FERRY_S3_ACCESS_KEY'),
      AWS_SECRET_ACCESS_KEY: envOf('FERRY_S3_SECRET_KEY'),
      AWS_REGION: 'us-east-1',
    },
  });
const exported = `${path}.bench-export`;
t0 = process.hrtime.bigint();
await onHost(['qemu-img', 'snapshot', '-c', 'bench', path]);
await onHost(['qemu-img', 'convert', '-f', 'qcow2', '-O', 'qcow2', '-l', 'snapshot.name=bench', path, exported]);
s5('cp', exported, 's3://ferry-region/bench/snapshot.qcow2');
const handSeconds = seconds(t0);
s5('rm', 's3://ferry-region/bench/snapshot.qcow2');
await onHost(['rm', '-f', exported]);
await onHost(['qemu-img', 'snapshot', '-d', 'bench', path]);
await job('deleteSnapshot', { id: String(snap.id) });
await job('deleteVolume', { id: volumeId });

const result = {
  bench: 'snapshot-backup',
  at: new Date().toISOString(),
  partMiB: Number(process.env.FERRY_TRANSFER_PART_MIB ?? 16),
  bytes,
  ferrySeconds: Number(ferrySeconds.toFixed(2)),
  ferryMiBps: Number((bytes / MiB / ferrySeconds).toFixed(1)),
  byHandSeconds: Number(handSeconds.toFixed(2)),
  byHandMiBps: Number((bytes / MiB / handSeconds).toFixed(1)),
  ratio: Number((handSeconds / ferrySeconds).toFixed(2)),
};
appendFileSync(join(ferryRoot, 'bench/results.jsonl'), JSON.stringify(result) + '\n');
console.log(JSON.stringify(result));
