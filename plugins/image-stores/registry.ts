// The image-store providers Ferry knows. Adding a provider = one folder + one line here.
import type { SecretBox } from '../../db/secret-box';
import type { ImageStoreDriver, ImageStoreProvider, ProviderServices, StoreConfig } from './contract';
import { nfsProvider } from './nfs/provider';
import { s3Provider } from './s3/provider';
import { swiftProvider } from './swift/provider';

export const imageStoreProviders: readonly ImageStoreProvider[] = [nfsProvider, s3Provider, swiftProvider];

export function findImageStoreProvider(name: string): ImageStoreProvider | undefined {
  return imageStoreProviders.find((p) => p.name.toLowerCase() === name.toLowerCase());
}

/** A stored image store as the catalogue keeps it: settings in clear, secrets sealed. */
export interface StoredImageStore {
  id: string;
  provider: string;
  url: string;
  protocol: string;
  settings: Record<string, string>;
  secretsCiphertext: string | null;
}

export function sealConfig(config: StoreConfig, secrets: SecretBox): string | null {
  return Object.keys(config.secrets).length > 0 ? secrets.seal(JSON.stringify(config.secrets)) : null;
}

export function openImageStore(
  store: StoredImageStore,
  secrets: SecretBox,
  services: ProviderServices,
): ImageStoreDriver {
  const provider = findImageStoreProvider(store.provider);
  if (!provider) throw new Error(`image store ${store.id} has unknown provider ${store.provider}`);
  const config: StoreConfig = {
    settings: store.settings,
    secrets: store.secretsCiphertext
      ? (JSON.parse(secrets.open(store.secretsCiphertext)) as Record<string, string>)
      : {},
    url: store.url,
    protocol: store.protocol,
  };
  return provider.open(config, store.id, services);
}
