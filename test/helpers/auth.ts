import { secretKey, signAccessToken } from '../../src/auth/tokens.ts';

/** The secret, issuer and audience every in-process test server is configured with. */
export const TEST_JWT_SECRET = 'test-secret-for-writersroom-collab-0123456789';
export const TEST_JWT_ISSUER = 'writersroom-test';
export const TEST_JWT_AUDIENCE = 'writersroom-collab';

export const TEST_AUTH_ENV = {
  AUTH_JWT_SECRET: TEST_JWT_SECRET,
  AUTH_JWT_ISSUER: TEST_JWT_ISSUER,
  AUTH_JWT_AUDIENCE: TEST_JWT_AUDIENCE,
};

/** A valid access token for `userId`, as the product's sign-in would issue it. */
export async function tokenFor(userId: string, options: { admin?: boolean; ttlSeconds?: number } = {}): Promise<string> {
  const { token } = await signAccessToken({
    secret: secretKey(TEST_JWT_SECRET),
    userId,
    issuer: TEST_JWT_ISSUER,
    audience: TEST_JWT_AUDIENCE,
    ...options,
  });
  return token;
}
