import type { INodeProperties } from 'n8n-workflow';

// Usage Get takes no parameters: it reports on the workspace of the API key.
export const usageGetDescription: INodeProperties[] = [];
