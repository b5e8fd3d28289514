/**
 * deploy/k8s validated offline: every manifest against the bundled Kubernetes schemas of `kubernetes-models`, the
 * kustomizations' references (resources, generator files, patch targets, Secrets), the demo overlay rendered with a
 * small strategic-merge of its patch, and every env var and port against the code's defaults and the compose file.
 */
import { existsSync, readFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { Deployment, StatefulSet } from 'kubernetes-models/apps/v1';
import { Job } from 'kubernetes-models/batch/v1';
import { ConfigMap, Namespace, Secret, Service } from 'kubernetes-models/v1';
import { describe, expect, it } from 'vitest';
import { parse, parseAllDocuments } from 'yaml';
import { SERVICE_ENV_NAMES } from '../../scripts/services-env.js';
import { liveCommand } from '../../src/cli/live-command.js';
import { loadConfig } from '../../src/config/backtest-config.js';
import { MONITORING_DEFAULTS, MONITORING_ENV } from '../../src/monitoring/index.js';
import { REGISTRY_DEFAULTS, REGISTRY_ENV } from '../../src/registry/index.js';

const root = process.cwd();
const k8s = join(root, 'deploy/k8s');

interface Manifest {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; annotations?: Record<string, string> };
  spec?: any; // eslint-disable-line @typescript-eslint/no-explicit-any
}
interface Kustomization {
  namespace?: string;
  resources: string[];
  configMapGenerator?: { name: string; files: string[] }[];
  secretGenerator?: { name: string; literals: string[] }[];
  patches?: { path: string; target: { kind: string; name: string } }[];
}

const MODELS: Record<string, new (data: any) => { validate(): void }> = {
  'apps/v1/StatefulSet': StatefulSet,
  'apps/v1/Deployment': Deployment,
  'batch/v1/Job': Job,
  'v1/Service': Service,
  'v1/ConfigMap': ConfigMap,
  'v1/Secret': Secret,
  'v1/Namespace': Namespace,
};

function validate(m: Manifest, where: string): void {
  const Model = MODELS[`${m.apiVersion}/${m.kind}`];
  if (!Model) throw new Error(`${where}: no schema for ${m.apiVersion} ${m.kind}`);
  new Model(m).validate();
}

const readYaml = (path: string) => parseAllDocuments(readFileSync(path, 'utf8')).map((d) => d.toJS() as Manifest);

/** Loads a kustomization and the manifests of its resources (recursing into bases). */
function load(dir: string): { kustomization: Kustomization; manifests: Manifest[] } {
  const kustomization = parse(readFileSync(join(dir, 'kustomization.yaml'), 'utf8')) as Kustomization;
  const manifests: Manifest[] = [];
  for (const r of kustomization.resources) {
    const path = join(dir, r);
    if (!existsSync(path)) throw new Error(`${dir}: resource ${r} does not exist`);
    if (existsSync(join(path, 'kustomization.yaml'))) manifests.push(...load(path).manifests);
    else manifests.push(...readYaml(path));
  }
  for (const g of kustomization.configMapGenerator ?? []) {
    const data = Object.fromEntries(g.files.map((f) => [f, readFileSync(join(dir, f), 'utf8')]));
    manifests.push({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: g.name }, data } as Manifest);
  }
  for (const g of kustomization.secretGenerator ?? []) {
    const stringData = Object.fromEntries(g.literals.map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]));
    manifests.push({ apiVersion: 'v1', kind: 'Secret', metadata: { name: g.name }, stringData } as Manifest);
  }
  for (const p of kustomization.patches ?? []) {
    const target = manifests.find((m) => m.kind === p.target.kind && m.metadata.name === p.target.name);
    if (!target) throw new Error(`${dir}: patch ${p.path} targets ${p.target.kind}/${p.target.name}, which no resource declares`);
    strategicMerge(target, parse(readFileSync(join(dir, p.path), 'utf8')));
  }
  if (kustomization.namespace) for (const m of manifests) if (m.kind !== 'Namespace') m.metadata.namespace = kustomization.namespace;
  return { kustomization, manifests };
}

