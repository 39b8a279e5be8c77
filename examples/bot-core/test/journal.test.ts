// The task journal on a real file system: what an append acknowledged is read back, a torn tail
// (a crash mid-write) and a corrupt line are skipped without throwing, a full journal refuses.
import { randomUUID } from 'node:crypto';
import { appendFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { BotCoreError, type JournalRecord, replayJournal, TaskJournal } from '../src/index.js';
import { tempJournalDir } from './helpers.js';

const logs: Array<{ obj: object; msg?: string }> = [];
const logger = {
  debug() {},
  info() {},
  warn: (obj: object, msg?: string) => logs.push({ obj, msg }),
  error: (obj: object, msg?: string) => logs.push({ obj, msg }),
};
const record = (message: string): JournalRecord => ({
  id: randomUUID(),
  botId: 'b1',
  message,
  enqueuedAt: new Date().toISOString(),
});

describe('TaskJournal', () => {
  const dirs: Array<ReturnType<typeof tempJournalDir>> = [];
  const fresh = (maxBytes = 1_000_000) => {
    const d = tempJournalDir();
    dirs.push(d);
    return new TaskJournal({ dir: join(d.dir, 'public'), maxBytes, logger });
  };
  afterEach(() => {
    for (const d of dirs.splice(0)) d.remove();
    logs.length = 0;
  });

  it('creates nothing until the first append; concurrent appends land in one segment, in order', async () => {
    const j = fresh();
    await j.open();
    expect(await j.seal()).toEqual([]);
    const recs = Array.from({ length: 50 }, (_, i) => record(`m${i}`));
    await Promise.all(recs.map((r) => j.append(r)));
    expect(j.pendingEntries).toBe(50);
    const segments = await j.seal();
    expect(segments).toHaveLength(1);
    const { records, skipped } = await j.read(segments[0]!);
    expect(skipped).toBe(0);
    expect(records.map((r) => r.id)).toEqual(recs.map((r) => r.id));
    await j.close();
  });

  it('a torn last line and a corrupt line are skipped (and logged); a new process appends to a new segment', async () => {
    const j = fresh();
    const kept = [record('a'), record('b')];
    for (const r of kept) await j.append(r);
    await j.close();
    const dir = j.dir;
    const [seg] = readdirSync(dir);
    // a crash mid-write: half a line, no newline (never acknowledged); and a line of garbage
    appendFileSync(join(dir, seg!), `not json\n{"id":"${randomUUID()}","botId":"b1","mess`);

    const again = new TaskJournal({ dir, maxBytes: 1_000_000, logger });
    await again.open();
    expect(again.pendingEntries).toBe(2);
    await again.append(record('c'));
    const segments = await again.seal();
    expect(segments).toHaveLength(2); // the torn segment is never appended to again
    const first = await again.read(segments[0]!);
    expect(first.records.map((r) => r.message)).toEqual(['a', 'b']);
    expect(first.skipped).toBe(2);
    expect(logs.some((l) => /skipped lines/.test(l.msg ?? ''))).toBe(true);
    await again.close();
  });

  it('refuses with 503 JOURNAL_FULL instead of dropping anything', async () => {
    const j = fresh(1_024);
    let accepted = 0;
    let refused: unknown;
    for (let i = 0; i < 50 && !refused; i++) {
      try {
        await j.append(record('x'.repeat(40)));
        accepted++;
      } catch (err) {
        refused = err;
      }
    }
    expect(refused).toBeInstanceOf(BotCoreError);
    expect(refused).toMatchObject({ code: 'JOURNAL_FULL', statusCode: 503 });
    const [seg] = await j.seal();
    expect((await j.read(seg!)).records).toHaveLength(accepted);
    await j.close();
    await expect(j.append(record('late'))).rejects.toMatchObject({ code: 'JOURNAL_UNAVAILABLE' });
  });

  it('replayJournal inserts in batches, removes a segment once it is in, and resumes after a failure', async () => {
    const j = fresh();
    const recs = Array.from({ length: 12 }, (_, i) => record(`m${i}`));
    for (const r of recs.slice(0, 7)) await j.append(r);
    await j.seal(); // segment 1: 7 records
    for (const r of recs.slice(7)) await j.append(r); // segment 2: 5 records
    const inserted = new Set<string>();
    let calls = 0;
    const insert = async (batch: JournalRecord[]) => {
      calls++;
      if (calls === 3) throw new Error('connection lost'); // in the second segment
      let n = 0;
      for (const r of batch) if (!inserted.has(r.id) && inserted.add(r.id)) n++;
      return n;
    };
    await expect(replayJournal(j, { batchSize: 4, stopped: () => false, insert })).rejects.toThrow(
      'connection lost',
    );
    expect(await j.seal()).toHaveLength(1); // the first segment is in and removed, the second kept
    const again = await replayJournal(j, { batchSize: 4, stopped: () => false, insert });
    expect(again).toEqual({ read: 5, inserted: 5 });
    expect([...inserted].sort()).toEqual(recs.map((r) => r.id).sort());
    expect(await j.seal()).toEqual([]);
    expect(j.pendingEntries).toBe(0);
    await j.close();
  });
});
