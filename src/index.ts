export * from './signed-registry';
export * from './trust-policy';