/** Strategic merge as kustomize does it for what our patches touch: objects merge, lists of named items merge by `name`. */
function strategicMerge(target: any, patch: any): void {
  for (const [key, value] of Object.entries(patch)) {
    if (Array.isArray(value) && Array.isArray(target[key]) && value.every((v) => v && typeof v === 'object' && 'name' in v)) {
      for (const item of value) {
        const existing = target[key].find((t: { name: string }) => t.name === item.name);
        if (existing) strategicMerge(existing, item);
        else target[key].push(item);
      }
    } else if (value && typeof value === 'object' && !Array.isArray(value) && target[key] && typeof target[key] === 'object') {
      strategicMerge(target[key], value);
    } else {
      target[key] = value;
    }
  }
}

const base = load(join(k8s, 'base'));
const demo = load(join(k8s, 'overlays/demo'));
const find = (ms: Manifest[], kind: string, name: string) => ms.find((m) => m.kind === kind && m.metadata.name === name)!;
const compose = parse(readFileSync(join(root, 'docker/docker-compose.yml'), 'utf8')) as { services: Record<string, { image?: string; command?: string[]; environment?: Record<string, string> }> };

function containers(m: Manifest): any[] {
  return m.spec.template.spec.containers;
}
const envOf = (container: any): Record<string, any> => Object.fromEntries((container.env ?? []).map((e: { name: string; value?: string; valueFrom?: unknown }) => [e.name, e.value ?? e.valueFrom]));
const argAfter = (args: string[], flag: string) => args[args.indexOf(flag) + 1];
const quantity = (q: string): number => {
  const m = /^(\d+(?:\.\d+)?)(m|Ki|Mi|Gi)?$/.exec(q);
  if (!m) throw new Error(`unparsable quantity ${q}`);
  const n = Number(m[1]);
  return m[2] === 'm' ? n / 1000 : m[2] === 'Ki' ? n * 2 ** 10 : m[2] === 'Mi' ? n * 2 ** 20 : m[2] === 'Gi' ? n * 2 ** 30 : n;
};

describe('deploy/k8s (kubernetes-models schemas)', () => {
  it('every manifest of base and the rendered demo overlay is valid', () => {
    for (const [name, set] of [['base', base], ['demo', demo]] as const) for (const m of set.manifests) validate(m, `${name} ${m.kind}/${m.metadata.name}`);
    expect(demo.manifests.map((m) => `${m.kind}/${m.metadata.name}`).sort()).toEqual(
      ['ConfigMap/trade-matrix-experiment', 'Deployment/redis', 'Job/minio-init', 'Namespace/trade-matrix-demo', 'Secret/bybit-credentials', 'Secret/minio-credentials', 'Service/minio', 'Service/mlflow', 'Service/redis', 'Service/trade-matrix-runner', 'StatefulSet/minio', 'StatefulSet/mlflow', 'StatefulSet/trade-matrix-runner'].sort(),
    );
    for (const m of demo.manifests) if (m.kind !== 'Namespace') expect(m.metadata.namespace).toBe('trade-matrix-demo');
  });

  it('a schema violation is caught (the validation is real)', () => {
    const broken = structuredClone(find(base.manifests, 'StatefulSet', 'trade-matrix-runner'));
    containers(broken)[0].ports[0].containerPort = 'metrics';
    expect(() => validate(broken, 'broken')).toThrow(/containerPort must be integer/);
  });

  it('every Secret and ConfigMap the workloads reference exists in the demo overlay', () => {
    const declared = new Set(demo.manifests.filter((m) => m.kind === 'Secret' || m.kind === 'ConfigMap').map((m) => `${m.kind}/${m.metadata.name}`));
    const referenced = new Set<string>();
    for (const m of demo.manifests.filter((x) => x.spec?.template)) {
      const spec = m.spec.template.spec;
      for (const v of spec.volumes ?? []) {
        if (v.secret) referenced.add(`Secret/${v.secret.secretName}`);
        if (v.configMap) referenced.add(`ConfigMap/${v.configMap.name}`);
      }
      for (const c of spec.containers) {
        for (const e of c.env ?? []) if (e.valueFrom?.secretKeyRef) referenced.add(`Secret/${e.valueFrom.secretKeyRef.name}`);
        for (const e of c.envFrom ?? []) if (e.secretRef) referenced.add(`Secret/${e.secretRef.name}`);
      }
    }
    expect([...referenced].filter((r) => !declared.has(r))).toEqual([]);
  });
});

