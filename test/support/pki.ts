/**
 * Test PKI: a minimal DER writer and an X.509 certificate / chain / CRL / OCSP builder, signing with
 * node:crypto. Used by tests across the repo: keep the API simple and stable.
 *
 *   const { key, chainDer, chainPem, rootPem, certs } = makeChain({ length: 3, keyType: 'p384' });
 *   const aws = makeChain(awsSignerShaped());
 */
import * as crypto from 'node:crypto';

// ---------------------------------------------------------------------------------------------
// DER writer
// ---------------------------------------------------------------------------------------------

function lenBytes(n: number): number[] {
  if (n < 0x80) return [n];
  const out: number[] = [];
  for (let v = n; v > 0; v = Math.floor(v / 256)) out.unshift(v % 256);
  return [0x80 | out.length, ...out];
}

export const der = {
  tlv(tag: number, ...content: Uint8Array[]): Uint8Array {
    const body = Buffer.concat(content);
    return new Uint8Array(Buffer.concat([Buffer.from([tag, ...lenBytes(body.length)]), body]));
  },
  seq(...items: Uint8Array[]): Uint8Array { return der.tlv(0x30, ...items); },
  set(...items: Uint8Array[]): Uint8Array { return der.tlv(0x31, ...items); },
  /** SET OF with DER sorting of the elements. */
  setOf(...items: Uint8Array[]): Uint8Array {
    return der.tlv(0x31, ...[...items].sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b))));
  },
  int(v: bigint | number): Uint8Array {
    let n = BigInt(v);
    const bytes: number[] = [];
    if (n === 0n) bytes.push(0);
    if (n > 0n) {
      while (n > 0n) { bytes.unshift(Number(n & 0xffn)); n >>= 8n; }
      if (bytes[0] & 0x80) bytes.unshift(0);
    } else if (n < 0n) {
      while (n < -1n || bytes.length === 0 || !(bytes[0] & 0x80)) { bytes.unshift(Number(n & 0xffn)); n >>= 8n; }
    }
    return der.tlv(0x02, Buffer.from(bytes));
  },
  /** INTEGER from raw unsigned bytes (adds a leading zero when needed). */
  uint(bytes: Uint8Array): Uint8Array {
    let b = Buffer.from(bytes);
    while (b.length > 1 && b[0] === 0 && !(b[1] & 0x80)) b = b.subarray(1);
    if (b[0] & 0x80) b = Buffer.concat([Buffer.from([0]), b]);
    return der.tlv(0x02, b);
  },
  enumerated(v: number): Uint8Array { const i = der.int(v); return der.tlv(0x0a, i.subarray(2)); },
  bool(v: boolean): Uint8Array { return der.tlv(0x01, Buffer.from([v ? 0xff : 0])); },
  null(): Uint8Array { return der.tlv(0x05); },
  oid(dotted: string): Uint8Array {
    const arcs = dotted.split('.').map((a) => BigInt(a));
    const out: number[] = [];
    const enc = (v: bigint) => {
      const tmp: number[] = [Number(v & 0x7fn)];
      for (v >>= 7n; v > 0n; v >>= 7n) tmp.unshift(Number(v & 0x7fn) | 0x80);
      out.push(...tmp);
    };
    enc(arcs[0] * 40n + arcs[1]);
    for (const a of arcs.slice(2)) enc(a);
    return der.tlv(0x06, Buffer.from(out));
  },
  octet(b: Uint8Array): Uint8Array { return der.tlv(0x04, b); },
  bit(b: Uint8Array, unused = 0): Uint8Array { return der.tlv(0x03, Buffer.from([unused]), b); },
  utf8(s: string): Uint8Array { return der.tlv(0x0c, Buffer.from(s, 'utf8')); },
  printable(s: string): Uint8Array { return der.tlv(0x13, Buffer.from(s, 'latin1')); },
  ia5(s: string): Uint8Array { return der.tlv(0x16, Buffer.from(s, 'latin1')); },
  utcTime(d: Date): Uint8Array {
    const s = d.toISOString().replace(/[-:T]/g, '').replace(/\.\d+Z$/, 'Z').slice(2);
    return der.tlv(0x17, Buffer.from(s, 'latin1'));
  },
  generalizedTime(d: Date, withMillis = false): Uint8Array {
    let s = d.toISOString().replace(/[-:T]/g, '');
    s = withMillis && d.getUTCMilliseconds() ? s.replace(/0*Z$/, 'Z') : s.replace(/\.\d+Z$/, 'Z');
    return der.tlv(0x18, Buffer.from(s, 'latin1'));
  },
  /** RFC 5280 time: UTCTime through 2049, GeneralizedTime after. */
  time(d: Date): Uint8Array {
    const y = d.getUTCFullYear();
    return y >= 1950 && y < 2050 ? der.utcTime(d) : der.generalizedTime(d);
  },
  /** [n] EXPLICIT. */
  explicit(n: number, ...inner: Uint8Array[]): Uint8Array { return der.tlv(0xa0 | n, ...inner); },
  /** [n] IMPLICIT primitive. */
  implicit(n: number, content: Uint8Array): Uint8Array { return der.tlv(0x80 | n, content); },
  /** [n] IMPLICIT constructed. */
  implicitCons(n: number, ...inner: Uint8Array[]): Uint8Array { return der.tlv(0xa0 | n, ...inner); },
};

