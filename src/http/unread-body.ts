// A response sent before its request's body was read (a refused upload, a body over a limit) ends the connection:
// the client may still be writing that body, and a connection the server no longer reads from cannot carry the
// client's next request. Left open, it hung until the idle timeout, and the client's next request on it failed.
import type { FastifyInstance } from "fastify";

export function closeAfterUnreadBodies(app: FastifyInstance): void {
  app.addHook("onSend", async (request, reply, payload) => {
    if (request.raw.complete) return payload;
    reply.header("connection", "close");
    // What is still arriving is read and dropped (for at most server.requestTimeoutMs), so the kernel does not reset
    // the connection, losing this answer, while unread bytes are in its receive buffer.
    request.raw.resume();
    return payload;
  });
}
