/**
 * Authorization state shared by every RemoteRepository that reads one repository of one registry origin with one
 * credential provider: the Authorization header currently in use, and at most ONE login in flight.
 *
 * Why shared: a verification sends its first requests at once (manifest + signature discovery), and several
 * verifications of one repository run concurrently. Each request that meets a 401 used to log in on its own; with
 * Basic auth the second one found the header already set, gave up and reported "access denied". Now every request
 * that got a 401 for the header it SENT either picks up a newer header another request already obtained, or joins
 * the single login in flight (or starts it), and retries once with its result.
 *
 * The session never decides where a header is sent: RemoteRepository attaches it only to requests for the
 * registry's own origin, and only a 401 from that origin leads here.
 */
import { SharedFlight } from './abort';
import { CredentialProvider } from './auth';

/** Everything one login needs; returns the new header, or undefined when no header can be obtained. */
export type LoginFn = (signal: AbortSignal) => Promise<string | undefined>;

export class AuthSession {
  /** Number of logins started (each is one token exchange, or one credential lookup for Basic). */
  public logins = 0;
  private header?: string;
  private flight?: SharedFlight<string | undefined>;

  /** The header to send now (undefined before the first successful login). */
  public get current(): string | undefined {
    return this.header;
  }

  /**
   * Called after a 401 to a request that carried `sent`. When another request already replaced `sent`, returns the
   * newer header without logging in. Otherwise joins the login in flight or starts one. `signal` ends only this
   * caller's wait (rejecting with `onAbort()`); the login itself is aborted only when all its waiters have gone.
   */
  public async refresh(
    sent: string | undefined, login: LoginFn, signal: AbortSignal | undefined, onAbort: () => unknown,
  ): Promise<string | undefined> {
    if (this.header !== undefined && this.header !== sent) return this.header;
    let flight = this.flight;
    if (!flight) {
      this.logins++;
      const f: SharedFlight<string | undefined> = new SharedFlight(async (s) => {
        try {
          const h = await login(s);
          if (h !== undefined) this.header = h;
          return h;
        } finally {
          if (this.flight === f) this.flight = undefined;
        }
      });
      f.promise.catch(() => undefined);
      this.flight = f;
      flight = f;
    }
    return flight.wait(signal, onAbort);
  }

  /** Forgets the header (tests). */
  public clear(): void {
    this.header = undefined;
  }
}

const ANONYMOUS = {};

/**
 * Sessions by (credential provider, registry origin, repository, actions). A provider object stands for one
 * identity, so two providers never share a header; a pushing client (actions `pull,push`) never trades tokens
 * with a reading one. Bounded: the least recently used session is dropped beyond `maxSessions`.
 */
export class AuthSessions {
  private readonly byProvider = new WeakMap<object, Map<string, AuthSession>>();

  public constructor(private readonly maxSessions = 1000) {}

  public get(provider: CredentialProvider | undefined, origin: string, repository: string, actions: readonly string[] = ['pull']): AuthSession {
    const owner: object = provider ?? ANONYMOUS;
    let m = this.byProvider.get(owner);
    if (!m) {
      m = new Map();
      this.byProvider.set(owner, m);
    }
    const key = `${origin.toLowerCase()}|${repository}|${actions.join(',')}`;
    let s = m.get(key);
    if (s) {
      m.delete(key);
    } else {
      s = new AuthSession();
      while (m.size >= this.maxSessions) m.delete(m.keys().next().value as string);
    }
    m.set(key, s);
    return s;
  }
}

/** Process-wide sessions (the default of RemoteRepository). */
export const defaultAuthSessions = new AuthSessions();
