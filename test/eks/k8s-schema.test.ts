/**
 * The Kubernetes schema fixtures and their loader (test/eks/k8s-schema.ts): the workload definitions are
 * the published OpenAPI v2 closure (no stub, every `$ref` resolves), every object the EKS tests build
 * validates, and a misspelt field, a wrong type or a missing required field anywhere in a Pod fails.
 */
import { spawnSync } from 'child_process';
import { createHash } from 'crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import * as path from 'path';
import { ADMISSIONREGISTRATION_FILE, definitionOf, describeErrors, FIXTURES, INT_OR_STRING, kubernetesValidator, QUANTITY, QUANTITY_PATTERN, WORKLOADS_FILE } from './k8s-schema';
import { cronJob, deployment, pod, podSpec, workload } from './support';

const validate = kubernetesValidator();
const errorsOf = (object: any) => describeErrors(validate(definitionOf(object.kind), object));
const read = (f: string) => JSON.parse(readFileSync(path.join(FIXTURES, f), 'utf8'));
const clone = <T>(o: T): T => JSON.parse(JSON.stringify(o));

const ROOTS = ['core.v1.Pod', 'apps.v1.Deployment', 'apps.v1.ReplicaSet', 'apps.v1.StatefulSet', 'apps.v1.DaemonSet', 'batch.v1.Job', 'batch.v1.CronJob'].map((n) => `io.k8s.api.${n}`);

/** Every `$ref` value and every object key in a JSON tree. */
function walk(node: unknown, visit: (key: string, value: unknown) => void): void {
  if (Array.isArray(node)) {node.forEach((n) => walk(n, visit));} else if (node && typeof node === 'object') {
    for (const [k, v] of Object.entries(node)) {
      visit(k, v);
      walk(v, visit);
    }
  }
}

/** A Pod using the areas the old fixture stubbed: ephemeral containers, status, security contexts, env, resources, volumes, affinity, probes. */
function fullPod(): Record<string, any> {
  const p = pod({ containers: ['registry.example/app/web@sha256:' + 'a'.repeat(64)], ephemeralContainers: ['registry.example/tools/debug:1'] });
  p.metadata.creationTimestamp = null; // as kubectl sends it
  p.metadata.annotations = { 'kubectl.kubernetes.io/last-applied-configuration': '{}' };
  const c = p.spec.containers[0];
  c.ports = [{ name: 'http', containerPort: 8080, protocol: 'TCP' }];
  c.env = [{ name: 'MODE', value: 'prod' }, { name: 'POD_IP', valueFrom: { fieldRef: { fieldPath: 'status.podIP' } } }, { name: 'PASSWORD', valueFrom: { secretKeyRef: { name: 'db', key: 'password', optional: false } } }];
  c.envFrom = [{ configMapRef: { name: 'web-config' } }];
  c.resources = { requests: { cpu: '250m', memory: '64Mi' }, limits: { cpu: 1, memory: '128Mi' } };
  c.securityContext = { runAsNonRoot: true, runAsUser: 1000, allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ['ALL'] }, seccompProfile: { type: 'RuntimeDefault' } };
  c.livenessProbe = { httpGet: { path: '/healthz', port: 8080, scheme: 'HTTP' }, initialDelaySeconds: 5, periodSeconds: 10 };
  c.readinessProbe = { httpGet: { path: '/ready', port: 'http' }, failureThreshold: 3 };
  c.startupProbe = { tcpSocket: { port: 8080 }, periodSeconds: 2 };
  c.volumeMounts = [{ name: 'config', mountPath: '/etc/web', readOnly: true }, { name: 'tmp', mountPath: '/tmp' }];
  c.lifecycle = { preStop: { exec: { command: ['/bin/sh', '-c', 'sleep 5'] } } };
  p.spec.ephemeralContainers[0].targetContainerName = 'app-0';
  p.spec.securityContext = { runAsNonRoot: true, fsGroup: 2000, seccompProfile: { type: 'RuntimeDefault' } };
  p.spec.volumes = [{ name: 'config', configMap: { name: 'web-config', defaultMode: 420 } }, { name: 'tmp', emptyDir: { sizeLimit: '64Mi' } }];
  p.spec.affinity = {
    nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchExpressions: [{ key: 'kubernetes.io/arch', operator: 'In', values: ['arm64'] }] }] } },
    podAntiAffinity: { preferredDuringSchedulingIgnoredDuringExecution: [{ weight: 100, podAffinityTerm: { topologyKey: 'kubernetes.io/hostname', labelSelector: { matchLabels: { app: 'web' } } } }] },
  };
  p.spec.tolerations = [{ key: 'dedicated', operator: 'Equal', value: 'web', effect: 'NoSchedule' }];
  p.spec.nodeSelector = { 'kubernetes.io/os': 'linux' };
  p.status = { phase: 'Running', podIP: '10.0.0.12', podIPs: [{ ip: '10.0.0.12' }], startTime: '2026-12-02T07:00:00Z', conditions: [{ type: 'Ready', status: 'True', lastTransitionTime: '2026-12-02T07:00:05Z' }] };
  return p;
}

