import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseJsonReport } from '../../src/report/json.js';
import type { JsonReport } from '../../src/report/json-schema.js';
import { shellCommand } from '../../src/report/shell.js';
import { runCli, tempDir } from '../cli/run-main.js';

/**
 * The site in a real browser: reports written by real runs of the suite (the reference driver
 * on two backends' labels and seeds, and a driver with a planted bug), the site built by the
 * CLI, then opened in Debian's Chromium through playwright-core. Screenshots are kept in
 * test-artifacts/site/. Chromium is installed by scripts/lib/site-prereqs.sh; without it this
 * test fails.
 */
const CHROMIUM = '/usr/bin/chromium';
const ARTIFACTS = fileURLToPath(new URL('../../test-artifacts/site/', import.meta.url));
const MUTANT = fileURLToPath(new URL('./fixtures/pause-mutant-driver.ts', import.meta.url));
const HOSTILE_LABEL = `<img src=x onerror=alert(1)> "host" & 'b'`;

interface Made {
  file: string;
  report: JsonReport;
}

let browser: Browser;
let page: Page;
let cwd: string;
const dialogs: string[] = [];
const made: Record<'a1' | 'a2' | 'hostile' | 'mutant', Made> = {} as never;

async function runSuite(key: keyof typeof made, args: string[]): Promise<void> {
  const file = `reports/${key}.json`;
  const r = await runCli(['run', ...args, '--runs', '3', '--steps', '10', '--json', file], { cwd });
  expect(r.code, r.stderr).toBe(key === 'mutant' ? 1 : 0);
  made[key] = { file: join(cwd, file), report: parseJsonReport(readFileSync(join(cwd, file), 'utf8'), file) };
}

/** The text of every capability cell of the matrix row whose heading contains `text`. */
async function rowCells(text: string): Promise<Record<string, string>> {
  const row = page.locator('table.matrix tr.target').filter({ has: page.locator('th', { hasText: text }) });
  await expect(row.count()).resolves.toBe(1);
  return row.evaluate((tr) =>
    Object.fromEntries([...tr.querySelectorAll('td[data-capability]')].map((td) => [td.getAttribute('data-capability'), td.textContent])),
  );
}

function expectRowMatches(cells: Record<string, string>, report: JsonReport): void {
  expect(Object.keys(cells).length).toBeGreaterThanOrEqual(report.capabilities.length);
  for (const c of report.capabilities) expect(cells[c.id], c.id).toBe(c.status);
}

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: install Debian's chromium with scripts/lib/site-prereqs.sh`);
  cwd = tempDir();
  await runSuite('a1', ['--driver', 'reference', '--seed', '1', '--label', 'in-memory on host-a']);
  await runSuite('a2', ['--driver', 'reference', '--seed', '2', '--label', 'in-memory on host-a']);
  await runSuite('hostile', ['--driver', 'reference', '--seed', '3', '--label', HOSTILE_LABEL]);
  await runSuite('mutant', ['--driver', MUTANT, '--seed', '7']);
  // The reports directory also holds the replay files of the mutant's failures: skipped.
  const site = await runCli(['site', '--out', 'site', 'reports'], { cwd });
  expect(site.code, site.stderr).toBe(0);
  mkdirSync(ARTIFACTS, { recursive: true });
  browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, timeout: 60_000 });
  page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
  page.on('dialog', (d) => {
    dialogs.push(d.message());
    void d.dismiss();
  });
});

afterAll(async () => {
  await browser?.close();
});

