export * from './payload';
export * from './signer-client';
export * from './sign';
