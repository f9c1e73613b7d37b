/**
 * Answers a CloudFormation custom resource request directly: an HTTP PUT of the JSON response to the
 * presigned `ResponseURL` (no provider framework, so no framework logs the event or its properties).
 */
import * as http from 'http';
import * as https from 'https';

/** The custom resource request fields the handler reads (CloudFormation sends them). */
export interface CfnRequest {
  readonly RequestType: 'Create' | 'Update' | 'Delete';
  readonly ResponseURL: string;
  readonly StackId: string;
  readonly RequestId: string;
  readonly LogicalResourceId: string;
  readonly PhysicalResourceId?: string;
  readonly ResourceType?: string;
  readonly ResourceProperties: Record<string, unknown>;
  readonly OldResourceProperties?: Record<string, unknown>;
}

export interface CfnAnswer {
  readonly Status: 'SUCCESS' | 'FAILED';
  readonly Reason?: string;
  readonly PhysicalResourceId: string;
  readonly Data?: Record<string, string>;
}

/** CloudFormation caps the whole response at 4096 bytes. */
const MAX_REASON = 1500;

/** The response body CloudFormation expects. */
export function cfnResponseBody(request: CfnRequest, answer: CfnAnswer): string {
  const reason = answer.Reason && answer.Reason.length > MAX_REASON ? `${answer.Reason.slice(0, MAX_REASON - 3)}...` : answer.Reason;
  return JSON.stringify({
    Status: answer.Status,
    Reason: reason ?? '',
    PhysicalResourceId: answer.PhysicalResourceId,
    StackId: request.StackId,
    RequestId: request.RequestId,
    LogicalResourceId: request.LogicalResourceId,
    NoEcho: false,
    Data: answer.Data ?? {},
  });
}

/** PUTs `body` to the presigned ResponseURL; retries a few times on errors. Resolves with the HTTP status. */
export async function sendCfnResponse(responseUrl: string, body: string, attempts = 3): Promise<number> {
  const url = new URL(responseUrl);
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new Error('ResponseURL is not an HTTP(S) URL');
  let last: unknown;
  for (let i = 0; i < attempts; i++) {
    try {
      const status = await put(url, body);
      if (status < 500) return status;
      last = new Error(`HTTP ${status}`);
    } catch (e) {
      last = e;
    }
    await new Promise((r) => setTimeout(r, 200 * 2 ** i));
  }
  throw last instanceof Error ? last : new Error(String(last));
}

function put(url: URL, body: string): Promise<number> {
  const data = Buffer.from(body, 'utf8');
  const mod = url.protocol === 'https:' ? https : http;
  return new Promise<number>((resolve, reject) => {
    // The presigned S3 URL is signed without a content type: send an empty one.
    const req = mod.request(url, { method: 'PUT', headers: { 'content-type': '', 'content-length': String(data.length) }, timeout: 10_000 }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('timeout', () => req.destroy(new Error('ResponseURL did not answer within 10 s')));
    req.on('error', reject);
    req.end(data);
  });
}
