import * as fs from 'node:fs';
import * as path from 'node:path';
import { ConfigurationError } from '../../../src/verifier/errors';
import { parseCertificates } from '../../../src/verifier/x509/certificate';
import { dnOverlaps, isDnSubset, parseDistinguishedName, parseRfc4514, validateDistinguishedName } from '../../../src/verifier/x509/dn';
import { makeChain } from '../../support/pki';

const CERTS = path.join(__dirname, '../../fixtures/notation-go/trusted-identity-certs');

function dnErr(s: string): string {
  try {
    parseDistinguishedName(s);
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigurationError);
    expect((e as ConfigurationError).code).toBe('INVALID_TRUST_POLICY');
    return (e as Error).message;
  }
  throw new Error(`expected ${s} to be rejected`);
}

describe('parseDistinguishedName', () => {
  it('parses the minimal DN and normalises S to ST', () => {
    expect([...parseDistinguishedName('C=US,ST=WA,O=wabbit-networks.io')]).toEqual([['C', 'US'], ['ST', 'WA'], ['O', 'wabbit-networks.io']]);
    expect(parseDistinguishedName('C=US, S=WA, O=Acme').get('ST')).toBe('WA');
    expect(parseDistinguishedName('  C=US , ST=WA ,O=Acme Rockets  ').get('O')).toBe('Acme Rockets');
  });
  it('handles escapes', () => {
    const m = parseDistinguishedName('CN=a\\,b\\+c\\;d\\\\e\\ ,O=Acme\\, Inc.,ST=WA,C=US');
    expect(m.get('CN')).toBe('a,b+c;d\\e ');
    expect(m.get('O')).toBe('Acme, Inc.');
    expect(parseDistinguishedName('CN=\\ lead,O=x,ST=WA,C=US').get('CN')).toBe(' lead');
    expect(parseDistinguishedName('CN=caf\\C3\\A9,O=x,ST=WA,C=US').get('CN')).toBe('café');
  });
  it('requires C, ST and O', () => {
    expect(dnErr('C=US,O=Acme')).toBe('distinguished name (DN) "C=US,O=Acme" has no mandatory RDN attribute for "ST", it must contain \'C\', \'ST\' or \'S\', and \'O\' RDN attributes at a minimum');
    expect(dnErr('ST=WA,O=Acme')).toMatch(/no mandatory RDN attribute for "C"/);
    expect(dnErr('C=US,ST=WA')).toMatch(/no mandatory RDN attribute for "O"/);
    expect(dnErr('')).toMatch(/no mandatory RDN attribute for "C"/);
  });
  it('rejects multi-valued RDNs, duplicates, =# and syntax errors', () => {
    expect(dnErr('C=US+ST=WA,O=Acme')).toBe('distinguished name (DN) "C=US+ST=WA,O=Acme" has multi-valued RDN attributes, remove multi-valued RDN attributes as they are not supported');
    expect(dnErr('C=US,ST=WA,O=Acme,O=Other')).toBe('distinguished name (DN) "C=US,ST=WA,O=Acme,O=Other" has duplicate RDN attribute for "O", DN can only have unique RDN attributes');
    expect(dnErr('C=US,ST=WA,S=OR,O=Acme')).toMatch(/duplicate RDN attribute for "ST"/);
    expect(dnErr('C=US,ST=WA,O=Acme,CN=#0c0141')).toBe('unsupported distinguished name (DN) "C=US,ST=WA,O=Acme,CN=#0c0141": notation does not support x509.subject identities containing "=#"');
    expect(dnErr('C=US,,ST=WA,O=Acme')).toMatch(/^parsing distinguished name \(DN\) "C=US,,ST=WA,O=Acme" failed with err: .*A valid DN must contain 'C', 'ST' or 'S', and 'O' RDN attributes at a minimum, and follow RFC 4514 standard$/);
    expect(dnErr('C=US,ST=WA,O')).toMatch(/^parsing distinguished name/);
    expect(dnErr('C=US,ST=WA,O=a\\')).toMatch(/^parsing distinguished name/);
    expect(dnErr('C=US,ST=WA,O=a\\zz')).toMatch(/^parsing distinguished name/);
  });
  it('validateDistinguishedName', () => {
    expect(() => validateDistinguishedName('C=US,ST=WA,O=Acme')).not.toThrow();
    expect(() => validateDistinguishedName('C=US')).toThrow(ConfigurationError);
  });
  it('low-level parser keeps multi-valued RDNs', () => {
    expect(parseRfc4514('OU=a+OU=b,C=US')).toEqual([[{ type: 'OU', value: 'a' }, { type: 'OU', value: 'b' }], [{ type: 'C', value: 'US' }]]);
  });
});

