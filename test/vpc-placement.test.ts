/**
 * VPC placement of the verifier functions (ImageVerifierFunction, EcsAdmissionHook, TaskLaunchAudit):
 * the synthesized VpcConfig, the ENI permissions of the role, the rules on prop combinations.
 */
import { readFileSync } from 'fs';
import * as path from 'path';
import { App, Stack } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import * as ts from 'typescript';
import { EcsAdmissionHook, ImageVerifierFunction, ImageVerifierFunctionProps, TaskLaunchAudit } from '../src';
import { policy, setup } from './support/construct-fixtures';
import { ensureBundled } from './support/handler-bundle';

beforeAll(() => ensureBundled());

const VPC_ACCESS_POLICY = 'service-role/AWSLambdaVPCAccessExecutionRole';

function newStack(): Stack {
  return new Stack(new App(), 'Test', { env: { account: '111122223333', region: 'us-east-1' } });
}

/** A VPC with public, private (NAT) and isolated subnets in two AZs. */
function fullVpc(s: Stack): ec2.Vpc {
  return new ec2.Vpc(s, 'Vpc', {
    maxAzs: 2,
    natGateways: 1,
    subnetConfiguration: [
      { name: 'public', subnetType: ec2.SubnetType.PUBLIC },
      { name: 'private', subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS },
      { name: 'isolated', subnetType: ec2.SubnetType.PRIVATE_ISOLATED },
    ],
  });
}

function fnResource(s: Stack, fn: lambda.Function): any {
  return Template.fromStack(s).toJSON().Resources[s.getLogicalId(fn.node.defaultChild as lambda.CfnFunction)];
}

function refs(s: Stack, constructs: Array<{ node: any }>): any[] {
  return constructs.map((c) => ({ Ref: s.getLogicalId(c.node.defaultChild) }));
}

/** Managed policy ARNs of the function's role, as rendered strings (Fn::Join flattened). */
function roleManagedPolicies(s: Stack, fn: lambda.Function): string[] {
  const roleId = s.getLogicalId(fn.role!.node.defaultChild as any);
  const role = Template.fromStack(s).toJSON().Resources[roleId];
  return (role.Properties.ManagedPolicyArns ?? []).map((a: any) => (a['Fn::Join'] ? a['Fn::Join'][1].map((p: any) => (typeof p === 'string' ? p : '')).join('') : a));
}

