// End-to-end test of the console's research cohort builder in headless
// Chromium against a real server holding a generated demo hospital.
//
//   node --test tests/web/cohorts.test.mjs
//
// Needs what console.test.mjs needs: the haip binary (HAIP_BIN, default
// <repo>/build/haip), the built console (HAIP_WEB_ROOT, default
// <repo>/web/dist), web/node_modules (playwright-core) and Debian's chromium
// (CHROMIUM to override). Builds nothing itself. Before starting the server it
// runs `haip synth --patients 60 --seed 7` and `haip ingest fhir` into the
// server's data directory. Screenshots go to tests/web/artifacts/ (git-ignored).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import {
  ARTIFACTS,
  ADMIN_USER,
  CHROMIUM,
  CHROMIUM_ARGS,
  HAIP_BIN,
  REPO,
  STEP_TIMEOUT_MS,
  freePort,
  loadChromium,
  runStep,
  skipReason,
  startServer,
  stopServer,
} from './harness.mjs';

const ADMIN_PASSWORD = 'Admin-cohort-e2e-Passw0rd!';
const SYNTH_PATIENTS = 60;
const SYNTH_SEED = 7;
const ICD10 = 'http://hl7.org/fhir/sid/icd-10';

/** Runs a haip CLI command to completion; fails with its output otherwise. */
function runHaip(args) {
  const res = spawnSync(HAIP_BIN, args, { encoding: 'utf8', timeout: 120_000 });
  if (res.error) throw res.error;
  assert.equal(res.status, 0, `haip ${args.join(' ')} exited ${res.status}:\n${res.stdout}\n${res.stderr}`);
  return res.stdout;
}

const reason = skipReason('cohort builder');

