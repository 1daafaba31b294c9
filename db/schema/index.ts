export * from './inventory';
export * from './accounts';
export * from './jobs';
