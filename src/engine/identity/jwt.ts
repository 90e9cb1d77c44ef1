// Session tokens: HS256 JWTs with Daptin's claims, signed with the instance secret kept in `_config`.
import { errors, jwtVerify, SignJWT } from "jose";
import { unauthorized } from "../errors.ts";
import { newReferenceId } from "../data/ids.ts";

export interface TokenSettings {
  secret: string;
  issuer: string;
  lifetimeHours: number;
}

export interface TokenClaims {
  email: string;
  name: string;
  sub: string;
  iss: string;
  jti: string;
  iat: number;
  nbf: number;
  exp: number;
  auth_version: number;
}

export class Tokens {
  private readonly key: Uint8Array;

  constructor(private readonly settings: TokenSettings) {
    this.key = new TextEncoder().encode(settings.secret);
  }

  get issuer(): string {
    return this.settings.issuer;
  }

  async issue(user: { email: string; name: string; referenceId: string; authVersion: number }): Promise<string> {
    const now = Math.floor(Date.now() / 1000);
    return new SignJWT({ email: user.email, name: user.name, auth_version: user.authVersion })
      .setProtectedHeader({ alg: "HS256", typ: "JWT" })
      .setSubject(user.referenceId)
      .setIssuer(this.settings.issuer)
      .setJti(newReferenceId())
      .setIssuedAt(now)
      .setNotBefore(now)
      .setExpirationTime(now + Math.round(this.settings.lifetimeHours * 3600))
      .sign(this.key);
  }

  /** Verifies a token; a bad one is a 401 whose detail says why (Daptin silently treats it as a guest). */
  async verify(token: string): Promise<TokenClaims> {
    try {
      const { payload } = await jwtVerify(token, this.key, { algorithms: ["HS256"], issuer: this.settings.issuer });
      if (typeof payload.sub !== "string" || typeof payload.email !== "string") throw unauthorized("Invalid token", "the token has no subject");
      return payload as unknown as TokenClaims;
    } catch (e) {
      if (e instanceof errors.JWTExpired) throw unauthorized("Invalid token", "the token has expired; sign in again");
      if (e instanceof errors.JWSSignatureVerificationFailed) throw unauthorized("Invalid token", "the token signature is not valid for this instance");
      if (e instanceof errors.JWTClaimValidationFailed) {
        if (e.claim === "iss") throw unauthorized("Invalid token", "the token was issued by another instance");
        if (e.claim === "nbf") throw unauthorized("Invalid token", "the token is not valid yet");
        throw unauthorized("Invalid token", `the token's ${e.claim} claim is not valid`);
      }
      if (e instanceof errors.JOSEAlgNotAllowed) throw unauthorized("Invalid token", "the token must be signed with HS256");
      if (e instanceof errors.JOSEError) throw unauthorized("Invalid token", "the token is malformed");
      throw e;
    }
  }
}
