/**
 * Options the library's own constructs pass to `ImageVerifierFunction` and that are not public API:
 * which bundled handler to run and handler-specific config entries. Carried under a symbol key of the
 * props object, so jsii never sees them.
 */
import type { HandlerConfig } from '../handlers/config';

export const VERIFIER_INTERNALS = Symbol.for('cdk-signed-images.verifier-internals');

export interface VerifierInternals {
  /** Bundled handler under `assets/handlers/<name>/index.js`. */
  readonly handlerName: string;
  /** Extra config entries (mode, inconclusive action, stopTask...). */
  readonly config?: Partial<HandlerConfig>;
  /** Extra environment variables (token-valued settings). */
  readonly environment?: Record<string, string>;
}

export function withInternals<T extends object>(props: T, internals: VerifierInternals): T {
  return { ...props, [VERIFIER_INTERNALS]: internals };
}

export function internalsOf(props: object): VerifierInternals | undefined {
  return (props as any)[VERIFIER_INTERNALS];
}
