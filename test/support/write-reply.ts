import type { ServerResponse } from "node:http";
import type { Reply } from "./scripted-receiver.js";

/** Answers with a scripted reply, after its delay: the Node receiver's and the workerd receiver hub's way. */
export function writeReply(res: ServerResponse, reply: Reply): void {
  const { status = 200, headers = {}, body = "ok", delayMs = 0, breakOff, until } = reply;
  const send = () => {
    if (res.destroyed) return;
    const length = breakOff ? { "content-length": String(Buffer.byteLength(body) + 100) } : {};
    res.writeHead(status, { "content-type": "text/plain", ...headers, ...length });
    if (!breakOff) return void res.end(body);
    res.write(body, () => breakOff === "close" && res.socket?.destroy());
  };
  if (until) void until.then(send);
  else if (delayMs) setTimeout(send, delayMs);
  else send();
}
