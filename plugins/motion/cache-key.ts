/** Where an object is staged on a cache store: one place per object, so a later copy finds and reuses it. */
export const cacheKey = (objectType: string, objectId: string, file: string) =>
  `cache/${objectType}/${objectId}/${file}`;
