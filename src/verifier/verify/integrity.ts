/**
 * Integrity checks of one signature beyond the envelope's own (src/verifier/envelope): the
 * verification plugin, critical extended attributes, and that the signed descriptor (and the user
 * metadata asked for) match the artifact being verified.
 */
import { KNOWN_CRITICAL_ATTRIBUTES } from '../envelope';
import { VerificationFailedError } from '../errors';
import { AWS_SIGNER_PLUGIN_ID, AWS_SIGNER_PLUGIN_VERSION, validateSignerEnvelope } from '../signer';
import { Descriptor, VerifiedEnvelope } from '../types';

/** Only the AWS Signer plugin is implemented in-process; any other plugin cannot be located. */
export function checkPlugin(env: VerifiedEnvelope): void {
  if (env.verificationPlugin === undefined) return;
  if (env.verificationPlugin !== AWS_SIGNER_PLUGIN_ID) {
    throw new VerificationFailedError('PLUGIN_UNSUPPORTED', `error while locating the verification plugin "${env.verificationPlugin}", make sure the plugin is installed successfully before verifying the signature. error: plugin not found`);
  }
  const min = env.verificationPluginMinVersion;
  if (min !== undefined && compareSemver(AWS_SIGNER_PLUGIN_VERSION, min) < 0) {
    throw new VerificationFailedError('PLUGIN_UNSUPPORTED', `found plugin ${env.verificationPlugin} with version ${AWS_SIGNER_PLUGIN_VERSION} but signature verification needs plugin version greater than or equal to ${min}`);
  }
  validateSignerEnvelope(env);
}

/** Critical extended attributes the engine does not process are rejected (spec MUST; stricter than notation-go). */
export function checkCriticalAttributes(env: VerifiedEnvelope): void {
  const isSigner = env.verificationPlugin === AWS_SIGNER_PLUGIN_ID;
  for (const a of env.extendedAttributes) {
    if (a.critical && !(isSigner && KNOWN_CRITICAL_ATTRIBUTES.includes(a.key))) {
      throw new VerificationFailedError('INVALID_ENVELOPE', `signature has an unknown critical attribute "${a.key}" that this verifier does not process`);
    }
  }
}

/** The signed descriptor is the artifact's, and the payload carries every user-metadata pair asked for. */
export function checkTarget(env: VerifiedEnvelope, target: Descriptor, userMetadata: Record<string, string> = {}): void {
  const t = env.targetArtifact;
  if (t.mediaType !== target.mediaType || t.digest !== target.digest || t.size !== target.size) {
    throw new VerificationFailedError('TARGET_MISMATCH', 'integrity check failed. signature does not match the given artifact: content descriptor mismatch');
  }
  for (const [k, v] of Object.entries(userMetadata)) {
    if (t.annotations?.[k] !== v) {
      throw new VerificationFailedError('USER_METADATA_MISMATCH', `unable to find specified metadata in the signature: ${k}=${v}`);
    }
  }
}

/** SemVer 2.0 precedence (pre-release < release). Returns <0, 0, >0. */
export function compareSemver(a: string, b: string): number {
  const x = parseSemver(a);
  const y = parseSemver(b);
  for (let i = 0; i < 3; i++) if (x.core[i] !== y.core[i]) return x.core[i] - y.core[i];
  if (!x.pre && !y.pre) return 0;
  if (!x.pre) return 1;
  if (!y.pre) return -1;
  for (let i = 0; i < Math.max(x.pre.length, y.pre.length); i++) {
    const p = x.pre[i];
    const q = y.pre[i];
    if (p === undefined) return -1;
    if (q === undefined) return 1;
    const pn = /^\d+$/.test(p);
    const qn = /^\d+$/.test(q);
    if (pn && qn && Number(p) !== Number(q)) return Number(p) - Number(q);
    if (pn !== qn) return pn ? -1 : 1;
    if (p !== q) return p < q ? -1 : 1;
  }
  return 0;
}

function parseSemver(v: string): { core: number[]; pre?: string[] } {
  const m = /^v?(\d+)\.(\d+)\.(\d+)(?:-([0-9A-Za-z.-]+))?(?:\+[0-9A-Za-z.-]+)?$/.exec(v.trim());
  if (!m) throw new VerificationFailedError('PLUGIN_UNSUPPORTED', `"${v}" is not a valid semantic version`);
  return { core: [Number(m[1]), Number(m[2]), Number(m[3])], pre: m[4]?.split('.') };
}