describe('the workload fixture is the published closure, nothing hand-written', () => {
  const doc = read(WORKLOADS_FILE);
  const defs: Record<string, any> = doc.definitions;

  test('no stub or hand-written marker in any fixture; the old stubbed Pod fixture is gone', () => {
    for (const f of [WORKLOADS_FILE, ADMISSIONREGISTRATION_FILE]) {
      walk(read(f), (k) => expect(k).not.toMatch(/^x-fixture-(stub|note)$/));
    }
    expect(existsSync(path.join(FIXTURES, 'core-v1-pod.schemas.json'))).toBe(false);
  });

  test('every $ref resolves inside the file, and the file is exactly the closure of the seven workload kinds', () => {
    const reachable = new Set<string>();
    const queue = [...ROOTS];
    while (queue.length) {
      const name = queue.shift()!;
      if (reachable.has(name)) continue;
      expect(defs).toHaveProperty([name]);
      reachable.add(name);
      walk(defs[name], (k, v) => {
        if (k !== '$ref') return;
        expect(v).toMatch(/^#\/definitions\//);
        queue.push((v as string).slice('#/definitions/'.length));
      });
    }
    expect(Object.keys(defs).sort()).toEqual([...reachable].sort());
    expect(reachable.size).toBe(179);
    expect(doc['x-fixture-source'].roots).toEqual(ROOTS);
  });

  test('descriptions were dropped, nothing else: published types and formats are there (spot checks)', () => {
    walk(defs, (k, v) => {
      if (k === 'description') expect(typeof v).not.toBe('string');
    });
    expect(defs[INT_OR_STRING]).toEqual({ format: 'int-or-string', type: 'string' });
    expect(defs[QUANTITY]).toEqual({ type: 'string' });
    expect(defs['io.k8s.api.core.v1.EphemeralContainer'].required).toEqual(['name']);
    expect(defs['io.k8s.api.core.v1.ContainerPort'].properties.containerPort).toEqual({ format: 'int32', type: 'integer' });
    expect(defs['io.k8s.api.core.v1.Pod']['x-kubernetes-group-version-kind']).toEqual([{ group: '', kind: 'Pod', version: 'v1' }]);
  });

  test('PROVENANCE.md names the source file by the sha256 the extraction recorded', () => {
    const provenance = readFileSync(path.join(FIXTURES, 'PROVENANCE.md'), 'utf8');
    expect(doc['x-fixture-source'].sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(provenance).toContain(doc['x-fixture-source'].sha256);
    expect(provenance).toContain('024658493d124f046fc0a9827a2a3165cf2aee28');
  });
});

describe('objects the EKS tests build validate as sent', () => {
  const images = { containers: ['r.example/a:1', 'r.example/b@sha256:' + 'b'.repeat(64)], initContainers: ['r.example/i:1'], ephemeralContainers: ['r.example/d:1'] };
  test.each([
    ['Pod', pod(images)],
    ['Deployment', deployment(images)],
    ['ReplicaSet', workload('ReplicaSet', images)],
    ['StatefulSet', workload('StatefulSet', images)],
    ['DaemonSet', workload('DaemonSet', images)],
    ['Job', workload('Job', images)],
    ['CronJob', cronJob(images)],
  ])('%s', (kind, object) => {
    expect(object.kind).toBe(kind);
    expect(errorsOf(object)).toEqual([]);
  });

  test('a Pod using every formerly stubbed area (status, security contexts, env, resources, volumes, affinity, probes, ephemeral containers)', () => {
    expect(errorsOf(fullPod())).toEqual([]);
  });

  test('a Pod as the API server hands it to admission (defaults applied, managedFields, the projected service-account token volume)', () => {
    const p = pod({ containers: ['registry.example/app/web:1'] });
    p.metadata = {
      ...p.metadata,
      uid: '6d1b7c0e-8a65-4d0b-9b8e-3f1d2a9c4b11',
      creationTimestamp: '2026-12-02T07:00:00Z',
      generateName: 'web-7d9f8b6c5-',
      ownerReferences: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'web-7d9f8b6c5', uid: '0b2f0f4e-1c1e-4c55-a7c9-5f3b2a1d9e77', controller: true, blockOwnerDeletion: true }],
      managedFields: [{ manager: 'kube-controller-manager', operation: 'Update', apiVersion: 'v1', time: '2026-12-02T07:00:00Z', fieldsType: 'FieldsV1', fieldsV1: { 'f:metadata': { 'f:generateName': {} } } }],
    };
    Object.assign(p.spec, {
      enableServiceLinks: true,
      preemptionPolicy: 'PreemptLowerPriority',
      priority: 0,
      tolerations: [
        { key: 'node.kubernetes.io/not-ready', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 300 },
        { key: 'node.kubernetes.io/unreachable', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 300 },
      ],
      volumes: [{
        name: 'kube-api-access-x2k9d',
        projected: {
          defaultMode: 420,
          sources: [
            { serviceAccountToken: { expirationSeconds: 3607, path: 'token' } },
            { configMap: { name: 'kube-root-ca.crt', items: [{ key: 'ca.crt', path: 'ca.crt' }] } },
            { downwardAPI: { items: [{ path: 'namespace', fieldRef: { apiVersion: 'v1', fieldPath: 'metadata.namespace' } }] } },
          ],
        },
      }],
    });
    p.spec.containers[0].volumeMounts = [{ name: 'kube-api-access-x2k9d', readOnly: true, mountPath: '/var/run/secrets/kubernetes.io/serviceaccount' }];
    p.status = { phase: 'Pending', qosClass: 'BestEffort' };
    expect(errorsOf(p)).toEqual([]);
    p.spec.volumes[0].projected.sources[0].serviceAccountToken.expirationSecond = 3607;
    expect(errorsOf(p)).toEqual(['/spec/volumes/0/projected/sources/0/serviceAccountToken must NOT have additional properties (expirationSecond)']);
  });

  test('a workload whose pod template is the full Pod\'s spec and metadata', () => {
    const p = fullPod();
    const d = deployment({ containers: ['x'] });
    const { name: _name, namespace: _namespace, ...metadata } = p.metadata;
    d.spec.template = { metadata, spec: p.spec };
    expect(errorsOf(d)).toEqual([]);
  });
});

