// A certified OpenID provider (panva's oidc-provider) on 127.0.0.1 for the interop test.
// It issues RFC 9068 JWT access tokens through client_credentials and resource indicators:
// one client per signing algorithm (rs256, ps256, es256, eddsa). Every start generates new
// keys with new kids, so restarting it on the same port is a key rotation.
// For the MCP test, two more clients (client_secret_basic, as the MCP SDK's
// ClientCredentialsProvider authenticates): `mcp-tools` may get `mcp:tools`, `mcp-admin`
// `mcp:tools mcp:admin`, in RS256 JWTs whose audience is the resource they name (the MCP
// server's URL).
//
//   PORT=0 AUDIENCE=https://api.test node provider.mjs
// prints "issuer http://127.0.0.1:PORT" once it listens.
import { generateKeyPairSync, randomUUID } from 'node:crypto';
import Provider from 'oidc-provider';

const port = Number(process.env.PORT || 0);
const audience = process.env.AUDIENCE || 'https://api.test';

function key(type, options, alg) {
  const { privateKey } = generateKeyPairSync(type, options);
  return { ...privateKey.export({ format: 'jwk' }), alg, use: 'sig', kid: `${alg}-${randomUUID().slice(0, 8)}` };
}

const keys = [
  key('rsa', { modulusLength: 2048 }, 'RS256'),
  key('rsa', { modulusLength: 2048 }, 'PS256'),
  key('ec', { namedCurve: 'P-256' }, 'ES256'),
  key('ed25519', {}, 'EdDSA'),
];
const algByClient = { rs256: 'RS256', ps256: 'PS256', es256: 'ES256', eddsa: 'EdDSA' };
// `opaque` gets opaque access tokens; `rs` is the resource server, which introspects them.
const opaqueClients = ['opaque'];
// MCP clients and the most each may be granted.
const mcpScopes = { 'mcp-tools': 'mcp:tools', 'mcp-admin': 'mcp:tools mcp:admin' };

const server = (await import('node:http')).createServer();
await new Promise((resolve) => server.listen(port, '127.0.0.1', resolve));
const issuer = `http://127.0.0.1:${server.address().port}`;

const provider = new Provider(issuer, {
  clients: [...Object.keys(algByClient), ...opaqueClients].map((id) => ({
    client_id: id,
    client_secret: 'interop-secret',
    grant_types: ['client_credentials'],
    redirect_uris: [],
    response_types: [],
    token_endpoint_auth_method: 'client_secret_post',
  })).concat([{
    client_id: 'rs',
    client_secret: 'rs-secret',
    grant_types: ['client_credentials'],
    redirect_uris: [],
    response_types: [],
    token_endpoint_auth_method: 'client_secret_basic',
  }]).concat(Object.keys(mcpScopes).map((id) => ({
    client_id: id,
    client_secret: 'interop-secret',
    grant_types: ['client_credentials'],
    redirect_uris: [],
    response_types: [],
    token_endpoint_auth_method: 'client_secret_basic',
  }))),
  jwks: { keys },
  cookies: { keys: ['interop-cookie-key'] },
  features: {
    devInteractions: { enabled: false },
    clientCredentials: { enabled: true },
    introspection: { enabled: true },
    resourceIndicators: {
      enabled: true,
      defaultResource: () => audience,
      useGrantedResource: () => true,
      getResourceServerInfo: (ctx, resource, client) => {
        if (mcpScopes[client.clientId]) {
          return {
            scope: mcpScopes[client.clientId],
            audience: resource,
            accessTokenFormat: 'jwt',
            accessTokenTTL: 600,
            jwt: { sign: { alg: 'RS256' } },
          };
        }
        if (opaqueClients.includes(client.clientId)) {
          return {
            scope: 'users:read users:write users.profile:read accounts:read accounts:write',
            audience: resource,
            accessTokenFormat: 'opaque',
            accessTokenTTL: 600,
          };
        }
        return {
          scope: 'users:read users:write users.profile:read accounts:read accounts:write',
          audience: resource,
          accessTokenFormat: 'jwt',
          accessTokenTTL: 600,
          jwt: { sign: { alg: algByClient[client.clientId] } },
        };
      },
    },
  },
});
server.on('request', provider.callback());
console.log(`issuer ${issuer}`);