describe('the runner StatefulSet', () => {
  const runner = find(demo.manifests, 'StatefulSet', 'trade-matrix-runner');
  const container = containers(runner)[0];
  const env = envOf(container);

  it('one replica, its own PVC mounted for store and journal, probes on /healthz and /readyz of the metrics port', () => {
    expect(runner.spec.replicas).toBe(1);
    expect(runner.spec.volumeClaimTemplates.map((t: { metadata: { name: string } }) => t.metadata.name)).toEqual(['store']);
    expect(container.volumeMounts).toContainEqual({ name: 'store', mountPath: '/var/lib/trade-matrix' });
    expect(container.livenessProbe.httpGet).toEqual({ path: '/healthz', port: 'metrics' });
    expect(container.readinessProbe.httpGet).toEqual({ path: '/readyz', port: 'metrics' });
    expect(container.startupProbe.httpGet.path).toBe('/healthz');
    expect(find(demo.manifests, 'Service', 'trade-matrix-runner').spec.clusterIP).toBe('None');
  });

  it('metrics port = code default = env = --metrics-port = scrape annotation = compose TM_METRICS_PORT', () => {
    const port = MONITORING_DEFAULTS.metricsPort;
    expect(container.ports).toEqual([{ name: 'metrics', containerPort: port, protocol: 'TCP' }]);
    expect(Number(env[MONITORING_ENV.metricsPort])).toBe(port);
    expect(Number(argAfter(container.args, '--metrics-port'))).toBe(port);
    expect(runner.spec.template.metadata.annotations).toEqual({ 'prometheus.io/scrape': 'true', 'prometheus.io/port': String(port), 'prometheus.io/path': '/metrics' });
    expect(Number(compose.services['workbench']!.environment!['TM_METRICS_PORT'])).toBe(port);
    expect(env[MONITORING_ENV.metricsHost]).toBe('0.0.0.0');
    expect(env[MONITORING_ENV.logLevel]).toBe('debug'); // the demo patch
    expect(env[MONITORING_ENV.runner]).toBe('demo-paper');
    expect(envOf(containers(find(base.manifests, 'StatefulSet', 'trade-matrix-runner'))[0])[MONITORING_ENV.logLevel]).toBe(MONITORING_DEFAULTS.logLevel);
  });

  it('Bybit keys: a Secret mounted read-only as files, never in the environment', () => {
    const volume = runner.spec.template.spec.volumes.find((v: { secret?: { secretName: string } }) => v.secret?.secretName === 'bybit-credentials');
    expect(volume.secret.defaultMode).toBe(0o400);
    const mount = container.volumeMounts.find((m: { name: string }) => m.name === volume.name);
    expect(mount).toMatchObject({ readOnly: true });
    expect(dirname(argAfter(container.args, '--key-file')!)).toBe(mount.mountPath);
    expect(JSON.stringify(container.env)).not.toContain('bybit-credentials');
    expect(container.envFrom).toBeUndefined();
    const stringData = (find(demo.manifests, 'Secret', 'bybit-credentials') as unknown as { stringData: Record<string, string> }).stringData;
    expect(Object.keys(stringData)).toEqual([basename(argAfter(container.args, '--key-file')!)]);
    expect(Object.keys(JSON.parse(stringData[basename(argAfter(container.args, '--key-file')!)]!) as object).sort()).toEqual(['apiKey', 'apiSecret']); // the key file tm live reads
  });

  it('the runner\'s arguments are options tm live accepts', async () => {
    const live = liveCommand({ out: () => undefined, err: () => undefined }, () => undefined);
    const known = new Set(live.options.map((o) => o.long));
    expect(container.args[0]).toBe('live');
    for (const a of container.args.slice(1) as string[]) if (a.startsWith('--')) expect(known.has(a), `tm live has no option ${a}`).toBe(true);
  });

  it('the experiment ConfigMap holds a copy of experiments/sma-crossover-bybit.json that loadConfig accepts, mounted where --experiment points', async () => {
    const file = join(k8s, 'base/sma-crossover-bybit.json');
    expect(readFileSync(file, 'utf8')).toBe(readFileSync(join(root, 'experiments/sma-crossover-bybit.json'), 'utf8'));
    const loaded = await loadConfig(file);
    expect(loaded.success).toBe(true);
    const mount = container.volumeMounts.find((m: { name: string }) => m.name === 'experiment');
    expect(argAfter(container.args, '--experiment')).toBe(join(mount.mountPath, 'sma-crossover-bybit.json'));
    expect(dirname(argAfter(container.args, '--experiment')!)).toBe(mount.mountPath);
  });

  it('every env var is one the code or the harness reads, and points at the in-cluster services on their ports', () => {
    const known = new Set<string>([...Object.values(MONITORING_ENV), ...Object.values(REGISTRY_ENV), ...SERVICE_ENV_NAMES]);
    for (const name of Object.keys(env)) expect(known.has(name), `runner env ${name} is read by nothing`).toBe(true);
    const portOf = (kind: string, name: string, portName: string) => containers(find(demo.manifests, kind, name))[0].ports.find((p: { name: string }) => p.name === portName).containerPort;
    const servicePort = (name: string, portName: string) => find(demo.manifests, 'Service', name).spec.ports.find((p: { name: string }) => p.name === portName).port;
    expect(env['REDIS_URL']).toBe(`redis://redis:${servicePort('redis', 'redis')}`);
    expect(portOf('Deployment', 'redis', 'redis')).toBe(Number(argAfter(containers(find(demo.manifests, 'Deployment', 'redis'))[0].args, '--port')));
    expect(env[REGISTRY_ENV.trackingUri]).toBe(`http://mlflow:${servicePort('mlflow', 'http')}`);
    expect(portOf('StatefulSet', 'mlflow', 'http')).toBe(Number(argAfter(containers(find(demo.manifests, 'StatefulSet', 'mlflow'))[0].command, '--port')));
    expect(env[REGISTRY_ENV.s3Endpoint]).toBe(`http://minio:${servicePort('minio', 's3')}`);
    expect(`:${portOf('StatefulSet', 'minio', 's3')}`).toBe(argAfter(containers(find(demo.manifests, 'StatefulSet', 'minio'))[0].args, '--address'));
    expect(env[REGISTRY_ENV.s3Bucket]).toBe(REGISTRY_DEFAULTS.s3Bucket);
    expect(env[REGISTRY_ENV.region]).toBe(REGISTRY_DEFAULTS.region);
    expect(env[REGISTRY_ENV.accessKeyId]).toEqual({ secretKeyRef: { name: 'minio-credentials', key: 'MINIO_ROOT_USER' } });
    expect(argAfter(containers(find(demo.manifests, 'StatefulSet', 'mlflow'))[0].command, '--artifacts-destination')).toBe(`s3://${REGISTRY_DEFAULTS.s3Bucket}/${REGISTRY_DEFAULTS.mlflowArtifactsPrefix}`);
  });
});