describe('a misspelt field fails, in every formerly stubbed area', () => {
  test.each<[string, (p: any) => void, string]>([
    ['ephemeral container', (p) => {
      p.spec.ephemeralContainers[0].targetContainerNam = 'app-0';
    }, '/spec/ephemeralContainers/0 must NOT have additional properties (targetContainerNam)'],
    ['container securityContext', (p) => {
      p.spec.containers[0].securityContext.runAsNonRooot = true;
    }, '/spec/containers/0/securityContext must NOT have additional properties (runAsNonRooot)'],
    ['pod securityContext', (p) => {
      p.spec.securityContext.fsGrup = 2000;
    }, '/spec/securityContext must NOT have additional properties (fsGrup)'],
    ['seccomp profile inside a security context', (p) => {
      p.spec.securityContext.seccompProfile.typ = 'RuntimeDefault';
    }, '/spec/securityContext/seccompProfile must NOT have additional properties (typ)'],
    ['env', (p) => {
      p.spec.containers[0].env[1].valueFrm = p.spec.containers[0].env[1].valueFrom;
      delete p.spec.containers[0].env[1].valueFrom;
    }, '/spec/containers/0/env/1 must NOT have additional properties (valueFrm)'],
    ['env source', (p) => {
      p.spec.containers[0].env[2].valueFrom.secretKeyRef.nam = 'db';
    }, '/spec/containers/0/env/2/valueFrom/secretKeyRef must NOT have additional properties (nam)'],
    ['resources', (p) => {
      p.spec.containers[0].resources.limts = { cpu: '1' };
    }, '/spec/containers/0/resources must NOT have additional properties (limts)'],
    ['volume source', (p) => {
      p.spec.volumes[0].configMap.defaultMod = 420;
    }, '/spec/volumes/0/configMap must NOT have additional properties (defaultMod)'],
    ['volume (unknown source)', (p) => {
      p.spec.volumes[1].emptyDirr = {};
    }, '/spec/volumes/1 must NOT have additional properties (emptyDirr)'],
    ['volume mount', (p) => {
      p.spec.containers[0].volumeMounts[0].readonly = true;
    }, '/spec/containers/0/volumeMounts/0 must NOT have additional properties (readonly)'],
    ['node affinity', (p) => {
      p.spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms[0].matchExpresions = [];
    }, '/spec/affinity/nodeAffinity/requiredDuringSchedulingIgnoredDuringExecution/nodeSelectorTerms/0 must NOT have additional properties (matchExpresions)'],
    ['pod anti-affinity', (p) => {
      p.spec.affinity.podAntiAffinity.preferredDuringSchedulingIgnoredDuringExecution[0].podAffinityTerm.topologyKy = 'zone';
    }, '/spec/affinity/podAntiAffinity/preferredDuringSchedulingIgnoredDuringExecution/0/podAffinityTerm must NOT have additional properties (topologyKy)'],
    ['probe', (p) => {
      p.spec.containers[0].livenessProbe.initialDelaySecond = 5;
    }, '/spec/containers/0/livenessProbe must NOT have additional properties (initialDelaySecond)'],
    ['probe handler', (p) => {
      p.spec.containers[0].livenessProbe.httpGet.schme = 'HTTPS';
    }, '/spec/containers/0/livenessProbe/httpGet must NOT have additional properties (schme)'],
    ['lifecycle', (p) => {
      p.spec.containers[0].lifecycle.preStop.exec.comand = ['true'];
    }, '/spec/containers/0/lifecycle/preStop/exec must NOT have additional properties (comand)'],
    ['toleration', (p) => {
      p.spec.tolerations[0].efect = 'NoSchedule';
    }, '/spec/tolerations/0 must NOT have additional properties (efect)'],
    ['status', (p) => {
      p.status.podIPs[0].ipp = '10.0.0.12';
    }, '/status/podIPs/0 must NOT have additional properties (ipp)'],
    ['metadata', (p) => {
      p.metadata.lables = { app: 'web' };
    }, '/metadata must NOT have additional properties (lables)'],
    ['an unknown field set to null is still unknown', (p) => {
      p.spec.containers[0].imagePullPolcy = null;
    }, '/spec/containers/0 must NOT have additional properties (imagePullPolcy)'],
  ])('%s', (_area, spoil, expected) => {
    const p = fullPod();
    spoil(p);
    expect(errorsOf(p)).toEqual([expected]);
  });

  test('the same typo in a Deployment\'s and a CronJob\'s pod template', () => {
    const d = deployment({ containers: ['x'] });
    d.spec.template.spec.containers[0].securityContext = { runAsNonRooot: true };
    expect(errorsOf(d)).toEqual(['/spec/template/spec/containers/0/securityContext must NOT have additional properties (runAsNonRooot)']);
    const c = cronJob({ containers: ['x'] });
    c.spec.jobTemplate.spec.template.spec.containers[0].env = [{ name: 'A', valueFrm: {} }];
    expect(errorsOf(c)).toEqual(['/spec/jobTemplate/spec/template/spec/containers/0/env/0 must NOT have additional properties (valueFrm)']);
  });
});

