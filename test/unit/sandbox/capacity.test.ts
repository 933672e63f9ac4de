import { PerSecondCapacity } from '../../../tools/sandbox/capacity';

describe('PerSecondCapacity', () => {
  it('admits the capacity in each wall-clock second and refuses the rest', () => {
    let now = 10_000;
    const c = new PerSecondCapacity(3, () => now);
    expect([c.tryAdmit(), c.tryAdmit()]).toEqual([true, true]);
    now = 10_999;
    expect([c.tryAdmit(), c.tryAdmit()]).toEqual([true, false]);
    now = 11_000;
    expect([c.tryAdmit(), c.tryAdmit(), c.tryAdmit(), c.tryAdmit()]).toEqual([true, true, true, false]);
  });

  it('refuses a capacity that is not a positive integer', () => {
    expect(() => new PerSecondCapacity(0)).toThrow('positive integer');
    expect(() => new PerSecondCapacity(2.5)).toThrow('positive integer');
  });
});
