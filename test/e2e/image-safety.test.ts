// Images that would make qemu-img read other files (OpenStack's CVE-2022-47951 / CVE-2024-32498 class) are refused:
// at registration, by the inspector the download streams through; and on the host, before any conversion, when such
// a file is put on a pool by hand. Real images made with qemu-img, served by the lab's image server.
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ferryHome, poolPath, sampleImages } from '../../lab/lab-layout';
import { buildLabInventory, removeLabInventoryStorage, type LabInventory } from '../support/lab-inventory';
import { adminApi, unique } from '../support/stack';
import { recordHistory } from '../support/temporal';

let lab: LabInventory;
let work: string;
const served: string[] = [];

/** Puts a file in the lab's image server directory under a fresh name, and gives its URL. */
function serve(path: string, ext: string): string {
  const name = `${unique('attack')}.${ext}`;
  copyFileSync(path, join(ferryHome, 'images', name));
  served.push(name);
  const url = new URL(sampleImages()[0]!.url);
  url.pathname = `/${name}`;
  return url.toString();
}

const qemuImg = (...args: string[]) => execFileSync('qemu-img', args, { stdio: 'pipe' });

async function registerAndFail(format: string, url: string) {
  const started = await adminApi().call('registerTemplate', {
    name: unique('unsafe'),
    format,
    hypervisor: format === 'VMDK' ? 'VMware' : 'KVM',
    url,
    zoneid: lab.zoneA.id,
  });
  const done = (await adminApi().waitForJob(String(started.jobid))) as {
    jobstatus: number;
    jobresult: { errorcode?: number; errortext?: string };
  };
  const [template] = (await adminApi().call('listTemplates', { templatefilter: 'all', id: String(started.id) }))
    .template as { isready: boolean; status?: string }[];
  return { done, template: template! };
}

beforeAll(async () => {
  lab = await buildLabInventory(adminApi());
  work = mkdtempSync(join(tmpdir(), 'ferry-attack-'));
  qemuImg('create', '-q', '-f', 'qcow2', join(work, 'clean.qcow2'), '16M');
  qemuImg('create', '-q', '-f', 'qcow2', '-F', 'raw', '-b', '/etc/passwd', join(work, 'backing.qcow2'));
  qemuImg(
    'create',
    '-q',
    '-f',
    'qcow2',
    '-o',
    `data_file=${join(work, 'data.raw')}`,
    join(work, 'datafile.qcow2'),
    '16M',
  );
  // A VMDK descriptor whose one extent is a host file.
  writeFileSync(
    join(work, 'extent.vmdk'),
    [
      '# Disk DescriptorFile',
      'version=1',
      'CID=fffffffe',
      'parentCID=ffffffff',
      'createType="monolithicFlat"',
      'RW 2048 FLAT "/etc/passwd" 0',
      'ddb.virtualHWVersion = "4"',
      '',
    ].join('\n'),
  );
  copyFileSync(join(work, 'clean.qcow2'), join(work, 'truncated.qcow2'));
  truncateSync(join(work, 'truncated.qcow2'), 1024);
}, 240_000);

afterAll(async () => {
  for (const name of served) rmSync(join(ferryHome, 'images', name), { force: true });
  rmSync(work, { recursive: true, force: true });
  await removeLabInventoryStorage(adminApi(), lab);
});

describe('an unsafe image is refused at registration', () => {
  it.each([
    ['a qcow2 with a backing file', 'QCOW2', 'backing.qcow2', 'qcow2', 'qcow2-backing-file'],
    ['a qcow2 with an external data file', 'QCOW2', 'datafile.qcow2', 'qcow2', 'qcow2-data-file'],
    ['a VMDK descriptor whose extent is /etc/passwd', 'VMDK', 'extent.vmdk', 'vmdk', 'vmdk-'],
    ['a qcow2 truncated to its first KiB', 'QCOW2', 'truncated.qcow2', 'qcow2', 'qcow2-truncated'],
  ])('%s: the job fails naming the rule and the copy is Failed', async (_what, format, file, ext, rule) => {
    const { done, template } = await registerAndFail(format, serve(join(work, file), ext));
    expect(done.jobstatus).toBe(2);
    expect(done.jobresult.errorcode).toBe(431);
    expect(done.jobresult.errortext).toContain(rule);
    expect(template.isready).toBe(false);
  });

  it('while a clean image of the same kind registers', async () => {
    const started = await adminApi().call('registerTemplate', {
      name: unique('clean'),
      format: 'QCOW2',
      hypervisor: 'KVM',
      url: serve(join(work, 'clean.qcow2'), 'qcow2'),
      zoneid: lab.zoneA.id,
    });
    expect((await adminApi().waitForJob(String(started.jobid))).jobstatus).toBe(1);
  });
});