describe('isDnSubset / dnOverlaps', () => {
  const leaf = parseDistinguishedName('CN=SomeCN,OU=SomeOU,O=SomeOrg,L=Seattle,ST=WA,C=US');
  it('subset semantics, case-sensitive', () => {
    expect(isDnSubset(parseDistinguishedName('C=US,O=SomeOrg,ST=WA'), leaf)).toBe(true);
    expect(isDnSubset(parseDistinguishedName('C=IND,O=SomeOrg,ST=TS'), leaf)).toBe(false);
    expect(isDnSubset(parseDistinguishedName('C=US,O=someorg,ST=WA'), leaf)).toBe(false);
    expect(isDnSubset(parseDistinguishedName('C=US,O=SomeOrg,S=WA,CN=SomeCN'), leaf)).toBe(true);
    expect(isDnSubset(parseDistinguishedName('C=US,O=SomeOrg,ST=WA,CN=Other'), leaf)).toBe(false);
    expect(isDnSubset(leaf, parseDistinguishedName('C=US,O=SomeOrg,ST=WA'))).toBe(false);
  });
  it('overlap is subset in either direction', () => {
    const a = parseDistinguishedName('C=US,ST=WA,O=Acme');
    const b = parseDistinguishedName('C=US,ST=WA,O=Acme,CN=Builder');
    const c = parseDistinguishedName('C=US,ST=WA,O=Other');
    expect(dnOverlaps(a, b)).toBe(true);
    expect(dnOverlaps(b, a)).toBe(true);
    expect(dnOverlaps(a, c)).toBe(false);
  });
});

describe('leaf certificate subjects (notation-go verifier testdata)', () => {
  const cert = (f: string) => parseCertificates(fs.readFileSync(path.join(CERTS, f)))[0];
  it('signing-cert.pem matches C=US,O=SomeOrg,ST=WA but not C=IND', () => {
    const c = cert('signing-cert.pem');
    expect(c.subject).toBe('CN=SomeCN,OU=SomeOU,O=SomeOrg,L=Seattle,ST=WA,C=US');
    const dn = parseDistinguishedName(c.subject);
    expect(isDnSubset(parseDistinguishedName('C=US,O=SomeOrg,ST=WA'), dn)).toBe(true);
    expect(isDnSubset(parseDistinguishedName('C=IND,O=SomeOrg,ST=TS'), dn)).toBe(false);
  });
  it('bad-cert.pem subject contains =# and never parses', () => {
    const c = cert('bad-cert.pem');
    expect(c.subject).toBe('CN=Bad=#CN,OU=SomeOU,O=SomeOrg,L=Seattle,ST=WA,C=US');
    expect(dnErr(c.subject)).toMatch(/notation does not support x509.subject identities containing "=#"/);
  });
  it('leaf with emailAddress or several OUs never matches', () => {
    const email = makeChain({ length: 1, leaf: { subject: 'CN=x,O=Acme,ST=WA,C=US,E=a@b.c' } }).chainDer;
    const s1 = parseCertificates(email[0])[0].subject;
    expect(s1).toBe('CN=x,O=Acme,ST=WA,C=US,1.2.840.113549.1.9.1=#0c056140622e63');
    expect(() => parseDistinguishedName(s1)).toThrow(ConfigurationError);
    const ous = makeChain({ length: 1, leaf: { subject: 'CN=x,OU=a,OU=b,O=Acme,ST=WA,C=US' } }).chainDer;
    const s2 = parseCertificates(ous[0])[0].subject;
    expect(s2).toBe('CN=x,OU=b+OU=a,O=Acme,ST=WA,C=US');
    expect(dnErr(s2)).toMatch(/multi-valued RDN/);
  });
});
