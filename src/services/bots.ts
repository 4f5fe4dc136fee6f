// Bots: users that belong to an organization (service accounts for CI). The organization's owners create and delete
// them and manage their tokens (services/users.ts); a bot signs in to no web UI and manages nothing itself.
import { Code, RegistryError } from "../core/errors.js";
import { checkName } from "../core/names.js";
import type { Role, User } from "../core/types.js";
import type { MetadataStores, OwnerStore, UserStore } from "../storage/meta/metadata-store.js";
import type { AccessPolicy } from "./access.js";
import type { AuditTrail } from "./audit.js";
import type { Principal } from "./auth.js";
import { requireUnscoped } from "./scopes.js";

export interface Bot {
  user: User;
  role: Role;
}

export interface BotService {
  /** A bot of `org` with `role` in it (writer or reader; never owner). */
  create(principal: Principal, org: string, name: string, role: Role): Promise<Bot>;
  list(principal: Principal, org: string): Promise<Bot[]>;
  /** Revokes the bot's tokens and removes it from the organization; its name stays taken. */
  delete(principal: Principal, org: string, name: string): Promise<void>;
}

export type BotStore = Pick<UserStore, "createUser" | "getUserByName" | "listBots" | "deleteBot"> &
  Pick<OwnerStore, "getOrganization" | "setMember" | "removeMember" | "listMembers">;

export interface BotServiceOptions {
  meta: BotStore & { transaction<T>(fn: (tx: MetadataStores) => Promise<T>): Promise<T> };
  access: Pick<AccessPolicy, "requireManage">;
  audit: Pick<AuditTrail, "appendIn">;
}

/** Bots are managed by their organization's owners (and admins), with a token without a scope. */
async function requireBotManager(access: BotServiceOptions["access"], principal: Principal, org: string) {
  requireUnscoped(principal.scopes, "managing bots");
  if (principal.user?.botOf) {
    throw new RegistryError(Code.PermissionDenied, `bot ${principal.user.name} may not manage bots`);
  }
  return access.requireManage(principal, org, "manage bots");
}

export function createBotService({ meta, access, audit }: BotServiceOptions): BotService {
  async function organization(name: string) {
    const org = await meta.getOrganization(name);
    if (!org) throw new RegistryError(Code.NotFound, `organization ${name} does not exist`, { owner: name });
    return org;
  }
  async function botOf(org: string, name: string): Promise<User> {
    const user = await meta.getUserByName(name);
    if (!user || user.botOf !== org || user.deletedAt) {
      throw new RegistryError(Code.NotFound, `organization ${org} has no bot ${name}`, { owner: org });
    }
    return user;
  }

  return {
    async create(principal, orgName, name, role) {
      await requireBotManager(access, principal, orgName);
      const org = await organization(orgName);
      checkName("bot", name);
      if (role === "owner") {
        throw new RegistryError(
          Code.InvalidArgument,
          "a bot may be a writer or a reader of its organization, never an owner",
        );
      }
      return meta.transaction(async (tx) => {
        const user = await tx.createUser({ name, isAdmin: false, botOf: orgName });
        await tx.setMember(org.id, user.id, role);
        await audit.appendIn(tx, principal, {
          action: "bot.create",
          target: `bot ${name}`,
          owner: orgName,
          after: { role },
        });
        return { user, role };
      });
    },
    async list(principal, orgName) {
      await requireBotManager(access, principal, orgName);
      const org = await organization(orgName);
      const roles = new Map((await meta.listMembers(org.id)).map((m) => [m.user.id, m.role]));
      return (await meta.listBots(orgName)).map((user) => ({ user, role: roles.get(user.id) ?? "reader" }));
    },
    async delete(principal, orgName, name) {
      await requireBotManager(access, principal, orgName);
      const org = await organization(orgName);
      const bot = await botOf(orgName, name);
      await meta.transaction(async (tx) => {
        const at = new Date().toISOString();
        await tx.deleteBot(bot.id, at);
        await tx.removeMember(org.id, bot.id);
        await audit.appendIn(tx, principal, { action: "bot.delete", target: `bot ${name}`, owner: orgName });
      });
    },
  };
}
