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

/** Verified tokens are remembered (until they expire) so a request does not redo the HMAC check. */
const VERIFIED_CACHE_SIZE = 10_000;
/** How far `iat`/`nbf` may lie in the future (clocks of two machines differ a little); `exp` gets no leeway. */
const CLOCK_TOLERANCE_SECONDS = 60;

export class Tokens {
  private readonly secret: Uint8Array<ArrayBuffer>;
  private key: CryptoKey | undefined;
  private readonly verified = new Map<string, TokenClaims>();

  constructor(private readonly settings: TokenSettings) {
    this.secret = new TextEncoder().encode(settings.secret);
  }

  /** The HMAC key, imported once (jose would import a raw secret on every call). */
  private async cryptoKey(): Promise<CryptoKey> {
    this.key ??= await crypto.subtle.importKey("raw", this.secret, { name: "HMAC", hash: "SHA-256" }, false, ["sign", "verify"]);
    return this.key;
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
      .sign(await this.cryptoKey());
  }

  /**
   * Verifies a token; a bad one is a 401 whose detail says why (Daptin silently treats it as a guest). A token must
   * expire (`exp`), and may not claim to be issued (`iat`) or valid (`nbf`) later than now: the secret alone does
   * not make a token that never ends acceptable.
   */
  async verify(token: string): Promise<TokenClaims> {
    const known = this.verified.get(token);
    if (known && known.exp > Date.now() / 1000) return known;
    try {
      const { payload } = await jwtVerify(token, await this.cryptoKey(), {
        algorithms: ["HS256"], issuer: this.settings.issuer, requiredClaims: ["exp"], clockTolerance: CLOCK_TOLERANCE_SECONDS,
      });
      const now = Date.now() / 1000;
      // The tolerance is for `iat`/`nbf` only: an expired token is expired at once.
      if (payload.exp! <= now) throw new errors.JWTExpired("expired", payload, "exp");
      if (typeof payload.iat === "number" && payload.iat > now + CLOCK_TOLERANCE_SECONDS) throw unauthorized("Invalid token", "the token claims to be issued in the future");
      if (typeof payload.sub !== "string" || typeof payload.email !== "string") throw unauthorized("Invalid token", "the token has no subject");
      const claims = payload as unknown as TokenClaims;
      if (this.verified.size >= VERIFIED_CACHE_SIZE) this.verified.clear();
      this.verified.set(token, claims);
      return claims;
    } catch (e) {
      if (e instanceof errors.JWTExpired) throw unauthorized("Invalid token", "the token has expired; sign in again");
      if (e instanceof errors.JWSSignatureVerificationFailed) throw unauthorized("Invalid token", "the token signature is not valid for this instance");
      if (e instanceof errors.JWTClaimValidationFailed) {
        if (e.reason === "missing") throw unauthorized("Invalid token", `the token has no ${e.claim} claim; it must have one`);
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