// ---------------------------------------------------------------------------------------------
// Names
// ---------------------------------------------------------------------------------------------

const ATTR_OIDS: Record<string, string> = {
  C: '2.5.4.6',
  ST: '2.5.4.8',
  S: '2.5.4.8',
  L: '2.5.4.7',
  O: '2.5.4.10',
  OU: '2.5.4.11',
  CN: '2.5.4.3',
  SERIALNUMBER: '2.5.4.5',
  STREET: '2.5.4.9',
  POSTALCODE: '2.5.4.17',
  EMAILADDRESS: '1.2.840.113549.1.9.1',
  E: '1.2.840.113549.1.9.1',
  DC: '0.9.2342.19200300.100.1.25',
  UID: '0.9.2342.19200300.100.1.1',
  TITLE: '2.5.4.12',
};

/** One attribute of a Name; `rdn` groups attributes into multi-valued RDNs. */
export interface NameAttr { type: string; value: string; stringType?: 'utf8' | 'printable' | 'ia5' }

/**
 * A subject/issuer: either a string in Go/RFC 4514 order (`CN=Leaf,O=Org,ST=WA,C=US`, most specific first;
 * `+` joins a multi-valued RDN; `\,` escapes), or RDNs in DER order (outer array = RDNs, first = C usually).
 */
export type NameSpec = string | NameAttr[][];

function splitUnescaped(s: string, sep: string): string[] {
  const out: string[] = [];
  let cur = '';
  for (let i = 0; i < s.length; i++) {
    if (s[i] === '\\' && i + 1 < s.length) { cur += s[i] + s[i + 1]; i++; continue; }
    if (s[i] === sep) { out.push(cur); cur = ''; continue; }
    cur += s[i];
  }
  out.push(cur);
  return out;
}

function unescapeValue(s: string): string {
  return s.replace(/\\(.)/g, '$1');
}

export function nameRdns(spec: NameSpec): NameAttr[][] {
  if (typeof spec !== 'string') return spec;
  if (spec === '') return [];
  return splitUnescaped(spec, ',').reverse().map((rdn) => splitUnescaped(rdn, '+').map((atv) => {
    const eq = atv.indexOf('=');
    if (eq < 0) throw new Error(`bad name component ${atv}`);
    return { type: atv.slice(0, eq).trim(), value: unescapeValue(atv.slice(eq + 1)) };
  }));
}

export function encodeName(spec: NameSpec): Uint8Array {
  return der.seq(...nameRdns(spec).map((rdn) => der.setOf(...rdn.map((a) => {
    const oid = ATTR_OIDS[a.type.toUpperCase()] ?? a.type;
    if (!/^\d+(\.\d+)+$/.test(oid)) throw new Error(`unknown attribute type ${a.type}`);
    const st = a.stringType ?? (oid === '2.5.4.6' || oid === '2.5.4.5' ? 'printable'
      : oid === ATTR_OIDS.E || oid === ATTR_OIDS.DC ? 'ia5' : 'utf8');
    const v = st === 'printable' ? der.printable(a.value) : st === 'ia5' ? der.ia5(a.value) : der.utf8(a.value);
    return der.seq(der.oid(oid), v);
  }))));
}

// ---------------------------------------------------------------------------------------------
// Keys
// ---------------------------------------------------------------------------------------------

export type KeyType = 'rsa1024' | 'rsa2048' | 'rsa3072' | 'rsa4096' | 'p224' | 'p256' | 'p384' | 'p521' | 'ed25519';

export interface KeyPair { privateKey: crypto.KeyObject; publicKey: crypto.KeyObject; type: KeyType }

const keyPool = new Map<string, KeyPair>();

/** Generates a key pair (cached per `type` + `slot`, so chains reuse keys across tests; use a fresh slot for a new key). */
export function makeKey(type: KeyType, slot: number | string = 0): KeyPair {
  const id = `${type}/${slot}`;
  const hit = keyPool.get(id);
  if (hit) return hit;
  let kp: { privateKey: crypto.KeyObject; publicKey: crypto.KeyObject };
  if (type.startsWith('rsa')) {
    kp = crypto.generateKeyPairSync('rsa', { modulusLength: Number(type.slice(3)) });
  } else if (type === 'ed25519') {
    kp = crypto.generateKeyPairSync('ed25519');
  } else {
    const curve = { p224: 'secp224r1', p256: 'prime256v1', p384: 'secp384r1', p521: 'secp521r1' }[type as 'p256'];
    kp = crypto.generateKeyPairSync('ec', { namedCurve: curve });
  }
  const pair = { ...kp, type };
  keyPool.set(id, pair);
  return pair;
}

export type HashName = 'sha1' | 'sha256' | 'sha384' | 'sha512' | 'md5';

/** Default signature hash for a signing key (RSA: sha256, P-256: sha256, P-384: sha384, P-521: sha512). */
export function defaultHash(key: crypto.KeyObject): HashName {
  if (key.asymmetricKeyType === 'ec') {
    const c = key.asymmetricKeyDetails?.namedCurve;
    return c === 'secp384r1' ? 'sha384' : c === 'secp521r1' ? 'sha512' : 'sha256';
  }
  return 'sha256';
}

