import { CapacityWindow } from '../../../src/sandbox/capacity';

describe('CapacityWindow', () => {
  it('admits the capacity in any 1-second span and refuses the rest', () => {
    let now = 10_000;
    const w = new CapacityWindow(3, () => now);
    expect([w.tryAdmit(), w.tryAdmit()]).toEqual([true, true]);
    now = 10_500;
    expect([w.tryAdmit(), w.tryAdmit()]).toEqual([true, false]);
    now = 10_999;
    expect(w.tryAdmit()).toBe(false);
    now = 11_000; // the two first admissions are a second old, the one at 10 500 is not
    expect([w.tryAdmit(), w.tryAdmit(), w.tryAdmit()]).toEqual([true, true, false]);
    now = 11_500;
    expect(w.tryAdmit()).toBe(true);
  });

  it('gives a steady caller above the limit exactly the limit per second', () => {
    let now = 0;
    const w = new CapacityWindow(100, () => now);
    const admittedPerSecond = [0, 0, 0, 0, 0];
    for (; now < 5000; now += 2) if (w.tryAdmit()) admittedPerSecond[Math.floor(now / 1000)]!++; // 500 calls/s
    expect(admittedPerSecond).toEqual([100, 100, 100, 100, 100]);
  });

  it('refuses a capacity that is not a positive integer', () => {
    expect(() => new CapacityWindow(0)).toThrow('positive integer');
    expect(() => new CapacityWindow(2.5)).toThrow('positive integer');
  });
});