test('HAIP console: cohort builder, live count, errors, SQL, save, versions, compare', { skip: reason ?? false, timeout: 240_000 }, async (t) => {
  const step = (name, fn) => runStep(t, name, fn);
  const chromium = loadChromium();

  mkdirSync(ARTIFACTS, { recursive: true });
  for (const stale of ['cohorts-failure.png', 'cohorts-haip-server.log']) rmSync(join(ARTIFACTS, stale), { force: true });
  const tmp = mkdtempSync(join(tmpdir(), 'haip-e2e-cohorts-'));
  const dataDir = join(tmp, 'data');
  const demoDir = join(tmp, 'demo');
  const profileDir = mkdtempSync(join(tmpdir(), 'haip-e2e-chromium-'));
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const log = [];
  let server = null;
  let context = null;
  let page = null;
  let passed = false;

  try {
    await step('generate and load the demo hospital', async () => {
      runHaip(['synth', '--patients', String(SYNTH_PATIENTS), '--seed', String(SYNTH_SEED), '--out', demoDir]);
      runHaip(['--data-dir', dataDir, 'ingest', 'fhir', demoDir]);
    });

    server = await startServer(dataDir, port, ADMIN_PASSWORD, log);

    context = await chromium.launchPersistentContext(profileDir, {
      executablePath: CHROMIUM,
      headless: true,
      args: CHROMIUM_ARGS,
      locale: 'zh-CN',
      timezoneId: 'Asia/Shanghai',
      viewport: { width: 1440, height: 900 },
      timeout: 60_000,
    });
    page = context.pages()[0] ?? (await context.newPage());
    page.setDefaultTimeout(STEP_TIMEOUT_MS);
    const consoleErrors = [];
    page.on('pageerror', (e) => consoleErrors.push(`pageerror: ${e.message}`));
    const tid = (id) => page.getByTestId(id);

    const signIn = async (username, password) => {
      await tid('login-form').waitFor();
      await tid('login-username').fill(username);
      await tid('login-password').fill(password);
      await tid('login-submit').click();
      await tid('current-user').waitFor();
    };

    /** A JSON API call from the page, with the session cookie and CSRF token. */
    const apiCall = (method, path, body) =>
      page.evaluate(
        async ({ method, path, body }) => {
          const res = await fetch(path, {
            method,
            credentials: 'same-origin',
            headers: {
              'Content-Type': 'application/json',
              'X-CSRF-Token': sessionStorage.getItem('haip.csrf') ?? '',
            },
            body: body === undefined ? undefined : JSON.stringify(body),
          });
          return { status: res.status, body: await res.json() };
        },
        { method, path, body },
      );

    /** Waits until the live count is up to date and returns it with the attrition rows. */
    const liveResult = async () => {
      await page.waitForFunction(() => document.querySelector('[data-testid="cohort-results"]')?.getAttribute('data-state') === 'ok');
      const count = Number(await tid('cohort-count').getAttribute('data-count'));
      const rows = await page
        .locator('[data-testid="cohort-attrition-row"]')
        .evaluateAll((els) => els.map((e) => ({ name: e.dataset.name, patients: Number(e.dataset.patients), passedAlone: Number(e.dataset.passedAlone) })));
      return { count, rows };
    };
    const waitForState = (state) =>
      page.waitForFunction((s) => document.querySelector('[data-testid="cohort-results"]')?.getAttribute('data-state') === s, state);

    await step('admin signs in and opens the cohort builder', async () => {
      await page.goto(base + '/');
      await signIn(ADMIN_USER, ADMIN_PASSWORD);
      assert.equal((await tid('nav-cohorts').innerText()).trim(), '研究队列');
      await tid('nav-cohorts').click();
      await tid('page-cohorts').waitFor();
      // The starting criteria (any diagnosis) already run.
      const { count, rows } = await liveResult();
      assert.ok(count > 0, 'patients with any diagnosis');
      assert.equal(rows.length, 1, 'only the entry row without rules');
    });

    const title = '2型糖尿病成人（e2e）';
    const ruleName = '成年（≥18岁）';
    let hit = null;

    await step('build a cohort by clicking: concept set from a code search for E11, entry event, age rule', async () => {
      await tid('cohort-title').fill(title);
      await tid('cohort-set-name').fill('T2DM');
      await tid('cohort-set-create').click();
      await tid('cohort-set-t2dm').waitFor();

      await tid('cohort-code-q').fill('E11');
      await page.waitForFunction(() => {
        const rows = [...document.querySelectorAll('[data-testid="cohort-code-row"]')];
        return rows.length > 0 && rows.every((r) => /E11/i.test(r.dataset.code + r.textContent));
      });
      const row = page.locator('[data-testid="cohort-code-row"][data-domain="condition"]').filter({ hasText: 'E11' }).first();
      hit = await row.evaluate((e) => ({ code: e.dataset.code, system: e.dataset.system, display: e.cells[2].textContent }));
      assert.equal(hit.system, ICD10);
      assert.match(hit.code, /^E11/);
      assert.ok(Number((await row.locator('td.num').innerText()).replace(/\D/g, '')) > 0, 'patient count shown');
      assert.ok(await tid('cohort-code-descendants').isChecked(), 'descendants included by default');
      await row.getByTestId('cohort-code-add').click();
      const item = tid('cohort-set-t2dm').locator(`[data-testid="cohort-set-item"][data-code="${hit.code}"]`);
      await item.waitFor();
      assert.ok(await item.getByTestId('cohort-item-descendants').isChecked());

      const entry = tid('cohort-entry');
      await entry.getByTestId('cohort-event-set').selectOption('t2dm');
      assert.equal(await entry.getByTestId('cohort-event-domain').inputValue(), 'condition');

      await tid('cohort-inclusion').getByTestId('cohort-add-age').click();
      const rule = tid('cohort-inclusion').getByTestId('cohort-named-rule').first();
      await rule.getByTestId('cohort-rule-name').fill(ruleName);
      await rule.getByTestId('cohort-age-low').fill('18');
    });

    const criteriaV1 = () => ({
      title,
      conceptSets: { t2dm: { name: 'T2DM', items: [{ system: ICD10, code: hit.code, display: hit.display, descendants: true }] } },
      entry: { events: [{ domain: 'condition', conceptSet: 't2dm' }] },
      inclusion: [{ name: ruleName, rule: { age: { gte: 18 } } }],
    });
    let v1 = null;

    await step('the live count and attrition match POST /api/cohorts/run for the same criteria', async () => {
      v1 = await liveResult();
      assert.equal(v1.rows.length, 2, 'entry row and one rule');
      assert.equal(v1.rows[1].name, ruleName);
      const res = await apiCall('POST', '/api/cohorts/run', criteriaV1());
      assert.equal(res.status, 200);
      assert.ok(res.body.count > 0, 'the demo hospital has adults with type 2 diabetes');
      assert.equal(v1.count, res.body.count);
      assert.deepEqual(
        v1.rows,
        res.body.attrition.map((r) => ({ name: r.name, patients: r.patients, passedAlone: r.passedAlone })),
      );
      // The patient list (admin) has the counted patients.
      await tid('cohort-result-tab-patients').click();
      await tid('cohort-patients').waitFor();
      assert.equal(await tid('cohort-patient').count(), v1.count);
      // The criteria JSON view shows exactly those criteria.
      await tid('cohort-result-tab-json').click();
      assert.deepEqual(JSON.parse(await tid('cohort-json').innerText()), criteriaV1());
      await tid('cohort-result-tab-attrition').click();
      await page.screenshot({ path: join(ARTIFACTS, 'cohorts-builder-zh.png'), fullPage: true });
    });

    await step('a server error names the criteria path next to the rule', async () => {
      await tid('cohort-inclusion').getByTestId('cohort-add-age').click();
      await waitForState('error');
      const err = await tid('cohort-error').innerText();
      assert.match(err, /inclusion\[1\]\.rule\.age/);
      const second = tid('cohort-inclusion').getByTestId('cohort-named-rule').nth(1);
      const blockError = second.getByTestId('cohort-block-error');
      await blockError.waitFor();
      assert.match(await blockError.innerText(), /gt, gte, lt, lte/);
      await second.getByTestId('cohort-named-remove').click();
      const back = await liveResult();
      assert.equal(back.count, v1.count);
      assert.equal(await tid('cohort-error').count(), 0);
    });

    await step('the SQL tab shows the generated SQL', async () => {
      await tid('cohort-result-tab-sql').click();
      await page.waitForFunction(() => document.querySelector('[data-testid="cohort-sql-panel"]')?.getAttribute('data-state') === 'ok');
      const res = await apiCall('POST', '/api/cohorts/sql', criteriaV1());
      assert.equal(res.status, 200);
      assert.equal((await tid('cohort-sql-attrition').innerText()).trim(), res.body.attrition.trim());
      assert.match(res.body.patients, /SELECT/i);
      await tid('cohort-result-tab-attrition').click();
    });

    let cohortId = null;

    await step('save the cohort: version 1', async () => {
      await tid('cohort-save').click();
      await page.waitForFunction(() => document.querySelector('[data-testid="cohort-current"]')?.getAttribute('data-version') === '1');
      cohortId = await tid('cohort-current').getAttribute('data-id');
      assert.match(cohortId, /^[0-9a-f]{16}$/);
      const res = await apiCall('GET', `/api/cohorts/${cohortId}`);
      assert.equal(res.status, 200);
      assert.equal(res.body.title, title);
      assert.deepEqual(res.body.criteria, criteriaV1());
      assert.equal(await tid('cohort-dirty').count(), 0, 'nothing unsaved right after saving');
    });

    let v2 = null;

    await step('make version 2 (age 60 or over)', async () => {
      const rule = tid('cohort-inclusion').getByTestId('cohort-named-rule').first();
      await rule.getByTestId('cohort-rule-name').fill('60岁及以上');
      await rule.getByTestId('cohort-age-low').fill('60');
      await tid('cohort-dirty').waitFor();
      v2 = await liveResult();
      const res = await apiCall('POST', '/api/cohorts/run', {
        ...criteriaV1(),
        inclusion: [{ name: '60岁及以上', rule: { age: { gte: 60 } } }],
      });
      assert.equal(v2.count, res.body.count);
      assert.ok(v2.count < v1.count, `fewer patients are 60 or over (${v2.count} of ${v1.count})`);
      await tid('cohort-save-version').click();
      await page.waitForFunction(() => document.querySelector('[data-testid="cohort-current"]')?.getAttribute('data-version') === '2');
      assert.equal(await tid('cohort-current').getAttribute('data-id'), cohortId, 'same cohort, new version');
    });

    await step('compare version 1 with version 2', async () => {
      await tid('cohort-tab-compare').click();
      await tid('cohort-compare').waitFor();
      // Opening compare on a cohort with two versions offers them.
      await page.waitForFunction(() => document.querySelector('[data-testid="cohort-compare-a-cohort"]')?.value !== '');
      assert.equal(await tid('cohort-compare-a-version').inputValue(), '1');
      assert.equal(await tid('cohort-compare-b-version').inputValue(), '2');
      await tid('cohort-compare-run').click();
      await tid('cohort-compare-result').waitFor();
      assert.equal(Number(await tid('cohort-compare-count-a').getAttribute('data-count')), v1.count);
      assert.equal(Number(await tid('cohort-compare-count-b').getAttribute('data-count')), v2.count);
      const rows = await page
        .locator('[data-testid="cohort-compare-row"]')
        .evaluateAll((els) => els.map((e) => [Number(e.dataset.a), Number(e.dataset.b)]));
      assert.deepEqual(
        rows,
        v1.rows.map((r, i) => [r.patients, v2.rows[i].patients]),
      );
      // Same entry, stricter age: version 2 is inside version 1.
      const overlap = tid('cohort-overlap');
      assert.equal(Number(await overlap.getAttribute('data-both')), v2.count);
      assert.equal(Number(await overlap.getAttribute('data-only-a')), v1.count - v2.count);
      assert.equal(Number(await overlap.getAttribute('data-only-b')), 0);
      await page.screenshot({ path: join(ARTIFACTS, 'cohorts-compare-zh.png'), fullPage: true });
    });

    await step('the saved list has version 2; loading version 1 restores its criteria', async () => {
      await tid('cohort-tab-saved').click();
      const row = page.locator(`[data-testid="cohort-saved-row"][data-id="${cohortId}"]`);
      await row.waitFor();
      assert.equal(await row.getAttribute('data-version'), '2');
      await row.getByTestId('cohort-saved-versions').click();
      await tid('cohort-versions').waitFor();
      assert.equal(await tid('cohort-version-row').count(), 2);
      await page.locator('[data-testid="cohort-version-row"][data-version="1"]').getByTestId('cohort-version-load').click();
      await tid('cohort-form').waitFor();
      await page.waitForFunction(() => document.querySelector('[data-testid="cohort-current"]')?.getAttribute('data-version') === '1');
      assert.equal(await tid('cohort-inclusion').getByTestId('cohort-age-low').inputValue(), '18');
      const again = await liveResult();
      assert.equal(again.count, v1.count);
      await tid('cohort-result-tab-json').click();
      assert.deepEqual(JSON.parse(await tid('cohort-json').innerText()), criteriaV1());
    });

    await step('nested criteria pasted as JSON fill the form and count as the API does', async () => {
      const nested = JSON.parse(readFileSync(join(REPO, 'bench', 'cohort', 'criteria', '10-complex-nested.json'), 'utf8'));
      await tid('cohort-new').click();
      await tid('cohort-result-tab-json').click();
      await tid('cohort-json-edit').click();
      await tid('cohort-json-input').fill(JSON.stringify(nested));
      await tid('cohort-json-apply').click();
      await tid('cohort-json-dialog').waitFor({ state: 'detached' });
      assert.equal(await tid('cohort-title').inputValue(), nested.title);
      const entry = tid('cohort-entry');
      assert.equal(await entry.getByTestId('cohort-event-domain').inputValue(), 'encounter');
      assert.equal(await entry.getByTestId('cohort-event-class').inputValue(), 'AMB');
      assert.equal(await tid('cohort-entry-occurrence').inputValue(), 'all');
      assert.equal(await tid('cohort-entry-from').inputValue(), nested.entry.from);
      assert.equal(await tid('cohort-inclusion').getByTestId('cohort-named-rule').count(), nested.inclusion.length);
      assert.equal(await tid('cohort-exclusion').getByTestId('cohort-named-rule').count(), nested.exclusion.length);
      assert.equal(await tid('cohort-inclusion').locator('[data-testid="cohort-group-mode"]').first().inputValue(), 'any');
      assert.equal(await tid('cohort-inclusion').getByTestId('cohort-group-n').inputValue(), '2');
      assert.deepEqual(JSON.parse(await tid('cohort-json').innerText()), nested, 'the form writes the same criteria back');
      await tid('cohort-result-tab-attrition').click();
      const shown = await liveResult();
      const res = await apiCall('POST', '/api/cohorts/run', nested);
      assert.equal(shown.count, res.body.count);
      assert.deepEqual(shown.rows.map((r) => r.patients), res.body.attrition.map((r) => r.patients));
      await page.screenshot({ path: join(ARTIFACTS, 'cohorts-nested-zh.png'), fullPage: true });
      await tid('logout').click();
      await tid('login-form').waitFor();
    });

    const researcher = `e2e_res_${Date.now().toString(36)}`;
    const researcherPassword = 'Researcher-cohort-42';

    await step('a researcher sees counts and attrition, and a notice instead of patients', async () => {
      const login = await fetch(`${base}/api/auth/login`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ username: ADMIN_USER, password: ADMIN_PASSWORD }),
      });
      assert.equal(login.status, 200);
      const { token } = await login.json();
      const created = await fetch(`${base}/api/users`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${token}` },
        body: JSON.stringify({ username: researcher, password: researcherPassword, display_name: '研究员', roles: ['researcher'] }),
      });
      assert.equal(created.status, 201);

      await signIn(researcher, researcherPassword);
      await tid('nav-cohorts').click();
      await tid('cohort-tab-saved').click();
      await page.locator(`[data-testid="cohort-saved-row"][data-id="${cohortId}"]`).getByTestId('cohort-saved-load').click();
      await page.waitForFunction(() => document.querySelector('[data-testid="cohort-current"]')?.getAttribute('data-version') === '2');
      const r = await liveResult();
      assert.equal(r.count, v2.count);
      await tid('cohort-result-tab-patients').click();
      await tid('cohort-patients-withheld').waitFor();
      assert.equal(await tid('cohort-patient').count(), 0);
    });

    assert.deepEqual(consoleErrors, [], 'no uncaught errors in the page');
    passed = true;
  } finally {
    if (page && !passed) {
      await page.screenshot({ path: join(ARTIFACTS, 'cohorts-failure.png'), fullPage: true }).catch(() => {});
    }
    if (context) await context.close().catch(() => {});
    await stopServer(server);
    if (!passed && log.length) {
      writeFileSync(join(ARTIFACTS, 'cohorts-haip-server.log'), log.join(''));
      process.stderr.write(`--- haip output (also in tests/web/artifacts/cohorts-haip-server.log) ---\n${log.join('').slice(-8000)}\n`);
    }
    rmSync(tmp, { recursive: true, force: true });
    rmSync(profileDir, { recursive: true, force: true });
  }
});