describe('wrong types, missing required fields, formats', () => {
  test.each<[string, (p: any) => void, string[]]>([
    ['containers is an object', (p) => {
      p.spec.containers = {};
    }, ['/spec/containers must be array']],
    ['a port as a string where int32 is required', (p) => {
      p.spec.containers[0].ports[0].containerPort = '8080';
    }, ['/spec/containers/0/ports/0/containerPort must be integer']],
    ['a container without a name', (p) => {
      delete p.spec.containers[0].name;
    }, ['/spec/containers/0 must have required property \'name\'']],
    ['a required field set to null (null is "not set")', (p) => {
      p.spec.containers[0].name = null;
    }, ['/spec/containers/0/name must be string']],
    ['an ephemeral container without a name', (p) => {
      delete p.spec.ephemeralContainers[0].name;
    }, ['/spec/ephemeralContainers/0 must have required property \'name\'']],
    ['an env var without a name', (p) => {
      p.spec.containers[0].env.push({ value: 'x' });
    }, ['/spec/containers/0/env/3 must have required property \'name\'']],
    ['a volume without a name', (p) => {
      delete p.spec.volumes[1].name;
    }, ['/spec/volumes/1 must have required property \'name\'']],
    ['a pod without containers', (p) => {
      delete p.spec.containers;
    }, ['/spec must have required property \'containers\'']],
    ['a boolean as a string', (p) => {
      p.spec.containers[0].securityContext.runAsNonRoot = 'true';
    }, ['/spec/containers/0/securityContext/runAsNonRoot must be boolean']],
    ['an int32 out of range', (p) => {
      p.spec.containers[0].ports[0].containerPort = 2 ** 31;
    }, ['/spec/containers/0/ports/0/containerPort must match format "int32"']],
    ['a fractional int64', (p) => {
      p.spec.terminationGracePeriodSeconds = 1.5;
    }, ['/spec/terminationGracePeriodSeconds must be integer', '/spec/terminationGracePeriodSeconds must match format "int64"']],
    ['a date-time that is not RFC 3339', (p) => {
      p.status.startTime = 'yesterday';
    }, ['/status/startTime must match format "date-time"']],
    ['a label value that is not a string', (p) => {
      p.metadata.labels.app = 1;
    }, ['/metadata/labels/app must be string']],
  ])('%s', (_n, spoil, expected) => {
    const p = fullPod();
    spoil(p);
    expect(errorsOf(p)).toEqual(expected);
  });

  test('apiVersion and kind must be the definition\'s published group-version-kind', () => {
    const d = deployment({ containers: ['x'] });
    expect(describeErrors(validate('io.k8s.api.apps.v1.Deployment', { ...d, kind: 'Deploymnet' }))).toEqual(['/kind must be "Deployment"']);
    expect(describeErrors(validate('io.k8s.api.apps.v1.Deployment', { ...d, apiVersion: 'extensions/v1beta1' }))).toEqual(['/apiVersion must be "apps/v1"']);
    expect(describeErrors(validate('io.k8s.api.core.v1.Pod', { ...pod({ containers: ['x'] }), apiVersion: 'core/v1' }))).toEqual(['/apiVersion must be "v1"']);
  });
});

