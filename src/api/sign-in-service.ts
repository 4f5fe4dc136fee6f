// SignInService: `protodepot login --sso`, the device authorization grant through the server (services/sso.ts).
import type { ServiceImpl } from "@connectrpc/connect";
import { PollDeviceSignInResponse_Status, type SignInService } from "../gen/protodepot/v1/sign_in_pb.js";
import type { Identity, IdentityService } from "../services/identities.js";
import type { SsoService } from "../services/sso.js";
import { principal } from "./context.js";

const toIdentity = (i: Identity) => ({
  issuer: i.issuer,
  provider: i.provider ?? "",
  subject: i.subject,
  linkTime: i.linkedAt,
  lastSignInTime: i.lastSignInAt ?? "",
});

export function createSignInServiceImpl(
  sso: SsoService,
  identities: IdentityService,
): ServiceImpl<typeof SignInService> {
  return {
    async listIdentities(req, ctx) {
      const list = await identities.list(await principal(ctx), req.user || undefined);
      return { identities: list.map(toIdentity) };
    },
    async unlinkIdentity(req, ctx) {
      const gone = await identities.unlink(await principal(ctx), req.provider, req.user || undefined);
      return { unlinked: gone.map(toIdentity) };
    },
    async startDeviceSignIn(req, ctx) {
      // Anyone may start one (a wrong token is still refused by the interceptor): signing in is what it is for.
      await principal(ctx);
      const started = await sso.startDeviceSignIn(req.provider || undefined);
      return {
        provider: started.provider,
        handle: started.handle,
        userCode: started.userCode,
        verificationUri: started.verificationUri,
        verificationUriComplete: started.verificationUriComplete ?? "",
        intervalSeconds: started.intervalSeconds,
        expiresInSeconds: started.expiresInSeconds,
      };
    },
    async pollDeviceSignIn(req, ctx) {
      const { client } = await principal(ctx);
      const polled = await sso.pollDeviceSignIn(req.provider, req.handle, client);
      if (polled.status !== "done") {
        return {
          status:
            polled.status === "pending"
              ? PollDeviceSignInResponse_Status.PENDING
              : PollDeviceSignInResponse_Status.SLOW_DOWN,
        };
      }
      return {
        status: PollDeviceSignInResponse_Status.DONE,
        token: polled.token,
        user: polled.user.name,
        expireTime: polled.expiresAt,
      };
    },
  };
}
