// How much any answer from outside may be, and what a failed exchange is called, for every HTTP
// client here (Mimecast, Graph, Entra's token service, the runners' ID-token services). Imports no
// HTTP library: clients pass their errors in, and only the error's code and kind are read (an
// axios error also carries the request headers, i.e. our credentials: nothing else is kept).
import { DeadlineExceededError } from "./deadline";

/** The largest answer read from any API or metadata URL, after decompression. Ours are kilobytes. */
export const MAX_RESPONSE_BYTES = 1_000_000;

/** One line for a failed exchange: timed out, too large, cut off, or the network code. */
export function describeTransportError(e: unknown, timeoutMs: number, maxBytes = MAX_RESPONSE_BYTES): string {
  if (e instanceof DeadlineExceededError) return `timed out after ${timeoutMs} ms`;
  const { code, message } = (e ?? {}) as { code?: string; message?: string };
  if (code === "ERR_CANCELED" || code === "ECONNABORTED" || code === "ETIMEDOUT") return `timed out after ${timeoutMs} ms`;
  // axios says ERR_BAD_RESPONSE both for "too large" and for a connection closed mid-body.
  if (/maxContentLength/.test(message ?? "") || code === "ERR_RESPONSE_TOO_LARGE") return `the answer is larger than ${maxBytes} bytes: refused without reading it whole`;
  if (code === "ERR_BAD_RESPONSE" || code === "ECONNRESET" || /aborted|socket hang up|premature close/i.test(message ?? "")) {
    return `the connection was closed before the whole answer arrived (${code ?? "cut off"})`;
  }
  return code ?? "network error";
}

/** Read a byte stream to text, refusing more than `maxBytes` (the stream is destroyed at once). */
export async function readCapped(stream: NodeJS.ReadableStream, maxBytes = MAX_RESPONSE_BYTES): Promise<string> {
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of stream as AsyncIterable<Buffer | string>) {
    const b = typeof chunk === "string" ? Buffer.from(chunk) : chunk;
    total += b.length;
    if (total > maxBytes) {
      (stream as unknown as { destroy?: () => void }).destroy?.();
      throw Object.assign(new Error(`answer larger than ${maxBytes} bytes`), { code: "ERR_RESPONSE_TOO_LARGE" });
    }
    chunks.push(b);
  }
  return Buffer.concat(chunks).toString("utf8");
}
