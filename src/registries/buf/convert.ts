// Domain records → the buf registry API's messages, and the ids buf sees.
import { createHash } from "node:crypto";
import { create } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { Code, RegistryError } from "../../core/errors.js";
import type { Commit, Label, Module, Organization, Owner, User, Visibility } from "../../core/types.js";
import {
  type Commit as CommitMessage,
  CommitSchema,
  DigestType,
} from "../../gen/buf/registry/module/v1/commit_pb.js";
import { LabelSchema } from "../../gen/buf/registry/module/v1/label_pb.js";
import { ModuleSchema, ModuleState, ModuleVisibility } from "../../gen/buf/registry/module/v1/module_pb.js";
import {
  OrganizationSchema,
  OwnerSchema,
  UserSchema,
  UserState,
  UserType,
} from "../../gen/buf/registry/owner/v1/owner_pb.js";

/**
 * buf addresses owners by id too (GetOwners during `buf dep update`). Our owners are names, so an owner's id is
 * its name in hex: 32 or more hex digits like every other id, and read back without a lookup table.
 */
export const ownerId = (name: string): string => Buffer.from(name).toString("hex").padEnd(32, "0");

export function ownerNameOfId(id: string): string {
  if (!/^(?:[0-9a-f]{2})+$/.test(id))
    throw new RegistryError(Code.NotFound, `owner with id ${id} does not exist`);
  return Buffer.from(id, "hex").toString("utf8").replace(/\0+$/, "");
}

const time = (iso: string) => timestampFromDate(new Date(iso));

export const moduleMessage = (m: Module) =>
  create(ModuleSchema, {
    id: m.id,
    createTime: time(m.createdAt),
    updateTime: time(m.createdAt),
    name: m.name,
    ownerId: ownerId(m.owner),
    visibility: m.visibility === "private" ? ModuleVisibility.PRIVATE : ModuleVisibility.PUBLIC,
    // buf warns "… is deprecated" on every command that resolves a deprecated module; its message has no field
    // here, so it is shown by our own API and CLI.
    state: m.deprecation === undefined ? ModuleState.ACTIVE : ModuleState.DEPRECATED,
    description: m.description ?? "",
    defaultLabelName: m.defaultLabel,
  });

export function parseModuleVisibility(v: ModuleVisibility): Visibility | undefined {
  if (v === ModuleVisibility.PRIVATE) return "private";
  if (v === ModuleVisibility.PUBLIC) return "public";
  return undefined;
}

export const commitMessage = (c: Commit, b5: string): CommitMessage =>
  create(CommitSchema, {
    id: c.id,
    createTime: time(c.createdAt),
    ownerId: ownerId(c.owner),
    moduleId: c.moduleId,
    digest: { type: DigestType.B5, value: Buffer.from(b5, "hex") },
    createdByUserId: ownerId(c.createdBy),
  });

/** A label's id: derived from module and name, so buf can show one without a column of its own. */
export const labelId = (moduleId: string, name: string): string =>
  createHash("sha256").update(`${moduleId}/${name}`).digest("hex").slice(0, 32);

export const labelMessage = (l: Label, owner: string) =>
  create(LabelSchema, {
    id: labelId(l.moduleId, l.name),
    createTime: time(l.updatedAt),
    updateTime: time(l.updatedAt),
    ...(l.archivedAt ? { archiveTime: time(l.archivedAt) } : {}),
    name: l.name,
    ownerId: ownerId(owner),
    moduleId: l.moduleId,
    commitId: l.commitId,
  });

export const userMessage = (u: User) =>
  create(UserSchema, {
    id: ownerId(u.name),
    createTime: time(u.createdAt),
    updateTime: time(u.createdAt),
    name: u.name,
    type: UserType.STANDARD,
    state: UserState.ACTIVE,
  });

export const organizationMessage = (o: Organization) =>
  create(OrganizationSchema, {
    id: ownerId(o.name),
    createTime: time(o.createdAt),
    updateTime: time(o.createdAt),
    name: o.name,
  });

export const ownerMessage = (o: Owner) =>
  create(OwnerSchema, {
    value:
      o.kind === "user"
        ? {
            case: "user",
            value: create(UserSchema, {
              id: ownerId(o.name),
              name: o.name,
              type: UserType.STANDARD,
              state: UserState.ACTIVE,
            }),
          }
        : { case: "organization", value: create(OrganizationSchema, { id: ownerId(o.name), name: o.name }) },
  });
