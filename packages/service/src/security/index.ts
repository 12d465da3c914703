export {
  type ConfinedPath,
  confinePath,
  requestPathSegments,
} from './confine-path.js';
export {
  authenticateChallenge,
  type Credential,
  type CredentialHeaders,
  type CredentialOptions,
  credentialFrom,
  generateToken,
  isAuthorized,
  isAuthorizedRequest,
  TOKEN_COOKIE,
  tokenCookie,
} from './credentials.js';
export { SecurityError } from './errors.js';
export {
  DEFAULT_HOST,
  isLoopbackHost,
  type ListenOptions,
  type ListenPolicy,
  resolveListenPolicy,
} from './listen-policy.js';
export { readTlsPair, selfSignedPair, type TlsPair } from './tls.js';
