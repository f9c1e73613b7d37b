/**
 * `inspect`: every signature of an image with its signed attributes and certificate chain, in the
 * spirit of `notation inspect`. Envelopes are parsed without judging them (no trust decisions).
 */
import { escapeDeep } from './escape';
import { ArtifactSource, formatReference, ImageReference, parseCertificate, parseEnvelopeUnverified, toVerifierError } from '../verifier';

export interface InspectedCertificate {
  readonly subject: string;
  readonly issuer: string;
  readonly sha256: string;
  readonly notBefore: string;
  readonly notAfter: string;
}

export interface InspectedSignature {
  readonly digest: string;
  readonly mediaType?: string;
  readonly signatureAlgorithm?: string;
  readonly signedAttributes?: Record<string, string>;
  readonly userDefinedAttributes?: Record<string, string>;
  readonly unsignedAttributes?: Record<string, string>;
  readonly certificates?: readonly InspectedCertificate[];
  readonly signedArtifact?: { mediaType: string; digest: string; size: number };
  readonly error?: string;
}

export interface InspectReport {
  readonly reference: string;
  readonly mediaType: string;
  readonly digest: string;
  readonly signatures: readonly InspectedSignature[];
  readonly text: string;
}

export async function inspectImage(source: ArtifactSource, ref: ImageReference): Promise<InspectReport> {
  const { descriptor } = await source.resolve(ref);
  const signatures: InspectedSignature[] = [];
  for await (const sig of source.listSignatures(descriptor)) {
    signatures.push(await inspectSignature(source, sig.digest, sig));
  }
  const reference = formatReference({ ...ref, digest: descriptor.digest });
  const report = { reference, mediaType: descriptor.mediaType, digest: descriptor.digest, signatures };
  // every value may come from the signature or the registry: the text is rendered from an escaped copy
  return { ...report, text: renderInspect(escapeDeep(report)) };
}

async function inspectSignature(source: ArtifactSource, digest: string, desc: Parameters<ArtifactSource['fetchSignature']>[0]): Promise<InspectedSignature> {
  try {
    const artifact = await source.fetchSignature(desc);
    const env = parseEnvelopeUnverified(artifact.envelopeMediaType, artifact.envelope);
    const signed: Record<string, string> = {
      'content type': env.payloadContentType,
      'signing scheme': env.signingScheme,
    };
    if (env.signingTime) signed['signing time'] = env.signingTime.toUTCString();
    if (env.authenticSigningTime) signed['authentic signing time'] = env.authenticSigningTime.toUTCString();
    signed.expiry = env.expiry ? env.expiry.toUTCString() : 'not specified';
    if (env.verificationPlugin) signed['io.cncf.notary.verificationPlugin'] = env.verificationPlugin;
    if (env.verificationPluginMinVersion) signed['io.cncf.notary.verificationPluginMinVersion'] = env.verificationPluginMinVersion;
    const userDefined: Record<string, string> = {};
    for (const a of env.extendedAttributes) userDefined[a.key] = `${String(a.value)}${a.critical ? ' (critical)' : ''}`;
    const unsigned: Record<string, string> = {};
    if (env.signingAgent) unsigned['signing agent'] = env.signingAgent;
    if (env.timestampToken) unsigned['timestamp signature'] = `${env.timestampToken.length} bytes (RFC 3161)`;
    const certificates = env.certificateChain.map((der) => {
      const c = parseCertificate(der);
      return { subject: c.subject, issuer: c.issuer, sha256: c.sha256, notBefore: c.notBefore.toISOString(), notAfter: c.notAfter.toISOString() };
    });
    return {
      digest,
      mediaType: artifact.envelopeMediaType,
      signatureAlgorithm: env.algorithm,
      signedAttributes: signed,
      userDefinedAttributes: userDefined,
      unsignedAttributes: unsigned,
      certificates,
      signedArtifact: { mediaType: env.targetArtifact.mediaType, digest: env.targetArtifact.digest, size: env.targetArtifact.size },
    };
  } catch (e) {
    return { digest, error: toVerifierError(e).message };
  }
}

function renderInspect(r: Omit<InspectReport, 'text'>): string {
  const lines = [`${r.reference}`, `└── application/vnd.cncf.notary.signature (${r.signatures.length} signature${r.signatures.length === 1 ? '' : 's'})`];
  r.signatures.forEach((s, i) => {
    const last = i === r.signatures.length - 1;
    const p = last ? '    ' : '│   ';
    lines.push(`    ${last ? '└──' : '├──'} ${s.digest}`);
    if (s.error) {
      lines.push(`${p}    └── error: ${s.error}`);
      return;
    }
    lines.push(`${p}    ├── media type: ${s.mediaType}`, `${p}    ├── signature algorithm: ${s.signatureAlgorithm}`);
    lines.push(`${p}    ├── signed attributes`);
    for (const [k, v] of Object.entries(s.signedAttributes ?? {})) lines.push(`${p}    │   ├── ${k}: ${v}`);
    if (Object.keys(s.userDefinedAttributes ?? {}).length) {
      lines.push(`${p}    ├── user defined attributes`);
      for (const [k, v] of Object.entries(s.userDefinedAttributes ?? {})) lines.push(`${p}    │   ├── ${k}: ${v}`);
    }
    lines.push(`${p}    ├── unsigned attributes`);
    for (const [k, v] of Object.entries(s.unsignedAttributes ?? {})) lines.push(`${p}    │   ├── ${k}: ${v}`);
    lines.push(`${p}    ├── certificates`);
    for (const c of s.certificates ?? []) {
      lines.push(`${p}    │   ├── SHA256 fingerprint: ${c.sha256}`, `${p}    │   │   ├── issued to: ${c.subject}`, `${p}    │   │   ├── issued by: ${c.issuer}`, `${p}    │   │   └── expiry: ${c.notAfter}`);
    }
    lines.push(`${p}    └── signed artifact`, `${p}        ├── media type: ${s.signedArtifact?.mediaType}`, `${p}        ├── digest: ${s.signedArtifact?.digest}`, `${p}        └── size: ${s.signedArtifact?.size}`);
  });
  return lines.join('\n');
}
