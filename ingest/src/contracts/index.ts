export * from './rejection.ts';
export * from './topics.ts';
export * from './limits.ts';
export * from './meter-reads.ts';
export * from './acoustic-frame.ts';
export * from './device-status.ts';