describe('VPC placement: ImageVerifierFunction', () => {
  test('default: no VpcConfig and no VPC access policy on the role', () => {
    const s = newStack();
    const fn = new ImageVerifierFunction(s, 'Verifier', { trustPolicy: policy() });
    expect(fnResource(s, fn).Properties.VpcConfig).toBeUndefined();
    expect(roleManagedPolicies(s, fn).some((p) => p.endsWith(VPC_ACCESS_POLICY))).toBe(false);
    Template.fromStack(s).resourceCountIs('AWS::EC2::SecurityGroup', 0);
  });

  test('vpc only: the private subnets, a new security group with all outbound, ENI permissions on the role', () => {
    const s = newStack();
    const vpc = fullVpc(s);
    const fn = new ImageVerifierFunction(s, 'Verifier', { trustPolicy: policy(), vpc });
    const props = fnResource(s, fn).Properties;
    const privateSubnets = vpc.selectSubnets({ subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS }).subnets;
    expect(props.VpcConfig.SubnetIds).toEqual(refs(s, privateSubnets));
    expect(props.VpcConfig.SecurityGroupIds).toHaveLength(1);
    const sgId = props.VpcConfig.SecurityGroupIds[0]['Fn::GetAtt'][0];
    const sg = Template.fromStack(s).toJSON().Resources[sgId];
    expect(sg.Type).toBe('AWS::EC2::SecurityGroup');
    expect(sg.Properties.VpcId).toEqual({ Ref: s.getLogicalId(vpc.node.defaultChild as ec2.CfnVPC) });
    expect(sg.Properties.SecurityGroupEgress).toEqual([expect.objectContaining({ CidrIp: '0.0.0.0/0', IpProtocol: '-1' })]);
    expect(sg.Properties.SecurityGroupIngress).toBeUndefined();
    expect(roleManagedPolicies(s, fn).filter((p) => p.endsWith(VPC_ACCESS_POLICY))).toHaveLength(1);
    // The function waits for the NAT route of its subnets, as lambda.Function does.
    expect(fnResource(s, fn).DependsOn ?? []).toEqual(expect.arrayContaining([expect.stringMatching(/^VpcprivateSubnet1DefaultRoute/)]));
  });

  test('vpcSubnets and securityGroups are passed through exactly; connections expose the groups', () => {
    const s = newStack();
    const vpc = fullVpc(s);
    const sgA = new ec2.SecurityGroup(s, 'SgA', { vpc, allowAllOutbound: false });
    const sgB = ec2.SecurityGroup.fromSecurityGroupId(s, 'SgB', 'sg-0123456789abcdef0');
    const fn = new ImageVerifierFunction(s, 'Verifier', {
      trustPolicy: policy(), vpc, vpcSubnets: { subnetType: ec2.SubnetType.PRIVATE_ISOLATED }, securityGroups: [sgA, sgB],
    });
    // Egress can be opened through the function's connections, e.g. HTTPS to an interface endpoint's network.
    fn.connections.allowTo(ec2.Peer.ipv4('10.0.0.0/16'), ec2.Port.tcp(443));
    const props = fnResource(s, fn).Properties;
    expect(props.VpcConfig.SubnetIds).toEqual(refs(s, vpc.isolatedSubnets));
    expect(props.VpcConfig.SecurityGroupIds).toEqual([{ 'Fn::GetAtt': [s.getLogicalId(sgA.node.defaultChild as ec2.CfnSecurityGroup), 'GroupId'] }, 'sg-0123456789abcdef0']);
    // No extra group is created when groups are given.
    Template.fromStack(s).resourceCountIs('AWS::EC2::SecurityGroup', 1);
    expect(fn.connections.securityGroups).toEqual([sgA, sgB]);
    Template.fromStack(s).hasResourceProperties('AWS::EC2::SecurityGroup', {
      SecurityGroupEgress: Match.arrayWith([Match.objectLike({ CidrIp: '10.0.0.0/16', FromPort: 443, ToPort: 443 })]),
    });
  });

  test('an imported VPC (attributes only) works, with explicit subnets', () => {
    const s = newStack();
    const vpc = ec2.Vpc.fromVpcAttributes(s, 'Imported', {
      vpcId: 'vpc-11112222', availabilityZones: ['us-east-1a', 'us-east-1b'], privateSubnetIds: ['subnet-aaaa1111', 'subnet-bbbb2222'],
    });
    const sg = ec2.SecurityGroup.fromSecurityGroupId(s, 'Sg', 'sg-00000000000000001');
    const fn = new ImageVerifierFunction(s, 'Verifier', { trustPolicy: policy(), vpc, securityGroups: [sg] });
    expect(fnResource(s, fn).Properties.VpcConfig).toEqual({ SubnetIds: ['subnet-aaaa1111', 'subnet-bbbb2222'], SecurityGroupIds: ['sg-00000000000000001'] });
    expect(roleManagedPolicies(s, fn).filter((p) => p.endsWith(VPC_ACCESS_POLICY))).toHaveLength(1);
  });

  test('public subnets are refused unless allowPublicSubnet is set (lambda.Function semantics)', () => {
    const s = newStack();
    const vpc = fullVpc(s);
    expect(() => new ImageVerifierFunction(s, 'Public', { trustPolicy: policy(), vpc, vpcSubnets: { subnetType: ec2.SubnetType.PUBLIC } }))
      .toThrow(/public subnet.*allowPublicSubnet/is);
    // A mixed selection with one public subnet is refused too.
    expect(() => new ImageVerifierFunction(s, 'Mixed', {
      trustPolicy: policy(), vpc, vpcSubnets: { subnets: [vpc.privateSubnets[0], vpc.publicSubnets[0]] },
    })).toThrow(/public subnet/i);
    const s2 = newStack();
    const vpc2 = fullVpc(s2);
    const fn = new ImageVerifierFunction(s2, 'Public', {
      trustPolicy: policy(), vpc: vpc2, vpcSubnets: { subnetType: ec2.SubnetType.PUBLIC }, allowPublicSubnet: true,
    });
    expect(fnResource(s2, fn).Properties.VpcConfig.SubnetIds).toEqual(refs(s2, vpc2.publicSubnets));
  });

  test('VPC props without vpc are a validation error naming each problem (they were silently ignored)', () => {
    const s = newStack();
    const vpc = fullVpc(s);
    const sg = ec2.SecurityGroup.fromSecurityGroupId(s, 'Sg', 'sg-00000000000000001');
    const cases: Array<[Partial<ImageVerifierFunctionProps>, RegExp]> = [
      [{ securityGroups: [sg] }, /securityGroups requires vpc/],
      [{ securityGroups: [] }, /securityGroups requires vpc/],
      [{ vpcSubnets: { subnetType: ec2.SubnetType.PRIVATE_ISOLATED } }, /vpcSubnets requires vpc/],
      [{ allowPublicSubnet: true }, /allowPublicSubnet requires vpc/],
      [{ allowPublicSubnet: false }, /allowPublicSubnet requires vpc/],
    ];
    cases.forEach(([extra, message], i) => {
      const attempt = () => new ImageVerifierFunction(s, `Bad${i}`, { trustPolicy: policy(), ...extra });
      expect(attempt).toThrow(message);
      try {
        attempt();
      } catch (e: any) {
        expect(e.name).toBe('ValidationError');
        expect(e.message).toContain(`Bad${i}`);
      }
    });
    // Several problems are reported at once.
    expect(() => new ImageVerifierFunction(s, 'All', {
      trustPolicy: policy(), securityGroups: [sg], vpcSubnets: {}, allowPublicSubnet: true,
    })).toThrow(/securityGroups requires vpc; vpcSubnets requires vpc; allowPublicSubnet requires vpc/);
    // Nothing of the refused functions reached the template.
    expect(Object.keys(Template.fromStack(s).findResources('AWS::Lambda::Function'))).toHaveLength(0);
    // With the VPC the same props are fine.
    expect(() => new ImageVerifierFunction(s, 'Good', { trustPolicy: policy(), vpc, securityGroups: [sg], allowPublicSubnet: false })).not.toThrow();
  });

  test('a selection that matches no subnet of the VPC is an error, not an empty VpcConfig', () => {
    const s = newStack();
    const vpc = new ec2.Vpc(s, 'Vpc', { maxAzs: 2, natGateways: 0, subnetConfiguration: [{ name: 'public', subnetType: ec2.SubnetType.PUBLIC }, { name: 'isolated', subnetType: ec2.SubnetType.PRIVATE_ISOLATED }] });
    expect(() => new ImageVerifierFunction(s, 'Verifier', { trustPolicy: policy(), vpc, vpcSubnets: { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS } }))
      .toThrow(/no.*subnet|There are no/i);
  });
});

