// Bounds on connections: how many one client address and everyone together may hold, and how long a client may
// keep one without sending what it owes. What keeps a slow or greedy client from taking the file descriptors and
// sockets every other client needs (docs/deploy.md, "Connections").
import { readFileSync } from "node:fs";
import type { IncomingMessage, Server, ServerResponse } from "node:http";
import { isIPv6, type Server as NetServer, type Socket } from "node:net";

export interface ConnectionLimits {
  /** Connections held at once by this process; the next one is closed at once. 0: no limit. */
  maxConnections: number;
  /** Connections held at once from one client address (an IPv6 /64); the next one is closed at once. 0: no limit. */
  maxConnectionsPerAddress: number;
  /** Longest wait for a request's headers (and, on https, for the TLS handshake). */
  headersTimeoutMs: number;
  /** Longest wait for a whole request, body included. 0: no limit (the idle timeout still applies). */
  requestTimeoutMs: number;
  /**
   * Longest silence of a client while it is its turn: sending a request body, or reading a response. A server
   * working on a received request (a generation, a compile) is never cut by it.
   */
  idleTimeoutMs: number;
  /** Longest wait for the next request on a kept-alive connection. */
  keepAliveTimeoutMs: number;
}

export type RefusedReason = "address" | "total";

/**
 * The address a limit counts: IPv4 as is (IPv4-mapped IPv6 folded to it), IPv6 by its /64, since one host
 * usually holds a whole /64 and could otherwise open every connection from another address.
 */
export function addressKey(remoteAddress: string | undefined): string {
  if (!remoteAddress) return "";
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(remoteAddress);
  if (mapped?.[1]) return mapped[1];
  if (!isIPv6(remoteAddress)) return remoteAddress;
  const [head = "", tail = ""] = remoteAddress.toLowerCase().split("::");
  const left = head ? head.split(":") : [];
  const right = tail ? tail.split(":") : [];
  const groups = remoteAddress.includes("::")
    ? [...left, ...Array<string>(Math.max(0, 8 - left.length - right.length)).fill("0"), ...right]
    : left;
  return `${groups
    .slice(0, 4)
    .map((g) => g.replace(/^0+(?=.)/, ""))
    .join(":")}::/64`;
}

export interface ConnectionGate {
  /** Counts `socket` in, or says why it must be closed; a counted socket is counted out when it closes. */
  admit(socket: Socket): RefusedReason | undefined;
  /** Connections held now (for tests and metrics). */
  open(): number;
}

export function createConnectionGate(limits: {
  maxConnections: number;
  maxConnectionsPerAddress: number;
}): ConnectionGate {
  const perAddress = new Map<string, number>();
  let total = 0;
  return {
    admit(socket) {
      const key = addressKey(socket.remoteAddress);
      const held = perAddress.get(key) ?? 0;
      if (limits.maxConnectionsPerAddress > 0 && held >= limits.maxConnectionsPerAddress) return "address";
      if (limits.maxConnections > 0 && total >= limits.maxConnections) return "total";
      perAddress.set(key, held + 1);
      total++;
      socket.once("close", () => {
        total--;
        const left = (perAddress.get(key) ?? 1) - 1;
        if (left > 0) perAddress.set(key, left);
        else perAddress.delete(key);
      });
      return undefined;
    },
    open: () => total,
  };
}

/**
 * `auto` for server.maxConnections: what the process's open-file limit (RLIMIT_NOFILE, which Node raises to its
 * hard limit at start) leaves after headroom for the database, blob files, plugin pipes and the log: a fifth of the
 * limit, at least 512, and never more than 16384 connections (about 10 KiB of memory each while idle).
 */
export function autoMaxConnections(openFileLimit: number | undefined): number {
  const limit = openFileLimit ?? 1024;
  const headroom = Math.max(512, Math.floor(limit / 5));
  return Math.max(64, Math.min(16_384, limit - headroom));
}

/** The soft RLIMIT_NOFILE of this process from /proc (Linux); undefined elsewhere or when unlimited. */
export function readOpenFileLimit(limitsFile = "/proc/self/limits"): number | undefined {
  try {
    const line = readFileSync(limitsFile, "utf8")
      .split("\n")
      .find((l) => l.startsWith("Max open files"));
    const soft = line?.slice("Max open files".length).trim().split(/\s+/)[0];
    const n = Number(soft);
    return Number.isSafeInteger(n) && n > 0 ? n : undefined;
  } catch {
    return undefined;
  }
}

/** Node checks headersTimeout and requestTimeout on this period (its default, 30 s, would triple a 10 s bound). */
export const checkingIntervalMs = (limits: ConnectionLimits) =>
  Math.min(5000, Math.max(250, Math.floor(limits.headersTimeoutMs / 4)));

/** The node:http server options these limits set (given at creation: Node reads some of them only then). */
export function serverOptions(limits: ConnectionLimits) {
  return {
    headersTimeout:
      limits.requestTimeoutMs > 0
        ? Math.min(limits.headersTimeoutMs, limits.requestTimeoutMs)
        : limits.headersTimeoutMs,
    requestTimeout: limits.requestTimeoutMs,
    keepAliveTimeout: limits.keepAliveTimeoutMs,
    connectionsCheckingInterval: checkingIntervalMs(limits),
  };
}

export interface GuardedServer {
  /** Call from the request listener first: what the idle timeout needs to know whose turn it is. */
  track(req: IncomingMessage, res: ServerResponse): void;
  gate: ConnectionGate;
}

/**
 * Applies the limits to `server`: admission of each TCP connection before anything is parsed (or any TLS
 * handshake starts), and the idle timeout, which closes a connection whose client is silent while it owes bytes
 * (a request body, or reading the response) and leaves alone one whose request the server is still working on.
 */
/**
 * Closes a connection past the limits the moment it is accepted: before node:http, node:http2 or node:tls sees the
 * socket, so a refused one costs no parser and no handshake. The h2c port (http/h2c.ts) uses this alone.
 */
export function gateConnections(
  server: NetServer,
  limits: Pick<ConnectionLimits, "maxConnections" | "maxConnectionsPerAddress">,
  onRefused?: (reason: RefusedReason) => void,
): ConnectionGate {
  const gate = createConnectionGate(limits);
  server.prependListener("connection", (socket: Socket) => {
    const refused = gate.admit(socket);
    if (refused === undefined) return;
    onRefused?.(refused);
    socket.destroy();
  });
  return gate;
}

export function guardServer(
  server: Server,
  limits: ConnectionLimits,
  onRefused?: (reason: RefusedReason) => void,
): GuardedServer {
  const gate = gateConnections(server, limits, onRefused);
  const inFlight = new WeakMap<Socket, { req: IncomingMessage; res: ServerResponse }>();
  if (limits.idleTimeoutMs > 0) {
    server.setTimeout(limits.idleTimeoutMs);
    // With a listener here node:http no longer destroys a timed-out socket itself: this decides.
    server.on("timeout", (socket: Socket) => {
      const current = inFlight.get(socket);
      const serverTurn =
        current?.req.complete === true &&
        !current.res.writableEnded &&
        socket.writableLength === 0 &&
        !current.res.writableNeedDrain;
      // The timer starts again at the socket's next activity (the response, when the server has one).
      if (!serverTurn) socket.destroy();
    });
  }
  return {
    gate,
    track(req, res) {
      const socket = req.socket;
      inFlight.set(socket, { req, res });
      res.once("close", () => {
        if (inFlight.get(socket)?.res === res) inFlight.delete(socket);
      });
    },
  };
}
