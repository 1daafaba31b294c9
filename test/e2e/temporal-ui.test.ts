// Operators inspect runs in the Temporal UI: it serves the page, lists addHost runs and filters by FerryCommand.
import { describe, expect, it } from 'vitest';
import { labHostUser } from '../../lab/lab-layout';
import { adminApi, hostFingerprint, labHost, makeCluster, stack, unique } from '../support/stack';

describe('the Temporal UI', () => {
  it('lists addHost runs and filters them by FerryCommand', async () => {
    const api = adminApi();
    const { cluster } = await makeCluster(api, 'KVM', 'primary-kvm-a');
    const host = labHost('kvm-a2');
    const { jobid } = await api.call('addHost', {
      name: unique('ui'),
      clusterid: cluster.id,
      hypervisor: 'KVM',
      url: `ssh://${host.address}:${host.port}`,
      username: labHostUser,
      hostkeyfingerprint: await hostFingerprint('kvm-a2'),
    });
    await api.waitForJob(String(jobid));

    const page = await fetch(`${stack().temporalUiUrl}/namespaces/default/workflows`);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('<html');

    // The same query the UI's filter sends; visibility is eventually consistent, so poll briefly.
    const query = encodeURIComponent(`FerryCommand="addHost" AND WorkflowId="${String(jobid)}"`);
    let listed: { executions?: { execution: { workflowId: string }; type: { name: string } }[] } = {};
    for (let i = 0; i < 40 && !listed.executions?.length; i++) {
      const res = await fetch(`${stack().temporalUiUrl}/api/v1/namespaces/default/workflows?query=${query}`);
      listed = (await res.json()) as typeof listed;
      if (!listed.executions?.length) await new Promise((r) => setTimeout(r, 250));
    }
    expect(listed.executions?.[0]).toMatchObject({ execution: { workflowId: jobid }, type: { name: 'addHost' } });

    const other = encodeURIComponent(`FerryCommand="registerTemplate" AND WorkflowId="${String(jobid)}"`);
    const none = (await (
      await fetch(`${stack().temporalUiUrl}/api/v1/namespaces/default/workflows?query=${other}`)
    ).json()) as {
      executions?: unknown[];
    };
    expect(none.executions ?? []).toHaveLength(0);
  });
});
