export * from './list';
export * from './certificate-extensions';
export * from './crl-extensions';