describe('OpenAPI v2 quirks the loader handles', () => {
  const withProbePort = (port: unknown) => {
    const p = fullPod();
    p.spec.containers[0].livenessProbe.httpGet.port = port;
    return errorsOf(p);
  };
  const withCpu = (cpu: unknown) => {
    const p = fullPod();
    p.spec.containers[0].resources.limits.cpu = cpu;
    return errorsOf(p);
  };

  test('IntOrString: an int32 or a string (a probe port 8080 or "http"), nothing else', () => {
    expect(withProbePort(8080)).toEqual([]);
    expect(withProbePort('http')).toEqual([]);
    expect(withProbePort(80.5)).toEqual(['/spec/containers/0/livenessProbe/httpGet/port must be integer,string']);
    expect(withProbePort(true)).toEqual(['/spec/containers/0/livenessProbe/httpGet/port must be integer,string']);
    expect(withProbePort(2 ** 31)).toEqual(['/spec/containers/0/livenessProbe/httpGet/port must be <= 2147483647']);
    expect(withProbePort(null)).toEqual(['/spec/containers/0/livenessProbe/httpGet/port must be integer,string']); // port is required
  });

  test('IntOrString in a workload: a Deployment\'s rolling update maxSurge 1 or "25%"', () => {
    const d = deployment({ containers: ['x'] });
    d.spec.strategy = { type: 'RollingUpdate', rollingUpdate: { maxSurge: 1, maxUnavailable: '25%' } };
    expect(errorsOf(d)).toEqual([]);
    d.spec.strategy.rollingUpdate.maxSurge = { percent: 25 };
    expect(errorsOf(d)).toEqual(['/spec/strategy/rollingUpdate/maxSurge must be integer,string']);
  });

  test('Quantity: a JSON number or a quantity string (cpu 0.5, "500m", "1Gi", "1e3"), not a malformed one', () => {
    for (const ok of [0.5, 2, '500m', '0.5', '1Gi', '128Mi', '1e3', '1.5E-2', '.5', '+1k']) expect([ok, withCpu(ok)]).toEqual([ok, []]);
    for (const bad of ['500mm', '1 Gi', 'one', '', '1GB', '0x10']) {
      expect([bad, withCpu(bad)]).toEqual([bad, ['/spec/containers/0/resources/limits/cpu must match pattern "' + QUANTITY_PATTERN + '"']]);
    }
    expect(withCpu(true)).toEqual(['/spec/containers/0/resources/limits/cpu must be string,number']);
    expect(withCpu({ m: 500 })).toEqual(['/spec/containers/0/resources/limits/cpu must be string,number']);
  });

  test('null for an optional field is "not set" (metadata.creationTimestamp: null as kubectl sends it; a null optional struct)', () => {
    const p = fullPod();
    p.spec.affinity = null;
    p.spec.containers[0].readinessProbe = null;
    p.metadata.creationTimestamp = null;
    expect(errorsOf(p)).toEqual([]);
    const d = deployment({ containers: ['x'] });
    d.spec.template.metadata.creationTimestamp = null;
    d.status = {};
    expect(errorsOf(d)).toEqual([]);
  });

  test('x-kubernetes-* keywords are annotations: a duplicate key in a list-type map does not fail the schema (the API server\'s own validation decides)', () => {
    // Documents the limit: list-map-keys uniqueness is not a schema check here.
    const p = pod({ containers: ['a', 'b'] });
    p.spec.containers[1].name = p.spec.containers[0].name;
    expect(errorsOf(p)).toEqual([]);
  });

  test('a name in both fixtures resolves to the first file (admissionregistration, OpenAPI v3): its validation is unchanged', () => {
    // The v3 ObjectMeta has no format checks; the v2 one (reached from a Pod) checks date-time.
    expect(describeErrors(validate('io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta', { name: 'x', creationTimestamp: 'yesterday' }))).toEqual([]);
    expect(describeErrors(validate('io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta', { name: 'x', nmae: 'y' }))).toEqual(['/ must NOT have additional properties (nmae)']);
    const p = pod({ containers: ['x'] });
    p.metadata.creationTimestamp = 'yesterday';
    expect(errorsOf(p)).toEqual(['/metadata/creationTimestamp must match format "date-time"']);
  });

  test('an unknown schema name is an error, not a pass', () => {
    expect(() => validate('io.k8s.api.core.v1.Podd', {})).toThrow(/no schema io.k8s.api.core.v1.Podd/);
    expect(() => definitionOf('Widget')).toThrow(/no workload definition/);
  });

  test('a pod spec builder object is also a valid PodSpec on its own', () => {
    expect(describeErrors(validate('io.k8s.api.core.v1.PodSpec', podSpec({ containers: ['x'] })))).toEqual([]);
    expect(describeErrors(validate('io.k8s.api.core.v1.PodSpec', clone({ ...podSpec({ containers: ['x'] }), restartPolicyy: 'Always' })))).toEqual(['/ must NOT have additional properties (restartPolicyy)']);
  });
});

