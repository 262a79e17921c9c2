// Every check in order, each turned into findings; a check that throws becomes a finding that
// says it could not run, never a crash of the whole run.
import { compareNames } from '../swarm/snapshot';
import { connectionFindings } from './checks/connections';
import { encryptionFindings } from './checks/encryption';
import { loadBalancerFindings } from './checks/loadBalancer';
import { membershipFindings } from './checks/membership';
import { networkAgreementFindings, vxlanFindings } from './checks/networkState';
import { nodePathFindings } from './checks/nodePaths';
import { sortFindings, type Finding } from './findings';
import { runMatrix, servicePorts, type Matrix } from './matrix';
import type { CheckReport, DoctorContext } from './report';

export interface CheckOptions {
  /** Services to probe in the matrix (default: every service with a TCP port). */
  services?: string[];
  /** Only what the manager's API says (membership): no helper runs on any node. */
  quick?: boolean;
}

export async function runChecks(ctx: DoctorContext, options: CheckOptions = {}): Promise<CheckReport> {
  const started = performance.now();
  const startedAt = new Date().toISOString();
  const findings: Finding[] = [];
  const checks: CheckReport['checks'] = [];
  const matrices: Matrix[] = [];
  const step = async (name: string, run: () => Promise<Finding[]> | Finding[]) => {
    const t0 = performance.now();
    ctx.progress?.(name);
    try {
      findings.push(...(await run()));
    } catch (error) {
      if (ctx.signal?.aborted) throw error;
      findings.push({ check: name, severity: 'unavailable', title: `${name}: the check could not run`, nodes: [], explanation: (error as Error).message, evidence: [] });
    }
    checks.push({ name, durationMs: performance.now() - t0 });
  };

  await step('membership', () => membershipFindings(ctx.snapshot));
  if (!options.quick) {
    let ipvs = new Map<string, boolean | undefined>();
    await step('node-paths', async () => {
      const result = await nodePathFindings(ctx);
      ipvs = result.ipvs;
      return result.findings;
    });
    await step('network-state', () => networkAgreementFindings(ctx));
    await step('vxlan', () => vxlanFindings(ctx));
    await step('encryption', () => encryptionFindings(ctx));
    await step('load-balancer', () => loadBalancerFindings(ctx, ipvs));
    const services = options.services?.length
      ? options.services
      : ctx.snapshot.services.filter((s) => servicePorts(s).length && s.networks.some((n) => !ctx.snapshot.networkById.get(n.networkId)?.ingress)).map((s) => s.name).sort(compareNames);
    for (const service of services) {
      await step(`connectivity ${service}`, async () => {
        const matrix = await runMatrix(ctx.snapshot, ctx.runner, { service }, { signal: ctx.signal });
        matrices.push(matrix);
        return connectionFindings(ctx.snapshot, ctx.runner, matrix, ctx.signal);
      });
    }
  }
  return { startedAt, durationMs: performance.now() - started, findings: sortFindings(findings), matrices, checks };
}
