// Per-owner quotas: modules per owner, commits per owner per day, and plugin image bytes and images per owner, each
// the configured default unless an admin set the owner's own. Checked before the work they bound (a push is refused
// before it is compiled; the image bounds by the /v2/ push, services/images/); concurrent creations or pushes that
// each pass the check may together exceed a quota by their number.
import { Code, RegistryError } from "../core/errors.js";
import { checkName } from "../core/names.js";
import type { OwnerQuota, OwnerStore, QuotaStore } from "../storage/meta/metadata-store.js";
import { type AccessPolicy, includesRole } from "./access.js";
import type { AuditTrail } from "./audit.js";
import { type Principal, requireUser } from "./auth.js";
import type { ImageUsage } from "./images/usage.js";

const dayMs = 24 * 60 * 60 * 1000;

/** The `reason` of a refusal for a quota (RegistryError fields). */
export const quotaReason = "quota";

/** A limit (0: unlimited) and whether it is the configured default or the owner's own, set by an admin. */
export interface QuotaLimit {
  limit: number;
  source: "default" | "owner";
}

/** One bound: its limit, where it comes from, and what is used now. */
export interface QuotaBound extends QuotaLimit {
  used: number;
}

export interface QuotaReport {
  owner: string;
  modules: QuotaBound;
  commitsPerDay: QuotaBound;
  /** What the owner's plugin images hold (blobs, manifests, open uploads). */
  imageBytes: QuotaBound;
  /** The owner's image plugin versions (pushed tags). */
  images: QuotaBound;
}

/** The limits the /v2/ push checks itself, against the usage it computes as it goes. */
export interface ImageQuotaLimits {
  bytes: QuotaLimit;
  images: QuotaLimit;
}

/** The configured defaults, 0: unlimited. */
export interface QuotaDefaults {
  modulesPerOwner: number;
  commitsPerOwnerPerDay: number;
  /** oci.ownerQuotaBytes */
  imageBytesPerOwner: number;
  /** oci.ownerQuotaImages */
  imagesPerOwner: number;
}

export interface Quotas {
  /** ResourceExhausted when `owner` has as many modules as its quota allows. */
  checkNewModule(owner: string): Promise<void>;
  /** ResourceExhausted when `count` more commits would pass the owner's commits in the last 24 hours. */
  checkNewCommits(owner: string, count: number): Promise<void>;
  /** The owner's plugin image limits: its own where an admin set them, else the configured defaults. */
  imageLimits(owner: string): Promise<ImageQuotaLimits>;
  /** The owner's quotas and usage: admins, the user themself, an organization's members. */
  get(principal: Principal, owner: string): Promise<QuotaReport>;
  /** Admins only; a null bound follows the configured default again. */
  set(principal: Principal, owner: string, quota: OwnerQuota): Promise<QuotaReport>;
}

export interface QuotaOptions {
  meta: QuotaStore & Pick<OwnerStore, "getOwner">;
  access: Pick<AccessPolicy, "roleOf">;
  defaults: QuotaDefaults;
  /** What the owner's plugin images use, for the report. */
  imageUsage: Pick<ImageUsage, "bytes" | "images">;
  audit?: Pick<AuditTrail, "record"> | undefined;
  now?: () => number;
}

