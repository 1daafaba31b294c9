// Every workflow type the worker runs, one file each.
export { addHost } from './add-host';
export { copyTemplate } from './copy-template';
export { deleteTemplate } from './delete-template';
export { evictCache } from './evict-cache';
export { extractTemplate } from './extract-template';
export { prepareTemplate } from './prepare-template';
export { registerTemplate } from './register-template';
export { createVolume } from './create-volume';
export { deleteSnapshot } from './delete-snapshot';
export { deleteVolume } from './delete-volume';
export { extractVolume } from './extract-volume';
export { migrateVolume } from './migrate-volume';
export { takeSnapshot } from './take-snapshot';
export { uploadVolume } from './upload-volume';
export { reconcileCatalogue } from './reconcile-catalogue';
