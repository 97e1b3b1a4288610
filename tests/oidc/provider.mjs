// A real OpenID provider for the single sign-on tests (tests/oidc/__init__.py starts it): panva's
// certified oidc-provider (npm, package.json's devDependencies) on loopback, with two clients.
//
//   node tests/oidc/provider.mjs PORT REDIRECT_URI POST_LOGOUT_URI
//
// Prints "listening ISSUER" when it answers. Nobody types a password here: the login
// interaction signs on the account the test chose last (POST /test/next with JSON
// {"sub": ..., "claims": {...}}), and consent is given for the scopes asked
// (loadExistingGrant). POST /test/settings with {"idTokenTtl": seconds, "clockOffset":
// seconds} changes how long the next ID tokens live and sets the provider's clock wrong by the
// offset (as a server whose clock is behind). Everything else is the library's own, unchanged.
import crypto from 'node:crypto';
import http from 'node:http';

import Provider from 'oidc-provider';

const [port, redirectUri, postLogoutUri] = process.argv.slice(2);
const issuer = `http://127.0.0.1:${port}`;

const accounts = new Map();
let next = null;
const settings = { idTokenTtl: 3600, clockOffset: 0 };

const realNow = Date.now;
Date.now = () => realNow() + settings.clockOffset * 1000;

const signingKey = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 })
  .privateKey.export({ format: 'jwk' });

const clients = ['stemmer', 'other-service'].map((id) => ({
  client_id: id,
  client_secret: `${id}-secret`,
  redirect_uris: [redirectUri],
  post_logout_redirect_uris: [postLogoutUri],
  grant_types: ['authorization_code'],
  response_types: ['code'],
}));

const provider = new Provider(issuer, {
  clients,
  jwks: { keys: [{ ...signingKey, kid: 'test-key', alg: 'RS256', use: 'sig' }] },
  cookies: { keys: ['a test cookie key of the provider'] },
  claims: {
    openid: ['sub'],
    email: ['email', 'email_verified'],
    profile: ['name', 'roles'],
  },
  // The claims of the scopes asked for go into the ID token (as Entra ID does), not only
  // into the userinfo endpoint's answer.
  conformIdTokenClaims: false,
  features: {
    devInteractions: { enabled: false },
    rpInitiatedLogout: {
      enabled: true,
      // The library's own page loads a web font from the internet: a plain one instead.
      async logoutSource(ctx, form) {
        ctx.body = `<!DOCTYPE html><html lang="en"><head><title>Logout</title></head><body>
          <h1>Sign out?</h1>${form}
          <button type="submit" form="op.logoutForm" value="yes" name="logout">Yes, sign me out</button>
          </body></html>`;
      },
    },
  },
  ttl: { IdToken: () => settings.idTokenTtl },
  async findAccount(ctx, sub) {
    const claims = accounts.get(sub);
    if (!claims) return undefined;
    return { accountId: sub, claims: async () => ({ sub, ...claims }) };
  },
  async loadExistingGrant(ctx) {
    const grant = new ctx.oidc.provider.Grant({
      clientId: ctx.oidc.client.clientId,
      accountId: ctx.oidc.session.accountId,
    });
    grant.addOIDCScope(ctx.oidc.params.scope);
    await grant.save();
    return grant;
  },
});

async function readJson(req) {
  let body = '';
  for await (const chunk of req) body += chunk;
  return JSON.parse(body || '{}');
}

const callback = provider.callback();

http.createServer(async (req, res) => {
  try {
    if (req.method === 'POST' && req.url === '/test/next') {
      const { sub, claims } = await readJson(req);
      accounts.set(sub, claims);
      next = sub;
      res.writeHead(204).end();
    } else if (req.method === 'POST' && req.url === '/test/settings') {
      Object.assign(settings, await readJson(req));
      res.writeHead(204).end();
    } else if (req.method === 'GET' && req.url.startsWith('/interaction/')) {
      const { prompt } = await provider.interactionDetails(req, res);
      if (prompt.name !== 'login' || !next) throw new Error(`unexpected prompt ${prompt.name}`);
      await provider.interactionFinished(req, res, { login: { accountId: next } }, {
        mergeWithLastSubmission: false,
      });
    } else {
      callback(req, res);
    }
  } catch (error) {
    res.writeHead(500, { 'content-type': 'text/plain' }).end(String(error));
  }
}).listen(Number(port), '127.0.0.1', () => {
  console.log(`listening ${issuer}`);
});
