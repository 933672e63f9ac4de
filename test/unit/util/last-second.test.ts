import { LastSecond } from '../../../src/util/last-second';

describe('LastSecond', () => {
  it('admits up to a rate in any 1-second span and refuses the rest', () => {
    let now = 10_000;
    const w = new LastSecond(() => now);
    expect([w.tryAdmit(3), w.tryAdmit(3)]).toEqual([true, true]);
    now = 10_500;
    expect([w.tryAdmit(3), w.tryAdmit(3)]).toEqual([true, false]);
    now = 10_999;
    expect(w.tryAdmit(3)).toBe(false);
    now = 11_000; // the two first are a second old, the one at 10 500 is not
    expect([w.tryAdmit(3), w.tryAdmit(3), w.tryAdmit(3)]).toEqual([true, true, false]);
    expect(w.nextAdmitAt(3)).toBe(11_500);
    expect(w.nextAdmitAt(4)).toBe(11_000);
    now = 11_500;
    expect(w.tryAdmit(3)).toBe(true);
  });

  it('gives a steady caller above the rate exactly the rate per second', () => {
    let now = 0;
    const w = new LastSecond(() => now);
    const admittedPerSecond = [0, 0, 0, 0, 0];
    for (; now < 5000; now += 2) if (w.tryAdmit(100)) admittedPerSecond[Math.floor(now / 1000)]++; // 500 calls/s
    expect(admittedPerSecond).toEqual([100, 100, 100, 100, 100]);
  });

  it('counts what it recorded in the last second', () => {
    let now = 0;
    const w = new LastSecond(() => now);
    for (; now < 3000; now += 10) w.record();
    now = 2995;
    expect(w.count()).toBe(100); // 2000, 2010 … 2990
    now += 1000;
    expect(w.count()).toBe(0);
  });
});
