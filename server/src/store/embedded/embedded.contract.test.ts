import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll } from 'vitest';
import { describeStoreContract } from '../store.contract.js';
import { describeScanContract } from '../scans.contract.js';
import { LowdbStore } from './lowdb-store.js';

const directories: string[] = [];
let dataFile = '';

afterAll(() => {
  for (const directory of directories) fs.rmSync(directory, { recursive: true, force: true });
});

const harness = () => ({
  open: () => LowdbStore.open(dataFile, { onFatal: (error) => { throw error; } }),
  reset: async () => {
    const directory = fs.mkdtempSync(path.join(os.tmpdir(), 'qrflow-contract-'));
    directories.push(directory);
    dataFile = path.join(directory, 'qrflow.json');
  },
});

describeStoreContract('embedded (lowdb snapshot + log)', harness);
describeScanContract('embedded (scan log)', harness);
