// The official MCP TypeScript SDK as a client of examples/mcp_server.rs, for tests/mcp_e2e.rs.
//
//   MCP_URL=http://127.0.0.1:PORT/mcp ISSUER=http://127.0.0.1:PORT2 node mcp_client.mjs
//
// Prints one JSON object per line: every HTTP exchange the SDK makes (method, URL path,
// status, WWW-Authenticate; never a token or a request header), and the outcome of each step.
// Exits 0 once every step has run, whatever their outcome (the test judges them); non-zero
// only if the script itself fails or runs out of time.
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { ClientCredentialsProvider } from '@modelcontextprotocol/sdk/client/auth-extensions.js';

const mcpUrl = new URL(process.env.MCP_URL);
const issuer = process.env.ISSUER;

const emit = (event) => console.log(JSON.stringify(event));

// Every wait is bounded: the whole run, and each step.
setTimeout(() => {
  emit({ event: 'timeout' });
  process.exit(3);
}, 60_000).unref();

function withTimeout(promise, what) {
  let timer;
  return Promise.race([
    promise,
    new Promise((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what} timed out`)), 20_000);
    }),
  ]).finally(() => clearTimeout(timer));
}

// The SDK's fetch, recording what it sees.
function recordingFetch(client) {
  return async (input, init) => {
    const url = new URL(input instanceof Request ? input.url : String(input));
    const method = init?.method ?? (input instanceof Request ? input.method : 'GET');
    const response = await fetch(input, init);
    emit({
      event: 'http',
      client,
      method,
      origin: url.origin,
      path: url.pathname,
      status: response.status,
      www_authenticate: response.headers.get('www-authenticate'),
    });
    return response;
  };
}

async function connect(name, clientId, scope) {
  const authProvider = new ClientCredentialsProvider({
    clientId,
    clientSecret: 'interop-secret',
    scope,
    expectedIssuer: issuer,
  });
  const transport = new StreamableHTTPClientTransport(mcpUrl, {
    authProvider,
    fetch: recordingFetch(name),
  });
  const client = new Client({ name: `tower-bearer-e2e-${name}`, version: '1.0.0' });
  await withTimeout(client.connect(transport), `${name}: connect`);
  emit({ event: 'connected', client: name });
  return { client, transport };
}

function text(result) {
  return (result.content ?? []).filter((c) => c.type === 'text').map((c) => c.text).join('');
}

async function call(name, client, tool) {
  try {
    const result = await withTimeout(client.callTool({ name: tool, arguments: {} }), `${name}: ${tool}`);
    emit({ event: 'call', client: name, tool, ok: !result.isError, text: text(result) });
  } catch (e) {
    emit({ event: 'call', client: name, tool, ok: false, error: String(e?.message ?? e), code: e?.code ?? null });
  }
}

async function main() {
  // A client that may only get mcp:tools.
  const tools = await connect('tools', 'mcp-tools', 'mcp:tools');
  const list = await withTimeout(tools.client.listTools(), 'tools: listTools');
  emit({ event: 'tools', client: 'tools', names: list.tools.map((t) => t.name).sort() });
  await call('tools', tools.client, 'whoami');
  await call('tools', tools.client, 'admin_reset');
  await withTimeout(tools.transport.terminateSession(), 'tools: terminateSession');
  await tools.client.close();

  // Step-up: a client configured for mcp:tools mcp:admin.
  const admin = await connect('admin', 'mcp-admin', 'mcp:tools mcp:admin');
  await call('admin', admin.client, 'admin_reset');
  await call('admin', admin.client, 'whoami');
  await admin.client.close();
  emit({ event: 'done' });
}

main().then(
  () => process.exit(0),
  (e) => {
    emit({ event: 'failed', error: String(e?.message ?? e) });
    process.exit(1);
  },
);