describe('VPC placement: isolated subnets', () => {
  const warnings = (s: Stack) => Annotations.fromStack(s).findWarning('*', Match.stringLikeRegexp('isolated subnets'));

  test('every selected subnet isolated: a warning naming what has no VPC endpoint', () => {
    const s = newStack();
    const vpc = fullVpc(s);
    const fn = new ImageVerifierFunction(s, 'Verifier', { trustPolicy: policy(), vpc, vpcSubnets: { subnetType: ec2.SubnetType.PRIVATE_ISOLATED } });
    const w = warnings(s);
    expect(w).toHaveLength(1);
    expect(w[0].id).toBe(`/${fn.node.path}`);
    const text = String(w[0].entry.data);
    for (const part of ['ecr.api', 'ecr.dkr', 'S3', 'data-signer.<region>.amazonaws.com', 'registries outside ECR', 'OCSP/CRL', 'Running in a VPC']) {
      expect(text).toContain(part);
    }
  });

  test('an imported VPC whose selected subnets are isolated gets it too', () => {
    const s = newStack();
    const vpc = ec2.Vpc.fromVpcAttributes(s, 'Imported', {
      vpcId: 'vpc-11112222', availabilityZones: ['us-east-1a', 'us-east-1b'], isolatedSubnetIds: ['subnet-aaaa1111', 'subnet-bbbb2222'],
    });
    new ImageVerifierFunction(s, 'Verifier', { trustPolicy: policy(), vpc });
    expect(warnings(s)).toHaveLength(1);
  });

  test('no warning with an egress route, a mixed selection, subnets of unknown type or no VPC', () => {
    const s = newStack();
    const vpc = fullVpc(s);
    new ImageVerifierFunction(s, 'Private', { trustPolicy: policy(), vpc });
    new ImageVerifierFunction(s, 'Mixed', { trustPolicy: policy(), vpc, vpcSubnets: { subnets: [vpc.isolatedSubnets[0], vpc.privateSubnets[1]] } });
    new ImageVerifierFunction(s, 'Public', { trustPolicy: policy(), vpc, vpcSubnets: { subnetType: ec2.SubnetType.PUBLIC }, allowPublicSubnet: true });
    new ImageVerifierFunction(s, 'Unknown', {
      trustPolicy: policy(), vpc, vpcSubnets: { subnets: [ec2.Subnet.fromSubnetId(s, 'ById', 'subnet-cccc3333')] },
    });
    new ImageVerifierFunction(s, 'NoVpc', { trustPolicy: policy() });
    expect(warnings(s)).toHaveLength(0);
  });
});

