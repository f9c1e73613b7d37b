/**
 * Issue 8 item 10: only definitive answers are verdicts. Table: HTTP status x registry call -> outcome.
 *
 * Definitive (failed): the subject manifest answering 404 (image not there), a referrers listing answering
 * 404 NAME_UNKNOWN (repository not there), content named only by the client-written tag-schema index that is
 * missing. A referrers 404 without NAME_UNKNOWN means "API unsupported" -> tag-schema fallback (OCI spec); a missing
 * tag-schema index means "no signatures". Everything else a registry answers on its API (400, 405, 408, 410,
 * 429, 5xx, unfollowed 3xx, other 2xx, a listed signature or envelope answering 404) says nothing about the
 * signature: inconclusive, with AUTHENTICATION / TIMEOUT / THROTTLED / REGISTRY_UNAVAILABLE.
 */
import { createHash } from 'node:crypto';
import { isVerifierError } from '../../../src/verifier/errors';
import { RemoteRepository, RemoteRepositoryOptions } from '../../../src/verifier/registry';
import { Descriptor } from '../../../src/verifier/types';
import { collect } from '../../support/helpers';
import { pushImage, pushSignature } from '../../support/push';
import { ReferrersServer, startReferrersServer } from '../../support/registry';

const JWS = 'application/jose+json';
const NAME_UNKNOWN = JSON.stringify({ errors: [{ code: 'NAME_UNKNOWN', message: 'repository name not known to registry' }] });

type Call = 'resolve' | 'referrers' | 'referrers page 2' | 'tag-schema index' | 'signature (listed by API)'
  | 'signature (listed by tag schema)' | 'envelope (listed by API)' | 'envelope (listed by tag schema)' | 'platform manifest';
type Status = 200 | 204 | 302 | 400 | 401 | 403 | 404 | 'NAME_UNKNOWN' | 405 | 408 | 410 | 429 | 500 | 501 | 502 | 503;

const I = (code: string) => `inconclusive ${code}`;
const RU = I('REGISTRY_UNAVAILABLE');
const NOT_FOUND = 'failed NOT_FOUND';

/** The statuses every API call classifies alike (the 404 column is per call). */
const COMMON: Array<[Status, string]> = [
  [204, RU], [302, RU], [400, RU], [401, I('AUTHENTICATION')], [403, I('AUTHENTICATION')], [405, RU], [408, I('TIMEOUT')],
  [410, RU], [429, I('THROTTLED')], [500, RU], [501, RU], [502, RU], [503, RU],
];

/** call -> outcome for 404 and 404 NAME_UNKNOWN. */
const NOT_FOUND_COLUMN: Record<Call, [string, string]> = {
  'resolve': [NOT_FOUND, NOT_FOUND],
  'referrers': ['fallback to the tag schema', NOT_FOUND],
  'referrers page 2': [RU, RU],
  'tag-schema index': ['no signatures', 'no signatures'],
  'signature (listed by API)': [RU, RU],
  'signature (listed by tag schema)': [NOT_FOUND, NOT_FOUND],
  'envelope (listed by API)': [RU, RU],
  'envelope (listed by tag schema)': [NOT_FOUND, NOT_FOUND],
  'platform manifest': [RU, RU],
};

const TABLE: Array<[Call, Status, string]> = [];
for (const call of Object.keys(NOT_FOUND_COLUMN) as Call[]) {
  TABLE.push([call, 200, 'ok']);
  for (const [status, outcome] of COMMON) TABLE.push([call, status, outcome]);
  TABLE.push([call, 404, NOT_FOUND_COLUMN[call][0]], [call, 'NAME_UNKNOWN', NOT_FOUND_COLUMN[call][1]]);
}

let srv: ReferrersServer;
let img: Descriptor;
let sigA: Descriptor;
let sigB: Descriptor;
const envelopeA = Buffer.from('{"envelope":"a"}');

beforeAll(async () => {
  srv = await startReferrersServer({ pageSize: 1 });
  img = await pushImage(srv.url, 'app', { tag: 'v1' });
  sigA = await pushSignature(srv.url, 'app', img, envelopeA, JWS);
  sigB = await pushSignature(srv.url, 'app', img, Buffer.from('{"envelope":"b"}'), JWS);
});
afterAll(async () => {
  await srv?.stop();
});
beforeEach(() => {
  srv.reset();
  srv.setReferrersMode('supported');
});

