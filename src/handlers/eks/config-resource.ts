/**
 * The webhook-configuration custom resource's properties and Kubernetes objects: parsing and checking
 * what CloudFormation sends (all of it non-secret), the physical id (it names the cluster and both
 * configurations, so a changed name yields a new id and CloudFormation deletes the old objects), and
 * the secret's substitution into the webhook URLs.
 */
import { parseEndpoint } from './kube-client';

/** The placeholder the construct writes where the secret goes in each webhook URL. */
export const SECRET_PLACEHOLDER = '{{webhook-secret}}';

/** Field manager of the server-side apply. */
export const FIELD_MANAGER = 'cdk-signed-images';

const GROUP_PATH = '/apis/admissionregistration.k8s.io/v1';
const RESOURCE_OF_KIND: Readonly<Record<string, string>> = {
  MutatingWebhookConfiguration: 'mutatingwebhookconfigurations',
  ValidatingWebhookConfiguration: 'validatingwebhookconfigurations',
};
const KINDS = Object.keys(RESOURCE_OF_KIND);

/** A DNS subdomain (RFC 1123), the rule for configuration names. */
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const CLUSTER_NAME = /^[0-9A-Za-z][A-Za-z0-9\-_]{0,99}$/;
const ROLE_ARN = /^arn:aws[a-z-]*:iam::\d{12}:role\/[\w+=,.@/-]{1,512}$/;
const SECRET_ARN = /^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:\d{12}:secret:[\w/+=.@-]{1,512}$/;
/** The secret is a URL path segment: letters and digits, long enough to be unguessable. */
export const SECRET_VALUE = /^[A-Za-z0-9]{32,256}$/;

const PHYSICAL_PREFIX = 'eks-webhook-configurations';

/** A typed problem with the request (the message never holds the secret: nothing here sees it). */
export class ConfigPropertyError extends Error {
  public constructor(message: string) {
    super(message);
    this.name = 'ConfigPropertyError';
  }
}

/** A webhook configuration object as the construct renders it. */
export interface WebhookConfiguration {
  readonly apiVersion: string;
  readonly kind: string;
  readonly metadata: { readonly name: string; readonly [k: string]: unknown };
  readonly webhooks: Array<{ readonly clientConfig: { readonly url: string }; readonly [k: string]: unknown }>;
  readonly [k: string]: unknown;
}

/** Where the cluster's API server is and the only CA its certificate may come from. */
export interface ClusterConnection {
  readonly endpoint: string;
  readonly caPem: string;
}

/** The checked resource properties. */
export interface ConfigProperties {
  readonly clusterName: string;
  /** Absent when the construct had no endpoint and CA (an imported cluster): read with EKS DescribeCluster. */
  readonly connection?: ClusterConnection;
  readonly roleArn: string;
  readonly secretArn: string;
  readonly functionUrl: string;
  readonly configurations: WebhookConfiguration[];
}

function str(props: Record<string, unknown>, key: string, re?: RegExp): string {
  const v = props[key];
  if (typeof v !== 'string' || v.length === 0) throw new ConfigPropertyError(`property ${key} is missing or not a string`);
  if (re && !re.test(v)) throw new ConfigPropertyError(`property ${key} is malformed`);
  return v;
}

/** Checks one configuration: kind, apiVersion, a DNS-subdomain name, each webhook's URL under the function URL with the placeholder. */
function checkConfiguration(c: any, functionUrl: string): WebhookConfiguration {
  if (!c || typeof c !== 'object' || Array.isArray(c)) throw new ConfigPropertyError('a configuration is not an object');
  if (c.apiVersion !== 'admissionregistration.k8s.io/v1' || !KINDS.includes(c.kind)) {
    throw new ConfigPropertyError(`a configuration is not an admissionregistration.k8s.io/v1 ${KINDS.join(' or ')}`);
  }
  const name = c.metadata?.name;
  if (typeof name !== 'string' || name.length > 253 || !DNS_SUBDOMAIN.test(name)) throw new ConfigPropertyError(`${c.kind}: metadata.name is not a DNS subdomain`);
  if (!Array.isArray(c.webhooks) || c.webhooks.length === 0) throw new ConfigPropertyError(`${c.kind} ${name}: no webhooks`);
  for (const w of c.webhooks) {
    const url = w?.clientConfig?.url;
    if (typeof url !== 'string' || !url.startsWith(`${functionUrl}${SECRET_PLACEHOLDER}/`) || url.split(SECRET_PLACEHOLDER).length !== 2) {
      throw new ConfigPropertyError(`${c.kind} ${name}: each webhook URL must be the function URL followed by ${SECRET_PLACEHOLDER}/`);
    }
  }
  return c;
}

