export { findFoldedKeyCollision, foldJsonKey, jsonKeysCollide, parseStrictJson } from './strict-json';
export type { StrictJsonErrorFactory, StrictJsonOptions, StrictJsonReason } from './strict-json';
