// Baseline: bare node:http answering every request with a 302 redirect, as GET /r/:code does.
import http from 'node:http';
import { listen } from './listen.js';

listen(
  http.createServer((_req, res) => {
    res.writeHead(302, { location: 'https://example.com/landing/1', 'cache-control': 'private, no-store', 'content-length': 0 });
    res.end();
  }),
);
