// How Connect handlers learn who is calling: the fastify adapter puts a principal getter in the context values.
import { createContextKey, type HandlerContext } from "@connectrpc/connect";
import { anonymous, type Principal } from "../services/auth.js";

export const principalKey = createContextKey<() => Promise<Principal>>(async () => anonymous);

export function principal(ctx: HandlerContext): Promise<Principal> {
  return ctx.values.get(principalKey)();
}
