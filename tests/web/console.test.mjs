// End-to-end test of the HAIP web console in headless Chromium.
//
//   node --test tests/web/
//
// Needs: the haip binary (HAIP_BIN, default <repo>/build/haip), the built
// console (HAIP_WEB_ROOT, default <repo>/web/dist: `npm run build` in web/),
// web/node_modules (for playwright-core) and Debian's chromium at
// /usr/bin/chromium (CHROMIUM to override). Builds nothing itself.
// Screenshots go to tests/web/artifacts/ (git-ignored).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { ARTIFACTS, ADMIN_USER, CHROMIUM, CHROMIUM_ARGS, HAIP_BIN, STEP_TIMEOUT_MS, WEB, freePort, loadChromium, startServer, reEscape, runStep, skipReason, stopServer, waitForHealth } from './harness.mjs';

const ADMIN_PASSWORD = 'Admin-e2e-Passw0rd!';

const reason = skipReason('console');

test('HAIP console: login, users, tokens, audit, language switch', { skip: reason ?? false, timeout: 180_000 }, async (t) => {
  const step = (name, fn) => runStep(t, name, fn);
  const chromium = loadChromium();

  mkdirSync(ARTIFACTS, { recursive: true });
  for (const stale of ['failure.png', 'haip-server.log']) rmSync(join(ARTIFACTS, stale), { force: true });
  const dataDir = mkdtempSync(join(tmpdir(), 'haip-e2e-data-'));
  const profileDir = mkdtempSync(join(tmpdir(), 'haip-e2e-chromium-'));
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const log = [];
  let server = null;
  let context = null;
  let page = null;
  let passed = false;

  try {
    server = await startServer(dataDir, port, ADMIN_PASSWORD, log);

    context = await chromium.launchPersistentContext(profileDir, {
      executablePath: CHROMIUM,
      headless: true,
      args: CHROMIUM_ARGS,
      locale: 'zh-CN',
      viewport: { width: 1440, height: 900 },
      timeout: 60_000,
    });
    page = context.pages()[0] ?? (await context.newPage());
    page.setDefaultTimeout(STEP_TIMEOUT_MS);
    const consoleErrors = [];
    page.on('pageerror', (e) => consoleErrors.push(`pageerror: ${e.message}`));
    const tid = (id) => page.getByTestId(id);

    await step('login page renders and admin signs in', async () => {
      await page.goto(base + '/');
      await tid('login-form').waitFor();
      await tid('login-username').fill(ADMIN_USER);
      await tid('login-password').fill(ADMIN_PASSWORD);
      await tid('login-submit').click();
      await tid('current-user').waitFor();
      await tid('page-overview').waitFor();
      await assert.doesNotReject(tid('overview-version').waitFor(), 'system info shown on overview');
      const health = await tid('overview-health').innerText();
      assert.match(health, /正常|Healthy/);
      // Default language comes from navigator.language (zh-CN here).
      assert.equal((await tid('nav-users').innerText()).trim(), '用户管理');
    });

    await step('csrf token survives a reload (GET /api/auth/me)', async () => {
      await page.reload();
      await tid('page-overview').waitFor();
      const csrf = await page.evaluate(() => sessionStorage.getItem('haip.csrf'));
      assert.ok(csrf, 'csrf token stored in sessionStorage');
    });

    const newUser = `e2e_doc_${Date.now().toString(36)}`;
    const newUserDisplay = '李医生';
    const newUserPassword = 'Clinician-e2e-pass-42';

    await step('admin creates a clinician in 心内科', async () => {
      await tid('nav-users').click();
      await tid('page-users').waitFor();
      await tid(`user-row-${ADMIN_USER}`).waitFor();
      await tid('users-create').click();
      await tid('user-dialog').waitFor();
      await tid('user-form-username').fill(newUser);
      await tid('user-form-display-name').fill(newUserDisplay);
      await tid('user-form-password').fill(newUserPassword);
      await tid('user-form-role-clinician').check();
      await tid('user-form-department').fill('心内科');
      await tid('user-form-submit').click();
      await tid('user-dialog').waitFor({ state: 'detached' });
      const row = tid(`user-row-${newUser}`);
      await row.waitFor();
      const text = await row.innerText();
      assert.match(text, /心内科/);
      assert.match(text, new RegExp(reEscape(newUserDisplay)));
      assert.match(text, /临床医生/);
    });

    let apiToken = null;
    const tokenName = `e2e-token-${Date.now().toString(36)}`;

    await step('admin creates an API token and it authenticates', async () => {
      await tid('nav-tokens').click();
      await tid('page-tokens').waitFor();
      await tid('tokens-create').click();
      await tid('token-dialog').waitFor();
      await tid('token-form-name').fill(tokenName);
      await tid('token-form-submit').click();
      await tid('token-created-dialog').waitFor();
      apiToken = await tid('new-token-value').inputValue();
      assert.ok(apiToken && apiToken.length >= 16, `token shown in the dialog (got ${JSON.stringify(apiToken)})`);

      const res = await fetch(`${base}/api/auth/me`, { headers: { Authorization: `Bearer ${apiToken}` } });
      assert.equal(res.status, 200, 'GET /api/auth/me with the new bearer token');
      const me = await res.json();
      assert.equal(me.username, ADMIN_USER);

      await tid('token-created-close').click();
      await tid('token-created-dialog').waitFor({ state: 'detached' });
      await page.locator(`[data-token-name="${tokenName}"]`).waitFor();
    });

    await step('audit viewer finds user.create and token.create', async () => {
      await tid('nav-audit').click();
      await tid('page-audit').waitFor();

      await tid('audit-filter-action').fill('user.create');
      await tid('audit-apply').click();
      const userRows = page.locator('tr[data-action="user.create"]').filter({ hasText: newUser });
      await userRows.first().waitFor();
      assert.equal(
        await page.locator('[data-testid^="audit-row-"]:not([data-action="user.create"])').count(),
        0,
        'filter by action returns only user.create records',
      );
      await userRows.first().click();
      await tid('audit-drawer').waitFor();
      assert.equal((await tid('audit-detail-action').innerText()).trim(), 'user.create');
      assert.equal((await tid('audit-detail-username').innerText()).trim(), ADMIN_USER);
      const drawerText = await tid('audit-drawer').innerText();
      assert.match(drawerText, new RegExp(reEscape(newUser)), 'the record names the new user');
      const hash = (await tid('audit-detail-hash').innerText()).trim();
      assert.ok(hash.length >= 16 && !/\s/.test(hash), `record hash shown (got ${JSON.stringify(hash)})`);
      await tid('drawer-close').click();
      await tid('audit-drawer').waitFor({ state: 'detached' });

      await tid('audit-filter-action').fill('token.create');
      await tid('audit-apply').click();
      const tokenRow = page.locator('tr[data-action="token.create"]').first();
      await tokenRow.waitFor();
      await tokenRow.click();
      await tid('audit-drawer').waitFor();
      assert.equal((await tid('audit-detail-action').innerText()).trim(), 'token.create');
      await tid('drawer-close').click();

      await tid('audit-verify').click();
      const verify = tid('audit-verify-result');
      await verify.waitFor();
      assert.equal(await verify.getAttribute('data-ok'), 'true', `audit chain verifies: ${await verify.innerText()}`);
    });

    await step('language switch changes labels and persists', async () => {
      await tid('lang-switch').selectOption('en');
      await page.waitForFunction(() => document.querySelector('[data-testid="nav-users"]')?.textContent?.trim() === 'Users');
      assert.equal((await tid('nav-audit').innerText()).trim(), 'Audit log');
      assert.equal(await page.evaluate(() => localStorage.getItem('haip.lang')), 'en');
      await page.screenshot({ path: join(ARTIFACTS, 'console-audit-en.png'), fullPage: true });

      await page.reload();
      await tid('page-audit').waitFor();
      assert.equal((await tid('nav-users').innerText()).trim(), 'Users', 'language choice survives reload');

      await tid('lang-switch').selectOption('zh-CN');
      await page.waitForFunction(() => document.querySelector('[data-testid="nav-users"]')?.textContent?.trim() === '用户管理');
      await tid('nav-users').click();
      await tid(`user-row-${newUser}`).waitFor();
      await page.screenshot({ path: join(ARTIFACTS, 'console-users-zh.png'), fullPage: true });
    });

    await step('logout returns to the login page', async () => {
      await tid('logout').click();
      await tid('login-form').waitFor();
      const res = await page.evaluate(async () => (await fetch('/api/auth/me', { credentials: 'same-origin' })).status);
      assert.equal(res, 401, 'session cookie no longer valid after logout');
    });

    await step('a clinician sees only the pages their role allows', async () => {
      await tid('login-username').fill(newUser);
      await tid('login-password').fill(newUserPassword);
      await tid('login-submit').click();
      await tid('page-overview').waitFor();
      assert.equal(await tid('nav-tokens').count(), 1, 'API tokens page listed');
      assert.equal(await tid('nav-users').count(), 0, 'Users page hidden from a clinician');
      assert.equal(await tid('nav-audit').count(), 0, 'Audit page hidden from a clinician');
      await page.goto(base + '/audit');
      await tid('page-not-found').waitFor();
      await tid('logout').click();
      await tid('login-form').waitFor();
    });

    assert.deepEqual(consoleErrors, [], 'no uncaught errors in the page');
    passed = true;
  } finally {
    if (page && !passed) {
      await page.screenshot({ path: join(ARTIFACTS, 'failure.png'), fullPage: true }).catch(() => {});
    }
    if (context) await context.close().catch(() => {});
    await stopServer(server);
    if (!passed && log.length) {
      writeFileSync(join(ARTIFACTS, 'haip-server.log'), log.join(''));
      process.stderr.write(`--- haip output (also in tests/web/artifacts/haip-server.log) ---\n${log.join('').slice(-8000)}\n`);
    }
    rmSync(dataDir, { recursive: true, force: true });
    rmSync(profileDir, { recursive: true, force: true });
  }
});
