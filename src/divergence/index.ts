export * from './compare.ts';
export * from './detector.ts';
