import type { MlflowClient } from './mlflow-client.js';
import { failedVersionReason, LINEAGE_TAGS } from './model-artifact.js';
import { PromotionError, RegistryError } from './registry-error.js';

/** Tag keys `promoteVersion` writes on the promoted version. */
export const PROMOTION_TAGS = Object.freeze({
  alias: 'promotion.alias',
  at: 'promotion.at',
  by: 'promotion.by',
  previousVersion: 'promotion.previous_version',
  forced: 'promotion.forced',
  reason: 'promotion.reason',
});

/** A version's gate verdict, from its `gate.passed` tag (`unknown` when absent or not `true`/`false`). */
export type GateVerdict = 'passed' | 'failed' | 'unknown';

/** Reads the gate verdict from a version's tags. */
export function gateVerdict(tags: Readonly<Record<string, string>>): GateVerdict {
  const v = tags[LINEAGE_TAGS.gatePassed];
  return v === 'true' ? 'passed' : v === 'false' ? 'failed' : 'unknown';
}

export interface PromoteRequest {
  readonly name: string;
  readonly version: string;
  /** e.g. `production`, `champion`. */
  readonly alias: string;
  /** Promote although the gates failed (or are unknown); requires `reason`. */
  readonly force?: boolean;
  readonly reason?: string;
  /** Who promotes (recorded as `promotion.by`), e.g. the OS user. */
  readonly actor?: string;
  /** When, epoch ms (recorded as `promotion.at`, ISO-8601 UTC). */
  readonly at: number;
}

export interface PromotionResult {
  readonly name: string;
  readonly version: string;
  readonly alias: string;
  /** The version the alias pointed at before, if any. */
  readonly previousVersion?: string;
  readonly gate: GateVerdict;
  /** Whether `force` overrode failed or unknown gates. */
  readonly forced: boolean;
  /** Tags written on the version. */
  readonly tags: Readonly<Record<string, string>>;
}

/**
 * Points `name@alias` at `version` after checking it: the version must be READY and not tagged `status=failed`
 * (no override), and its gates must have passed unless `force` with a non-empty `reason` is given. Writes the
 * promotion tags on the version first, then moves the alias (the alias move is the commit point: a failure before
 * it leaves the alias where it was).
 * @throws PromotionError `version_not_ready`, `version_failed`, `gate_failed`, `gate_unknown`, `reason_required`;
 *   RegistryError from MLflow (`not_found` for an unknown model/version).
 * @example
 * await promoteVersion(mlflow, { name: 'btc-4h', version: '3', alias: 'production', at: clock.now() });
 */
export async function promoteVersion(client: MlflowClient, req: PromoteRequest): Promise<PromotionResult> {
  const reason = req.reason?.trim() ?? '';
  if (req.force && reason === '') {
    throw new PromotionError('reason_required', '`--force` requires `--reason "<why>"` (recorded as tag promotion.reason)', { name: req.name, version: req.version });
  }
  const v = await client.getModelVersion(req.name, req.version);
  const where = `${req.name} version ${req.version}`;
  if (v.status !== 'READY') throw new PromotionError('version_not_ready', `${where} has status ${v.status}, expected READY`, { name: req.name, version: req.version, status: v.status });
  const failed = failedVersionReason(v.tags);
  if (failed) throw new PromotionError('version_failed', `${where}: ${failed}; it cannot be promoted, even with --force`, { name: req.name, version: req.version });

  const gate = gateVerdict(v.tags);
  const forced = gate !== 'passed';
  if (forced && !req.force) {
    const failing = Object.entries(v.tags)
      .filter(([k, val]) => k.startsWith(LINEAGE_TAGS.gatePrefix) && k !== LINEAGE_TAGS.gatePassed && val.endsWith('failed'))
      .map(([k, val]) => `${k.slice(LINEAGE_TAGS.gatePrefix.length)} (${val})`);
    const code = gate === 'failed' ? 'gate_failed' : 'gate_unknown';
    const why = gate === 'failed' ? `its gates failed${failing.length ? `: ${failing.join(', ')}` : ''}` : `it has no gate verdict (tag ${LINEAGE_TAGS.gatePassed} is ${JSON.stringify(v.tags[LINEAGE_TAGS.gatePassed] ?? null)})`;
    throw new PromotionError(code, `refusing to point ${req.name}@${req.alias} at version ${req.version}: ${why}; use --force --reason "<why>" to override`, {
      name: req.name,
      version: req.version,
      alias: req.alias,
      gate,
      failing,
    });
  }

  let previousVersion: string | undefined;
  try {
    previousVersion = (await client.getModelVersionByAlias(req.name, req.alias)).version;
  } catch (e) {
    if (!(e instanceof RegistryError && e.code === 'not_found')) throw e;
  }

  const tags: Record<string, string> = {
    [PROMOTION_TAGS.alias]: req.alias,
    [PROMOTION_TAGS.at]: new Date(req.at).toISOString(),
    [PROMOTION_TAGS.forced]: String(forced),
    ...(reason ? { [PROMOTION_TAGS.reason]: reason } : {}),
    ...(req.actor ? { [PROMOTION_TAGS.by]: req.actor } : {}),
    ...(previousVersion && previousVersion !== req.version ? { [PROMOTION_TAGS.previousVersion]: previousVersion } : {}),
  };
  for (const [key, value] of Object.entries(tags)) await client.setModelVersionTag(req.name, req.version, key, value);
  if (!reason && v.tags[PROMOTION_TAGS.reason] !== undefined) await client.deleteModelVersionTag(req.name, req.version, PROMOTION_TAGS.reason);
  await client.setAlias(req.name, req.alias, req.version);
  return { name: req.name, version: req.version, alias: req.alias, ...(previousVersion ? { previousVersion } : {}), gate, forced, tags };
}
