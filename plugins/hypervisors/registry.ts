// The hypervisor adapters Ferry knows. Adding a hypervisor = one folder + one line here.
import type { HypervisorAdapter, HypervisorType } from './contract';
import { kvmAdapter } from './kvm/adapter';
import { vmwareAdapter } from './vmware/adapter';
import { xenServerAdapter } from './xenserver/adapter';

const adapters: readonly HypervisorAdapter[] = [kvmAdapter, xenServerAdapter, vmwareAdapter];

export const hypervisorTypes: readonly HypervisorType[] = adapters.map((a) => a.hypervisor);

/** Case-insensitive lookup, as CloudStack accepts `kvm` or `KVM`. */
export function findHypervisor(name: string): HypervisorAdapter | undefined {
  return adapters.find((a) => a.hypervisor.toLowerCase() === name.toLowerCase());
}

export function hypervisorAdapter(type: string): HypervisorAdapter {
  const adapter = findHypervisor(type);
  if (!adapter) throw new Error(`no adapter for hypervisor ${type}`);
  return adapter;
}
