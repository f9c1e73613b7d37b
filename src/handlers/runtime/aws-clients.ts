/**
 * AWS clients the handlers share: the ECS SDK (loaded lazily) and one ECS client per region for the
 * container (DescribeServiceRevisions, StopTask), and the region of an ARN.
 */

/* eslint-disable @typescript-eslint/no-require-imports */
/** Lazy `require` (not `await import()`, which Jest's CommonJS VM rejects); the SDK loads on first use. */
export const loadEcs = (): Promise<typeof import('@aws-sdk/client-ecs')> => Promise.resolve().then(() => require('@aws-sdk/client-ecs'));
/* eslint-enable @typescript-eslint/no-require-imports */

const ecsClients = new Map<string, any>();

/** One ECS client per region for the container. */
export async function ecsClient(region: string | undefined): Promise<any> {
  const key = region ?? '';
  let c = ecsClients.get(key);
  if (!c) {
    const { ECSClient } = await loadEcs();
    c = new ECSClient(region ? { region } : {});
    ecsClients.set(key, c);
  }
  return c;
}

/** Region of an ARN, or the Lambda's region. */
export function regionOf(arn: string | undefined): string | undefined {
  const parts = (arn ?? '').split(':');
  return (parts.length > 3 && parts[0] === 'arn' && parts[3]) ? parts[3] : (process.env.AWS_REGION || process.env.AWS_DEFAULT_REGION);
}
