// The AbortSignal of a request: aborted when the client goes away before its response is sent.
import type { FastifyReply } from "fastify";

const signals = new WeakMap<FastifyReply, AbortSignal>();

/** Blob reads and generation waits take it, so a client that disconnects stops the work done only for it. */
export function clientGone(reply: FastifyReply): AbortSignal {
  let signal = signals.get(reply);
  if (!signal) {
    const controller = new AbortController();
    signal = controller.signal;
    signals.set(reply, signal);
    const res = reply.raw;
    res.once("close", () => {
      if (!res.writableFinished) controller.abort(new Error("the client closed the connection"));
    });
  }
  return signal;
}