const SIG_OIDS: Record<string, Record<string, string>> = {
  rsa: { md5: '1.2.840.113549.1.1.4', sha1: '1.2.840.113549.1.1.5', sha256: '1.2.840.113549.1.1.11', sha384: '1.2.840.113549.1.1.12', sha512: '1.2.840.113549.1.1.13' },
  ec: { sha1: '1.2.840.10045.4.1', sha256: '1.2.840.10045.4.3.2', sha384: '1.2.840.10045.4.3.3', sha512: '1.2.840.10045.4.3.4' },
};

/** AlgorithmIdentifier for signing with `key` and `hash`. */
export function signatureAlgorithm(key: crypto.KeyObject, hash: HashName): Uint8Array {
  const t = key.asymmetricKeyType;
  if (t === 'ed25519') return der.seq(der.oid('1.3.101.112'));
  if (t === 'rsa') return der.seq(der.oid(SIG_OIDS.rsa[hash]), der.null());
  if (t === 'ec') return der.seq(der.oid(SIG_OIDS.ec[hash]));
  throw new Error(`unsupported key type ${t}`);
}

/** Signs `data` (PKCS#1 v1.5 for RSA, DER ECDSA, Ed25519). */
export function sign(key: crypto.KeyObject, hash: HashName, data: Uint8Array): Uint8Array {
  if (key.asymmetricKeyType === 'ed25519') return new Uint8Array(crypto.sign(null, data, key));
  return new Uint8Array(crypto.sign(hash, data, key));
}

/** Signs `tbs` and wraps it as `SEQUENCE { tbs, algId, BIT STRING sig }` (certificate / CRL / OCSP basic response shape). */
export function signedStructure(tbs: Uint8Array, key: crypto.KeyObject, hash: HashName = defaultHash(key)): Uint8Array {
  const alg = signatureAlgorithm(key, hash);
  return der.seq(tbs, alg, der.bit(sign(key, hash, tbs)));
}

// ---------------------------------------------------------------------------------------------
// Certificates
// ---------------------------------------------------------------------------------------------

export type KeyUsageName = 'digitalSignature' | 'contentCommitment' | 'keyEncipherment' | 'dataEncipherment'
| 'keyAgreement' | 'keyCertSign' | 'cRLSign' | 'encipherOnly' | 'decipherOnly';
const KU_BITS: KeyUsageName[] = ['digitalSignature', 'contentCommitment', 'keyEncipherment', 'dataEncipherment',
  'keyAgreement', 'keyCertSign', 'cRLSign', 'encipherOnly', 'decipherOnly'];

export const EKU = {
  any: '2.5.29.37.0',
  serverAuth: '1.3.6.1.5.5.7.3.1',
  clientAuth: '1.3.6.1.5.5.7.3.2',
  codeSigning: '1.3.6.1.5.5.7.3.3',
  emailProtection: '1.3.6.1.5.5.7.3.4',
  timeStamping: '1.3.6.1.5.5.7.3.8',
  ocspSigning: '1.3.6.1.5.5.7.3.9',
} as const;

export interface ExtraExtension { oid: string; critical?: boolean; value: Uint8Array }

/** Per-certificate options (all optional; defaults depend on the position in the chain). */
export interface CertSpec {
  subject?: NameSpec;
  /** Defaults to the parent's subject (or own subject when self-signed). */
  issuer?: NameSpec;
  keyType?: KeyType;
  /** Use this key pair instead of a pooled one. */
  keyPair?: KeyPair;
  notBefore?: Date;
  notAfter?: Date;
  serial?: bigint;
  /** Key usage bits; `null` omits the extension. */
  keyUsage?: KeyUsageName[] | null;
  keyUsageCritical?: boolean;
  /** `null` omits the extension. */
  basicConstraints?: { ca: boolean; pathLen?: number; critical?: boolean } | null;
  /** EKU names (keys of {@link EKU}) or OIDs; `null`/undefined omits the extension (leaf default: codeSigning). */
  extKeyUsage?: string[] | null;
  extKeyUsageCritical?: boolean;
  /** AIA OCSP URL(s). */
  ocspUrl?: string | string[];
  /** AIA caIssuers URL(s). */
  caIssuersUrl?: string | string[];
  /** CRL distribution point URL(s). */
  crlUrl?: string | string[];
  /** Freshest CRL (delta) URL(s). */
  deltaCrlUrl?: string | string[];
  extraExtensions?: ExtraExtension[];
  /** Sign with own key (self-signed), e.g. a self-signed intermediate. */
  selfSigned?: boolean;
  signatureHash?: HashName;
  /** X.509 version (1 omits extensions). Default 3. */
  version?: 1 | 3;
  /** Omit subject/authority key identifiers. */
  noKeyIds?: boolean;
  /** Corrupt the signature (flip a bit) after signing. */
  badSignature?: boolean;
}

export interface GeneratedCert {
  der: Uint8Array;
  pem: string;
  subject: string;
  privateKey: crypto.KeyObject;
  publicKey: crypto.KeyObject;
  serial: bigint;
  notBefore: Date;
  notAfter: Date;
}

