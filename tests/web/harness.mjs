// Shared by the console's end-to-end tests: where things are, how Chromium is
// launched, and starting, probing and stopping a haip server.

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { createServer } from 'node:net';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const HERE = dirname(fileURLToPath(import.meta.url));
export const REPO = resolve(HERE, '..', '..');
export const WEB = join(REPO, 'web');
export const DIST = process.env.HAIP_WEB_ROOT || join(WEB, 'dist');
export const ARTIFACTS = join(HERE, 'artifacts');
export const HAIP_BIN = process.env.HAIP_BIN || join(REPO, 'build', 'haip');
export const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
export const ADMIN_USER = 'admin';
export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--disable-quic',
];
export const STEP_TIMEOUT_MS = 30_000;

export function skipReason(what) {
  if (!existsSync(CHROMIUM)) return `${CHROMIUM} is missing: install Debian's chromium package to run the ${what} e2e test`;
  return null;
}

export function freePort() {
  return new Promise((resolvePort, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolvePort(port));
    });
  });
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

export async function waitForHealth(base, proc, log, timeoutMs = 30_000) {
  const deadline = Date.now() + timeoutMs;
  let lastErr = null;
  while (Date.now() < deadline) {
    if (proc.exitCode !== null || proc.signalCode !== null) {
      throw new Error(`haip exited early (code ${proc.exitCode}, signal ${proc.signalCode}). Output:\n${log.join('')}`);
    }
    try {
      const res = await fetch(`${base}/healthz`, { signal: AbortSignal.timeout(2000) });
      if (res.ok) {
        const body = await res.json();
        assert.equal(body.status, 'ok', 'GET /healthz status');
        return;
      }
      lastErr = new Error(`HTTP ${res.status}`);
    } catch (e) {
      lastErr = e;
    }
    await sleep(200);
  }
  throw new Error(`haip did not answer GET /healthz within ${timeoutMs} ms (${lastErr}). Output:\n${log.join('')}`);
}

export async function stopServer(proc) {
  if (!proc || proc.exitCode !== null || proc.signalCode !== null) return;
  const exited = new Promise((r) => proc.once('exit', r));
  proc.kill('SIGTERM');
  const timer = sleep(10_000).then(() => 'timeout');
  if ((await Promise.race([exited, timer])) === 'timeout') {
    proc.kill('SIGKILL');
    await exited;
  }
}

/** Runs one named step; a failure names the step it happened in. */
export async function runStep(t, name, fn) {
  const started = Date.now();
  try {
    await fn();
  } catch (e) {
    const err = new Error(`step "${name}" failed: ${e?.message ?? e}`);
    err.cause = e;
    throw err;
  }
  t.diagnostic(`ok - ${name} (${Date.now() - started} ms)`);
}

/** Escapes a string for use inside a RegExp. */
export const reEscape = (s) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');


/** Checks what the browser tests need and returns playwright-core's chromium. */
export function loadChromium() {
  assert.ok(existsSync(HAIP_BIN), `haip binary not found at ${HAIP_BIN}: build it (cmake) or set HAIP_BIN`);
  assert.ok(existsSync(join(DIST, 'index.html')), `${DIST}/index.html not found: run "npm ci && npm run build" in web/`);
  assert.ok(
    existsSync(join(WEB, 'node_modules', 'playwright-core')),
    'web/node_modules/playwright-core not found: run "npm ci" in web/',
  );
  const require = createRequire(join(WEB, 'package.json'));
  return require('playwright-core').chromium;
}

/**
 * Starts `haip serve` on a data directory and loopback port, collecting its
 * output in `log`, and returns the process once GET /healthz answers.
 */
export async function startServer(dataDir, port, adminPassword, log) {
  const server = spawn(HAIP_BIN, ['--data-dir', dataDir, 'serve', '--listen', `127.0.0.1:${port}`], {
    env: { ...process.env, HAIP_ADMIN_PASSWORD: adminPassword, HAIP_WEB_ROOT: DIST },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  server.stdout.on('data', (d) => log.push(d.toString()));
  server.stderr.on('data', (d) => log.push(d.toString()));
  await waitForHealth(`http://127.0.0.1:${port}`, server, log);
  return server;
}