describe('the results site in Chromium', () => {
  it('shows the support matrix: one row per driver and backend, each cell the latest run\'s status', async () => {
    await page.goto(pathToFileURL(join(cwd, 'site', 'index.html')).href);
    await page.screenshot({ path: join(ARTIFACTS, 'index.png'), fullPage: true });
    await expect(page.locator('h1').textContent()).resolves.toBe('Conformance results');
    await expect(page.locator('table.matrix tr.target').count()).resolves.toBe(3);

    // host-a ran twice: its row is the second (later) run.
    const a2 = made.a2.report;
    expect(Date.parse(a2.startedAt)).toBeGreaterThan(Date.parse(made.a1.report.startedAt));
    const rowA = page.locator('table.matrix tr.target').filter({ has: page.locator('th', { hasText: 'in-memory on host-a' }) });
    await expect(rowA.locator('td a').first().textContent()).resolves.toBe(a2.startedAt);
    expectRowMatches(await rowCells('in-memory on host-a'), a2);

    const mutantCells = await rowCells('pause-mutant');
    expectRowMatches(mutantCells, made.mutant.report);
    expect(mutantCells['operation.pause']).toBe('partial');
  });

  it('shows a hostile run label as text: no element, no script', async () => {
    const cells = await rowCells(HOSTILE_LABEL);
    expectRowMatches(cells, made.hostile.report);
    await expect(page.locator('img').count()).resolves.toBe(0);
    expect(dialogs).toEqual([]);
  });

  it('leads from the matrix to the driver\'s history, to a failure\'s counterexample and its replay command', async () => {
    await page.locator('table.matrix th a', { hasText: 'pause-mutant' }).click();
    await page.waitForURL(/\/drivers\/pause-mutant-[a-z0-9-]+\.html$/);
    await page.screenshot({ path: join(ARTIFACTS, 'driver.png'), fullPage: true });
    await expect(page.locator('h1').textContent()).resolves.toBe('pause-mutant');
    await expect(page.locator('table.history tbody tr').count()).resolves.toBe(1);

    const report = made.mutant.report;
    const failed = report.properties.find((p) => p.status === 'failed' && p.counterexample?.replay !== undefined)!;
    expect(failed, 'the mutant run has a failure with a replay document').toBeDefined();
    const cx = failed.counterexample!;
    const gridRow = page.locator('table.properties tbody tr').filter({ has: page.locator('th code', { hasText: new RegExp(`^${failed.id}$`) }) });
    await gridRow.locator('a', { hasText: 'failed' }).click();
    await page.waitForURL(/\/runs\/[a-z0-9-]+\.html#failure-[a-z0-9-]+$/);

    const section = page.locator('section.failure:target');
    await expect(section.count()).resolves.toBe(1);
    await section.scrollIntoViewIfNeeded();
    await page.screenshot({ path: join(ARTIFACTS, 'failure-page.png'), fullPage: true });
    await section.screenshot({ path: join(ARTIFACTS, 'failure.png') });
    await expect(section.locator('h3 code').textContent()).resolves.toBe(failed.id);
    await expect(section.locator('.rule').textContent()).resolves.toBe(cx.rule);
    await expect(section.locator('.message').textContent()).resolves.toBe(cx.message);
    await expect(section.locator('table.steps tbody tr').count()).resolves.toBe(cx.steps.length);

    // The replay file offered for download is the run's replay document, and the command
    // printed beside it reproduces the failure.
    const href = await section.locator('a.replay-file').getAttribute('href');
    const replayFile = fileURLToPath(new URL(href ?? '', page.url()));
    const replay = JSON.parse(readFileSync(replayFile, 'utf8')) as { calls: unknown[]; driver: { module: string } };
    expect(replay.calls).toEqual(cx.replay!.calls);
    expect(replay.driver.module).toBe(MUTANT);
    const command = ['nova-conformance', 'run', '--driver', MUTANT, '--replay', basename(replayFile)];
    await expect(section.locator('pre.replay').textContent()).resolves.toBe(shellCommand(command));
    const again = await runCli(command.slice(1), { cwd: dirname(replayFile) });
    expect(again.code, again.stderr).toBe(1);
    expect(again.stdout).toContain(`FAIL ${failed.id}`);

    await expect(section.locator('pre.rerun').textContent()).resolves.toContain(`--seed=${report.seed}`);
    expect(dialogs).toEqual([]);
  });
});