const asArr = (v: string | string[] | undefined): string[] => (v === undefined ? [] : Array.isArray(v) ? v : [v]);

export function toPem(derBytes: Uint8Array, label = 'CERTIFICATE'): string {
  const b64 = Buffer.from(derBytes).toString('base64').replace(/(.{64})/g, '$1\n').replace(/\n$/, '');
  return `-----BEGIN ${label}-----\n${b64}\n-----END ${label}-----\n`;
}

function keyId(pub: crypto.KeyObject): Uint8Array {
  const spki = pub.export({ type: 'spki', format: 'der' });
  return new Uint8Array(crypto.createHash('sha1').update(spki).digest());
}

function kuBits(names: KeyUsageName[]): Uint8Array {
  let last = -1;
  const bytes = [0, 0];
  for (const n of names) {
    const i = KU_BITS.indexOf(n);
    if (i < 0) throw new Error(`unknown key usage ${n}`);
    bytes[i >> 3] |= 0x80 >> (i & 7);
    last = Math.max(last, i);
  }
  if (last < 0) return der.bit(new Uint8Array(0));
  const len = (last >> 3) + 1;
  const used = bytes.slice(0, len);
  // DER: trailing zero bits are "unused"
  const lastByte = used[len - 1];
  let unused = 0;
  while (unused < 7 && !(lastByte & (1 << unused))) unused++;
  return der.bit(new Uint8Array(used), unused);
}

function distributionPoints(urls: string[]): Uint8Array {
  return der.seq(...urls.map((u) => der.seq(der.explicit(0, der.implicitCons(0, der.implicit(6, Buffer.from(u, 'latin1')))))));
}

function ext(oid: string, critical: boolean, value: Uint8Array): Uint8Array {
  return critical ? der.seq(der.oid(oid), der.bool(true), der.octet(value)) : der.seq(der.oid(oid), der.octet(value));
}

let serialCounter = 1000n;

/**
 * Builds one certificate. `issuer` is the signing certificate's key/subject (omit for self-signed).
 */
export function makeCertificate(spec: CertSpec & { subject: NameSpec; keyPair: KeyPair },
  issuer?: { privateKey: crypto.KeyObject; publicKey: crypto.KeyObject; subject: NameSpec }): GeneratedCert {
  const selfSigned = !issuer || spec.selfSigned;
  const signer = selfSigned ? { privateKey: spec.keyPair.privateKey, publicKey: spec.keyPair.publicKey, subject: spec.subject } : issuer!;
  const hash = spec.signatureHash ?? defaultHash(signer.privateKey);
  const now = Date.now();
  const notBefore = spec.notBefore ?? new Date(Math.floor(now / 1000) * 1000 - 3600_000);
  const notAfter = spec.notAfter ?? new Date(Math.floor(now / 1000) * 1000 + 365 * 86400_000);
  const serial = spec.serial ?? (serialCounter += 1n) * 65537n;
  const exts: Uint8Array[] = [];
  if (spec.basicConstraints) {
    const bc = spec.basicConstraints;
    exts.push(ext('2.5.29.19', bc.critical ?? true, der.seq(...(bc.ca ? [der.bool(true)] : []), ...(bc.pathLen !== undefined ? [der.int(bc.pathLen)] : []))));
  }
  if (spec.keyUsage) exts.push(ext('2.5.29.15', spec.keyUsageCritical ?? true, kuBits(spec.keyUsage)));
  if (spec.extKeyUsage) {
    exts.push(ext('2.5.29.37', spec.extKeyUsageCritical ?? false,
      der.seq(...spec.extKeyUsage.map((e) => der.oid((EKU as Record<string, string>)[e] ?? e)))));
  }
  if (!spec.noKeyIds) {
    exts.push(ext('2.5.29.14', false, der.octet(keyId(spec.keyPair.publicKey))));
    if (!selfSigned) exts.push(ext('2.5.29.35', false, der.seq(der.implicit(0, keyId(signer.publicKey)))));
  }
  const aia = [
    ...asArr(spec.ocspUrl).map((u) => der.seq(der.oid('1.3.6.1.5.5.7.48.1'), der.implicit(6, Buffer.from(u, 'latin1')))),
    ...asArr(spec.caIssuersUrl).map((u) => der.seq(der.oid('1.3.6.1.5.5.7.48.2'), der.implicit(6, Buffer.from(u, 'latin1')))),
  ];
  if (aia.length) exts.push(ext('1.3.6.1.5.5.7.1.1', false, der.seq(...aia)));
  if (asArr(spec.crlUrl).length) exts.push(ext('2.5.29.31', false, distributionPoints(asArr(spec.crlUrl))));
  if (asArr(spec.deltaCrlUrl).length) exts.push(ext('2.5.29.46', false, distributionPoints(asArr(spec.deltaCrlUrl))));
  for (const e of spec.extraExtensions ?? []) exts.push(ext(e.oid, e.critical ?? false, e.value));

  const alg = signatureAlgorithm(signer.privateKey, hash);
  const version = spec.version ?? 3;
  const tbs = der.seq(
    ...(version === 3 ? [der.explicit(0, der.int(2))] : []),
    der.int(serial),
    alg,
    encodeName(spec.issuer ?? signer.subject),
    der.seq(der.time(notBefore), der.time(notAfter)),
    encodeName(spec.subject),
    new Uint8Array(spec.keyPair.publicKey.export({ type: 'spki', format: 'der' })),
    ...(version === 3 && exts.length ? [der.explicit(3, der.seq(...exts))] : []),
  );
  const sig = sign(signer.privateKey, hash, tbs);
  if (spec.badSignature) sig[sig.length - 1] ^= 0x01;
  const certDer = der.seq(tbs, alg, der.bit(sig));
  return {
    der: certDer,
    pem: toPem(certDer),
    subject: typeof spec.subject === 'string' ? spec.subject : '',
    privateKey: spec.keyPair.privateKey,
    publicKey: spec.keyPair.publicKey,
    serial,
    notBefore,
    notAfter,
  };
}

