/**
 * A TCP fault proxy of our own (Toxiproxy-like, in-process, node:net only), listening on 127.0.0.1.
 * Put it in front of Redis, the S3 endpoint or the registry and change its faults at run time:
 *
 * - `mode: 'pass'`      forwards both ways (the default);
 * - `mode: 'reset'`     answers every new connection with a TCP RST (socket.resetAndDestroy);
 * - `mode: 'blackhole'` accepts and reads (and counts) but never forwards nor answers;
 * - `latency`           delays every chunk (per direction) and/or the upstream connect, in order;
 * - `cut`               forwards exactly N bytes in one direction (per connection or in total since
 *                       the faults were set), then resets (or closes) both sides of that connection.
 *
 * `resetConnections()` resets every open connection now; `close()` kills every socket and the
 * listener. `stats()` counts connections and bytes (received from each side, and forwarded).
 */
import { EventEmitter } from 'node:events';
import { createConnection, createServer, type Server, type Socket } from 'node:net';

export type Direction = 'upstream' | 'downstream';

export interface CutFault {
  /** `upstream` = client → server bytes, `downstream` = server → client bytes. */
  direction: Direction;
  /** Bytes forwarded in that direction before the cut. */
  afterBytes: number;
  /** Count per connection (default) or in total over every connection since `set()`. */
  scope?: 'connection' | 'total';
  /** `reset` (default) sends RST to both sides; `close` ends them with a FIN. */
  how?: 'reset' | 'close';
  /** Disarm after the first cut (default true); false cuts every connection that reaches N. */
  once?: boolean;
}

export interface Faults {
  mode?: 'pass' | 'reset' | 'blackhole';
  latency?: {
    /** Added to every client → server chunk. */
    upstreamMs?: number;
    /** Added to every server → client chunk. */
    downstreamMs?: number;
    /** Added once per connection, before connecting upstream. */
    connectMs?: number;
  };
  cut?: CutFault;
}

export interface FaultProxyStats {
  /** Connections accepted since start. */
  connections: number;
  /** Connections open now. */
  active: number;
  /** Bytes received from clients / from the upstream server. */
  bytesFromClients: number;
  bytesFromUpstream: number;
  /** Bytes written to the upstream server / to clients. */
  bytesUp: number;
  bytesDown: number;
  /** Cuts performed, and connections refused with RST by `mode: 'reset'` or `resetConnections()`. */
  cuts: number;
  resets: number;
}

export interface FaultProxy {
  host: '127.0.0.1';
  port: number;
  /** `127.0.0.1:<port>` */
  address: string;
  /** Replaces the current faults (counters of a `total` cut start again from 0). */
  set(faults: Faults): void;
  faults(): Faults;
  stats(): FaultProxyStats;
  /** Emits `connection` (id), `cut` ({ id, direction, bytes }), `reset` (id). */
  events: EventEmitter;
  /** Sends RST on every open connection (both sides). */
  resetConnections(): void;
  /** Destroys every socket and stops listening. */
  close(): Promise<void>;
}

interface Pending {
  chunk: Buffer;
  ready: boolean;
  timer?: NodeJS.Timeout;
}

const HIGH_WATER = 4 * 1024 * 1024;

/**
 * One direction of one connection: a FIFO of chunks, each released after its own delay and
 * written in arrival order. Pauses its source when too much waits or the destination is full.
 */
class Pipe {
  private readonly queue: Pending[] = [];
  private queuedBytes = 0;
  private ended = false;
  private paused = false;
  private waitingDrain = false;
  constructor(
    private readonly src: () => Socket | undefined,
    private readonly dst: () => Socket | undefined,
    private readonly onWrite: (chunk: Buffer) => void
  ) {}

  push(chunk: Buffer, delayMs: number): void {
    const item: Pending = { chunk, ready: delayMs <= 0 };
    if (!item.ready) {
      item.timer = setTimeout(() => {
        item.ready = true;
        item.timer = undefined;
        this.pump();
      }, delayMs);
    }
    this.queue.push(item);
    this.queuedBytes += chunk.length;
    if (this.queuedBytes > HIGH_WATER) this.pause();
    this.pump();
  }

  /** The source ended: end the destination once everything queued is written. */
  end(): void {
    this.ended = true;
    this.pump();
  }

