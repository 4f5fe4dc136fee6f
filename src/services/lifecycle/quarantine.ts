// How long a deleted module's, plugin's or template's name stays reserved, and freeing it when that is over
// (docs/lifecycle.md, "Deletion").
import { Code, RegistryError } from "../../core/errors.js";
import type { Visibility } from "../../core/types.js";
import type { DeletionStore } from "../../storage/meta/metadata-store.js";

export type DeletedKind = "module" | "plugin" | "template";

/** Days (fractions allowed) a deleted name stays reserved, per the thing's visibility when it was deleted. */
export interface QuarantinePolicy {
  public: number | "forever";
  private: number | "forever";
}

/** What every quarantine rule reads of a thing. */
export interface DeletableThing {
  id: string;
  owner: string;
  name: string;
  visibility: Visibility;
  deletedAt?: string;
}

/** Public names never come back; private ones after 30 days (config lifecycle.quarantineDays). */
export const defaultQuarantine: QuarantinePolicy = { public: "forever", private: 30 };

const dayMs = 24 * 60 * 60 * 1000;

/** When the name of a thing deleted at `deletedAt` may be taken again; undefined: never. */
export function quarantineEnds(
  deletedAt: string,
  visibility: Visibility,
  policy: QuarantinePolicy,
): Date | undefined {
  const days = policy[visibility];
  if (days === "forever") return undefined;
  return new Date(Date.parse(deletedAt) + days * dayMs);
}

/** The answer for a deleted thing's name while it is reserved (Gone, 410 everywhere). */
export function reservedName(
  kind: DeletedKind,
  thing: DeletableThing & { deletedAt: string },
  policy: QuarantinePolicy,
): RegistryError {
  const ends = quarantineEnds(thing.deletedAt, thing.visibility, policy);
  const until = ends
    ? `until ${ends.toISOString().slice(0, 16).replace("T", " ")} UTC`
    : `for good (${thing.visibility} names are never reused, so nothing installed can change under it)`;
  const full = `${thing.owner}/${thing.name}`;
  return new RegistryError(
    Code.Gone,
    `${kind} ${full} was deleted; its name stays reserved ${until}`,
    kind === "module"
      ? { owner: thing.owner, module: thing.name }
      : kind === "plugin"
        ? { plugin: full }
        : { template: full },
  );
}

/**
 * A thing the caller may read, refused with Gone (410 everywhere) once deleted; the caller hides it first from
 * those who may not read it, as every hidden thing (404).
 */
export function refuseDeletedThing<T extends Pick<DeletableThing, "owner" | "name" | "deletedAt">>(
  kind: DeletedKind,
  thing: T,
): T {
  if (thing.deletedAt === undefined) return thing;
  const full = `${thing.owner}/${thing.name}`;
  throw new RegistryError(
    Code.Gone,
    `${kind} ${full} was deleted on ${thing.deletedAt.slice(0, 10)}; its name stays reserved`,
    kind === "module"
      ? { owner: thing.owner, module: thing.name }
      : kind === "plugin"
        ? { plugin: full }
        : { template: full },
  );
}

/** Frees deleted names whose quarantine ended, so creating them works; refuses the others. */
export interface NameQuarantine {
  /**
   * Called before creating `kind` owner/name, with what the store holds under that name: nothing happens when it
   * is undefined or not deleted (the create answers as usual); a deleted thing still in quarantine is refused with
   * Gone; one whose quarantine ended is moved aside (the store keeps its rows) so the create takes the name.
   */
  reclaim(kind: DeletedKind, existing: DeletableThing | undefined): Promise<void>;
}

export function createNameQuarantine(opts: {
  meta: Pick<DeletionStore, "releaseName">;
  policy: QuarantinePolicy;
  now?: () => number;
}): NameQuarantine {
  const now = opts.now ?? Date.now;
  return {
    async reclaim(kind, existing) {
      if (existing?.deletedAt === undefined) return;
      const deleted = { ...existing, deletedAt: existing.deletedAt };
      const ends = quarantineEnds(deleted.deletedAt, deleted.visibility, opts.policy);
      if (ends === undefined || ends.getTime() > now()) throw reservedName(kind, deleted, opts.policy);
      // Two creates at once: the one that lost the rename finds the name free as well (or taken by the winner).
      await opts.meta.releaseName(kind, existing.id);
    },
  };
}

/** Where no quarantine is configured (tests, tools): deleted names are never freed. */
export const keepNamesForever: NameQuarantine = {
  async reclaim(kind, existing) {
    if (existing?.deletedAt === undefined) return;
    throw reservedName(
      kind,
      { ...existing, deletedAt: existing.deletedAt },
      {
        public: "forever",
        private: "forever",
      },
    );
  },
};
