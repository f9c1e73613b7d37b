export * from './source';
export * from './auth';
export * from './http';
export * from './remote';
export * from './oci-layout';
