export { findFoldedKeyCollision, foldJsonKey, jsonKeysCollide } from './key-folding';
export { parseStrictJson } from './strict-json';
export type { StrictJsonErrorFactory, StrictJsonOptions, StrictJsonReason } from './strict-json';
