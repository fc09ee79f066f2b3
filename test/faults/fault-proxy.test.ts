/**
 * The project's TCP fault proxy, mode by mode, against a local echo/flood server and the real
 * redis-server of the test rig. Latency is checked with fake timers (no timed assertions).
 */
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { Agent as HttpAgent } from 'node:http';
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import {
  CreateBucketCommand,
  HeadObjectCommand,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { Redis } from 'ioredis';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { type FaultProxy, startFaultProxy } from '../support/fault-proxy.ts';
import { startFauxqs } from '../support/fauxqs.ts';
import { allocateDbs, redisUrl } from '../support/redis.ts';

/** Resolves on 'close' (events.once would reject on 'error'). */
function closedOf(s: Socket): Promise<void> {
  return new Promise((resolve) => s.once('close', () => resolve()));
}

interface Upstream {
  server: Server;
  port: number;
  /** Bytes received, per accepted connection, in order. */
  received: number[];
  sockets: Socket[];
  closed: Promise<void>[];
}

/** An echo server, or (flood > 0) one that sends `flood` bytes on connect and then ends. */
async function startUpstream(flood = 0): Promise<Upstream> {
  const up: Upstream = { server: createServer(), port: 0, received: [], sockets: [], closed: [] };
  up.server.on('connection', (s) => {
    const i = up.received.push(0) - 1;
    up.sockets.push(s);
    up.closed.push(closedOf(s));
    s.on('error', () => {});
    s.on('data', (d: Buffer) => {
      up.received[i]! += d.length;
      if (flood === 0) s.write(d);
    });
    if (flood > 0) s.end(randomBytes(flood));
  });
  up.server.listen(0, '127.0.0.1');
  await once(up.server, 'listening');
  const addr = up.server.address();
  up.port = typeof addr === 'object' && addr ? addr.port : 0;
  return up;
}

interface Client {
  socket: Socket;
  data: Buffer[];
  bytes(): number;
  error?: NodeJS.ErrnoException;
  closed: Promise<void>;
}

function connect(port: number): Client {
  const socket = createConnection({ host: '127.0.0.1', port });
  const c: Client = {
    socket,
    data: [],
    bytes: () => c.data.reduce((n, b) => n + b.length, 0),
    closed: Promise.resolve(),
  };
  c.closed = closedOf(socket);
  socket.on('data', (d: Buffer) => c.data.push(d));
  socket.on('error', (e: NodeJS.ErrnoException) => {
    c.error = e;
  });
  return c;
}

/** Polls `check` on real setImmediate turns (vi.waitFor would advance fake timers). */
async function until(check: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 200_000; i++) {
    if (check()) return;
    await new Promise((r) => setImmediate(r));
  }
  throw new Error(`never happened: ${what}`);
}

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  vi.useRealTimers();
  while (cleanups.length) await cleanups.pop()!();
});

async function rig(flood = 0): Promise<{ up: Upstream; proxy: FaultProxy }> {
  const up = await startUpstream(flood);
  const proxy = await startFaultProxy({ host: '127.0.0.1', port: up.port });
  cleanups.push(async () => {
    await proxy.close();
    for (const s of up.sockets) s.destroy();
    await new Promise<void>((r) => up.server.close(() => r()));
  });
  return { up, proxy };
}