  get idle(): boolean {
    return this.queue.length === 0;
  }

  stop(): void {
    for (const item of this.queue) if (item.timer) clearTimeout(item.timer);
    this.queue.length = 0;
    this.queuedBytes = 0;
  }

  private pause(): void {
    if (this.paused) return;
    this.paused = true;
    this.src()?.pause();
  }

  private maybeResume(): void {
    if (!this.paused || this.waitingDrain || this.queuedBytes > HIGH_WATER) return;
    this.paused = false;
    this.src()?.resume();
  }

  pump(): void {
    const dst = this.dst();
    if (!dst || dst.connecting) return; // pumped again on connect
    while (this.queue.length > 0 && this.queue[0]!.ready) {
      const head = this.queue.shift()!;
      this.queuedBytes -= head.chunk.length;
      if (dst.destroyed) continue;
      this.onWrite(head.chunk);
      if (!dst.write(head.chunk) && !this.waitingDrain) {
        this.waitingDrain = true;
        this.pause();
        dst.once('drain', () => {
          this.waitingDrain = false;
          this.maybeResume();
        });
      }
    }
    this.maybeResume();
    if (this.ended && this.queue.length === 0 && !dst.destroyed && !dst.writableEnded) dst.end();
  }
}

/** Ends `s` after what it has queued, discards what it still sends, destroys it soon after. */
function closeGracefully(s: Socket): void {
  s.removeAllListeners('data');
  s.on('data', () => {});
  s.resume();
  s.end();
  setTimeout(() => s.destroy(), 2000).unref();
}