export interface ChainOptions {
  /** 1 = self-signed leaf, 2 = leaf + root, 3 = leaf + intermediate + root, 4 = two intermediates. Default 3. */
  length?: 1 | 2 | 3 | 4 | 5;
  /** Key type for every certificate unless overridden. Default `p256`. */
  keyType?: KeyType;
  /** Overrides for the leaf (`certs[0]`). */
  leaf?: CertSpec;
  /** Overrides for intermediates, nearest to the leaf first. */
  intermediates?: CertSpec[];
  /** Overrides for the root (last cert; ignored when length is 1). */
  root?: CertSpec;
  /** Per-position overrides, leaf..root (merged after leaf/intermediates/root). */
  certs?: CertSpec[];
  /** Key pool slot prefix; use a unique value to get keys not shared with other chains. */
  keySlot?: string;
}

export interface Chain {
  /** Leaf private key. */
  key: crypto.KeyObject;
  /** DER certificates leaf..root. */
  chainDer: Uint8Array[];
  /** PEM bundle leaf..root. */
  chainPem: string;
  /** PEM of the last certificate (root). */
  rootPem: string;
  certs: GeneratedCert[];
}

const DEFAULT_SUBJECTS = (n: number): string[] => {
  if (n === 1) return ['CN=Test Self-Signed Leaf,O=Notary Test,L=Seattle,ST=WA,C=US'];
  const out = ['CN=Test Leaf,O=Notary Test,L=Seattle,ST=WA,C=US'];
  for (let i = 1; i < n - 1; i++) out.push(`CN=Test Intermediate CA ${i},O=Notary Test,ST=WA,C=US`);
  out.push('CN=Test Root CA,O=Notary Test,ST=WA,C=US');
  return out;
};

/** Builds a chain leaf..root with notation-valid defaults (leaf: digitalSignature critical, codeSigning EKU; CAs: cA, keyCertSign critical). */
export function makeChain(opts: ChainOptions = {}): Chain {
  const n = opts.length ?? 3;
  const subjects = DEFAULT_SUBJECTS(n);
  const specs: CertSpec[] = [];
  for (let i = 0; i < n; i++) {
    const isLeaf = i === 0;
    const isRoot = i === n - 1 && n > 1;
    const base: CertSpec = isLeaf
      ? { keyUsage: ['digitalSignature'], extKeyUsage: ['codeSigning'], basicConstraints: n === 1 ? null : { ca: false } }
      : { keyUsage: ['keyCertSign', 'cRLSign'], basicConstraints: { ca: true } };
    if (isLeaf && n === 1) base.basicConstraints = null;
    const role = isLeaf ? opts.leaf : isRoot ? opts.root : opts.intermediates?.[i - 1];
    specs.push({ ...base, subject: subjects[i], ...(role ?? {}), ...(opts.certs?.[i] ?? {}) });
  }
  const certs: GeneratedCert[] = new Array(n);
  const slot = opts.keySlot ?? 'chain';
  const kps = specs.map((s, i) => s.keyPair ?? makeKey(s.keyType ?? opts.keyType ?? 'p256', `${slot}/${i}`));
  for (let i = n - 1; i >= 0; i--) {
    const s = specs[i];
    const parent = i === n - 1 ? undefined : { privateKey: kps[i + 1].privateKey, publicKey: kps[i + 1].publicKey, subject: specs[i + 1].subject! };
    certs[i] = makeCertificate({ ...s, subject: s.subject!, keyPair: kps[i] }, parent);
  }
  return {
    key: certs[0].privateKey,
    chainDer: certs.map((c) => c.der),
    chainPem: certs.map((c) => c.pem).join(''),
    rootPem: certs[n - 1].pem,
    certs,
  };
}

/**
 * Options for a chain shaped like AWS Signer's: 4 certs, ECDSA P-384 / ECDSA-SHA384, AWS-like subjects,
 * short (3-day) leaf validity starting `signingTime - 1h` (default now). Pass to {@link makeChain}.
 */