describe('an unsafe file put on a pool by hand', () => {
  it('is refused by the host-side check before any conversion; the volume stays where it was', async () => {
    const created = await adminApi().call('createVolume', {
      name: unique('victim'),
      zoneid: lab.zoneA.id,
      size: '1',
      storageid: lab.pools.kvmA.id,
    });
    expect((await adminApi().waitForJob(String(created.jobid))).jobstatus).toBe(1);
    const [volume] = (await adminApi().call('listVolumes', { id: String(created.id) })).volume as {
      id: string;
      path: string;
    }[];
    const onPool = join(poolPath('primary-kvm-a'), volume!.path);
    // An attacker with access to the pool swaps the disk for an image that points at the host's /etc/passwd.
    copyFileSync(join(work, 'backing.qcow2'), onPool);
    const moving = await adminApi().call('migrateVolume', { volumeid: volume!.id, storageid: lab.pools.xenA.id });
    const done = (await adminApi().waitForJob(String(moving.jobid))) as {
      jobstatus: number;
      jobresult: { errortext?: string };
    };
    expect(done.jobstatus).toBe(2);
    expect(done.jobresult.errortext).toContain('qcow2-backing-file');
    await recordHistory(String(moving.jobid), 'migrateVolume-unsafe-image');
    const [after] = (await adminApi().call('listVolumes', { id: volume!.id })).volume as {
      state: string;
      storageid: string;
    }[];
    expect(after).toMatchObject({ state: 'Ready', storageid: lab.pools.kvmA.id });
    // Nothing of /etc/passwd reached the destination pool.
    const passwd = readFileSync('/etc/passwd');
    expect(passwd.length).toBeGreaterThan(0);
    const xenFiles = execFileSync('ls', ['-a', poolPath('primary-xen-a')]).toString();
    expect(xenFiles).not.toContain(volume!.id);
  }, 240_000);
});

describe('an unsafe file put on an image store by hand', () => {
  it('is refused on the host before a volume is made from it; the volume ends Error', async () => {
    const started = await adminApi().call('registerTemplate', {
      name: unique('swapped'),
      format: 'QCOW2',
      hypervisor: 'KVM',
      url: serve(join(work, 'clean.qcow2'), 'qcow2'),
      zoneid: lab.zoneA.id,
    });
    expect((await adminApi().waitForJob(String(started.jobid))).jobstatus).toBe(1);
    // The zone's NFS store holds it as a file; someone with access to the export swaps it.
    const found = execFileSync('find', [lab.nfsDirs[0]!, '-type', 'f', '-path', `*${String(started.id)}*`])
      .toString()
      .trim()
      .split('\n')
      .filter(Boolean);
    expect(found).toHaveLength(1);
    copyFileSync(join(work, 'backing.qcow2'), found[0]!);
    const created = await adminApi().call('createVolume', {
      name: unique('from-swapped'),
      zoneid: lab.zoneA.id,
      templateid: String(started.id),
      storageid: lab.pools.kvmA.id,
    });
    const done = (await adminApi().waitForJob(String(created.jobid))) as {
      jobstatus: number;
      jobresult: { errortext?: string };
    };
    expect(done.jobstatus).toBe(2);
    expect(done.jobresult.errortext).toContain('qcow2-backing-file');
    const [volume] = (await adminApi().call('listVolumes', { id: String(created.id) })).volume as { state: string }[];
    expect(volume!.state).toBe('Error');
    expect(execFileSync('ls', ['-a', poolPath('primary-kvm-a')]).toString()).not.toContain(String(created.id));
    await recordHistory(String(created.jobid), 'createVolume-unsafe-image');
  }, 240_000);
});