describe('extract.mjs (the script that wrote the fixture), on small specs', () => {
  const script = path.join(FIXTURES, 'extract.mjs');
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'csi-k8s-extract-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  /** Runs the script on `spec`; the written document, or the script's error output. */
  function run(spec: unknown): { doc?: any; stderr?: string } {
    const input = path.join(dir, 'swagger.json');
    const output = path.join(dir, 'out.json');
    rmSync(output, { force: true });
    writeFileSync(input, JSON.stringify(spec));
    const r = spawnSync(process.execPath, [script, input, output], { encoding: 'utf8' });
    return r.status === 0 ? { doc: JSON.parse(readFileSync(output, 'utf8')) } : { stderr: r.stderr };
  }
  const minimal = (definitions: Record<string, unknown>) => ({ swagger: '2.0', info: { title: 'Kubernetes', version: 'unversioned' }, definitions });
  const kinds = (extra: Record<string, unknown> = {}) => Object.fromEntries(ROOTS.map((r) => [r, { description: 'a kind', type: 'object', properties: { spec: { $ref: '#/definitions/x.Spec', description: 'the spec' } }, ...extra }]));

  test('the committed fixture is a fixed point: extracting from its own definitions gives it back', () => {
    const fixture = read(WORKLOADS_FILE);
    const { doc } = run(minimal(fixture.definitions));
    expect(doc.definitions).toEqual(fixture.definitions);
    expect(Object.keys(doc.definitions)).toEqual(Object.keys(fixture.definitions));
  });

  test('copies the closure only, drops description keywords but not a property named "description", records the sha256', () => {
    const spec = minimal({
      ...kinds(),
      'x.Spec': { 'description': 'prose', 'type': 'object', 'required': ['description'], 'properties': { description: { type: 'string', description: 'prose' }, n: { type: 'integer', format: 'int32' } }, 'x-kubernetes-map-type': 'atomic' },
      'x.Unused': { type: 'object' },
    });
    const { doc } = run(spec);
    expect(Object.keys(doc.definitions).sort()).toEqual([...ROOTS, 'x.Spec'].sort());
    expect(doc.definitions['x.Spec']).toEqual({ 'type': 'object', 'required': ['description'], 'properties': { description: { type: 'string' }, n: { type: 'integer', format: 'int32' } }, 'x-kubernetes-map-type': 'atomic' });
    expect(doc.definitions['io.k8s.api.core.v1.Pod']).toEqual({ type: 'object', properties: { spec: { $ref: '#/definitions/x.Spec' } } });
    expect(doc['x-fixture-source'].sha256).toBe(createHash('sha256').update(JSON.stringify(spec)).digest('hex'));
  });

  test.each([
    ['a reference outside the document', { ...kinds(), 'x.Spec': { $ref: 'https://example.com/other.json#/definitions/A' } }, /is not a local definition reference/],
    ['a missing definition', kinds(), /definition x\.Spec is referenced but not in the spec/],
    ['an unknown schema keyword', { ...kinds(), 'x.Spec': { type: 'object', patternProperties: { '.*': {} } } }, /unknown schema keyword "patternProperties"/],
  ])('refuses %s', (_n, definitions, message) => {
    const { stderr } = run(minimal(definitions));
    expect(stderr).toMatch(message);
  });

  test('refuses a document that is not OpenAPI v2', () => {
    expect(run({ openapi: '3.0.0', components: { schemas: {} } }).stderr).toMatch(/expected "2.0"/);
  });
});
