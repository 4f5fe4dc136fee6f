// Domain records → management API messages.
import { create } from "@bufbuild/protobuf";
import { Code, RegistryError } from "../core/errors.js";
import type {
  Commit,
  CommitDep,
  Label,
  Member,
  Module,
  Organization,
  TokenRecord,
  User,
  Visibility,
} from "../core/types.js";
import {
  CommitDepSchema,
  type Commit as CommitMessage,
  CommitSchema,
  LabelSchema,
  ModuleSchema,
} from "../gen/protodepot/v1/module_pb.js";
import { MemberSchema, OrganizationSchema } from "../gen/protodepot/v1/organization_pb.js";
import { TokenSchema, UserSchema } from "../gen/protodepot/v1/user_pb.js";

/** Empty means "the server's default" (config defaults.visibility). */
export function parseVisibility(text: string): Visibility | undefined {
  if (text === "") return undefined;
  if (text === "public" || text === "private") return text;
  throw new RegistryError(Code.InvalidArgument, `invalid visibility "${text}": use public or private`);
}

export const tokenMessage = (t: TokenRecord, user: string) =>
  create(TokenSchema, {
    id: t.id,
    user,
    note: t.note,
    createTime: t.createdAt,
    lastUsedTime: t.lastUsedAt ?? "",
    expireTime: t.expiresAt ?? "",
    revokeTime: t.revokedAt ?? "",
    scopes: t.scopes ?? [],
  });

export const organizationMessage = (o: Organization) =>
  create(OrganizationSchema, { id: o.id, name: o.name, createTime: o.createdAt });

export const memberMessage = (m: Member) => create(MemberSchema, { user: m.user.name, role: m.role });

export const userMessage = (u: User) =>
  create(UserSchema, {
    id: u.id,
    name: u.name,
    isAdmin: u.isAdmin,
    createTime: u.createdAt,
    botOf: u.botOf ?? "",
  });

export const moduleMessage = (m: Module) =>
  create(ModuleSchema, {
    id: m.id,
    owner: m.owner,
    name: m.name,
    visibility: m.visibility,
    defaultLabel: m.defaultLabel,
    createTime: m.createdAt,
    description: m.description ?? "",
    deprecated: m.deprecation !== undefined,
    deprecationMessage: m.deprecation ?? "",
  });

export const commitMessage = (c: Commit, deps: readonly CommitDep[] = []): CommitMessage =>
  create(CommitSchema, {
    id: c.id,
    owner: c.owner,
    module: c.module,
    seq: BigInt(c.seq),
    digest: c.digest,
    createdBy: c.createdBy,
    createTime: c.createdAt,
    deps: deps.map((d) =>
      create(CommitDepSchema, {
        commitId: d.commitId,
        owner: d.owner,
        module: d.module,
        seq: BigInt(d.seq),
        direct: d.direct,
      }),
    ),
  });

export const labelMessage = (l: Label, commitSeq: number) =>
  create(LabelSchema, {
    name: l.name,
    commitId: l.commitId,
    commitSeq: BigInt(commitSeq),
    updateTime: l.updatedAt,
  });

/** A plugin's or template's update request as a change: visibility and deprecation, each only when asked for. */
export function settingsChange(req: {
  visibility: string;
  deprecationMessage?: string | undefined;
  undeprecate: boolean;
}): { visibility?: Visibility; deprecation?: string | null } {
  if (req.undeprecate && req.deprecationMessage !== undefined) {
    throw new RegistryError(Code.InvalidArgument, "deprecate or undeprecate, not both");
  }
  const visibility = parseVisibility(req.visibility);
  return {
    ...(visibility ? { visibility } : {}),
    ...(req.deprecationMessage !== undefined ? { deprecation: req.deprecationMessage } : {}),
    ...(req.undeprecate ? { deprecation: null } : {}),
  };
}