const repo = (o: RemoteRepositoryOptions = {}) => new RemoteRepository({ registry: srv.host, repository: 'app' }, {
  plainHttpRegistries: [srv.host], referrersCapability: new Map(), retry: { maxAttempts: 1 }, ...o,
});

/** Runs `call` with `status` injected on the request it is about; returns the outcome as the table spells it. */
async function outcomeOf(call: Call, status: Status): Promise<string> {
  const r = repo();
  const envelopeDigest = 'sha256:' + createHash('sha256').update(envelopeA).digest('hex');
  const inject = (match: string | ((m: string, url: string) => boolean)) => {
    if (status === 200) return;
    const body = status === 'NAME_UNKNOWN' ? NAME_UNKNOWN : undefined;
    srv.addFault({ match, status: status === 'NAME_UNKNOWN' ? 404 : status, ...(body ? { body } : {}) });
  };
  try {
    switch (call) {
      case 'resolve':
        inject(`/manifests/${img.digest}`);
        await r.resolve({ registry: srv.host, repository: 'app', digest: img.digest });
        return 'ok';
      case 'referrers': {
        inject((_m, url) => url.includes(`/referrers/${img.digest}`) && !url.includes('page='));
        const list = await collect(r.listSignatures(img));
        const usedTagSchema = srv.requests().some((l) => l.includes(`/manifests/${img.digest.replace(':', '-')}`));
        if (usedTagSchema) return list.length === 2 ? 'fallback to the tag schema' : `fallback with ${list.length} signatures`;
        return list.length === 2 ? 'ok' : `listed ${list.length}`;
      }
      case 'referrers page 2': {
        inject((_m, url) => url.includes(`/referrers/${img.digest}`) && url.includes('page=1'));
        const list = await collect(r.listSignatures(img));
        return list.length === 2 ? 'ok' : `listed ${list.length}`;
      }
      case 'tag-schema index': {
        srv.setReferrersMode('unsupported-404');
        inject(`/manifests/${img.digest.replace(':', '-')}`);
        const list = await collect(r.listSignatures(img));
        return list.length === 0 ? 'no signatures' : list.length === 2 ? 'ok' : `listed ${list.length}`;
      }
      case 'signature (listed by API)':
      case 'signature (listed by tag schema)':
      case 'envelope (listed by API)':
      case 'envelope (listed by tag schema)': {
        if (call.includes('tag schema')) srv.setReferrersMode('unsupported-404');
        const listed = await collect(r.listSignatures(img));
        const target = listed.find((d) => d.digest === sigA.digest)!;
        expect(target).toBeDefined();
        inject(call.startsWith('signature') ? `/manifests/${sigA.digest}` : `/blobs/${envelopeDigest}`);
        const art = await r.fetchSignature(target);
        return art.manifestDigest === sigA.digest ? 'ok' : 'wrong signature';
      }
      case 'platform manifest':
        inject(`/manifests/${img.digest}`);
        await r.fetchManifest({ mediaType: img.mediaType, digest: img.digest, size: img.size });
        return 'ok';
    }
  } catch (e) {
    if (!isVerifierError(e)) return `untyped ${String(e)}`;
    return `${e.kind} ${e.code}`;
  }
  return 'unreachable';
}

describe('status x call -> kind/code', () => {
  test('the table covers every call with every status', () => {
    expect(TABLE).toHaveLength(Object.keys(NOT_FOUND_COLUMN).length * (COMMON.length + 3));
    expect(sigB.digest).not.toBe(sigA.digest);
  });

  test.each(TABLE)('%s answering %s -> %s', async (call, status, expected) => {
    expect(await outcomeOf(call, status)).toBe(expected);
  });
});

describe('never a verdict from a glitch: a definitive answer needs a definitive status', () => {
  test('no call turns a non-404 error status into "failed"', () => {
    for (const [, status, outcome] of TABLE) {
      if (status !== 404 && status !== 'NAME_UNKNOWN' && status !== 200) expect(outcome.startsWith('failed')).toBe(false);
    }
  });
});