/** Starts a proxy on 127.0.0.1:<free port> forwarding to `upstream`. */
export async function startFaultProxy(
  upstream: { host: string; port: number },
  initial: Faults = {}
): Promise<FaultProxy> {
  let current: Faults = { ...initial };
  let cutArmed = current.cut !== undefined;
  // Bytes accepted for forwarding over every connection since set(), for `scope: 'total'` cuts.
  const totalQueuedRef: Record<Direction, number> = { upstream: 0, downstream: 0 };
  const counters: FaultProxyStats = {
    connections: 0,
    active: 0,
    bytesFromClients: 0,
    bytesFromUpstream: 0,
    bytesUp: 0,
    bytesDown: 0,
    cuts: 0,
    resets: 0,
  };
  const events = new EventEmitter();
  const open = new Map<number, (reset: boolean) => void>();
  let nextId = 1;

  const server: Server = createServer({ allowHalfOpen: true, noDelay: true }, (client) => {
    const id = nextId++;
    counters.connections++;
    counters.active++;
    client.once('close', () => {
      counters.active--;
    });
    events.emit('connection', id);

    if (current.mode === 'reset') {
      counters.resets++;
      client.resetAndDestroy();
      events.emit('reset', id);
      return;
    }

    let target: Socket | undefined;
    const forwarded: Record<Direction, number> = { upstream: 0, downstream: 0 };
    let dead = false;
    const kill = (reset: boolean) => {
      if (dead) return;
      dead = true;
      up.stop();
      down.stop();
      open.delete(id);
      for (const s of [client, target]) {
        if (!s || s.destroyed) continue;
        if (reset && !s.connecting) s.resetAndDestroy();
        else s.destroy();
      }
    };
    open.set(id, kill);

    /**
     * The cut: the receiving side gets the bytes already forwarded and then a FIN (an RST could
     * discard them in its kernel queue); the sending side gets an RST (`reset`) or a FIN (`close`).
     */
    const cutOff = (direction: Direction, how: 'reset' | 'close') => {
      if (dead) return;
      dead = true;
      up.stop();
      down.stop();
      open.delete(id);
      const sender = direction === 'upstream' ? client : target;
      const receiver = direction === 'upstream' ? target : client;
      if (receiver && !receiver.destroyed) closeGracefully(receiver);
      if (sender && !sender.destroyed) {
        if (how === 'reset' && !sender.connecting) sender.resetAndDestroy();
        else closeGracefully(sender);
      }
    };

    const onWrite = (direction: Direction) => (chunk: Buffer) => {
      forwarded[direction] += chunk.length;
      if (direction === 'upstream') counters.bytesUp += chunk.length;
      else counters.bytesDown += chunk.length;
    };
    const up = new Pipe(
      () => client,
      () => target,
      onWrite('upstream')
    );
    const down = new Pipe(
      () => target,
      () => client,
      onWrite('downstream')
    );
    const pipes: Record<Direction, Pipe> = { upstream: up, downstream: down };

    // Bytes accepted into the pipes (forwarded or waiting), to place the cut exactly.
    const queued: Record<Direction, number> = { upstream: 0, downstream: 0 };
    /** Bytes still allowed in `direction` before the armed cut (Infinity when none). */
    const room = (direction: Direction): number => {
      const cut = current.cut;
      if (!cut || !cutArmed || cut.direction !== direction) return Number.POSITIVE_INFINITY;
      const sent = (cut.scope ?? 'connection') === 'total' ? totalQueuedRef : queued;
      return Math.max(0, cut.afterBytes - sent[direction]);
    };

    let cutting = false;
    const feed = (direction: Direction, chunk: Buffer) => {
      if (dead || cutting || current.mode === 'blackhole') return;
      const pipe = pipes[direction];
      const allowedBytes = Math.min(chunk.length, room(direction));
      const ms =
        direction === 'upstream' ? current.latency?.upstreamMs : current.latency?.downstreamMs;
      if (allowedBytes > 0) {
        queued[direction] += allowedBytes;
        totalQueuedRef[direction] += allowedBytes;
        pipe.push(allowedBytes === chunk.length ? chunk : chunk.subarray(0, allowedBytes), ms ?? 0);
      }
      if (allowedBytes < chunk.length || room(direction) === 0) {
        const cut = current.cut!;
        if (cut.once ?? true) cutArmed = false;
        cutting = true;
        // Cut once the allowed bytes are written (they may wait for latency).
        const afterFlush = () => {
          if (dead) return;
          if (!pipe.idle) {
            setImmediate(afterFlush);
            return;
          }
          counters.cuts++;
          events.emit('cut', { id, direction, bytes: forwarded[direction] });
          cutOff(direction, cut.how ?? 'reset');
        };
        afterFlush();
      }
    };

    let clientEnded = false;
    client.on('data', (chunk: Buffer) => {
      counters.bytesFromClients += chunk.length;
      feed('upstream', chunk);
    });
    client.on('end', () => {
      clientEnded = true;
      up.end();
    });
    client.on('error', (err: NodeJS.ErrnoException) => kill(err.code === 'ECONNRESET'));
    client.on('close', () => {
      // Gone without a FIN (destroyed, reset): take the upstream side down too.
      if (!clientEnded) kill(false);
      else if (target?.destroyed) kill(false);
    });

    if (current.mode === 'blackhole') return; // read and count, never connect nor answer

    const connect = () => {
      if (dead) return;
      const s = createConnection({
        host: upstream.host,
        port: upstream.port,
        allowHalfOpen: true,
        noDelay: true,
      });
      target = s;
      let serverEnded = false;
      s.on('connect', () => up.pump());
      s.on('data', (chunk: Buffer) => {
        counters.bytesFromUpstream += chunk.length;
        feed('downstream', chunk);
      });
      s.on('end', () => {
        serverEnded = true;
        down.end();
      });
      s.on('error', (err: NodeJS.ErrnoException) =>
        kill(err.code === 'ECONNRESET' || err.code === 'ECONNREFUSED')
      );
      s.on('close', () => {
        if (!serverEnded) kill(true);
        else if (client.destroyed) kill(false);
      });
    };
    const connectMs = current.latency?.connectMs ?? 0;
    if (connectMs > 0) setTimeout(connect, connectMs);
    else connect();
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const addr = server.address();
  const port = typeof addr === 'object' && addr ? addr.port : 0;

  return {
    host: '127.0.0.1',
    port,
    address: `127.0.0.1:${port}`,
    events,
    set(faults: Faults) {
      current = { ...faults };
      totalQueuedRef.upstream = 0;
      totalQueuedRef.downstream = 0;
      cutArmed = faults.cut !== undefined;
    },
    faults: () => ({ ...current }),
    stats: () => ({ ...counters }),
    resetConnections() {
      for (const [id, kill] of [...open]) {
        counters.resets++;
        kill(true);
        events.emit('reset', id);
      }
    },
    async close() {
      for (const kill of [...open.values()]) kill(false);
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
