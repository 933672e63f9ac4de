/** The fault plan: what happens when, from the seed alone (so a campaign can be replayed with --seed). */
import type { CampaignOptions, FaultRecord } from './types';

/** mulberry32: a small seeded PRNG, so a campaign's schedule can be replayed with --seed. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Where each fault happens (seconds after t0). */
export function planFaults(o: CampaignOptions, random: () => number): FaultRecord[] {
  const production = o.rate > 0 ? o.events / o.rate : 10;
  const span = o.faultSpanSeconds ?? Math.max(production, 20 + o.outageSeconds);
  const between = (a: number, b: number): number => a + random() * Math.max(0, b - a);
  const faults: FaultRecord[] = [];
  const outageAt = between(0.15 * span, 0.4 * span);
  if (o.outageSeconds > 0) faults.push({ kind: 'sandbox-outage', plannedAt: outageAt, detail: `sandbox down ${o.outageSeconds}s` });
  const outageEnd = outageAt + o.outageSeconds;
  let brokerAt: number | undefined;
  if (o.brokerRestart) {
    brokerAt = outageEnd + 2 <= 0.9 * span ? between(outageEnd + 2, 0.9 * span) : outageEnd + 2;
    faults.push({ kind: 'broker-restart', plannedAt: brokerAt, detail: 'broker SIGTERM + start' });
  }
  const kills: number[] = [];
  let gap = o.minFaultGapSeconds;
  for (let tries = 0; kills.length < o.kills; tries++) {
    if (tries > 0 && tries % 2000 === 0) gap /= 2; // too crowded: relax the spacing rather than fail
    const at = between(2, span);
    const clash = kills.some((k) => Math.abs(k - at) < gap) || (brokerAt !== undefined && Math.abs(at - brokerAt) < gap);
    if (!clash) kills.push(at);
  }
  for (const at of kills) faults.push({ kind: 'kill', plannedAt: at, detail: 'kill -9 worker' });
  // Freezes overlap neither each other nor the broker restart (whose own stop would wait on them).
  const frozen: Array<[number, number]> = brokerAt !== undefined ? [[brokerAt - gap, brokerAt + 15]] : [];
  for (const seconds of o.stalls) {
    let at = between(2, span);
    for (let tries = 0; tries < 2000 && frozen.some(([a, b]) => at < b + 2 && at + seconds > a - 2); tries++) at = between(2, span + seconds * tries * 0.01);
    frozen.push([at, at + seconds]);
    faults.push({ kind: 'broker-stall', plannedAt: at, detail: `broker frozen ${seconds}s` });
  }
  return faults.sort((a, b) => a.plannedAt - b.plannedAt);
}