describe('VPC placement: forwarded by EcsAdmissionHook and TaskLaunchAudit', () => {
  test('EcsAdmissionHook places its function in the VPC with the given groups and architecture', () => {
    const { stack, service } = setup();
    const vpc = service('Svc').cluster.vpc;
    const sg = new ec2.SecurityGroup(stack, 'HookSg', { vpc });
    const hook = new EcsAdmissionHook(stack, 'Admission', {
      trustPolicy: policy(),
      vpc,
      vpcSubnets: { subnetType: ec2.SubnetType.PRIVATE_ISOLATED },
      securityGroups: [sg],
      architecture: lambda.Architecture.X86_64,
    });
    const props = fnResource(stack, hook.function).Properties;
    expect(props.VpcConfig).toEqual({
      SubnetIds: refs(stack, vpc.isolatedSubnets),
      SecurityGroupIds: [{ 'Fn::GetAtt': [stack.getLogicalId(sg.node.defaultChild as ec2.CfnSecurityGroup), 'GroupId'] }],
    });
    expect(props.Architectures).toEqual(['x86_64']);
    expect(roleManagedPolicies(stack, hook.function).filter((p) => p.endsWith(VPC_ACCESS_POLICY))).toHaveLength(1);
  });

  test('EcsAdmissionHook: public subnets need allowPublicSubnet; VPC props without vpc are refused', () => {
    const { stack, cluster } = setup();
    expect(() => new EcsAdmissionHook(stack, 'A', { trustPolicy: policy(), vpc: cluster.vpc, vpcSubnets: { subnetType: ec2.SubnetType.PUBLIC } }))
      .toThrow(/allowPublicSubnet/);
    const hook = new EcsAdmissionHook(stack, 'B', { trustPolicy: policy(), vpc: cluster.vpc, vpcSubnets: { subnetType: ec2.SubnetType.PUBLIC }, allowPublicSubnet: true });
    expect(fnResource(stack, hook.function).Properties.VpcConfig.SubnetIds).toEqual(refs(stack, cluster.vpc.publicSubnets));
    expect(() => new EcsAdmissionHook(stack, 'C', { trustPolicy: policy(), vpcSubnets: { subnetType: ec2.SubnetType.PRIVATE_ISOLATED } }))
      .toThrow(/vpcSubnets requires vpc/);
  });

  test('TaskLaunchAudit places its function in the VPC; default arm64; nothing else changes', () => {
    const { stack, cluster } = setup();
    const topic = new sns.Topic(stack, 'Alerts');
    const audit = new TaskLaunchAudit(stack, 'Audit', {
      trustPolicy: policy(), clusters: [cluster], topic, stopTask: true, vpc: cluster.vpc, vpcSubnets: { subnetType: ec2.SubnetType.PRIVATE_ISOLATED },
    });
    const props = fnResource(stack, audit.function).Properties;
    expect(props.VpcConfig.SubnetIds).toEqual(refs(stack, cluster.vpc.isolatedSubnets));
    expect(props.VpcConfig.SecurityGroupIds).toHaveLength(1);
    expect(props.Architectures).toEqual(['arm64']);
    expect(props.Environment.Variables.SNS_TOPIC_ARN).toEqual({ Ref: stack.getLogicalId(topic.node.defaultChild as sns.CfnTopic) });
    expect(roleManagedPolicies(stack, audit.function).filter((p) => p.endsWith(VPC_ACCESS_POLICY))).toHaveLength(1);
    // Still the asynchronous-invoke destination and the rule target.
    Template.fromStack(stack).resourceCountIs('AWS::Lambda::EventInvokeConfig', 1);
    Template.fromStack(stack).resourceCountIs('AWS::Events::Rule', 1);
  });

  test('TaskLaunchAudit: securityGroups without vpc are refused', () => {
    const { stack } = setup();
    const sg = ec2.SecurityGroup.fromSecurityGroupId(stack, 'Sg', 'sg-00000000000000001');
    expect(() => new TaskLaunchAudit(stack, 'Audit', { trustPolicy: policy(), securityGroups: [sg] })).toThrow(/securityGroups requires vpc/);
  });
});

