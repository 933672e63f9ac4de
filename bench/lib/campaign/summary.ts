/** The campaign's report: the summary table, every duplicate explained, and the call rate around the outage. */
import { alignedRows } from '../report';
import type { CampaignResult } from './types';

/** The summary table and the explanation of every duplicate, as lines. */
export function summaryLines(r: CampaignResult): string[] {
  const rows: Array<[string, string]> = [];
  const pct = (n: number, d: number): string => (d ? ` (${((100 * n) / d).toFixed(1)}%)` : '');
  rows.push(['requests', `${r.requests} (${r.options.unknownShare * 100}% scripted unknown-1..3)`]);
  rows.push(['request records in the log', `${r.requestRecordsInLog}${r.requestKeysDuplicated ? `, ${r.requestKeysDuplicated} keys twice` : ''}`]);
  rows.push(['terminal outcomes', `${r.terminalOutcomes} for ${r.terminalKeys} keys — succeeded ${r.byKind.succeeded}, failed ${r.byKind.failed}, unknown final ${r.byKind.finalUnknown}`]);
  rows.push(['non-final unknown outcomes', String(r.byKind.nonFinalUnknown)]);
  rows.push(['LOST (no terminal outcome)', `${r.lost}${pct(r.lost, r.requests)}`]);
  rows.push(['duplicate terminal outcomes', `${r.duplicates}${r.duplicates ? ` (${r.duplicateReports.length} keys)` : ''}`]);
  rows.push(['non-final attempts published twice', String(r.replayedAttempts)]);
  rows.push(['DLQ entries', String(r.dlq)]);
  rows.push([
    'worker restarts',
    `${r.workerRestarts.total}: ${r.workerRestarts.afterKill} after kill -9, ${r.workerRestarts.afterExit} after exiting on its own, ${r.workerRestarts.afterHang} by the watchdog (fatal error logged, process did not exit)${Object.keys(r.workerRestarts.exitCodes).length ? ` (exit codes ${JSON.stringify(r.workerRestarts.exitCodes)})` : ''}`,
  ]);
  rows.push([
    'broker restart',
    r.broker.restarted ? `stopped in ${r.broker.stopSec!.toFixed(1)}s, answering ${r.broker.startSec!.toFixed(1)}s after start (${r.broker.downSec!.toFixed(1)}s down)` : 'not done',
  ]);
  rows.push([
    'broker stalls',
    r.stalls.length
      ? r.stalls
          .map(
            (x) =>
              `${x.seconds}s at t=${x.from?.toFixed(1) ?? '–'}s (${x.transactionsInFlight ?? '?'} transactions open; first commit ${x.recoverySec?.toFixed(1) ?? '–'}s after SIGCONT; ${x.workerExits} worker exits)`,
          )
          .join(', ')
      : 'none',
  ]);
  rows.push(['broker at the end', r.broker.healthyAtEnd ? 'running, answering' : 'NOT HEALTHY']);
  const out = r.outage;
  rows.push(['sandbox outage', out.actualSec !== undefined ? `${out.actualSec.toFixed(1)}s (t=${out.from!.toFixed(1)}…${out.to!.toFixed(1)}s), planned ${out.plannedSec}s` : 'not done']);
  rows.push(['API calls/s before the outage', out.callsPerSecBefore !== undefined ? `${out.callsPerSecBefore} (sandbox-counted, median of the busy seconds)` : '–']);
  rows.push([
    'peak API calls/s during the outage',
    // outageRates sets the peak, its time and the total together.
    out.peakWorkerCallsPerSec !== undefined && out.peakWorkerCallsAt !== undefined && out.totalWorkerCalls !== undefined
      ? `${out.peakWorkerCallsPerSec} at t=${out.peakWorkerCallsAt}s (worker-counted; ${out.peakWorkerCallsPerSecAfterFirst ?? '–'} after the first second; MAX_IN_FLIGHT=${r.options.inflight}), ${out.totalWorkerCalls} calls in the whole outage`
      : '–',
  ]);
  rows.push([
    'refused TCP connects during the outage',
    out.peakRefusedConnectsPerSec !== undefined && out.totalRefusedConnects !== undefined
      ? `peak ${out.peakRefusedConnectsPerSec}/s, ${out.totalRefusedConnects} in all (kernel AttemptFails, whole namespace)`
      : '–',
  ]);
  const v = r.vendor;
  rows.push([
    'vendor (sandbox) captures',
    `${v.incarnations.map((x, i) => `#${i + 1}: ${x.captures} captures / ${x.calls} calls`).join(', ')} = ${v.capturesTotal} captures for ${v.succeededKeys} succeeded keys: ${v.capturedAgainAfterRestart} captured again by the restarted sandbox (its idempotency store had been lost with the process)`,
  ]);
  rows.push(['elapsed', `${r.elapsedSec.toFixed(0)}s from the first join${r.finished ? '' : ' (TIMEOUT: not finished)'}`]);
  const lines = alignedRows(rows);
  lines.push('', '  faults:');
  for (const f of r.faults) lines.push(`    ${f.kind.padEnd(15)} planned t=${f.plannedAt.toFixed(1)}s, ran t=${f.startedAt?.toFixed(1) ?? '–'}…${f.endedAt?.toFixed(1) ?? '–'}s: ${f.detail}`);
  lines.push('  workers:');
  for (const x of r.workers)
    lines.push(
      `    #${x.n} t=${x.startedAt.toFixed(1)}…${x.endedAt?.toFixed(1) ?? '–'}s peak RSS ${x.peakRssMb?.toFixed(0) ?? '–'} MB exit ${x.exit ?? '–'}${x.hungAfterFatal ? ' (hung after its fatal error: watchdog kill)' : x.killedByCampaign ? ' (kill -9)' : ''} — ${x.reason}${x.exitReason ? `\n        exited because: ${x.exitReason}` : ''}`,
    );
  for (const d of r.duplicateReports) {
    lines.push(`  duplicate ${d.key}: ${d.cause}`);
    for (const rec of d.records)
      lines.push(`    ${rec.topic} p${rec.partition}@${rec.offset} attempt ${rec.attempt} ${rec.resultCode} written ${new Date(rec.timestamp).toISOString()} by worker#${rec.worker ?? '?'}`);
    for (const l of d.logLines.slice(0, 6)) lines.push(`    ${l.slice(0, 300)}`);
  }
  if (r.lost) lines.push(`  lost keys (first ${r.lostKeys.length}): ${r.lostKeys.join(', ')}`);
  return lines;
}

/** The per-second call rate around the outage, as lines. */
export function outageTimelineLines(r: CampaignResult, marginSec = 3): string[] {
  const out = r.outage;
  if (out.from === undefined || out.to === undefined) return [];
  const lines = ['    t s  sandbox  worker calls/s  sandbox calls/s  refused conn/s  circuit    in flight  retries held  worker'];
  for (const s of r.timeline.filter((x) => x.t >= out.from! - marginSec && x.t <= out.to! + marginSec + 2)) {
    const f = (v: number | null): string => (v === null ? '–' : String(v));
    lines.push(
      `  ${s.t.toFixed(0).padStart(5)}  ${(s.sandboxUp ? 'up' : 'DOWN').padEnd(7)}  ${f(s.workerCallsPerSec).padStart(14)}  ${f(s.vendorCallsPerSec).padStart(15)}  ${f(s.refusedConnectsPerSec).padStart(14)}  ${(s.circuit ?? '–').padEnd(9)}  ${f(s.inFlight).padStart(9)}  ${f(s.retriesPending).padStart(12)}  ${s.worker === null ? 'down' : `#${s.worker}`}`,
    );
  }
  return lines;
}
