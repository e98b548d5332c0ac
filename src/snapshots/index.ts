export * from './freshness.ts';
export * from './reader.ts';
export * from './sceneState.ts';
export * from './service.ts';
