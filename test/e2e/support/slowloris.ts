// A slow-loris attacker, run as its own process so the test's measurements share no event loop with it:
// `node --import tsx slowloris.ts URL COUNT`. It keeps COUNT connections open from 127.0.0.1, a third of them idle,
// a third trickling request headers, a third trickling a request body, reopening each one the server closes
// 5 s later (a tight reconnect loop is a CPU flood, a firewall's job, not what this test is about). One JSON line of counts on stdout every 250 ms. On "hold\n" on stdin it stops reopening, so the
// test can watch the server close what is left.
import { connect, type Socket } from "node:net";

const [url = "", countArg = "0"] = process.argv.slice(2);
const { hostname, port } = new URL(url);
const count = Number(countArg);
const reopenMs = 5000;
const trickleMs = 500;

const stats = { attempted: 0, connected: 0, open: 0, closedByServer: 0, answered: 0, openByKind: [0, 0, 0] };
let reopening = true;

const requests = [
  "",
  `GET /healthz HTTP/1.1\r\nHost: ${hostname}\r\nX-Padding: ${"a".repeat(4000)}\r\n\r\n`,
  `POST /protodepot.v1.ModuleService/Push HTTP/1.1\r\nHost: ${hostname}\r\nContent-Type: application/json\r\nContent-Length: 1000000\r\n\r\n${"{".repeat(4000)}`,
];

function open(kind: number): void {
  stats.attempted++;
  const socket: Socket = connect({ host: hostname, port: Number(port), localAddress: "127.0.0.1" });
  let timer: NodeJS.Timeout | undefined;
  let sent = 0;
  let connected = false;
  socket.on("connect", () => {
    connected = true;
    stats.connected++;
    stats.open++;
    stats.openByKind[kind] = (stats.openByKind[kind] ?? 0) + 1;
    const text = requests[kind] ?? "";
    if (!text) return;
    timer = setInterval(() => {
      if (sent < text.length) socket.write(text[sent++] as string);
    }, trickleMs);
  });
  socket.on("data", () => stats.answered++);
  socket.on("error", () => {});
  socket.on("close", () => {
    clearInterval(timer);
    // This process never closes a socket itself: every close of a connected one is the server's.
    if (connected) {
      stats.open--;
      stats.openByKind[kind] = (stats.openByKind[kind] ?? 0) - 1;
      stats.closedByServer++;
    }
    if (reopening) setTimeout(() => open(kind), reopenMs).unref();
  });
}

for (let i = 0; i < count; i++) open(i % 3);
process.stdin.on("data", (d: Buffer) => {
  if (d.toString().includes("hold")) reopening = false;
});
setInterval(() => process.stdout.write(`${JSON.stringify(stats)}\n`), 250);
