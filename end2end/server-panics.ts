import { existsSync, readFileSync } from 'node:fs';

/** Fails the run when the server under test panicked at any point (see playwright.config). */
export default async function serverPanics(): Promise<void> {
  const log = process.env.PAIRWISE_E2E_SERVER_LOG;
  if (!log || !existsSync(log)) return;
  const text = readFileSync(log, 'utf8');
  const at = text.indexOf('panicked');
  if (at >= 0) {
    throw new Error(`the server panicked during the browser tests:\n${text.slice(at, at + 600)}`);
  }
}