export function awsSignerShaped(o: { signingTime?: Date; region?: string; leafDays?: number } = {}): ChainOptions {
  const t = o.signingTime ?? new Date();
  const region = o.region ?? 'us-east-1';
  const start = new Date(Math.floor(t.getTime() / 1000) * 1000 - 3600_000);
  const year = 365 * 86400_000;
  return {
    length: 4,
    keyType: 'p384',
    keySlot: 'aws',
    leaf: {
      subject: 'CN=AWS Signer,OU=AWS Cryptography,O=AWS,L=Seattle,ST=WA,C=US',
      notBefore: start,
      notAfter: new Date(start.getTime() + (o.leafDays ?? 3) * 86400_000),
      keyUsage: ['digitalSignature'],
      extKeyUsage: ['codeSigning'],
      basicConstraints: { ca: false },
    },
    intermediates: [
      { subject: `CN=AWS Signer ${region} Code Signing CA G1,OU=Cryptography,O=AWS,ST=WA,C=US`, notBefore: new Date(start.getTime() - 30 * 86400_000), notAfter: new Date(start.getTime() + 2 * year), basicConstraints: { ca: true, pathLen: 0 } },
      { subject: 'CN=AWS Signer Code Signing Int CA G1,OU=Cryptography,O=AWS,ST=WA,C=US', notBefore: new Date(start.getTime() - 60 * 86400_000), notAfter: new Date(start.getTime() + 10 * year), basicConstraints: { ca: true, pathLen: 1 } },
    ],
    root: { subject: 'CN=Test AWS Signer Code Signing Root CA G1,OU=Cryptography,O=AWS,ST=WA,C=US', notBefore: new Date(start.getTime() - 90 * 86400_000), notAfter: new Date(start.getTime() + 100 * year) },
  };
}

// ---------------------------------------------------------------------------------------------
// CRL
// ---------------------------------------------------------------------------------------------

export interface CrlEntry { serial: bigint; revocationDate?: Date; reason?: number; invalidityDate?: Date }

export interface CrlOptions {
  /** Issuing CA (must be the certificate's issuer). */
  issuer: { privateKey: crypto.KeyObject; publicKey: crypto.KeyObject; subject: NameSpec };
  revoked?: CrlEntry[];
  thisUpdate?: Date;
  /** `null` omits nextUpdate. Default thisUpdate + 7 days. */
  nextUpdate?: Date | null;
  crlNumber?: bigint;
  /** Marks it as a delta CRL of the given base CRL number. */
  deltaOf?: bigint;
  signatureHash?: HashName;
  badSignature?: boolean;
}

/** Builds a DER X.509 v2 CRL signed by `issuer`. */
export function makeCrl(o: CrlOptions): Uint8Array {
  const hash = o.signatureHash ?? defaultHash(o.issuer.privateKey);
  const alg = signatureAlgorithm(o.issuer.privateKey, hash);
  const thisUpdate = o.thisUpdate ?? new Date(Math.floor(Date.now() / 1000) * 1000 - 60_000);
  const nextUpdate = o.nextUpdate === null ? undefined : o.nextUpdate ?? new Date(thisUpdate.getTime() + 7 * 86400_000);
  const entries = (o.revoked ?? []).map((r) => {
    const exts: Uint8Array[] = [];
    if (r.reason !== undefined) exts.push(ext('2.5.29.21', false, der.enumerated(r.reason)));
    if (r.invalidityDate) exts.push(ext('2.5.29.24', false, der.generalizedTime(r.invalidityDate)));
    return der.seq(der.int(r.serial), der.time(r.revocationDate ?? thisUpdate), ...(exts.length ? [der.seq(...exts)] : []));
  });
  const crlExts: Uint8Array[] = [ext('2.5.29.20', false, der.int(o.crlNumber ?? 1n)),
    ext('2.5.29.35', false, der.seq(der.implicit(0, keyId(o.issuer.publicKey))))];
  if (o.deltaOf !== undefined) crlExts.push(ext('2.5.29.27', true, der.int(o.deltaOf)));
  const tbs = der.seq(
    der.int(1), alg, encodeName(o.issuer.subject), der.time(thisUpdate),
    ...(nextUpdate ? [der.time(nextUpdate)] : []),
    ...(entries.length ? [der.seq(...entries)] : []),
    der.explicit(0, der.seq(...crlExts)),
  );
  const sig = sign(o.issuer.privateKey, hash, tbs);
  if (o.badSignature) sig[sig.length - 1] ^= 0x01;
  return der.seq(tbs, alg, der.bit(sig));
}

// ---------------------------------------------------------------------------------------------
// OCSP
// ---------------------------------------------------------------------------------------------

export interface OcspOptions {
  /** The certificate whose status is reported (DER). */
  certDer: Uint8Array;
  /** Issuer of that certificate. */
  issuer: { privateKey: crypto.KeyObject; publicKey: crypto.KeyObject; subject: NameSpec; der?: Uint8Array };
  status: 'good' | 'revoked' | 'unknown';
  revokedAt?: Date;
  revocationReason?: number;
  thisUpdate?: Date;
  /** `null` omits nextUpdate. Default thisUpdate + 1 day. */
  nextUpdate?: Date | null;
  producedAt?: Date;
  /** Delegated responder (cert with OCSPSigning EKU issued by the issuer); default: the issuer signs. */
  responder?: { privateKey: crypto.KeyObject; publicKey: crypto.KeyObject; subject: NameSpec; der: Uint8Array };
  /** Non-successful responseStatus (1 malformedRequest, 2 internalError, 3 tryLater, 5 sigRequired, 6 unauthorized). */
  responseStatus?: number;
  hashAlgorithm?: 'sha1' | 'sha256';
  /** Override the serial in the CertID. */
  serial?: bigint;
  nonce?: Uint8Array;
  badSignature?: boolean;
  signatureHash?: HashName;
}

