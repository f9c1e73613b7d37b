import { createServer, IncomingMessage, Server, ServerResponse } from 'http';
import { AddressInfo } from 'net';
import { sdkEcrTokenProvider, sdkSignerRevocationClient } from '../../../src/verifier/signer';

/** A loopback HTTP server standing in for the AWS endpoints; records every request. */
async function fakeAws(handler: (req: IncomingMessage, body: string, res: ServerResponse) => void) {
  const requests: Array<{ method?: string; url?: string; headers: IncomingMessage['headers']; body: string }> = [];
  const server: Server = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => { body += c; });
    req.on('end', () => {
      requests.push({ method: req.method, url: req.url, headers: req.headers, body });
      handler(req, body, res);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  return { requests, endpoint: `http://127.0.0.1:${port}`, close: () => new Promise<void>((r) => server.close(() => r())) };
}

const saved = { ...process.env };
beforeAll(() => {
  process.env.AWS_ACCESS_KEY_ID = 'AKIDEXAMPLE';
  process.env.AWS_SECRET_ACCESS_KEY = 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY';
  delete process.env.AWS_SESSION_TOKEN;
  delete process.env.AWS_PROFILE;
});
afterAll(() => {
  process.env = saved;
});

const input = {
  signatureTimestamp: new Date('2022-07-06T19:10:28Z'),
  platformId: 'Notation-OCI-SHA384-ECDSA',
  profileVersionArn: 'arn:aws:signer:us-west-2:000000000000:/signing-profiles/NotaryPluginIntegProfile/OF8IVUsPJq',
  jobArn: 'arn:aws:signer:us-west-2:000000000000:/signing-jobs/97af3947-e7b2-4533-8d9d-6741156f0b79',
  certificateHashes: ['a'.repeat(192), 'b'.repeat(192)],
};

describe('sdkSignerRevocationClient (real @aws-sdk/client-signer against a loopback endpoint)', () => {
  test('sends a SigV4-signed GET /revocations with every input field and returns revokedEntities', async () => {
    const aws = await fakeAws((_req, _body, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ revokedEntities: [input.jobArn] }));
    });
    try {
      const client = sdkSignerRevocationClient('us-west-2', aws.endpoint);
      await expect(client.getRevocationStatus(input)).resolves.toEqual({ revokedEntities: [input.jobArn] });
      expect(aws.requests).toHaveLength(1);
      const req = aws.requests[0];
      expect(req.method).toBe('GET');
      const url = new URL(req.url!, aws.endpoint);
      expect(url.pathname).toBe('/revocations');
      expect(url.searchParams.get('platformId')).toBe('Notation-OCI-SHA384-ECDSA');
      expect(url.searchParams.get('profileVersionArn')).toBe(input.profileVersionArn);
      expect(url.searchParams.get('jobArn')).toBe(input.jobArn);
      expect(url.searchParams.getAll('certificateHashes')).toEqual(input.certificateHashes);
      expect(new Date(url.searchParams.get('signatureTimestamp')!).toISOString()).toBe('2022-07-06T19:10:28.000Z');
      expect(String(req.headers.authorization)).toMatch(/^AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE\/\d{8}\/us-west-2\/signer\/aws4_request/);
    } finally {
      await aws.close();
    }
  });

  test('service errors propagate with their code', async () => {
    const aws = await fakeAws((_req, _body, res) => {
      res.writeHead(400, { 'content-type': 'application/json', 'x-amzn-errortype': 'ValidationException' });
      res.end(JSON.stringify({ message: 'cross-partition call' }));
    });
    try {
      const client = sdkSignerRevocationClient('us-west-2', aws.endpoint);
      await expect(client.getRevocationStatus(input)).rejects.toMatchObject({ name: 'ValidationException', message: 'cross-partition call' });
    } finally {
      await aws.close();
    }
  });
});

describe('sdkEcrTokenProvider (real @aws-sdk/client-ecr against a loopback endpoint)', () => {
  test('calls GetAuthorizationToken for the registry id and returns token + expiry', async () => {
    const aws = await fakeAws((_req, _body, res) => {
      res.writeHead(200, { 'content-type': 'application/x-amz-json-1.1' });
      res.end(JSON.stringify({ authorizationData: [{ authorizationToken: Buffer.from('AWS:secret').toString('base64'), expiresAt: 1893456000, proxyEndpoint: 'https://123456789012.dkr.ecr.eu-west-1.amazonaws.com' }] }));
    });
    try {
      const provider = sdkEcrTokenProvider({ endpoint: aws.endpoint });
      const t = await provider('123456789012', 'eu-west-1');
      expect(t.authorizationToken).toBe(Buffer.from('AWS:secret').toString('base64'));
      expect(t.expiresAt.toISOString()).toBe('2030-01-01T00:00:00.000Z');
      const req = aws.requests[0];
      expect(req.headers['x-amz-target']).toBe('AmazonEC2ContainerRegistry_V20150921.GetAuthorizationToken');
      expect(JSON.parse(req.body)).toEqual({ registryIds: ['123456789012'] });
      expect(String(req.headers.authorization)).toContain('/eu-west-1/ecr/aws4_request');
    } finally {
      await aws.close();
    }
  });

  test('an empty answer is an inconclusive AUTHENTICATION error', async () => {
    const aws = await fakeAws((_req, _body, res) => {
      res.writeHead(200, { 'content-type': 'application/x-amz-json-1.1' });
      res.end(JSON.stringify({ authorizationData: [] }));
    });
    try {
      await expect(sdkEcrTokenProvider({ endpoint: aws.endpoint })('123456789012', 'eu-west-1')).rejects.toMatchObject({ kind: 'inconclusive', code: 'AUTHENTICATION' });
    } finally {
      await aws.close();
    }
  });
});
