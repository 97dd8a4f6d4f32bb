// Baseline: a bare Express 5 app (default settings) answering the same small JSON as node-json.
import http from 'node:http';
import express from 'express';
import { listen, SMALL_JSON } from './listen.js';

const app = express();
app.get('/json', (_req, res) => {
  res.json(SMALL_JSON);
});
listen(http.createServer(app));
