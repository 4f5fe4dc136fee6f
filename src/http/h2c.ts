// The cleartext HTTP/2 (h2c, prior knowledge) listener of server.h2cPort: gRPC clients, `buf curl --protocol grpc
// --http2-prior-knowledge` and bidi streams (gRPC server reflection) reach the Connect router here. It is a
// second port, not a sniff of the main one: the main port's HTTP/1.1 path (Fastify, connection limits, kept
// answers) stays as it is, and each listener is plain Node. Requests pass the same checks as on the main port
// before a byte of their body is read, the rate limits among them.
import http2 from "node:http2";

/** Why a request is refused before its body is read (api/guards.ts decides). */
export interface H2cRefusal {
  status: 401 | 413 | 429;
  code: "unauthenticated" | "resource_exhausted";
  message: string;
  /** Rate limits: seconds until the caller may ask again (a Retry-After header). */
  retryAfterSeconds?: number;
}

export interface H2cOptions {
  /** The Connect router as a Node handler (connectNodeAdapter). */
  handler: (req: http2.Http2ServerRequest, res: http2.Http2ServerResponse) => void;
  /** Runs before the handler, the body unread; an answer refuses the request. */
  refuse(req: http2.Http2ServerRequest): Promise<H2cRefusal | undefined>;
  /** Closes a session silent this long (server.idleTimeoutMs); 0: never. */
  idleTimeoutMs: number;
  /** Where a failure of the checks themselves (not a refusal) is reported. */
  onError(err: unknown): void;
}

/** gRPC's numbers for the codes a refusal uses. */
const grpcStatus: Record<H2cRefusal["code"], number> = { unauthenticated: 16, resource_exhausted: 8 };

export interface H2cServer {
  server: http2.Http2Server;
  /** Stops accepting, asks every session to finish (GOAWAY), and ends those still open after `graceMs`. */
  close(graceMs?: number): Promise<void>;
}

export function createH2cServer(o: H2cOptions): H2cServer {
  const sessions = new Set<http2.ServerHttp2Session>();
  const server = http2.createServer({ settings: { maxConcurrentStreams: 100 } }, (req, res) => {
    o.refuse(req).then(
      (refusal) => (refusal ? sendRefusal(req, res, refusal) : o.handler(req, res)),
      (err: unknown) => {
        o.onError(err);
        sendRefusal(req, res, undefined);
      },
    );
  });
  server.on("session", (session) => {
    sessions.add(session);
    session.once("close", () => sessions.delete(session));
  });
  if (o.idleTimeoutMs > 0) server.setTimeout(o.idleTimeoutMs);
  return {
    server,
    async close(graceMs = 5000) {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const s of sessions) s.close();
      const timer = setTimeout(() => {
        for (const s of sessions) s.destroy();
      }, graceMs);
      timer.unref();
      await closed;
      clearTimeout(timer);
    },
  };
}

/** A refusal in the caller's protocol: gRPC's trailers-only answer, else Connect's JSON error. */
function sendRefusal(
  req: http2.Http2ServerRequest,
  res: http2.Http2ServerResponse,
  refusal: H2cRefusal | undefined,
): void {
  const code = refusal?.code ?? "internal";
  const message = refusal?.message ?? "the request could not be checked; try again";
  const retry = refusal?.retryAfterSeconds ? { "retry-after": String(refusal.retryAfterSeconds) } : {};
  if ((req.headers["content-type"] ?? "").startsWith("application/grpc")) {
    res.writeHead(200, {
      "content-type": req.headers["content-type"],
      "grpc-status": String(refusal ? grpcStatus[refusal.code] : 13),
      "grpc-message": encodeURIComponent(message),
      ...retry,
    });
    res.end();
    return;
  }
  res.writeHead(refusal?.status ?? 500, { "content-type": "application/json", ...retry });
  res.end(JSON.stringify({ code, message }));
}