describe('fault proxy', () => {
  it('passes bytes through both ways unchanged and counts them', async () => {
    const { up, proxy } = await rig();
    expect(proxy.host).toBe('127.0.0.1');
    const payload = randomBytes(1024 * 1024);
    const c = connect(proxy.port);
    c.socket.write(payload);
    await vi.waitFor(() => expect(c.bytes()).toBe(payload.length), { timeout: 10_000 });
    expect(Buffer.concat(c.data).equals(payload)).toBe(true);
    c.socket.end();
    await c.closed;
    expect(up.received).toEqual([payload.length]);
    const st = proxy.stats();
    expect(st.connections).toBe(1);
    expect(st.bytesUp).toBe(payload.length);
    expect(st.bytesDown).toBe(payload.length);
    expect(st.bytesFromClients).toBe(payload.length);
    expect(st.cuts).toBe(0);
    await vi.waitFor(() => expect(proxy.stats().active).toBe(0));
  });

  it('adds latency per chunk and per connection, in order (fake timers)', async () => {
    const { up, proxy } = await rig();
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    proxy.set({ latency: { connectMs: 300, upstreamMs: 500, downstreamMs: 200 } });
    const c = connect(proxy.port);
    c.socket.write('one');
    await until(() => proxy.stats().bytesFromClients === 3, 'proxy reads one');
    expect(up.received).toEqual([]); // not connected upstream yet
    await vi.advanceTimersByTimeAsync(300);
    await until(() => up.received.length === 1, 'upstream connection');
    c.socket.write('two');
    await until(() => proxy.stats().bytesFromClients === 6, 'proxy reads two');
    await vi.advanceTimersByTimeAsync(150); // 450 ms after 'one'
    expect(proxy.stats().bytesUp).toBe(0);
    expect(up.received).toEqual([0]);
    await vi.advanceTimersByTimeAsync(50); // 500 ms: 'one' only
    await until(() => up.received[0] === 3, 'upstream gets one');
    expect(proxy.stats().bytesUp).toBe(3);
    await until(() => proxy.stats().bytesFromUpstream === 3, 'echo of one');
    expect(c.bytes()).toBe(0); // the echo waits 200 ms downstream
    await vi.advanceTimersByTimeAsync(199);
    expect(c.bytes()).toBe(0);
    await vi.advanceTimersByTimeAsync(1);
    await until(() => c.bytes() === 3, 'client gets one');
    await vi.advanceTimersByTimeAsync(100); // 800 ms: 'two' reaches the server
    await until(() => proxy.stats().bytesFromUpstream === 6, 'echo of two');
    await vi.advanceTimersByTimeAsync(200);
    await until(() => c.bytes() === 6, 'client gets two');
    expect(Buffer.concat(c.data).toString()).toBe('onetwo');
    c.socket.destroy();
  });

  it('cuts upstream after exactly N bytes and resets both sides', async () => {
    const { up, proxy } = await rig();
    proxy.set({ cut: { direction: 'upstream', afterBytes: 10_000 } });
    const cut = once(proxy.events, 'cut');
    const c = connect(proxy.port);
    c.socket.write(randomBytes(200_000));
    const [info] = await cut;
    await c.closed;
    await up.closed[0];
    expect(info).toMatchObject({ direction: 'upstream', bytes: 10_000 });
    expect(up.received).toEqual([10_000]);
    expect(c.error?.code).toBe('ECONNRESET');
    expect(proxy.stats().cuts).toBe(1);
    // `once` (the default): the next connection passes.
    const d = connect(proxy.port);
    d.socket.write(randomBytes(50_000));
    await vi.waitFor(() => expect(d.bytes()).toBe(50_000));
    d.socket.destroy();
    expect(proxy.stats().cuts).toBe(1);
  });

  it('cuts downstream after exactly N bytes with a clean close', async () => {
    const { proxy } = await rig(100_000);
    proxy.set({ cut: { direction: 'downstream', afterBytes: 4096, how: 'close' } });
    const c = connect(proxy.port);
    await c.closed;
    expect(c.bytes()).toBe(4096);
    expect(c.error).toBeUndefined();
    expect(proxy.stats().bytesDown).toBe(4096);
    expect(proxy.stats().cuts).toBe(1);
  });

  it('counts a total cut over every connection since set()', async () => {
    const { up, proxy } = await rig();
    proxy.set({ cut: { direction: 'upstream', afterBytes: 1500, scope: 'total' } });
    // 1000 bytes per connection: the first passes whole, the second crosses 1500 and is cut.
    const echoed = async () => {
      const c = connect(proxy.port);
      c.socket.write(randomBytes(1000));
      await vi.waitFor(() => expect(c.bytes()).toBe(1000));
      c.socket.end();
      await c.closed;
      return c.bytes();
    };
    const cutOff = async () => {
      const c = connect(proxy.port);
      c.socket.write(randomBytes(1000));
      await c.closed;
      return c.bytes();
    };
    const sizes = [await echoed(), await cutOff(), await echoed()];
    await Promise.all(up.closed);
    expect(up.received).toEqual([1000, 500, 1000]);
    expect(sizes).toEqual([1000, 0, 1000]); // the cut client got an RST, not its echo
    expect(proxy.stats().cuts).toBe(1);
  });

  it('cuts every connection that reaches N when once is false', async () => {
    const { up, proxy } = await rig();
    proxy.set({ cut: { direction: 'upstream', afterBytes: 100, once: false } });
    for (let i = 0; i < 2; i++) {
      const c = connect(proxy.port);
      c.socket.write(randomBytes(1000));
      await c.closed;
    }
    expect(up.received).toEqual([100, 100]);
    expect(proxy.stats().cuts).toBe(2);
  });

  it('resets new connections in reset mode without connecting upstream', async () => {
    const { up, proxy } = await rig();
    proxy.set({ mode: 'reset' });
    const c = connect(proxy.port);
    c.socket.write('hello');
    await c.closed;
    expect(c.error?.code).toBe('ECONNRESET');
    expect(up.received).toEqual([]);
    expect(proxy.stats().resets).toBe(1);
  });

  it('blackholes: accepts and reads, never forwards nor answers', async () => {
    const { up, proxy } = await rig();
    proxy.set({ mode: 'blackhole' });
    const c = connect(proxy.port);
    c.socket.write('hello');
    await vi.waitFor(() => expect(proxy.stats().bytesFromClients).toBe(5));
    expect(up.received).toEqual([]);
    expect(c.bytes()).toBe(0);
    expect(c.socket.destroyed).toBe(false);
    // Back to pass-through: new connections work again.
    proxy.set({ mode: 'pass' });
    const d = connect(proxy.port);
    d.socket.write('again');
    await vi.waitFor(() => expect(Buffer.concat(d.data).toString()).toBe('again'));
    expect(c.bytes()).toBe(0);
    c.socket.destroy();
    d.socket.destroy();
  });

  it('blackholes connections that are already open once switched on', async () => {
    const { up, proxy } = await rig();
    const c = connect(proxy.port);
    c.socket.write('a');
    await vi.waitFor(() => expect(c.bytes()).toBe(1));
    proxy.set({ mode: 'blackhole' });
    c.socket.write('bcd');
    await vi.waitFor(() => expect(proxy.stats().bytesFromClients).toBe(4));
    expect(up.received).toEqual([1]);
    expect(c.bytes()).toBe(1);
    c.socket.destroy();
  });

  it('resetConnections() sends RST on every open connection', async () => {
    const { up, proxy } = await rig();
    const clients = [connect(proxy.port), connect(proxy.port)];
    for (const c of clients) c.socket.write('x');
    await vi.waitFor(() => expect(clients.every((c) => c.bytes() === 1)).toBe(true));
    proxy.resetConnections();
    await Promise.all(clients.map((c) => c.closed));
    await Promise.all(up.closed);
    expect(clients.map((c) => c.error?.code)).toEqual(['ECONNRESET', 'ECONNRESET']);
    expect(proxy.stats().resets).toBe(2);
  });

  it('close() kills every socket and stops listening', async () => {
    const { up, proxy } = await rig();
    const c = connect(proxy.port);
    c.socket.write('x');
    await vi.waitFor(() => expect(c.bytes()).toBe(1));
    await proxy.close();
    await c.closed;
    await up.closed[0];
    const d = connect(proxy.port);
    await d.closed;
    expect(d.error?.code).toBe('ECONNREFUSED');
  });

  it('stands in front of the real Redis: pass, then reset mid-command, then blackhole', async () => {
    const [db] = await allocateDbs(1);
    const target = new URL(redisUrl());
    const proxy = await startFaultProxy({ host: target.hostname, port: Number(target.port) });
    const client = new Redis({
      host: '127.0.0.1',
      port: proxy.port,
      db,
      lazyConnect: true,
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      retryStrategy: () => null,
      commandTimeout: 2000,
    });
    client.on('error', () => {});
    cleanups.push(async () => {
      client.disconnect();
      await proxy.close();
    });
    await client.connect();
    await client.set('k', 'v');
    expect(await client.get('k')).toBe('v');
    expect(proxy.stats().bytesUp).toBeGreaterThan(0);
    const blocked = client.blpop('never', 0).then(
      () => 'answered',
      (e: Error) => e.message
    );
    await vi.waitFor(() => expect(proxy.stats().bytesUp).toBeGreaterThan(60));
    proxy.resetConnections();
    expect(await blocked).not.toBe('answered');

    proxy.set({ mode: 'blackhole' });
    const quiet = new Redis({
      host: '127.0.0.1',
      port: proxy.port,
      lazyConnect: true,
      enableReadyCheck: false,
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      retryStrategy: () => null,
      commandTimeout: 300,
      connectTimeout: 2000,
    });
    quiet.on('error', () => {});
    cleanups.push(() => quiet.disconnect());
    await quiet.connect(); // TCP accepted by the proxy
    await expect(quiet.ping()).rejects.toThrow(/timed out/i);
  });

  it('stands in front of an S3 endpoint: pass, blackhole (timeout), reset, then latency', async () => {
    const aws = await startFauxqs();
    const port = Number(new URL(aws.endpoint).port);
    const proxy = await startFaultProxy({ host: '127.0.0.1', port });
    const s3 = new S3Client({
      endpoint: `http://${proxy.address}`,
      region: 'us-east-1',
      credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
      forcePathStyle: true,
      maxAttempts: 1,
      // One connection per request, so each request meets the faults set at that moment.
      requestHandler: {
        httpAgent: new HttpAgent({ keepAlive: false }),
        requestTimeout: 500,
        throwOnRequestTimeout: true,
        connectionTimeout: 500,
      },
    });
    cleanups.push(async () => {
      s3.destroy();
      await proxy.close();
      await aws.stop();
    });
    await s3.send(new CreateBucketCommand({ Bucket: 'b' }));
    await s3.send(new PutObjectCommand({ Bucket: 'b', Key: 'k', Body: 'hello' }));
    const head = () => s3.send(new HeadObjectCommand({ Bucket: 'b', Key: 'k' }));
    expect((await head()).ContentLength).toBe(5);

    proxy.set({ mode: 'blackhole' });
    const before = proxy.stats().bytesFromClients;
    await expect(head()).rejects.toMatchObject({ name: expect.stringMatching(/Timeout/i) });
    expect(proxy.stats().bytesFromClients).toBeGreaterThan(before);

    proxy.set({ mode: 'reset' });
    await expect(head()).rejects.toMatchObject({ code: expect.stringMatching(/ECONNRESET|EPIPE/) });

    proxy.set({ latency: { downstreamMs: 50 } });
    expect((await head()).ContentLength).toBe(5);
    expect(proxy.stats().bytesDown).toBeGreaterThan(0);
  });
});
