export * from './inventory';
export * from './accounts';
export * from './jobs';
export * from './image-stores';
export * from './configuration';
export * from './templates';
export * from './volumes';
export * from './cache';
