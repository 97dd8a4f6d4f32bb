// Baseline: bare node:http answering a small JSON document.
import http from 'node:http';
import { listen, SMALL_JSON } from './listen.js';

const body = JSON.stringify(SMALL_JSON);
listen(
  http.createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(body) });
    res.end(body);
  }),
);
