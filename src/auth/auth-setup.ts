import { ConfigError, type WarrenConfig } from '../config.js';
import { AuthBackends, type AuthBackend } from './auth-backends.js';
import type { Authenticator } from './authenticator.js';
import { TokenValidator } from './token-validator.js';
import type { UserStore } from './user-store.js';

export type AuthConfig = Pick<
  WarrenConfig,
  | 'authBackends'
  | 'oauth2Issuer'
  | 'oauth2JwksUrl'
  | 'oauth2ResourceServerId'
  | 'oauth2KeyFile'
  | 'oauth2Hs256Key'
  | 'oauth2ScopeClaim'
  | 'oauth2UsernameClaim'
>;

/**
 * The authenticator every protocol and the API use: the user store alone, or with token login when an
 * OAuth 2 issuer or key is configured. Throws (at start) on a configuration that cannot work.
 */
export function createAuthenticator(users: UserStore, config: AuthConfig): Authenticator {
  const tokenConfigured = config.oauth2Issuer !== '' || config.oauth2JwksUrl !== '' || config.oauth2KeyFile.length > 0 || config.oauth2Hs256Key !== '';
  const backends: readonly AuthBackend[] = config.authBackends.length > 0 ? config.authBackends : tokenConfigured ? ['internal', 'oauth2'] : ['internal'];
  if (!backends.includes('oauth2')) return users;
  if (!tokenConfigured) {
    throw new ConfigError('--auth-backends oauth2 needs --oauth2-issuer, --oauth2-jwks-url, --oauth2-key-file or --oauth2-hs256-key');
  }
  let tokens: TokenValidator;
  try {
    tokens = new TokenValidator({
      resourceServerId: config.oauth2ResourceServerId,
      issuer: config.oauth2Issuer || undefined,
      jwksUrl: config.oauth2JwksUrl || undefined,
      keyFiles: config.oauth2KeyFile,
      hs256Key: config.oauth2Hs256Key || undefined,
      scopeClaim: config.oauth2ScopeClaim || undefined,
      usernameClaims: config.oauth2UsernameClaim,
    });
  } catch (error) {
    throw new ConfigError(`--oauth2-key-file: ${(error as Error).message}`);
  }
  return new AuthBackends(users, tokens, backends);
}