describe('Redis, MinIO, MLflow as in docker-compose.yml; sized for a 2 vCPU / 4 GB node', () => {
  it('same images and commands as compose', () => {
    const c = (kind: string, name: string) => containers(find(demo.manifests, kind, name))[0];
    expect(c('Deployment', 'redis').image).toBe(compose.services['redis']!.image);
    expect(c('Deployment', 'redis').args).toEqual(compose.services['redis']!.command);
    expect(c('StatefulSet', 'minio').image).toBe(compose.services['minio']!.image);
    expect(c('StatefulSet', 'minio').args).toEqual(compose.services['minio']!.command);
    expect(c('StatefulSet', 'mlflow').image).toBe(compose.services['mlflow']!.image);
    const flags = (cmd: string[]) => ['--port', '--backend-store-uri', '--host'].map((f) => argAfter(cmd, f));
    expect(flags(c('StatefulSet', 'mlflow').command)).toEqual(flags(compose.services['mlflow']!.command!));
    expect(containers(find(demo.manifests, 'Job', 'minio-init'))[0].image).toBe((compose.services['minio-init'] as { image: string }).image);
  });

  it('every container has requests and limits; requests fit the node with room for the system, memory limits too', () => {
    const all = demo.manifests.filter((m) => m.spec?.template).flatMap((m) => containers(m).map((c) => ({ owner: `${m.kind}/${m.metadata.name}`, c })));
    for (const { owner, c } of all) {
      for (const k of ['requests', 'limits'] as const) for (const r of ['cpu', 'memory']) expect(c.resources?.[k]?.[r], `${owner} ${k}.${r}`).toBeDefined();
    }
    const long = all.filter(({ owner }) => !owner.startsWith('Job/')); // the Job runs once, before the runner matters
    const sum = (k: 'requests' | 'limits', r: string) => long.reduce((s, { c }) => s + quantity(c.resources[k][r]), 0);
    expect(sum('requests', 'cpu')).toBeLessThanOrEqual(1.8);
    expect(sum('requests', 'memory')).toBeLessThanOrEqual(3.5 * 2 ** 30);
    expect(sum('limits', 'memory')).toBeLessThanOrEqual(4 * 2 ** 30);
  });
});
