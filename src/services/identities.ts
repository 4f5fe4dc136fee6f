// Linked provider accounts, self-service (docs/sso.md, "Linked accounts"): a user lists the OpenID Connect accounts
// that sign in as them and unlinks one; admins do the same for anyone. Unlinking the last one is refused while
// auth.localSignIn is false, since the user could then no longer sign in to the web UI at all.
import { Code, RegistryError } from "../core/errors.js";
import { checkName } from "../core/names.js";
import type { User } from "../core/types.js";
import type { IdentityStore, LinkedIdentity, UserStore } from "../storage/meta/metadata-store.js";
import type { AuditTrail } from "./audit.js";
import { type Principal, requireUser } from "./auth.js";
import { requireUnscoped } from "./scopes.js";

/** A linked account, with the configured provider of its issuer (absent when none is configured now). */
export interface Identity extends LinkedIdentity {
  provider?: string;
}

export interface IdentityService {
  /** The accounts linked to `user` (default: the caller; another user: admins only). */
  list(principal: Principal, user?: string): Promise<Identity[]>;
  /**
   * Unlinks the accounts of one provider (its name or issuer URL) from `user`; answers those unlinked. Refused for
   * the last one while auth.localSignIn is false.
   */
  unlink(principal: Principal, provider: string, user?: string): Promise<Identity[]>;
}

export interface IdentityServiceOptions {
  store: Pick<IdentityStore, "listIdentities" | "unlinkIdentity"> & Pick<UserStore, "getUserByName">;
  audit?: Pick<AuditTrail, "record">;
  providers: readonly { name: string; issuer: string }[];
  /** config auth.localSignIn: false makes a user's last linked account their only way to sign in. */
  localSignIn: boolean;
}

/** The caller, or (admins only) the named user; a missing user answers NotFound. */
async function subjectOf(
  o: IdentityServiceOptions,
  principal: Principal,
  name: string | undefined,
  op: string,
) {
  const caller = requireUser(principal, op);
  if (!name || name === caller.name) return caller;
  if (!caller.isAdmin) {
    throw new RegistryError(Code.PermissionDenied, `${op} of another user is for admins only`, { op });
  }
  const user = await o.store.getUserByName(checkName("user", name));
  if (!user || user.deletedAt) throw new RegistryError(Code.NotFound, `user ${name} does not exist`, { op });
  return user;
}

const sameIssuer = (a: string, b: string) => a.replace(/\/+$/, "") === b.replace(/\/+$/, "");

function withProvider(o: IdentityServiceOptions, linked: LinkedIdentity): Identity {
  const provider = o.providers.find((p) => sameIssuer(p.issuer, linked.issuer));
  return { ...linked, ...(provider ? { provider: provider.name } : {}) };
}

async function unlinkIdentities(
  o: IdentityServiceOptions,
  principal: Principal,
  user: User,
  provider: string,
  op: string,
): Promise<Identity[]> {
  const linked = (await o.store.listIdentities(user.id)).map((i) => withProvider(o, i));
  const chosen = linked.filter((i) => i.provider === provider || sameIssuer(i.issuer, provider));
  if (chosen.length === 0) {
    const names = linked.map((i) => i.provider ?? i.issuer).join(", ");
    throw new RegistryError(
      Code.NotFound,
      `${user.name} has no account of ${provider.slice(0, 200)} linked (linked: ${names || "none"})`,
      { op },
    );
  }
  if (!o.localSignIn && chosen.length === linked.length) {
    throw new RegistryError(
      Code.FailedPrecondition,
      `${provider.slice(0, 200)} is ${user.name}'s only way to sign in, and signing in with a token is turned off on ` +
        "this server (auth.localSignIn: false): link another provider's account first by signing in with it",
      { op },
    );
  }
  for (const identity of chosen) {
    if (!(await o.store.unlinkIdentity(user.id, identity.issuer, identity.subject))) continue;
    await o.audit?.record(principal, {
      action: "identity.unlink",
      target: `user ${user.name}`,
      owner: user.name,
      before: { issuer: identity.issuer, subject: identity.subject, provider: identity.provider ?? null },
    });
  }
  return chosen;
}

export function createIdentityService(o: IdentityServiceOptions): IdentityService {
  return {
    async list(principal, name) {
      const user = await subjectOf(o, principal, name, "listing linked accounts");
      return (await o.store.listIdentities(user.id)).map((i) => withProvider(o, i));
    },

    async unlink(principal, provider, name) {
      const op = "unlinking an account";
      requireUnscoped(principal.scopes, op);
      const user = await subjectOf(o, principal, name, op);
      return unlinkIdentities(o, principal, user, provider.trim(), op);
    },
  };
}
