/**
 * Evaluates the intrinsic functions CDK emits in resource properties (Fn::Join, Ref, Fn::GetAtt), as
 * CloudFormation would at deploy time, from given values: what a custom resource's handler receives.
 */

export interface DeployValues {
  /** `Ref` of a logical id. */
  readonly refs?: Record<string, string>;
  /** `Fn::GetAtt` of `<logicalId>.<attribute>`. */
  readonly attributes?: Record<string, string>;
}

export function evaluateIntrinsics(value: any, values: DeployValues): any {
  if (value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) return value.map((v) => evaluateIntrinsics(v, values));
  if (value['Fn::Join']) return value['Fn::Join'][1].map((v: any) => evaluateIntrinsics(v, values)).join(value['Fn::Join'][0]);
  if (value['Fn::GetAtt']) {
    const key = `${value['Fn::GetAtt'][0]}.${value['Fn::GetAtt'][1]}`;
    if (values.attributes?.[key] === undefined) throw new Error(`unexpected intrinsic ${JSON.stringify(value)}`);
    return values.attributes[key];
  }
  if (value.Ref !== undefined) {
    if (values.refs?.[value.Ref] === undefined) throw new Error(`unexpected intrinsic ${JSON.stringify(value)}`);
    return values.refs[value.Ref];
  }
  if (Object.keys(value).some((k) => k.startsWith('Fn::'))) throw new Error(`unexpected intrinsic ${JSON.stringify(value)}`);
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, evaluateIntrinsics(v, values)]));
}
