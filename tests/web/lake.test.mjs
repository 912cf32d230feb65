// End-to-end test of the console's data lake pages (patients, patient
// timeline, data lake) in headless Chromium against a real server holding a
// generated demo hospital.
//
//   node --test tests/web/lake.test.mjs
//
// Needs what console.test.mjs needs: the haip binary (HAIP_BIN, default
// <repo>/build/haip), the built console (HAIP_WEB_ROOT, default
// <repo>/web/dist), web/node_modules (playwright-core) and Debian's chromium
// (CHROMIUM to override). Builds nothing itself. Before starting the server it
// runs `haip synth --patients 30 --seed 7` and `haip ingest fhir` into the
// server's data directory. Screenshots go to tests/web/artifacts/ (git-ignored).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { ARTIFACTS, ADMIN_USER, CHROMIUM, CHROMIUM_ARGS, HAIP_BIN, STEP_TIMEOUT_MS, WEB, freePort, loadChromium, startServer, reEscape, runStep, skipReason, stopServer, waitForHealth } from './harness.mjs';

const ADMIN_PASSWORD = 'Admin-lake-e2e-Passw0rd!';

const SYNTH_PATIENTS = 30;
const SYNTH_SEED = 7;

/** Runs a haip CLI command to completion; fails with its output otherwise. */
function runHaip(args) {
  const res = spawnSync(HAIP_BIN, args, { encoding: 'utf8', timeout: 120_000 });
  if (res.error) throw res.error;
  // `ingest fhir` exits 1 when anything was rejected: the demo data must load cleanly.
  assert.equal(res.status, 0, `haip ${args.join(' ')} exited ${res.status}:\n${res.stdout}\n${res.stderr}`);
  return res.stdout;
}

function readNdjson(file) {
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l.trim())
    .map((l) => JSON.parse(l));
}

