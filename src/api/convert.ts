// Domain records → management API messages.
import { create } from "@bufbuild/protobuf";
import type { Commit, CommitDep, Label, Module, User } from "../core/types.js";
import {
  CommitDepSchema,
  type Commit as CommitMessage,
  CommitSchema,
  LabelSchema,
  ModuleSchema,
} from "../gen/protodepot/v1/module_pb.js";
import { UserSchema } from "../gen/protodepot/v1/user_pb.js";

export const userMessage = (u: User) =>
  create(UserSchema, { id: u.id, name: u.name, isAdmin: u.isAdmin, createTime: u.createdAt });

export const moduleMessage = (m: Module) =>
  create(ModuleSchema, {
    id: m.id,
    owner: m.owner,
    name: m.name,
    visibility: m.visibility,
    defaultLabel: m.defaultLabel,
    createTime: m.createdAt,
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