function tbsOf(certDer: Uint8Array): { serial: Uint8Array; issuerName: Uint8Array } {
  // minimal walk: Certificate -> tbs -> [version] serial ... issuer
  const read = (b: Uint8Array, off: number) => {
    let p = off + 1;
    let len = b[p++];
    if (len & 0x80) { const k = len & 0x7f; len = 0; for (let i = 0; i < k; i++) len = len * 256 + b[p++]; }
    return { start: off, content: p, end: p + len };
  };
  const cert = read(certDer, 0);
  const tbs = read(certDer, cert.content);
  let p = tbs.content;
  if (certDer[p] === 0xa0) p = read(certDer, p).end;
  const serial = read(certDer, p);
  const alg = read(certDer, serial.end);
  const issuer = read(certDer, alg.end);
  return { serial: certDer.subarray(serial.content, serial.end), issuerName: certDer.subarray(issuer.start, issuer.end) };
}

/** The DER CertID for `certDer` issued by `issuerPublicKey`. */
export function ocspCertId(certDer: Uint8Array, issuerPublicKey: crypto.KeyObject, hashAlg: 'sha1' | 'sha256' = 'sha1', serialOverride?: bigint): Uint8Array {
  const { serial, issuerName } = tbsOf(certDer);
  const spki = new Uint8Array(issuerPublicKey.export({ type: 'spki', format: 'der' }));
  // subjectPublicKey BIT STRING contents = last element of SPKI
  const read = (b: Uint8Array, off: number) => {
    let p = off + 1;
    let len = b[p++];
    if (len & 0x80) { const k = len & 0x7f; len = 0; for (let i = 0; i < k; i++) len = len * 256 + b[p++]; }
    return { content: p, end: p + len };
  };
  const outer = read(spki, 0);
  const algEnd = read(spki, outer.content).end;
  const bits = read(spki, algEnd);
  const keyBytes = spki.subarray(bits.content + 1, bits.end);
  const h = (d: Uint8Array) => new Uint8Array(crypto.createHash(hashAlg).update(d).digest());
  const hashOid = hashAlg === 'sha1' ? '1.3.14.3.2.26' : '2.16.840.1.101.3.4.2.1';
  return der.seq(
    der.seq(der.oid(hashOid), der.null()),
    der.octet(h(issuerName)),
    der.octet(h(keyBytes)),
    serialOverride !== undefined ? der.int(serialOverride) : der.tlv(0x02, serial),
  );
}

/** Builds a DER OCSPResponse (RFC 6960) with one SingleResponse. */
export function makeOcspResponse(o: OcspOptions): Uint8Array {
  if (o.responseStatus !== undefined && o.responseStatus !== 0) return der.seq(der.enumerated(o.responseStatus));
  const now = Math.floor(Date.now() / 1000) * 1000;
  const thisUpdate = o.thisUpdate ?? new Date(now - 60_000);
  const nextUpdate = o.nextUpdate === null ? undefined : o.nextUpdate ?? new Date(thisUpdate.getTime() + 86400_000);
  const signer = o.responder ?? o.issuer;
  let certStatus: Uint8Array;
  if (o.status === 'good') {certStatus = der.implicit(0, new Uint8Array(0));} else if (o.status === 'unknown') {certStatus = der.implicit(2, new Uint8Array(0));} else {
    certStatus = der.implicitCons(1, der.generalizedTime(o.revokedAt ?? thisUpdate),
      ...(o.revocationReason !== undefined ? [der.explicit(0, der.enumerated(o.revocationReason))] : []));
  }
  const single = der.seq(
    ocspCertId(o.certDer, o.issuer.publicKey, o.hashAlgorithm ?? 'sha1', o.serial),
    certStatus,
    der.generalizedTime(thisUpdate),
    ...(nextUpdate ? [der.explicit(0, der.generalizedTime(nextUpdate))] : []),
  );
  const respExts = o.nonce ? [der.explicit(1, der.seq(ext('1.3.6.1.5.5.7.48.1.2', false, der.octet(o.nonce))))] : [];
  const tbs = der.seq(
    der.explicit(2, der.octet(keyId(signer.publicKey))), // responderID byKey
    der.generalizedTime(o.producedAt ?? new Date(now)),
    der.seq(single),
    ...respExts,
  );
  const hash = o.signatureHash ?? defaultHash(signer.privateKey);
  const alg = signatureAlgorithm(signer.privateKey, hash);
  const sig = sign(signer.privateKey, hash, tbs);
  if (o.badSignature) sig[sig.length - 1] ^= 0x01;
  const basic = der.seq(tbs, alg, der.bit(sig), ...(o.responder ? [der.explicit(0, der.seq(o.responder.der))] : []));
  return der.seq(der.enumerated(0), der.explicit(0, der.seq(der.oid('1.3.6.1.5.5.7.48.1.1'), der.octet(basic))));
}

