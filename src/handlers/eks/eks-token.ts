/**
 * Amazon EKS bearer tokens, as `aws eks get-token` makes them: `k8s-aws-v1.` followed by the
 * unpadded base64url of a SigV4 query-presigned `GET https://sts.<region>.amazonaws.com/?Action=GetCallerIdentity&Version=2011-06-15`
 * whose signed headers include `x-k8s-aws-id: <cluster name>`. The EKS authenticator calls that URL
 * and maps the caller's IAM identity to Kubernetes users and groups.
 *
 * Written with node:crypto only (the Lambda bundle carries no signer).
 */
import { createHash, createHmac } from 'crypto';

/** AWS credentials (an assumed role's: the session token is then required by STS). */
export interface AwsCredentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken?: string;
}

/** The token prefix EKS expects. */
export const EKS_TOKEN_PREFIX = 'k8s-aws-v1.';
/** The header that binds a token to one cluster. */
export const CLUSTER_ID_HEADER = 'x-k8s-aws-id';
/** Lifetime of the presigned URL, in seconds (EKS refuses longer ones; it honours at most 15 minutes itself). */
export const TOKEN_EXPIRES_SECONDS = 60;

const ALGORITHM = 'AWS4-HMAC-SHA256';
const SERVICE = 'sts';
const EMPTY_SHA256 = createHash('sha256').update('').digest('hex');

/** RFC 3986 percent-encoding, as SigV4 canonical query strings require. */
function uriEncode(s: string): string {
  return encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

const hmac = (key: string | Buffer, data: string): Buffer => createHmac('sha256', key).update(data, 'utf8').digest();

/** The STS host of a region (China regions use amazonaws.com.cn). */
export function stsHost(region: string): string {
  return `sts.${region}.${region.startsWith('cn-') ? 'amazonaws.com.cn' : 'amazonaws.com'}`;
}

/** A presigned GetCallerIdentity URL bound to `clusterName` (SigV4, query signing). */
export function presignGetCallerIdentity(clusterName: string, region: string, credentials: AwsCredentials, now = new Date()): string {
  if (!/^[a-z]{2}(-[a-z]+)+-\d+$/.test(region)) throw new Error(`not an AWS region: ${JSON.stringify(region)}`);
  const host = stsHost(region);
  const amzDate = now.toISOString().replace(/[-:]/g, '').replace(/\.\d{3}/, '');
  const day = amzDate.slice(0, 8);
  const scope = `${day}/${region}/${SERVICE}/aws4_request`;
  const signedHeaders = `host;${CLUSTER_ID_HEADER}`;
  const query: Record<string, string> = {
    'Action': 'GetCallerIdentity',
    'Version': '2011-06-15',
    'X-Amz-Algorithm': ALGORITHM,
    'X-Amz-Credential': `${credentials.accessKeyId}/${scope}`,
    'X-Amz-Date': amzDate,
    'X-Amz-Expires': String(TOKEN_EXPIRES_SECONDS),
    'X-Amz-SignedHeaders': signedHeaders,
    ...(credentials.sessionToken ? { 'X-Amz-Security-Token': credentials.sessionToken } : {}),
  };
  const canonicalQuery = Object.keys(query).sort().map((k) => `${uriEncode(k)}=${uriEncode(query[k])}`).join('&');
  const canonicalHeaders = `host:${host}\n${CLUSTER_ID_HEADER}:${clusterName.trim()}\n`;
  const canonicalRequest = ['GET', '/', canonicalQuery, canonicalHeaders, signedHeaders, EMPTY_SHA256].join('\n');
  const stringToSign = [ALGORITHM, amzDate, scope, createHash('sha256').update(canonicalRequest, 'utf8').digest('hex')].join('\n');
  const key = hmac(hmac(hmac(hmac(`AWS4${credentials.secretAccessKey}`, day), region), SERVICE), 'aws4_request');
  const signature = createHmac('sha256', key).update(stringToSign, 'utf8').digest('hex');
  return `https://${host}/?${canonicalQuery}&X-Amz-Signature=${signature}`;
}

/** The bearer token for `clusterName`: `k8s-aws-v1.` + base64url (no padding) of the presigned URL. */
export function eksToken(clusterName: string, region: string, credentials: AwsCredentials, now = new Date()): string {
  return EKS_TOKEN_PREFIX + Buffer.from(presignGetCallerIdentity(clusterName, region, credentials, now), 'utf8').toString('base64url');
}
