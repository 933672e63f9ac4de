import { judgeLiveness, type LivenessSnapshot } from '../../../src/observability/liveness';

const bounds = { pollMs: 60_000, progressMs: 300_000 };
const now = 10_000_000;
const healthy: LivenessSnapshot = { started: true, joined: true, lastPollAt: now - 1_000, inFlight: 5, lastProgressAt: now - 1_000, circuitClosed: true };

describe('judgeLiveness', () => {
  it('is alive while polling and settling records', () => {
    expect(judgeLiveness(now, healthy, bounds)).toEqual({ alive: true });
  });

  it('is not alive before the first group join (the startup probe waits for it)', () => {
    expect(judgeLiveness(now, { ...healthy, started: false }, bounds)).toMatchObject({ alive: false, reason: expect.stringContaining('starting') });
  });

  it('fails when a joined consumer has neither fetched nor heartbeated within the bound', () => {
    expect(judgeLiveness(now, { ...healthy, lastPollAt: now - 60_000 }, bounds)).toEqual({ alive: true });
    expect(judgeLiveness(now, { ...healthy, lastPollAt: now - 61_000 }, bounds)).toEqual({ alive: false, reason: 'the consumer has not fetched or heartbeated for 61 s' });
  });

  it('does not judge polling between a consumer crash and its rejoin', () => {
    expect(judgeLiveness(now, { ...healthy, joined: false, lastPollAt: now - 120_000 }, bounds)).toEqual({ alive: true });
  });

  it('fails when records in flight settle none within the bound while the API is callable', () => {
    const stuck = { ...healthy, lastProgressAt: now - 301_000 };
    expect(judgeLiveness(now, stuck, bounds)).toEqual({ alive: false, reason: '5 records in flight and none settled for 301 s' });
    // An open or halted circuit holds records on purpose: a restart would not help.
    expect(judgeLiveness(now, { ...stuck, circuitClosed: false }, bounds)).toEqual({ alive: true });
    // Nothing to do is not a stall.
    expect(judgeLiveness(now, { ...stuck, inFlight: 0 }, bounds)).toEqual({ alive: true });
  });
});
