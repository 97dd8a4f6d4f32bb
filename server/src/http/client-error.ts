import http from 'node:http';
import type { Duplex } from 'node:stream';
import { randomBase62 } from '../random.js';

/**
 * Requests Node's HTTP parser rejects before any handler runs (control characters in a header, headers over
 * 16 KB, a broken request line) are answered by Node with a bare status line. This answers them in the
 * error model instead, so every client error looks the same.
 */
export function answerClientError(error: NodeJS.ErrnoException, socket: Duplex): void {
  // a response already under way on this connection, or a peer that is gone: nothing sensible to write
  if (error.code === 'ECONNRESET' || !socket.writable || (socket as { _httpMessage?: unknown })._httpMessage) {
    socket.destroy();
    return;
  }
  const [status, code, message] =
    error.code === 'HPE_HEADER_OVERFLOW'
      ? [431, 'headers_too_large', 'The request headers are larger than the server accepts (16 KB).']
      : error.code === 'ERR_HTTP_REQUEST_TIMEOUT'
        ? [408, 'request_timeout', 'The request was not received in time.']
        : [400, 'bad_request', 'The request is not valid HTTP (for example, a header contains a control character).'];
  const requestId = `req_${randomBase62(16)}`;
  const body = JSON.stringify({ error: { code, message }, request_id: requestId });
  socket.end(
    `HTTP/1.1 ${status} ${http.STATUS_CODES[status]}\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\nX-Request-Id: ${requestId}\r\nConnection: close\r\n\r\n${body}`,
  );
}
