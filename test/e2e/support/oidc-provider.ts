// A real OpenID Connect provider (the oidc-provider package) on loopback for the sign-in tests: its own RSA key
// made here, one confidential client with PKCE and the device flow, and accounts whose groups a test may change
// between sign-ins. Its login and consent pages are oidc-provider's development interactions (any password).
import { generateKeyPairSync, randomBytes } from "node:crypto";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import Provider, { type JWK } from "oidc-provider";

export interface TestAccount {
  /** What the provider sends as preferred_username. */
  username: string;
  groups: string[];
}

export interface TestIdp {
  issuer: string;
  clientId: string;
  clientSecret: string;
  /** Accounts by login name (the subject); a test edits their groups between sign-ins. */
  accounts: Map<string, TestAccount>;
  /**
   * Registers the client with the server's callback URLs, known only once that server listens (it needs the
   * issuer first): the provider answers 503 until then.
   */
  register(redirectUris: string[]): void;
  close(): Promise<void>;
}

/** Listens first (so the issuer URL is known); the provider itself starts at register(). */
export async function startTestIdp(opts: { accounts: Record<string, TestAccount> }): Promise<TestIdp> {
  const accounts = new Map(Object.entries(opts.accounts));
  let handler: ((req: IncomingMessage, res: ServerResponse) => void) | undefined;
  const server = createServer((req, res) => {
    if (handler) handler(req, res);
    else res.writeHead(503).end();
  });
  await new Promise<void>((done) => server.listen(0, "127.0.0.1", done));
  const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const clientId = "protodepot";
  const clientSecret = randomBytes(24).toString("base64url");
  const { privateKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
  const jwk: JWK = {
    ...(privateKey.export({ format: "jwk" }) as JWK),
    kid: "test",
    use: "sig",
    alg: "RS256",
  };
  const register = (redirectUris: string[]) => {
    const provider = new Provider(issuer, {
      clients: [
        {
          client_id: clientId,
          client_secret: clientSecret,
          redirect_uris: redirectUris,
          grant_types: ["authorization_code", "urn:ietf:params:oauth:grant-type:device_code"],
          response_types: ["code"],
          token_endpoint_auth_method: "client_secret_basic",
        },
      ],
      jwks: { keys: [jwk] },
      cookies: { keys: [randomBytes(32).toString("hex")] },
      pkce: { required: () => true },
      features: { devInteractions: { enabled: true }, deviceFlow: { enabled: true } },
      scopes: ["openid", "profile", "groups"],
      claims: { openid: ["sub"], profile: ["preferred_username"], groups: ["groups"] },
      async findAccount(_ctx, id) {
        return {
          accountId: id,
          async claims() {
            const account = accounts.get(id);
            return { sub: id, preferred_username: account?.username ?? id, groups: account?.groups ?? [] };
          },
        };
      },
    });
    handler = provider.callback();
  };
  return {
    issuer,
    clientId,
    clientSecret,
    accounts,
    register,
    close: () =>
      new Promise<void>((done) => {
        server.closeAllConnections();
        server.close(() => done());
      }),
  };
}
