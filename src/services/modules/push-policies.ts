// Push policies: what a push to a label must pass (buf lint, buf breaking against the label's head), and who may
// change them (the owner's owners).
import type { SchemaChecker } from "../../compile/buf-checks.js";
import { Code, RegistryError } from "../../core/errors.js";
import { checkLabel, type FullName } from "../../core/names.js";
import { type Commit, defaultPushPolicy, type Module, type PushPolicy } from "../../core/types.js";
import type { BlobStore } from "../../storage/blob/blob-store.js";
import { readContent } from "../../storage/blob/content.js";
import type { ModuleStore } from "../../storage/meta/metadata-store.js";
import type { AccessPolicy } from "../access.js";
import type { AuditTrail } from "../audit.js";
import type { Principal } from "../auth.js";
import { type ModuleFile, protoFiles } from "./files.js";
import type { ModuleReads } from "./reads.js";

/** A change of push policy: the fields given replace the current ones. */
export type PushPolicyChange = Partial<PushPolicy>;

export interface PushPolicies {
  /** The push policy of a label (its own, else the module's default), or of the module with label "". */
  getPushPolicy(principal: Principal, name: FullName, label: string): Promise<PushPolicy & { label: string }>;
  /**
   * Changes the module's default policy (label "") or one label's; a label without its own starts from the
   * module's. Returns the policy now in force there.
   */
  setPushPolicy(
    principal: Principal,
    name: FullName,
    label: string,
    change: PushPolicyChange,
  ): Promise<PushPolicy & { label: string }>;
}

/** A push to check against its module's policy for one label. */
export interface PolicyCheck {
  principal: Principal;
  mod: Module;
  label: string;
  /** The new commit's image. */
  image: Uint8Array;
  files: readonly ModuleFile[];
  allowBreaking: boolean;
}

export interface PushPolicyRules {
  /**
   * Runs the module's push policy for the label over the new image: lint findings, and breaking changes against
   * the label's head. "reject" refuses the push with the findings as detail lines; "warn" returns them.
   */
  findings(check: PolicyCheck): Promise<string[]>;
}

type PolicyStore = Pick<ModuleStore, "getPushPolicy" | "setPushPolicy" | "getLabel" | "getCommit">;

export function createPushPolicies({
  meta,
  access,
  reads,
  audit,
}: {
  meta: PolicyStore;
  access: AccessPolicy;
  reads: Pick<ModuleReads, "getModule">;
  audit?: Pick<AuditTrail, "record">;
}): PushPolicies {
  return {
    async getPushPolicy(principal, name, label) {
      const mod = await reads.getModule(principal, name);
      return (await meta.getPushPolicy(mod.id, label)) ?? { label: "", ...defaultPushPolicy };
    },
    async setPushPolicy(principal, name, label, change) {
      // An owner decision: a writer who could switch a policy off could push what it refuses and switch it back.
      await access.requireManage(principal, name.owner, "change push policies", name.name);
      const mod = await reads.getModule(principal, name);
      if (label !== "") checkLabel(label);
      const current = (await meta.getPushPolicy(mod.id, label)) ?? { label: "", ...defaultPushPolicy };
      const { label: _from, ...base } = current;
      const next: PushPolicy = { ...base, ...change };
      await meta.setPushPolicy(mod.id, label, next);
      if (JSON.stringify(base) !== JSON.stringify(next)) {
        await audit?.record(principal, {
          action: "policy.set",
          target: `${mod.owner}/${mod.name}${label ? `:${label}` : ""}`,
          owner: mod.owner,
          before: base,
          after: next,
        });
      }
      return { label, ...next };
    },
  };
}

export function createPushPolicyRules({
  meta,
  blobs,
  checker,
  access,
}: {
  meta: PolicyStore;
  blobs: BlobStore;
  checker: SchemaChecker;
  access: AccessPolicy;
}): PushPolicyRules {
  async function lintFindings(check: PolicyCheck, policy: PushPolicy, where: string): Promise<string[]> {
    const { principal, mod, image } = check;
    const pusher = principal.user?.name;
    const found = await checker.lint({
      image,
      categories: policy.lintCategories,
      paths: protoFiles(check.files).map((f) => f.path),
      ...(pusher ? { pusher } : {}),
    });
    if (found.length > 0 && policy.lint === "reject") {
      throw new RegistryError(
        Code.FailedPrecondition,
        `push refused: ${found.length} lint finding(s) in ${policy.lintCategories.join(", ")}, which the policy of ${where} rejects; fix them, or relax it with 'protodepot module update ${mod.owner}/${mod.name} --lint warn'`,
        { owner: mod.owner, module: mod.name, details: found },
      );
    }
    return found.map((l) => `lint: ${l}`);
  }

  async function breakingFindings(
    check: PolicyCheck,
    policy: PushPolicy,
    where: string,
    head: Commit,
  ): Promise<string[]> {
    const { principal, mod, label } = check;
    const against = await readContent(blobs, head.imageBlob);
    const pusher = principal.user?.name;
    const found = await checker.breaking({
      image: check.image,
      against,
      category: policy.breakingCategory,
      paths: protoFiles(check.files).map((f) => f.path),
      ...(pusher ? { pusher } : {}),
    });
    if (found.length > 0 && policy.breaking === "reject") {
      if (!check.allowBreaking) {
        throw new RegistryError(
          Code.FailedPrecondition,
          `push refused: ${found.length} breaking change(s) in category ${policy.breakingCategory} against ${label} (seq ${head.seq}), which the policy of ${where} rejects; keep the old fields, or an owner of ${mod.owner} may push with --allow-breaking`,
          { owner: mod.owner, module: mod.name, details: found },
        );
      }
      await access.requireManage(principal, mod.owner, "override the breaking-change policy", mod.name);
    }
    return found.map((l) => `breaking: ${l}`);
  }

  return {
    async findings(check) {
      const { mod, label } = check;
      const policy = await meta.getPushPolicy(mod.id, label);
      if (!policy) return [];
      const where = `${mod.owner}/${mod.name}${policy.label ? ` label ${policy.label}` : ""}`;
      const warnings = policy.lint === "off" ? [] : await lintFindings(check, policy, where);
      const at = policy.breaking === "off" ? undefined : await meta.getLabel(mod.id, label);
      const head = at && (await meta.getCommit(at.commitId));
      if (head) warnings.push(...(await breakingFindings(check, policy, where, head)));
      return warnings;
    },
  };
}