// ---------------------------------------------------------------------------------------------
// RFC 3161 timestamp tokens
// ---------------------------------------------------------------------------------------------

/** A chain whose leaf is a TSA certificate (timeStamping EKU, critical). Default length 3, RSA 2048. */
export function makeTsaChain(opts: ChainOptions = {}): Chain {
  return makeChain({
    length: 3,
    keyType: 'rsa2048',
    keySlot: 'tsa',
    ...opts,
    leaf: {
      subject: 'CN=Test TSA,O=Notary Test,ST=WA,C=US',
      extKeyUsage: ['timeStamping'],
      extKeyUsageCritical: true,
      ...(opts.leaf ?? {}),
    },
    root: { subject: 'CN=Test TSA Root,O=Notary Test,ST=WA,C=US', ...(opts.root ?? {}) },
    intermediates: opts.intermediates ?? [{ subject: 'CN=Test TSA Intermediate,O=Notary Test,ST=WA,C=US' }],
  });
}

export interface TimestampTokenOptions {
  /** The timestamped data (for notation: the raw signature bytes of the envelope). */
  message: Uint8Array;
  /** TSA chain; its leaf signs. See {@link makeTsaChain}. */
  tsa: Chain;
  genTime?: Date;
  /** Accuracy in seconds (omitted when undefined). */
  accuracySeconds?: number;
  /** Default `1.2.3.4.1`; `0.4.0.2023.1.1` is the baseline policy (implied 1 s accuracy). */
  policy?: string;
  hash?: 'sha256' | 'sha384' | 'sha512';
  /** Embed the TSA chain (without the root) in the token. Default true. */
  includeCerts?: boolean;
  /** Leave out the signing-certificate-v2 attribute. */
  omitSigningCertificateV2?: boolean;
  /** eContentType (default id-ct-TSTInfo). */
  contentType?: string;
  badSignature?: boolean;
  nonce?: bigint;
}

const HASH_OIDS = { sha256: '2.16.840.1.101.3.4.2.1', sha384: '2.16.840.1.101.3.4.2.2', sha512: '2.16.840.1.101.3.4.2.3' };

/** Builds a DER RFC 3161 TimeStampToken (CMS SignedData over a TSTInfo) signed by `tsa`'s leaf. */
export function makeTimestampToken(o: TimestampTokenOptions): Uint8Array {
  const hash = o.hash ?? 'sha256';
  const h = (d: Uint8Array) => new Uint8Array(crypto.createHash(hash).update(d).digest());
  const genTime = o.genTime ?? new Date(Math.floor(Date.now() / 1000) * 1000);
  const tstInfo = der.seq(
    der.int(1),
    der.oid(o.policy ?? '1.2.3.4.1'),
    der.seq(der.seq(der.oid(HASH_OIDS[hash]), der.null()), der.octet(h(o.message))),
    der.int(BigInt(genTime.getTime())),
    der.generalizedTime(genTime, true),
    ...(o.accuracySeconds !== undefined ? [der.seq(der.int(o.accuracySeconds))] : []),
    ...(o.nonce !== undefined ? [der.int(o.nonce)] : []),
  );
  const contentType = o.contentType ?? '1.2.840.113549.1.9.16.1.4';
  const leaf = o.tsa.certs[0];
  const { serial, issuerName } = tbsOf(leaf.der);
  const attrs = [
    der.seq(der.oid('1.2.840.113549.1.9.3'), der.set(der.oid(contentType))),
    der.seq(der.oid('1.2.840.113549.1.9.4'), der.set(der.octet(h(tstInfo)))),
  ];
  if (!o.omitSigningCertificateV2) {
    const certHash = new Uint8Array(crypto.createHash('sha256').update(leaf.der).digest());
    attrs.push(der.seq(der.oid('1.2.840.113549.1.9.16.2.47'), der.set(der.seq(der.seq(der.seq(der.octet(certHash)))))));
  }
  const signedAttrsSet = der.setOf(...attrs);
  const sig = sign(leaf.privateKey, hash, signedAttrsSet);
  if (o.badSignature) sig[sig.length - 1] ^= 0x01;
  const signedAttrsImplicit = new Uint8Array(signedAttrsSet);
  signedAttrsImplicit[0] = 0xa0;
  const signerInfo = der.seq(
    der.int(1),
    der.seq(issuerName, der.tlv(0x02, serial)),
    der.seq(der.oid(HASH_OIDS[hash]), der.null()),
    signedAttrsImplicit,
    signatureAlgorithm(leaf.privateKey, hash),
    der.octet(sig),
  );
  const certs = (o.includeCerts ?? true) ? o.tsa.chainDer.slice(0, Math.max(1, o.tsa.chainDer.length - 1)) : [];
  const signedData = der.seq(
    der.int(3),
    der.set(der.seq(der.oid(HASH_OIDS[hash]), der.null())),
    der.seq(der.oid(contentType), der.explicit(0, der.octet(tstInfo))),
    ...(certs.length ? [der.implicitCons(0, ...certs)] : []),
    der.set(signerInfo),
  );
  return der.seq(der.oid('1.2.840.113549.1.7.2'), der.explicit(0, signedData));
}
