/**
 * DeleteBudget in PushGuard's own Redis state DB (never the registry DB): a per-hour cap on key
 * deletions shared by every remediator instance (requirement 7). One counter per clock hour,
 * `<prefix>delete-budget:<hour start ISO>`, granted atomically in Lua (read, cap, INCRBY) and
 * expiring an hour after its hour ends, so concurrent Lambdas can never grant more than the cap.
 *
 * The grant is partial (`min(wanted, left)`); a caller that cannot use a partial grant simply
 * does not delete, and the units it got are spent for that hour (the safe direction).
 */
import type { Redis } from 'ioredis';
import { ConfigError, SafetyRefusalError } from '../domain/errors.ts';
import type { DeleteBudget } from '../ports.ts';

export interface RedisDeleteBudgetOptions {
  /** Deletions allowed per clock hour across all instances. */
  perHour: number;
  /** Key prefix of PushGuard's state. @default 'pushguard:' */
  keyPrefix?: string;
}

const HOUR = 3_600_000;

/** KEYS[1]: hour counter. ARGV: wanted, cap, ttl ms. Returns the grant. */
const RESERVE = `
local used = tonumber(redis.call('GET', KEYS[1]) or '0')
local wanted = tonumber(ARGV[1])
local left = tonumber(ARGV[2]) - used
if left < 0 then left = 0 end
local grant = wanted
if grant > left then grant = left end
if grant > 0 then
  redis.call('INCRBY', KEYS[1], grant)
  redis.call('PEXPIRE', KEYS[1], ARGV[3])
end
return grant
`;

export class RedisDeleteBudget implements DeleteBudget {
  private readonly client: Redis;
  private readonly perHour: number;
  private readonly prefix: string;
  private checked = false;

  constructor(client: Redis, options: RedisDeleteBudgetOptions) {
    if (!Number.isInteger(options.perHour) || options.perHour < 0) {
      throw new ConfigError([
        `delete budget perHour must be an integer ≥ 0, got ${options.perHour}`,
      ]);
    }
    this.client = client;
    this.perHour = options.perHour;
    this.prefix = options.keyPrefix ?? 'pushguard:';
  }

  keyFor(now: number): string {
    const hourStart = Math.floor(now / HOUR) * HOUR;
    return `${this.prefix}delete-budget:${new Date(hourStart).toISOString()}`;
  }

  async reserve(wanted: number, now: number): Promise<number> {
    if (!Number.isInteger(wanted) || wanted <= 0) return 0;
    await this.assertStateDb();
    const hourEnd = (Math.floor(now / HOUR) + 1) * HOUR;
    const ttl = Math.max(hourEnd - now, 1) + HOUR;
    const granted = await this.client.eval(
      RESERVE,
      1,
      this.keyFor(now),
      String(wanted),
      String(this.perHour),
      String(ttl)
    );
    return Number(granted);
  }

  /** Deletions already granted in the hour of `now`. */
  async used(now: number): Promise<number> {
    return Number((await this.client.get(this.keyFor(now))) ?? 0);
  }

  /** The state DB must not be the registry DB: refuse one that holds registry cache keys. */
  private async assertStateDb(): Promise<void> {
    if (this.checked) return;
    const [, keys] = await this.client.scan('0', 'MATCH', 'blobs::*', 'COUNT', 1000);
    const [, repos] = await this.client.scan('0', 'MATCH', 'repository::*', 'COUNT', 1000);
    if (keys.length > 0 || repos.length > 0) {
      throw new SafetyRefusalError(
        `the delete budget's Redis DB ${this.client.options.db ?? 0} holds registry cache keys; ` +
          "use PushGuard's own state DB, not the registry DB"
      );
    }
    this.checked = true;
  }
}
