export * from './signer';
export * from './roots';
export * from './aws-sdk';