/** Parses the resource properties. Throws {@link ConfigPropertyError}. */
export function parseProperties(props: Record<string, unknown> | undefined): ConfigProperties {
  if (!props || typeof props !== 'object') throw new ConfigPropertyError('ResourceProperties is missing');
  const functionUrl = str(props, 'FunctionUrl');
  if (!/^https:\/\/[^/?#@\s]+\/$/.test(functionUrl)) throw new ConfigPropertyError('property FunctionUrl must be https://<host>/');
  // Both or neither: without them the function asks EKS (DescribeCluster).
  if ((props.Endpoint === undefined) !== (props.CertificateAuthorityData === undefined)) {
    throw new ConfigPropertyError('properties Endpoint and CertificateAuthorityData go together');
  }
  const connection = props.Endpoint === undefined ? undefined : clusterConnection(props.Endpoint, props.CertificateAuthorityData, 'property');
  let list: unknown;
  try {
    list = JSON.parse(str(props, 'Manifest'));
  } catch (e) {
    if (e instanceof ConfigPropertyError) throw e;
    throw new ConfigPropertyError('property Manifest is not JSON');
  }
  if (!Array.isArray(list) || list.length === 0 || list.length > 4) throw new ConfigPropertyError('property Manifest must be a list of 1 to 4 configurations');
  const configurations = list.map((c) => checkConfiguration(c, functionUrl));
  const seen = new Set(configurations.map((c) => `${c.kind}/${c.metadata.name}`));
  if (seen.size !== configurations.length) throw new ConfigPropertyError('property Manifest names one object twice');
  return {
    clusterName: str(props, 'ClusterName', CLUSTER_NAME),
    ...(connection ? { connection } : {}),
    roleArn: str(props, 'RoleArn', ROLE_ARN),
    secretArn: str(props, 'SecretArn', SECRET_ARN),
    functionUrl,
    configurations,
  };
}

/**
 * Checks an API server endpoint (`https://<host>[:port]`, no path) and its CA data (base64 of a PEM
 * certificate), from the resource properties or from EKS DescribeCluster (`source` names which).
 */
export function clusterConnection(endpoint: unknown, caData: unknown, source: string): ClusterConnection {
  if (typeof endpoint !== 'string' || endpoint.length === 0) throw new ConfigPropertyError(`${source} Endpoint is missing or not a string`);
  try {
    parseEndpoint(endpoint); // HTTPS, a host, nothing else: checked before the secret is read
  } catch (e) {
    throw new ConfigPropertyError(`${source} ${(e as Error).message}`);
  }
  if (typeof caData !== 'string' || caData.length === 0) throw new ConfigPropertyError(`${source} CertificateAuthorityData is missing or not a string`);
  const pem = /^[A-Za-z0-9+/=\s]+$/.test(caData) ? Buffer.from(caData, 'base64').toString('utf8') : '';
  if (!/-----BEGIN CERTIFICATE-----[\s\S]+-----END CERTIFICATE-----/.test(pem)) {
    throw new ConfigPropertyError(`${source} CertificateAuthorityData is not a base64 PEM certificate`);
  }
  return { endpoint, caPem: pem };
}

/** The API path of one object (no query). */
export function objectPath(kind: string, name: string): string {
  const resource = RESOURCE_OF_KIND[kind];
  if (!resource || !DNS_SUBDOMAIN.test(name)) throw new ConfigPropertyError(`not a webhook configuration: ${kind}/${name}`);
  return `${GROUP_PATH}/${resource}/${name}`;
}

/** Server-side apply path (force: the construct owns these objects). */
export function applyPath(kind: string, name: string): string {
  return `${objectPath(kind, name)}?fieldManager=${FIELD_MANAGER}&force=true`;
}

/** The objects a physical id stands for. */
export interface PhysicalTarget {
  readonly clusterName: string;
  readonly objects: Array<{ kind: string; name: string }>;
}

/** `eks-webhook-configurations:<cluster>:<Kind>/<name>,<Kind>/<name>`. */
export function physicalId(clusterName: string, configurations: readonly WebhookConfiguration[]): string {
  return `${PHYSICAL_PREFIX}:${clusterName}:${configurations.map((c) => `${c.kind}/${c.metadata.name}`).join(',')}`;
}

/** Parses a physical id; `undefined` when it is not one of ours (e.g. a Create that failed before naming anything). */
export function parsePhysicalId(id: string | undefined): PhysicalTarget | undefined {
  const m = /^eks-webhook-configurations:([^:]+):(.+)$/.exec(id ?? '');
  if (!m || !CLUSTER_NAME.test(m[1])) return undefined;
  const objects: Array<{ kind: string; name: string }> = [];
  for (const part of m[2].split(',')) {
    const [kind, name, extra] = part.split('/');
    if (extra !== undefined || !RESOURCE_OF_KIND[kind] || !name || !DNS_SUBDOMAIN.test(name)) return undefined;
    objects.push({ kind, name });
  }
  return { clusterName: m[1], objects };
}

/** A copy of `c` with the secret in place of the placeholder in each webhook URL (only there). */
export function withSecret(c: WebhookConfiguration, secret: string): WebhookConfiguration {
  if (!SECRET_VALUE.test(secret)) throw new ConfigPropertyError('the webhook secret must be 32 to 256 letters and digits (it is a URL path segment)');
  const url = (w: WebhookConfiguration['webhooks'][number]) => w.clientConfig.url.replace(SECRET_PLACEHOLDER, secret);
  return { ...c, webhooks: c.webhooks.map((w) => ({ ...w, clientConfig: { ...w.clientConfig, url: url(w) } })) };
}
