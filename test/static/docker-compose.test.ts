/**
 * docker/ checked without a Docker engine: parses docker-compose.yml, the Prometheus config and the Grafana
 * datasources, and checks services, ports, commands and environment variables against the code's defaults
 * (src/registry/registry-config.ts), the names `scripts/services.sh env` prints, and the harness's ports.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { SERVICE_ENV_NAMES } from '../../scripts/services-env.js';
import { REGISTRY_DEFAULTS, REGISTRY_ENV } from '../../src/registry/index.js';

const root = process.cwd();
const dockerDir = join(root, 'docker');
const read = (rel: string) => readFileSync(join(dockerDir, rel), 'utf8');

interface ComposeService {
  image?: string;
  build?: { context: string; dockerfile: string };
  command?: string[];
  entrypoint?: string[];
  environment?: Record<string, string>;
  ports?: string[];
  volumes?: string[];
  depends_on?: Record<string, { condition: string }> | string[];
  healthcheck?: { test: string[] };
}

const compose = parse(read('docker-compose.yml')) as { name: string; services: Record<string, ComposeService>; volumes: Record<string, unknown> };
const services = compose.services;

/** Compose interpolation with an empty environment: `${NAME:-default}` → default; `$$` → `$`. */
function interpolate(value: string): string {
  return value.replace(/\$\{([A-Z0-9_]+):-([^}]*)\}/g, (_, _name: string, fallback: string) => fallback).replace(/\$\$/g, '$');
}

/** `"127.0.0.1:15000:5000"` → { host: '127.0.0.1', hostPort: 15000, containerPort: 5000 }. */
function ports(service: string): { host: string; hostPort: number; containerPort: number }[] {
  return (services[service]!.ports ?? []).map((p) => {
    const [host, hostPort, containerPort] = p.split(':');
    return { host: host!, hostPort: Number(hostPort), containerPort: Number(containerPort) };
  });
}

function env(service: string): Record<string, string> {
  return Object.fromEntries(Object.entries(services[service]!.environment ?? {}).map(([k, v]) => [k, interpolate(String(v))]));
}

/** The value following `flag` in a service's command (`--port 5000` or `--port=5000`). */
function flag(service: string, name: string): string | undefined {
  const cmd = (services[service]!.command ?? []).map(interpolate);
  const i = cmd.indexOf(name);
  if (i >= 0) return cmd[i + 1];
  return cmd.find((c) => c.startsWith(`${name}=`))?.slice(name.length + 1);
}

/** Default of `VAR` in scripts/services.sh (`VAR:-default`). */
function harnessDefault(variable: string): string {
  const m = new RegExp(`\\$\\{${variable}:-([^}]+)\\}`).exec(readFileSync(join(root, 'scripts/services.sh'), 'utf8'));
  if (!m) throw new Error(`scripts/services.sh has no default for ${variable}`);
  return m[1]!;
}

const url = (u: string) => new URL(u);