const patientOf = (r) => (r.subject?.reference ?? '').replace(/^Patient\//, '');
const isLab = (o) => o.category?.some((c) => c.coding?.some((x) => x.code === 'laboratory')) && o.valueQuantity;
/** The number as the console prints it (at most 3 decimals, no trailing zeros). */
const shownNumber = (v) => String(Math.round(v * 1000) / 1000);

/** Picks the test's patients and department from the generated files. */
function pickFromDemo(demoDir) {
  const patients = readNdjson(join(demoDir, 'Patient.ndjson'));
  const encounters = readNdjson(join(demoDir, 'Encounter.ndjson'));
  const conditions = readNdjson(join(demoDir, 'Condition.ndjson'));
  const observations = readNdjson(join(demoDir, 'Observation.ndjson'));
  const notes = readNdjson(join(demoDir, 'DocumentReference.ndjson'));
  assert.equal(patients.length, SYNTH_PATIENTS, 'synth wrote the requested number of patients');

  // A patient with an encounter, a diagnosis, a lab result and a note.
  const patient = patients.find((p) => {
    const has = (list) => list.some((r) => patientOf(r) === p.id);
    return has(encounters) && has(conditions) && has(notes) && observations.some((o) => patientOf(o) === p.id && isLab(o));
  });
  assert.ok(patient, 'the demo hospital has a patient with encounters, diagnoses, labs and notes');
  const condition = conditions.find((c) => patientOf(c) === patient.id);
  const lab = observations.find((o) => patientOf(o) === patient.id && isLab(o));
  const noteTexts = notes
    .filter((d) => patientOf(d) === patient.id)
    .map((d) => Buffer.from(d.content[0].attachment.data, 'base64').toString('utf8'));

  // A department, and a patient with no encounter there (for break-glass).
  const deptsOf = new Map();
  for (const e of encounters) {
    const pid = patientOf(e);
    if (!deptsOf.has(pid)) deptsOf.set(pid, new Set());
    deptsOf.get(pid).add(e.serviceProvider?.display);
  }
  const department = encounters.map((e) => e.serviceProvider?.display).find((d) => d && patients.some((p) => !deptsOf.get(p.id)?.has(d)));
  assert.ok(department, 'some department does not see every patient');
  const outsider = patients.find((p) => !deptsOf.get(p.id)?.has(department) && deptsOf.has(p.id));
  assert.ok(outsider, `a patient with encounters but none in ${department}`);
  const encounterOrder = encounters
    .filter((e) => patientOf(e) === patient.id)
    .sort((a, b) => Date.parse(b.period.start) - Date.parse(a.period.start))
    .map((e) => e.id);
  return { patient, condition, lab, noteTexts, encounterOrder, department, outsider };
}

const reason = skipReason('data lake');

test('HAIP console: patients, timeline, notes, data lake upload, break-glass', { skip: reason ?? false, timeout: 240_000 }, async (t) => {
  const step = (name, fn) => runStep(t, name, fn);
  const chromium = loadChromium();

  mkdirSync(ARTIFACTS, { recursive: true });
  for (const stale of ['lake-failure.png', 'lake-haip-server.log']) rmSync(join(ARTIFACTS, stale), { force: true });
  const tmp = mkdtempSync(join(tmpdir(), 'haip-e2e-lake-'));
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
    let demo = null;
    await step('generate and load the demo hospital', async () => {
      runHaip(['synth', '--patients', String(SYNTH_PATIENTS), '--seed', String(SYNTH_SEED), '--out', demoDir]);
      runHaip(['--data-dir', dataDir, 'ingest', 'fhir', demoDir]);
      demo = pickFromDemo(demoDir);
    });
    const { patient, condition, lab, noteTexts, encounterOrder, department, outsider } = demo;

    server = await startServer(dataDir, port, ADMIN_PASSWORD, log);

    context = await chromium.launchPersistentContext(profileDir, {
      executablePath: CHROMIUM,
      headless: true,
      args: CHROMIUM_ARGS,
      locale: 'zh-CN',
      // The demo hospital's times are +08:00; show them as a user there sees them.
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

    await step('admin signs in and sees the lake pages', async () => {
      await page.goto(base + '/');
      await signIn(ADMIN_USER, ADMIN_PASSWORD);
      await tid('page-overview').waitFor();
      assert.equal((await tid('nav-patients').innerText()).trim(), '患者');
      assert.equal((await tid('nav-lake').innerText()).trim(), '数据湖');
      assert.equal(await tid('nav-patient').count(), 0, 'the timeline page is not a sidebar entry');
    });

    const family = patient.name[0].family;
    const fullName = patient.name[0].text;

    await step(`search patients by family name ${family}`, async () => {
      await tid('nav-patients').click();
      await tid('page-patients').waitFor();
      await page.locator('[data-testid^="patient-row-"]').first().waitFor();
      await tid('patients-name').fill(family);
      await tid('patients-submit').click();
      await page.waitForFunction(
        (fam) => {
          const rows = [...document.querySelectorAll('[data-testid^="patient-row-"]')];
          return rows.length > 0 && rows.every((r) => r.querySelector('.patient-name')?.textContent?.includes(fam));
        },
        family,
      );
      const row = tid(`patient-row-${patient.id}`);
      await row.waitFor();
      const text = await row.innerText();
      assert.match(text, new RegExp(reEscape(fullName)));
      assert.match(text, /男|女/, 'gender shown in Chinese');
      assert.match(text, new RegExp(reEscape(patient.birthDate)));
      const resident = patient.identifier.find((i) => /resident/.test(i.system)).value;
      assert.ok(text.includes(resident.slice(-4)) && !text.includes(resident), 'ID number masked except the last 4');
      assert.match(new URL(page.url()).search, /name=/, 'the search is kept in the address bar');
      await row.click();
    });

    await step('the timeline shows the header, an encounter, a diagnosis and a lab value', async () => {
      await page.waitForURL(`**/patients/${patient.id}`);
      await tid('patient-header').waitFor();
      assert.equal((await tid('patient-name').innerText()).trim(), fullName);
      const header = await tid('patient-header').innerText();
      const phone = patient.telecom[0].value;
      assert.ok(!header.includes(phone), 'phone number masked');
      assert.ok(header.includes(phone.slice(-4)), 'phone keeps its last 4 digits');
      for (const id of patient.identifier) assert.ok(!header.includes(id.value), `identifier ${id.system} masked`);
      await tid('timeline-encounter').first().waitFor();

      const timeline = await tid('timeline').innerText();
      const dx = condition.code.coding[0];
      assert.ok(timeline.includes(dx.display), `diagnosis display ${dx.display} shown`);
      assert.ok(timeline.includes(dx.code), `ICD-10 code ${dx.code} shown`);
      const labText = `${shownNumber(lab.valueQuantity.value)} ${lab.valueQuantity.unit}`;
      const labValues = await tid('lab-value').allInnerTexts();
      assert.ok(labValues.some((v) => v.includes(labText)), `lab value "${labText}" shown (got ${JSON.stringify(labValues.slice(0, 5))})`);

      // Every encounter is shown, newest first.
      const shown = await page
        .locator('[data-testid="timeline-encounter"]')
        .evaluateAll((els) => els.map((e) => e.getAttribute('data-encounter')));
      assert.deepEqual(shown, encounterOrder, 'encounters in time order, newest first');
    });

    await step('filters hide and show resource types', async () => {
      const labs = () => page.locator('[data-testid="timeline-item"][data-kind="lab"]').count();
      assert.ok((await labs()) > 0);
      await tid('timeline-filter-lab').uncheck();
      assert.equal(await labs(), 0, 'lab results hidden');
      await tid('timeline-filter-lab').check();
      assert.ok((await labs()) > 0, 'lab results shown again');
    });

    await step('a clinical note expands to its Chinese text', async () => {
      await tid('note-toggle').first().click();
      const note = tid('note-text').first();
      await note.waitFor();
      const text = await note.innerText();
      assert.match(text, /[\u4e00-\u9fff]{4,}/, 'note text is Chinese');
      const norm = (s) => s.replace(/\s+/g, '');
      assert.ok(noteTexts.some((n) => norm(n) === norm(text)), 'note text is the decoded attachment');
      await page.screenshot({ path: join(ARTIFACTS, 'lake-timeline-zh.png'), fullPage: true });
    });

    await step('the data lake page counts 30 patients', async () => {
      await tid('nav-lake').click();
      await tid('page-lake').waitFor();
      await page.waitForFunction(() => document.querySelector('[data-testid="lake-count-Patient"]')?.textContent?.trim() === '30');
      assert.ok(await tid('lake-count-Encounter').count(), 'encounters counted');
      await tid('lake-upload').waitFor();
    });

    await step('upload an NDJSON file: written=1', async () => {
      const upload = {
        resourceType: 'Patient',
        id: 'e2e-upload-1',
        name: [{ use: 'official', text: '上传测试', family: '上传', given: ['测试'] }],
        gender: 'female',
        birthDate: '1990-05-06',
      };
      await tid('lake-file-input').setInputFiles({
        name: 'e2e-upload.ndjson',
        mimeType: 'application/x-ndjson',
        buffer: Buffer.from(JSON.stringify(upload) + '\n'),
      });
      await tid('lake-upload-start').click();
      const row = page.locator('[data-testid="lake-upload-row"][data-file="e2e-upload.ndjson"]');
      await page.waitForFunction(
        () => document.querySelector('[data-testid="lake-upload-row"]')?.getAttribute('data-status') === 'done',
      );
      assert.equal((await row.getByTestId('lake-upload-written').innerText()).trim(), '1');
      assert.equal((await row.getByTestId('lake-upload-rejected').innerText()).trim(), '0');
      await page.waitForFunction(() => document.querySelector('[data-testid="lake-count-Patient"]')?.textContent?.trim() === '31');
      await page.screenshot({ path: join(ARTIFACTS, 'lake-upload-zh.png'), fullPage: true });
    });

    const doc = `e2e_bg_${Date.now().toString(36)}`;
    const docPassword = 'Clinician-lake-pass-42';

    await step(`admin creates a clinician in ${department}`, async () => {
      const status = await page.evaluate(
        async ({ username, password, department }) => {
          const res = await fetch('/api/users', {
            method: 'POST',
            credentials: 'same-origin',
            headers: { 'Content-Type': 'application/json', 'X-CSRF-Token': sessionStorage.getItem('haip.csrf') ?? '' },
            body: JSON.stringify({ username, password, display_name: '破窗测试医生', roles: ['clinician'], department }),
          });
          return res.status;
        },
        { username: doc, password: docPassword, department },
      );
      assert.equal(status, 201, 'POST /api/users');
      await tid('logout').click();
      await tid('login-form').waitFor();
    });

    const bgReason = '急诊会诊：患者意识障碍';

    await step('the clinician opens a patient outside the department via break-glass', async () => {
      await signIn(doc, docPassword);
      assert.equal(await tid('nav-patients').count(), 1, 'Patients listed for a clinician');
      await page.goto(`${base}/patients/${encodeURIComponent(outsider.id)}`);
      await tid('timeline-denied').waitFor();
      await tid('toast-error').first().waitFor();
      assert.ok(await tid('toast-request-id').count(), 'the toast names the request ID');
      await tid('break-glass-open').click();
      await tid('break-glass-dialog').waitFor();
      await tid('break-glass-reason').fill(bgReason);
      await tid('break-glass-submit').click();
      await tid('patient-header').waitFor();
      await tid('break-glass-active').waitFor();
      assert.equal((await tid('patient-name').innerText()).trim(), outsider.name[0].text);
      await tid('timeline-encounter').first().waitFor();
      await page.screenshot({ path: join(ARTIFACTS, 'lake-break-glass-zh.png'), fullPage: true });
    });

    await step('the lake page has no upload panel for a clinician', async () => {
      await tid('nav-lake').click();
      await tid('page-lake').waitFor();
      await tid('lake-count-Patient').waitFor();
      assert.equal(await tid('lake-upload').count(), 0);
      await tid('logout').click();
      await tid('login-form').waitFor();
    });

    await step('the audit log flags the break-glass access with its reason', async () => {
      const login = await fetch(`${base}/api/auth/login`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ username: ADMIN_USER, password: ADMIN_PASSWORD }),
      });
      assert.equal(login.status, 200);
      const { token } = await login.json();
      const res = await fetch(`${base}/api/audit?action=fhir.everything&username=${doc}&limit=50`, {
        headers: { Authorization: `Bearer ${token}` },
      });
      assert.equal(res.status, 200);
      const { records } = await res.json();
      const detail = (r) => (typeof r.detail === 'string' ? JSON.parse(r.detail) : r.detail ?? {});
      const flagged = records.filter((r) => r.patient === `Patient/${outsider.id}` && detail(r).break_glass === true);
      assert.ok(flagged.length >= 1, 'a break-glass record for the outsider patient');
      // The console percent-encodes non-ASCII header text (fetch headers are
      // ISO-8859-1); decoding gives back what the clinician typed.
      assert.equal(decodeURIComponent(detail(flagged[0]).break_glass_reason), bgReason);
      assert.ok(records.some((r) => r.patient === `Patient/${outsider.id}` && r.outcome === 'denied'), 'the first attempt was denied');
    });

    assert.deepEqual(consoleErrors, [], 'no uncaught errors in the page');
    passed = true;
  } finally {
    if (page && !passed) {
      await page.screenshot({ path: join(ARTIFACTS, 'lake-failure.png'), fullPage: true }).catch(() => {});
    }
    if (context) await context.close().catch(() => {});
    await stopServer(server);
    if (!passed && log.length) {
      writeFileSync(join(ARTIFACTS, 'lake-haip-server.log'), log.join(''));
      process.stderr.write(`--- haip output (also in tests/web/artifacts/lake-haip-server.log) ---\n${log.join('').slice(-8000)}\n`);
    }
    rmSync(tmp, { recursive: true, force: true });
    rmSync(profileDir, { recursive: true, force: true });
  }
});
