/**
 * `npm ci` on a fresh clone: no npm configuration warning (no unknown .npmrc key), every dependency install script
 * reviewed in package.json `allowScripts` (npm >= 11.16), onnxruntime-node's script denied so it never downloads the
 * CUDA provider, and the `prepare` script building dist/ for bin/tm.js.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const root = process.cwd();
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { scripts: Record<string, string>; devDependencies: Record<string, string>; allowScripts?: Record<string, boolean> };

describe('npm install set-up', () => {
  it('has no project .npmrc key npm does not know (npm warns "Unknown project config" for those)', () => {
    const npmrc = join(root, '.npmrc');
    const text = existsSync(npmrc) ? readFileSync(npmrc, 'utf8') : '';
    expect(text).not.toMatch(/onnxruntime-node-install/);
    const r = spawnSync('npm', ['config', 'list'], { cwd: root, encoding: 'utf8' });
    expect(r.status).toBe(0);
    expect(r.stderr).not.toMatch(/Unknown (project|user|global|builtin) config/);
  });

  it('denies the onnxruntime-node install script (no CUDA download) and reviews every other install script', () => {
    expect(pkg.allowScripts?.['onnxruntime-node']).toBe(false);
    const version = spawnSync('npm', ['--version'], { encoding: 'utf8' }).stdout.trim();
    const [major, minor] = version.split('.').map(Number) as [number, number];
    expect(major > 11 || (major === 11 && minor >= 16), `npm ${version} ignores allowScripts; npm >= 11.16 is needed (npm install -g npm@11)`).toBe(true);
    const ls = spawnSync('npm', ['install-scripts', 'ls'], { cwd: root, encoding: 'utf8' });
    expect(ls.status, ls.stderr).toBe(0);
    expect(`${ls.stdout}${ls.stderr}`).toContain('No packages with unreviewed install scripts.');
    // The script did not run: the CUDA provider it would fetch from NuGet is absent (the package ships CPU only).
    const bin = join(root, 'node_modules/onnxruntime-node/bin/napi-v6', process.platform, process.arch);
    expect(existsSync(join(bin, 'libonnxruntime_providers_cuda.so'))).toBe(false);
  });

  it('builds the compiled CLI on npm ci (prepare -> build -> tsc -p tsconfig.build.json)', () => {
    expect(pkg.scripts['prepare']).toBe('npm run build');
    expect(pkg.scripts['build']).toBe('node node_modules/typescript/bin/tsc -p tsconfig.build.json');
    const bin = readFileSync(join(root, 'bin/tm.js'), 'utf8');
    expect(bin).toContain("import { buildState } from './build-state.js'");
  });

  it('compiles with the TypeScript package.json names, not the one tslab brings', () => {
    // tslab depends on its own TypeScript (5.0), whose `tsc` npm links into node_modules/.bin in place of the
    // project's: every script names the project's compiler by its path instead.
    const wanted = pkg.devDependencies['typescript']!.replace(/^\D+/, '').split('.')[0]!;
    const version = spawnSync(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-v'], { encoding: 'utf8' }).stdout.trim();
    expect(version).toMatch(new RegExp(`^Version ${wanted}\\.`));
    for (const [name, script] of Object.entries(pkg.scripts)) {
      if (/(^|&& )tsc /.test(script)) throw new Error(`npm script ${name} runs \`tsc\` from node_modules/.bin (tslab's TypeScript): ${script}`);
    }
  });
});