describe('docker/docker-compose.yml', () => {
  it('declares every service of the stack', () => {
    expect(Object.keys(services).sort()).toEqual(['grafana', 'loki', 'minio', 'minio-init', 'mlflow', 'prometheus', 'redis', 'workbench']);
    expect(compose.name).toBe('trade-matrix');
    for (const [name, s] of Object.entries(services)) {
      expect(s.image ?? s.build, `${name} needs an image or a build`).toBeDefined();
      const deps = Array.isArray(s.depends_on) ? s.depends_on : Object.keys(s.depends_on ?? {});
      for (const d of deps) expect(services[d], `${name} depends on unknown service ${d}`).toBeDefined();
    }
    expect(services['minio-init']!.image).toMatch(/^minio\/mc[:@]/);
  });

  it('publishes only on 127.0.0.1, on the harness ports that the code defaults to', () => {
    for (const name of Object.keys(services)) for (const p of ports(name)) expect(p.host, `${name} port ${p.hostPort}`).toBe('127.0.0.1');
    const hostPort = (service: string, container: number) => ports(service).find((p) => p.containerPort === container)?.hostPort;
    const mlflowPort = Number(flag('mlflow', '--port'));
    expect(hostPort('mlflow', mlflowPort)).toBe(REGISTRY_DEFAULTS.mlflowPort);
    expect(url(REGISTRY_DEFAULTS.trackingUri).port).toBe(String(REGISTRY_DEFAULTS.mlflowPort));
    expect(Number(harnessDefault('TM_MLFLOW_PORT'))).toBe(REGISTRY_DEFAULTS.mlflowPort);

    const minioPort = Number(flag('minio', '--address')!.replace(/^.*:/, ''));
    expect(hostPort('minio', minioPort)).toBe(REGISTRY_DEFAULTS.s3Port);
    expect(url(REGISTRY_DEFAULTS.s3Endpoint).port).toBe(String(REGISTRY_DEFAULTS.s3Port));
    expect(Number(harnessDefault('TM_MINIO_PORT'))).toBe(REGISTRY_DEFAULTS.s3Port);
    expect(hostPort('minio', Number(flag('minio', '--console-address')!.replace(/^.*:/, '')))).toBe(Number(harnessDefault('TM_MINIO_CONSOLE_PORT')));

    expect(hostPort('redis', Number(flag('redis', '--port')))).toBe(Number(harnessDefault('TM_REDIS_PORT')));
    expect(hostPort('loki', 3100)).toBe(3100);
    expect(hostPort('prometheus', Number(flag('prometheus', '--web.listen-address')!.replace(/^.*:/, '')))).toBe(9090);
    expect(hostPort('grafana', 3000)).toBe(3000);
  });

  it('MLflow proxies artifacts to MinIO: --serve-artifacts, --artifacts-destination s3://<bucket>/mlflow, MLFLOW_S3_ENDPOINT_URL → minio', () => {
    const cmd = (services['mlflow']!.command ?? []).map(interpolate);
    expect(cmd.slice(0, 2)).toEqual(['mlflow', 'server']);
    expect(cmd).toContain('--serve-artifacts');
    expect(flag('mlflow', '--artifacts-destination')).toBe(`s3://${REGISTRY_DEFAULTS.s3Bucket}/${REGISTRY_DEFAULTS.mlflowArtifactsPrefix}`);
    expect(harnessDefault('TM_S3_BUCKET')).toBe(REGISTRY_DEFAULTS.s3Bucket);
    const e = env('mlflow');
    expect(url(e[REGISTRY_ENV.mlflowS3Endpoint]!).host).toBe(`minio:${flag('minio', '--address')!.replace(/^.*:/, '')}`);
    expect(e[REGISTRY_ENV.accessKeyId]).toBe(env('minio')['MINIO_ROOT_USER']);
    expect(e[REGISTRY_ENV.secretAccessKey]).toBe(env('minio')['MINIO_ROOT_PASSWORD']);
    expect(e[REGISTRY_ENV.region]).toBe(REGISTRY_DEFAULTS.region);
    // Requests reach MLflow as mlflow:5000 (in the network) and 127.0.0.1:15000 (host): both must be allowed hosts.
    const allowed = flag('mlflow', '--allowed-hosts')!.split(',');
    expect(allowed).toEqual(expect.arrayContaining([`mlflow:${flag('mlflow', '--port')}`, `127.0.0.1:${REGISTRY_DEFAULTS.mlflowPort}`, `localhost:${REGISTRY_DEFAULTS.mlflowPort}`]));
    // The image pins the same MLflow/boto3 as the harness venv.
    const pins = readFileSync(join(root, 'python/requirements-services.txt'), 'utf8');
    for (const pkg of ['mlflow', 'boto3']) {
      const harness = new RegExp(`^${pkg}==(\\S+)$`, 'm').exec(pins)?.[1] ?? new RegExp(`^${pkg}==(\\S+)$`, 'm').exec(readFileSync(join(root, 'python/constraints-services.txt'), 'utf8'))?.[1];
      expect(read('mlflow.Dockerfile'), pkg).toContain(`${pkg}==${harness}`);
    }
    expect(services['mlflow']!.image).toContain(/mlflow==(\S+)/.exec(pins)![1]!);
  });

  it('the one-shot minio/mc service creates the bucket the code defaults to', () => {
    const e = env('minio-init');
    expect(e[REGISTRY_ENV.s3Bucket]).toBe(REGISTRY_DEFAULTS.s3Bucket);
    const script = (services['minio-init']!.command ?? []).map(interpolate).join(' ');
    expect(script).toContain('mc mb --ignore-existing "local/$TM_S3_BUCKET"');
    expect(script).toContain(`http://minio:${flag('minio', '--address')!.replace(/^.*:/, '')}`);
    expect(services['mlflow']!.depends_on).toMatchObject({ 'minio-init': { condition: 'service_completed_successfully' } });
  });

  it('the workbench gets exactly the variables the code and the harness read, pointing at the compose services', () => {
    const e = env('workbench');
    const known = new Set<string>([...SERVICE_ENV_NAMES, ...Object.values(REGISTRY_ENV), 'TM_METRICS_PORT']);
    for (const name of Object.keys(e)) expect(known.has(name), `workbench env ${name} is read by nothing`).toBe(true);
    for (const name of [REGISTRY_ENV.trackingUri, REGISTRY_ENV.s3Endpoint, REGISTRY_ENV.s3Bucket, REGISTRY_ENV.accessKeyId, REGISTRY_ENV.secretAccessKey, REGISTRY_ENV.region, 'REDIS_URL']) {
      expect(e[name], `workbench env ${name}`).toBeDefined();
      expect(SERVICE_ENV_NAMES as readonly string[]).toContain(name);
    }
    expect(e[REGISTRY_ENV.trackingUri]).toBe(`http://mlflow:${flag('mlflow', '--port')}`);
    expect(e[REGISTRY_ENV.s3Endpoint]).toBe(`http://minio:${flag('minio', '--address')!.replace(/^.*:/, '')}`);
    expect(e[REGISTRY_ENV.s3Bucket]).toBe(REGISTRY_DEFAULTS.s3Bucket);
    expect(e[REGISTRY_ENV.region]).toBe(REGISTRY_DEFAULTS.region);
    expect(e['REDIS_URL']).toBe(`redis://redis:${flag('redis', '--port')}`);
    expect(e[REGISTRY_ENV.modelsDir]).toBe('/app/models');
    expect(services['workbench']!.volumes).toContain(`../${REGISTRY_DEFAULTS.localDir}:/app/models:ro`);
    const metricsPort = Number(e['TM_METRICS_PORT']);
    expect(ports('workbench')).toContainEqual({ host: '127.0.0.1', hostPort: metricsPort, containerPort: metricsPort });
    // The same credentials MinIO was started with.
    expect(e[REGISTRY_ENV.accessKeyId]).toBe(env('minio')['MINIO_ROOT_USER']);
  });

  it('the workbench image: node:20-bookworm-slim, npm ci, `tm` entrypoint', () => {
    expect(services['workbench']!.build).toEqual({ context: '..', dockerfile: 'docker/Dockerfile' });
    const dockerfile = read('Dockerfile');
    const froms = [...dockerfile.matchAll(/^FROM (\S+)/gm)].map((m) => m[1]);
    expect(froms.length).toBeGreaterThan(0);
    for (const f of froms) expect(f).toBe('node:20-bookworm-slim');
    expect(dockerfile).toMatch(/^RUN npm ci\b/m);
    expect(dockerfile).toMatch(/^ENTRYPOINT \["tm"\]$/m);
    expect(dockerfile).toContain('ln -s /app/bin/tm.js /usr/local/bin/tm');
    const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { bin: Record<string, string>; engines: { node: string } };
    expect(pkg.bin['tm']).toBe('bin/tm.js');
    expect(pkg.engines.node).toMatch(/20/);
    for (const copied of [...dockerfile.matchAll(/^COPY (?!--from)(.+) \S+$/gm)].flatMap((m) => m[1]!.split(' '))) {
      expect(existsSync(join(root, copied)), `COPY ${copied}`).toBe(true);
    }
  });
});