describe('VPC placement: the example in docs/runtime-enforcement.md', () => {
  const ROOT = path.join(__dirname, '..');
  /** The TypeScript block of the "Running in a VPC" section. */
  function example(): string {
    const doc = readFileSync(path.join(ROOT, 'docs', 'runtime-enforcement.md'), 'utf8');
    const section = doc.slice(doc.indexOf('## Running in a VPC'));
    const m = /```ts\n([\s\S]*?)```/.exec(section);
    if (!m) throw new Error('no ts block in "Running in a VPC"');
    return m[1];
  }
  test('synthesizes: the hook function in the NAT subnets with the endpoints, no isolated-subnet warning', () => {
    const { stack, service } = setup();
    const svc = service('Svc');
    // The block imports the construct from the package (it compiles in rosetta/default.ts-fixture); here the
    // import is dropped and the construct from src passed in, with the fixture's other inputs.
    const body = example().replace(/^import .*$/gm, '');
    const js = ts.transpileModule(body, { compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022 } }).outputText;
    // eslint-disable-next-line @typescript-eslint/no-implied-eval
    // Run in a scope of its own inside the service's stack (setup() has its own 'Vpc').
    const scope = new Construct(stack, 'Example');
    new Function('ec2', 'EcsAdmissionHook', 'trustPolicy', 'fargateService', js).call(scope, ec2, EcsAdmissionHook, policy(), svc);
    const hook = scope.node.findChild('Admission') as EcsAdmissionHook;
    const vpc = scope.node.findChild('Vpc') as ec2.Vpc;
    const fnProps = fnResource(stack, hook.function).Properties;
    expect(fnProps.VpcConfig.SubnetIds).toEqual(refs(stack, vpc.privateSubnets));
    const t = Template.fromStack(stack);
    t.hasResourceProperties('AWS::EC2::VPCEndpoint', { VpcEndpointType: 'Interface', ServiceName: 'com.amazonaws.us-east-1.ecr.api', PrivateDnsEnabled: true });
    t.hasResourceProperties('AWS::EC2::VPCEndpoint', { VpcEndpointType: 'Interface', ServiceName: 'com.amazonaws.us-east-1.ecr.dkr' });
    t.hasResourceProperties('AWS::EC2::VPCEndpoint', { VpcEndpointType: 'Interface', ServiceName: 'com.amazonaws.us-east-1.ecs' });
    t.hasResourceProperties('AWS::EC2::VPCEndpoint', { VpcEndpointType: 'Gateway' });
    expect(Annotations.fromStack(stack).findWarning('*', Match.stringLikeRegexp('isolated subnets'))).toHaveLength(0);
  });
});
