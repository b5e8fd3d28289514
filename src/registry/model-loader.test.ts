/** The loader's package checks (card schema, registry sha256 tag, bytes checksum, features) without any service. */
import { mkdtempSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { featureValidator, formatModelCard, sha256Hex, verifyChecksum, type ModelCard } from './model-card.js';
import { loadModel, verifyPackage, type RawPackage } from './model-loader.js';
import { minimalCard } from '../../test/support/model-card.js';
import { parseModelSourceConfig } from './registry-config.js';
import { memoryLogger } from './registry-logger.js';

const expected = { featureNames: ['a', 'b'], featureSpecHash: '0123456789abcdef' };
const onnx = new Uint8Array(Array.from({ length: 256 }, (_, i) => (i * 37) % 256));
const card: ModelCard = minimalCard('unit', onnx, expected.featureNames, expected.featureSpecHash);
const raw = (over: Partial<RawPackage> = {}): RawPackage => ({ location: 'here', onnxBytes: onnx, cardText: formatModelCard(card), ...over });
const validate = featureValidator(expected);

describe('sha256Hex / verifyChecksum', () => {
  it('hashes as sha256 (known vector)', () => {
    expect(sha256Hex(new TextEncoder().encode('abc'))).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
  });

  it('accepts the bytes the card names and rejects one flipped bit, naming both hashes', () => {
    expect(verifyChecksum(card, onnx, 'here').success).toBe(true);
    const bad = onnx.slice();
    bad[7] = bad[7]! ^ 1;
    const r = verifyChecksum(card, bad, 'here');
    expect(r.success).toBe(false);
    if (r.success) return;
    expect(r.error.code).toBe('checksum_mismatch');
    expect(r.error.context).toMatchObject({ expected: card.onnxSha256, actual: sha256Hex(bad), bytes: 256 });
  });
});

describe('verifyPackage', () => {
  it('serves a consistent package, with or without a matching registry tag', () => {
    expect(verifyPackage(raw(), validate)).toEqual({ success: true, data: card });
    expect(verifyPackage(raw({ registeredSha256: card.onnxSha256 }), validate)).toEqual({ success: true, data: card });
  });

  it("refuses a package whose card disagrees with the registry's onnx_sha256 tag, though card and bytes agree", () => {
    const r = verifyPackage(raw({ registeredSha256: 'e'.repeat(64) }), validate);
    expect(r.success).toBe(false);
    if (r.success) return;
    expect(r.error.code).toBe('checksum_mismatch');
    expect(r.error.message).toBe(`here: card.onnxSha256 is ${card.onnxSha256} but the registry recorded ${'e'.repeat(64)}`);
    expect(r.error.context).toEqual({ where: 'here', expected: 'e'.repeat(64), actual: card.onnxSha256 });
  });

  it('checks the registry tag before the bytes, the bytes before the features', () => {
    const bad = onnx.slice();
    bad[0] = bad[0]! ^ 1;
    const tagFirst = verifyPackage(raw({ onnxBytes: bad, registeredSha256: 'e'.repeat(64) }), validate);
    expect(!tagFirst.success && tagFirst.error.message).toContain('the registry recorded');
    const bytesFirst = verifyPackage(raw({ onnxBytes: bad }), featureValidator({ ...expected, featureNames: ['b', 'a'] }));
    expect(!bytesFirst.success && bytesFirst.error.code).toBe('checksum_mismatch');
    const features = verifyPackage(raw(), featureValidator({ ...expected, featureNames: ['b', 'a'] }));
    expect(!features.success && features.error.code).toBe('feature_mismatch');
  });

  it('refuses a card that is not JSON or misses a field', () => {
    expect(verifyPackage(raw({ cardText: '{' }), validate)).toMatchObject({ success: false, error: { code: 'invalid_card' } });
    const { onnxSha256: _, ...rest } = card;
    expect(verifyPackage(raw({ cardText: JSON.stringify(rest) }), validate)).toMatchObject({ success: false, error: { code: 'invalid_card' } });
  });
});

describe('loadModel (local tier only)', () => {
  it('a tampered local model.onnx is refused with checksum_mismatch and no tier serves', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tm-loader-unit-'));
    mkdirSync(join(dir, 'unit'));
    const bad = onnx.slice();
    bad[3] = bad[3]! ^ 0x80;
    writeFileSync(join(dir, 'unit', 'model.onnx'), bad);
    writeFileSync(join(dir, 'unit', 'card.json'), formatModelCard(card));
    const logger = memoryLogger();
    const e = await loadModel(parseModelSourceConfig({ name: 'unit', tiers: ['local'], localDir: dir }), { logger, validate }).catch((x: unknown) => x);
    expect(e).toMatchObject({ code: 'no_model_available' });
    expect(logger.records.map((r) => r.fields['code'])).toEqual(['checksum_mismatch']);
    writeFileSync(join(dir, 'unit', 'model.onnx'), onnx);
    expect((await loadModel(parseModelSourceConfig({ name: 'unit', tiers: ['local'], localDir: dir }), { logger, validate })).tier).toBe('local');
  });
});