describe('docker/prometheus and docker/grafana', () => {
  it('Prometheus scrapes the workbench metrics port', () => {
    const prom = parse(read('prometheus/prometheus.yml')) as { scrape_configs: { job_name: string; static_configs: { targets: string[] }[] }[] };
    const job = prom.scrape_configs.find((j) => j.job_name === 'trade-matrix-workbench');
    expect(job).toBeDefined();
    expect(job!.static_configs.flatMap((s) => s.targets)).toEqual([`workbench:${env('workbench')['TM_METRICS_PORT']}`]);
    expect(services['prometheus']!.volumes).toContain('./prometheus/prometheus.yml:/etc/prometheus/prometheus.yml:ro');
    expect(flag('prometheus', '--config.file')).toBe('/etc/prometheus/prometheus.yml');
  });

  it('Grafana provisions Prometheus and Loki datasources at the compose services', () => {
    expect(services['grafana']!.volumes).toContain('./grafana/provisioning:/etc/grafana/provisioning:ro');
    const dir = join(dockerDir, 'grafana/provisioning/datasources');
    const files = readdirSync(dir).filter((f) => f.endsWith('.yml'));
    expect(files.length).toBeGreaterThan(0);
    const sources = files.flatMap((f) => (parse(readFileSync(join(dir, f), 'utf8')) as { apiVersion: number; datasources: { type: string; url: string; isDefault?: boolean }[] }).datasources);
    const byType = Object.fromEntries(sources.map((s) => [s.type, s]));
    expect(byType['prometheus']?.url).toBe(`http://prometheus:${flag('prometheus', '--web.listen-address')!.replace(/^.*:/, '')}`);
    expect(byType['loki']?.url).toBe(`http://loki:${ports('loki')[0]!.containerPort}`);
    expect(sources.filter((s) => s.isDefault)).toHaveLength(1);
  });
});
