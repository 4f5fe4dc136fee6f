// How Connect handlers learn who is calling: the fastify adapter puts a principal getter in the context values.
import { createContextKey, type HandlerContext, type Interceptor } from "@connectrpc/connect";
import { anonymous, type Principal } from "../services/auth.js";

export const principalKey = createContextKey<() => Promise<Principal>>(async () => anonymous);

export function principal(ctx: HandlerContext): Promise<Principal> {
  return ctx.values.get(principalKey)();
}

/** Authenticates every call before its handler runs, so a wrong token is Unauthenticated on reads too. */
export const authInterceptor: Interceptor = (next) => async (req) => {
  await req.contextValues.get(principalKey)();
  return next(req);
};