export function createQuotas(o: QuotaOptions): Quotas {
  const now = o.now ?? Date.now;
  const since = () => new Date(now() - dayMs).toISOString();
  return {
    async checkNewModule(owner) {
      const { modules } = await limitsOf(o, owner);
      if (modules.limit === 0) return;
      const used = await o.meta.countModules(owner);
      if (used >= modules.limit) {
        throw exhausted(
          `owner ${owner} has ${used} modules, as many as its quota allows (${modules.limit}, ${sourceWords(modules.source, "quotas.modulesPerOwner")})`,
          owner,
        );
      }
    },

    async checkNewCommits(owner, count) {
      const { commitsPerDay } = await limitsOf(o, owner);
      if (commitsPerDay.limit === 0) return;
      const used = await o.meta.countCommitsSince(owner, since());
      if (used + count > commitsPerDay.limit) {
        throw exhausted(
          `the modules of ${owner} took ${used} commits in the last 24 hours; its quota allows ${commitsPerDay.limit} (${sourceWords(commitsPerDay.source, "quotas.commitsPerOwnerPerDay")}): try again later`,
          owner,
        );
      }
    },

    async imageLimits(owner) {
      const { imageBytes, images } = await limitsOf(o, owner);
      return { bytes: imageBytes, images };
    },

    async get(principal, owner) {
      await requireReader(o, principal, owner);
      return report(o, owner, since());
    },

    async set(principal, owner, quota) {
      const user = requireUser(principal, "setting quotas");
      if (!user.isAdmin) {
        throw new RegistryError(
          Code.PermissionDenied,
          `only admins set quotas (user ${user.name} is not one)`,
          {
            owner,
          },
        );
      }
      await requireOwner(o, owner);
      const before = await o.meta.getQuota(owner);
      await o.meta.setQuota(owner, quota);
      await o.audit?.record(principal, {
        action: "quota.set",
        target: owner,
        owner,
        before: before ?? { modules: null, commitsPerDay: null, imageBytes: null, images: null },
        after: quota,
      });
      return report(o, owner, since());
    },
  };
}

/** The limits that apply to an owner: its own where an admin set them, else the configured defaults. */
async function limitsOf(o: QuotaOptions, owner: string) {
  const own = await o.meta.getQuota(owner);
  const bound = (mine: number | null | undefined, fallback: number): QuotaLimit =>
    mine === null || mine === undefined
      ? { limit: fallback, source: "default" }
      : { limit: mine, source: "owner" };
  return {
    modules: bound(own?.modules, o.defaults.modulesPerOwner),
    commitsPerDay: bound(own?.commitsPerDay, o.defaults.commitsPerOwnerPerDay),
    imageBytes: bound(own?.imageBytes, o.defaults.imageBytesPerOwner),
    images: bound(own?.images, o.defaults.imagesPerOwner),
  };
}

async function report(o: QuotaOptions, owner: string, since: string): Promise<QuotaReport> {
  const limits = await limitsOf(o, owner);
  const [modules, commits, imageBytes, images] = await Promise.all([
    o.meta.countModules(owner),
    o.meta.countCommitsSince(owner, since),
    o.imageUsage.bytes(owner),
    o.imageUsage.images(owner),
  ]);
  return {
    owner,
    modules: { ...limits.modules, used: modules },
    commitsPerDay: { ...limits.commitsPerDay, used: commits },
    imageBytes: { ...limits.imageBytes, used: imageBytes },
    images: { ...limits.images, used: images.length },
  };
}

async function requireOwner(o: QuotaOptions, owner: string): Promise<void> {
  checkName("owner", owner);
  if (!(await o.meta.getOwner(owner))) {
    throw new RegistryError(Code.NotFound, `owner ${owner} does not exist`, { owner });
  }
}

/** Owners are public; their quotas are for the owner, its members and admins. */
async function requireReader(o: QuotaOptions, principal: Principal, owner: string): Promise<void> {
  const user = requireUser(principal, "reading quotas");
  await requireOwner(o, owner);
  if (!includesRole(await o.access.roleOf(principal, owner), "reader")) {
    throw new RegistryError(
      Code.PermissionDenied,
      `user ${user.name} may not read the quotas of ${owner}: only ${owner}, its members and admins may`,
      { owner },
    );
  }
}

function sourceWords(source: "default" | "owner", configKey: string): string {
  return source === "owner"
    ? "set by an admin: 'protodepot quota set'"
    : `the server's default, ${configKey}; an admin may raise it with 'protodepot quota set'`;
}

function exhausted(message: string, owner: string): RegistryError {
  // reason "quota": the API keeps Connect's 429 for it, unlike a request over a size limit (api/guards.ts).
  return new RegistryError(Code.ResourceExhausted, message, { owner, reason: quotaReason });
}
