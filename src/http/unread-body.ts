// A response sent before its request's body was read (a refused upload, a body over a limit) ends the connection:
// the client may still be writing that body, and a connection the server no longer reads from cannot carry the
// client's next request. Left open, it hung until the idle timeout, and the client's next request on it failed.
import type { FastifyInstance } from "fastify";

/**
 * How long an answer waits for the rest of a body it did not read. Closing a connection with unread bytes in its
 * receive buffer makes the kernel reset it, and a client still writing its body may then lose the answer ("fetch
 * failed" instead of a 413); a client that stopped sending gets the answer after this, and the connection ends.
 */
const drainMs = 1000;

export function closeAfterUnreadBodies(app: FastifyInstance): void {
  app.addHook("onSend", async (request, reply, payload) => {
    const raw = request.raw;
    if (raw.complete) return payload;
    reply.header("connection", "close");
    // What is still arriving is read and dropped; the answer goes once it has all arrived, or drainMs has passed.
    await new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(timer);
        raw.off("end", done).off("close", done).off("error", done);
        resolve();
      };
      const timer = setTimeout(done, drainMs);
      raw.once("end", done).once("close", done).once("error", done);
      raw.resume();
    });
    return payload;
  });
}
